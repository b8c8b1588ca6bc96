"""The public dashboard by local area."""

"""Narrative reports on snapshots and their board and public editions."""

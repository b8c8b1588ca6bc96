"""PDF board packs."""

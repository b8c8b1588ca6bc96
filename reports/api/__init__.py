"""The read-only JSON API, version 1 (CONTRACT §3)."""

"""Snapshots: a quarter's approved data and definitions frozen as published."""

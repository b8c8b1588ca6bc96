"""Reads of frameworks that every layer above needs."""

from __future__ import annotations

from .models import Framework


def current_framework() -> Framework | None:
    """The framework pages, returns and the API show (the newest one marked current), with its home area."""
    return (
        Framework.objects.select_related("home_area", "peer_group")
        .filter(is_current=True)
        .order_by("-updated_at", "code")
        .first()
    )

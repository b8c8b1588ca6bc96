"""Counts beside the navigation's links (one query, and only when a page shows the navigation)."""

from __future__ import annotations

from functools import cached_property
from typing import Any

from django.http import HttpRequest

from .returns.selectors import returns_to_do_count


class NavCounts:
    """Read lazily: a response that renders no navigation (a download, a redirect) asks nothing."""

    def __init__(self, user: Any) -> None:
        self.user = user

    @cached_property
    def returns(self) -> int:
        return returns_to_do_count(self.user)


def nav_counts(request: HttpRequest) -> dict[str, Any]:
    return {"nav_counts": NavCounts(getattr(request, "user", None))}

"""The partnership a request, command or task works in: one value, set at the edge, read everywhere.

Every page, export, API call, command and background task works inside one partnership (the unit of
tenancy, ``accounts.models.Partnership``). The edge that knows which one sets it for the length of the work:

- a request: ``CurrentPartnershipMiddleware`` (the ``?partnership=`` of the URL, else the one the user last
  chose, else their first; a public page names its partnership in its path);
- a command: ``accounts.partnerships.command_partnership`` (``--partnership``, or the only one);
- a background task: the partnership stored with the task, by the code that queued it.

Below the edge nothing passes it around: ``current_partnership()`` answers, and the permission helper, the
framework selector and every scoped query read it. Outside any scope (the test suite's direct service calls,
a shell) it is the installation's default partnership, which is how a single-partnership installation has
always behaved.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from .models import Partnership

_current: ContextVar[Partnership | None] = ContextVar("pcc_perf_partnership", default=None)


def current_partnership() -> Partnership:
    """The partnership of the work in hand (the installation's default one outside any scope)."""
    partnership = _current.get()
    if partnership is None:
        from .partnerships import default_partnership

        return default_partnership()  # not kept: a test's rolled-back row must not outlive it
    return partnership


def current_partnership_id() -> int:
    return int(current_partnership().pk)


def partnership_key() -> int | str:
    """Whose rows ``in_scope()`` reads, with no query: the id of the partnership of the work in hand, or
    outside any scope the default partnership's code."""
    if _current.get() is None:
        from django.conf import settings

        return str(settings.PCC_PERF_DEFAULT_PARTNERSHIP)
    return current_partnership_id()


def in_a_scope() -> bool:
    """Whether a request, command or task has set the partnership (not the default fallback)."""
    return _current.get() is not None


@contextmanager
def partnership_scope(partnership: Partnership) -> Iterator[Partnership]:
    """Work inside ``partnership`` until the block ends (nests; restores the outer one)."""
    token = _current.set(partnership)
    try:
        yield partnership
    finally:
        _current.reset(token)


def set_partnership(partnership: Partnership | None) -> None:
    """Set the partnership for the rest of this context (a command's ``handle``); ``None`` forgets it."""
    _current.set(partnership)

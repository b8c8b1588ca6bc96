"""Data currency: how old a measure's latest figure is against the quarter a report asks about.

A figure older than the quarter asked by more than ``max_quarters`` (default 4, a year) is stale: pages
show it as "latest available: 2017/18 Q4", greyed, leave it out of the improvement/concern counts and
never rank it (DESIGN, "Where real data misbehaves").
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from metrics.quarters import Quarter

MAX_QUARTERS = 4


@dataclass(frozen=True)
class Staleness:
    latest: dt.date | None  # the latest period with a value (a quarter end date), None when there is none
    quarters_old: int | None  # quarters from ``latest`` to the quarter asked (0: current; negative: later)
    stale: bool  # older than the setting allows

    @property
    def label(self) -> str:
        """``"latest available: 2017/18 Q4"`` for a stale figure; empty otherwise."""
        if not self.stale or self.latest is None:
            return ""
        return f"latest available: {Quarter.containing(self.latest).label}"


def staleness(latest: dt.date | None, asked: dt.date, max_quarters: int = MAX_QUARTERS) -> Staleness:
    """How old ``latest`` is at the quarter ``asked`` (both any dates inside their quarters).

    Stale when it is more than ``max_quarters`` quarters before the quarter asked. A measure with no
    figure at all is not stale (it has nothing to grey out: it shows "no data"), and a figure for a later
    quarter than the one asked is not stale either.
    """
    if max_quarters < 0:
        raise ValueError("max_quarters must not be negative")
    if latest is None:
        return Staleness(None, None, False)
    old = Quarter.containing(latest).quarters_between(Quarter.containing(asked))
    return Staleness(Quarter.containing(latest).end_date, old, old > max_quarters)

"""Presentation helpers, pure: quarter axis labels, readable log ticks, display precision, changes in words.

Pages, text, CSV/XLSX exports and charts use these so a figure reads the same everywhere.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable

from metrics.quarters import Quarter

from .compare import Change

DEFAULT_DECIMALS = {
    "count": 0,
    "percentage": 1,
    "rate_per_1000": 2,
    "rate_per_100000": 1,
    "days": 0,
    "ratio": 2,
    "score": 1,
}
_SUFFIX = {"percentage": "%"}


def quarter_tick_labels(dates: Iterable[dt.date]) -> list[str]:
    """The financial-year quarter of each date, ``2023/24 Q4`` (not the month a date axis would print)."""
    return [Quarter.containing(d.date() if isinstance(d, dt.datetime) else d).label for d in dates]


def log_ticks(low: float, high: float) -> tuple[list[float], list[str]]:
    """Readable ticks for a log axis from ``low`` to ``high`` (both positive): 1, 2, 5, 10, 20, 50 …

    The ticks cover the range (the first at or below ``low``, the last at or above ``high``). Within about
    one decade, where 1-2-5 would give only two or three ticks, every 1-9 multiple is used (20, 30, 40, 50).
    Labels use thousands separators and no needless decimals (``0.5``, ``20``, ``1,000``).
    """
    if not (low > 0 and high > 0) or math.isnan(low) or math.isnan(high):
        raise ValueError("a log axis needs positive limits")
    low, high = min(low, high), max(low, high)
    for mantissas in ((1, 2, 5), (1, 2, 3, 4, 5, 6, 7, 8, 9)):
        values = _ticks(low, high, mantissas)
        if len(values) >= 4:
            break
    return values, [_tick_label(v) for v in values]


def _ticks(low: float, high: float, mantissas: tuple[int, ...]) -> list[float]:
    candidates = [
        float(f"{m * 10.0**e:.12g}")
        for e in range(math.floor(math.log10(low)) - 1, math.ceil(math.log10(high)) + 2)
        for m in mantissas
    ]
    below = [c for c in candidates if c <= low * (1 + 1e-12)]
    above = [c for c in candidates if c >= high * (1 - 1e-12)]
    start, end = max(below), min(above)
    return [c for c in candidates if start <= c <= end]


def _tick_label(value: float) -> str:
    if value >= 1:
        return f"{value:,.0f}"
    return f"{value:.12g}"


def display_decimals(unit: str, decimals: int | None = None) -> int:
    """The metric's display precision: its framework ``decimals``, else the unit's default (1 if unknown)."""
    if decimals is not None:
        if decimals < 0:
            raise ValueError("decimals must not be negative")
        return decimals
    return DEFAULT_DECIMALS.get(unit, 1)


def format_value(value: float | None, unit: str, decimals: int | None = None) -> str:
    """``1416.0`` -> ``1,416``; ``1.2869093989339806`` (ratio) -> ``1.29``; percentages get ``%``; None -> ``[x]``."""
    if value is None or math.isnan(value):
        return "[x]"
    places = display_decimals(unit, decimals)
    text = f"{value:,.{places}f}"
    if text.lstrip("-").strip("0.,") == "":  # -0.0 reads as 0
        text = text.lstrip("-")
    return text + _SUFFIX.get(unit, "")


def format_change(change: Change, unit: str, decimals: int | None = None, *, what: str = "a year before") -> str:
    """A change in words that says which kind it is.

    Percentages change in percentage points (``"up 2.3 percentage points on a year before"``); counts,
    rates, days, ratios and scores give the change and the relative change in % (``"down 1,234 (−5.2%) on
    a year before"``; no % from an earlier 0).
    """
    current, earlier = change.current, change.earlier
    diff = current - earlier
    places = display_decimals(unit, decimals)
    if round(diff, places) == 0:
        return f"no change on {what}"
    word = "up" if diff > 0 else "down"
    if unit == "percentage":
        points = f"{abs(diff):,.{places}f}"
        return f"{word} {points} percentage point{'' if points == '1' else 's'} on {what}"
    amount = format_value(abs(diff), unit, decimals)
    if earlier == 0:
        return f"{word} {amount} on {what}"
    relative = diff / abs(earlier) * 100
    sign = "+" if relative > 0 else "−"
    return f"{word} {amount} ({sign}{abs(relative):.1f}%) on {what}"

"""Plausible figures: the range a value of each unit can take, which a framework may tighten per metric.

A figure outside it is an error with its row and column, wherever figures come in (file imports, uploads,
the web grid): a spreadsheet cell of 1.7e308 or 1e-320 is a broken formula or a typing slip, not a count.
"""

from __future__ import annotations

import math
import sys

from metrics.models import Unit

# (lowest, highest) value of each unit. Generous on purpose: a framework tightens them per metric
# (``plausible: {min, max}``), it never widens them.
UNIT_RANGE: dict[str, tuple[float, float]] = {
    Unit.COUNT: (0.0, 1e9),
    Unit.PERCENTAGE: (0.0, 100.0),
    Unit.RATE_PER_1000: (0.0, 1e6),  # a thousand events per person
    Unit.RATE_PER_100000: (0.0, 1e8),
    Unit.DAYS: (0.0, 36_525.0),  # a hundred years
    Unit.RATIO: (0.0, 1e6),
    Unit.SCORE: (-1e9, 1e9),
}
# Units whose values are whole numbers.
WHOLE_UNITS = {Unit.COUNT}
# Numerators and denominators are counts of people or events (a population at most).
PART_RANGE = (0.0, 1e12)
# A figure closer to zero than this (and not zero) is a broken cell: no unit is shown with that many decimals.
SMALLEST = 1e-6


def unit_range(unit: str) -> tuple[float, float]:
    return UNIT_RANGE.get(unit, (-1e12, 1e12))


def metric_range(unit: str, low: float | None = None, high: float | None = None) -> tuple[float, float]:
    """The unit's range, tightened by a metric's own ``plausible`` bounds (never widened)."""
    lowest, highest = unit_range(unit)
    return (lowest if low is None else max(lowest, low), highest if high is None else min(highest, high))


def _number(value: float) -> str:
    return f"{value:,.15g}" if abs(value) < 1e15 else f"{value:.3g}"


def implausible_value(value: float, *, unit: str, low: float | None = None, high: float | None = None) -> str | None:
    """Why ``value`` cannot be a figure of this unit (and metric bounds), or None when it can."""
    if not math.isfinite(value):
        return f"{value} is not a finite number"
    if value != 0 and abs(value) < SMALLEST:
        return f"{value:g} is too close to zero to be a real figure"
    lowest, highest = metric_range(unit, low, high)
    if unit in WHOLE_UNITS and value != math.floor(value):
        return f"a {_unit_label(unit)} is a whole number, not {value:g}"
    if unit == Unit.PERCENTAGE and value > 100:
        return f"percentage {value:g} is above 100"
    if value < lowest or value > highest:
        return (
            f"{_number(value)} is outside the plausible range of this {_unit_label(unit)} "
            f"({_number(lowest)} to {_number(highest)})"
        )
    return None


# A bound beyond this is no bound: every finite figure is within it.
_LARGEST = sys.float_info.max


def plausible_bounds(unit: str, low: float | None = None, high: float | None = None) -> tuple[float, float, bool]:
    """A quick test's bounds for ``plausible_fast``, worked out once per metric: the unit's range tightened by the
    metric's bounds (finite), and whether its values are whole numbers."""
    lowest, highest = metric_range(unit, low, high)
    return max(lowest, -_LARGEST), min(highest, _LARGEST), unit in WHOLE_UNITS


def plausible_fast(value: float, bounds: tuple[float, float, bool]) -> bool:
    """True when ``value`` is certainly a figure of the metric ``bounds`` (``plausible_bounds``) were worked out
    for, as ``implausible_value`` would find (None); False when that is to be asked. Every row of a file is
    checked: this is the common case at the cost of a few comparisons."""
    lowest, highest, whole = bounds
    return (
        lowest <= value <= highest
        and (value == 0 or abs(value) >= SMALLEST)
        and (not whole or float(value).is_integer())
    )


def _unit_label(unit: str) -> str:
    """The unit's name in a message (looked up only for a value that fails: every row of a file is checked)."""
    return dict(Unit.choices).get(unit, unit).lower()


def implausible_part(value: float, *, column: str) -> str | None:
    """Why ``value`` cannot be a numerator or denominator, or None."""
    if not math.isfinite(value):
        return f"{column} {value} is not a finite number"
    if value != 0 and abs(value) < SMALLEST:
        return f"{column} {value:g} is too close to zero to be a real figure"
    lowest, highest = PART_RANGE
    if value < lowest or value > highest:
        return f"{column} {_number(value)} is outside the plausible range ({_number(lowest)} to {_number(highest)})"
    return None

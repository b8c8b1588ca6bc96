"""Disproportionality: the relative rate index of each group against a reference group.

rate = numerator / denominator × 1,000; ratio = group rate / reference rate; the 95% interval is
exp(ln(ratio) ± 1.96 × √(1/a − 1/A + 1/b − 1/B)) for group counts a of A and reference counts b of B
(Katz's log method); significant when the interval excludes 1. A group (or reference) whose count is
below ``min_count`` gets no ratio: a ratio on a handful of events misleads.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

Z95 = 1.959963984540054


@dataclass(frozen=True)
class GroupRate:
    category: str
    numerator: float | None
    denominator: float | None
    rate: float | None
    ratio: float | None
    ci_lower: float | None
    ci_upper: float | None
    significant: bool | None
    note: str = ""


def relative_rates(
    table: pd.DataFrame,
    *,
    reference: str,
    min_count: int = 1,
    per: float = 1000.0,
    z: float = Z95,
) -> list[GroupRate]:
    """``table`` has columns ``category``, ``numerator``, ``denominator``; one row per group.

    Returns one entry per group other than the reference, in the table's order.
    """
    rows: dict[str, tuple[float | None, float | None]] = {
        str(record["category"]): (_num(record["numerator"]), _num(record["denominator"]))
        for record in table.to_dict("records")
    }
    if reference not in rows:
        raise ValueError(f"the reference category '{reference}' is not in the table")
    b, big_b = rows[reference]
    ref_rate: float | None = None
    if b is not None and big_b is not None and _usable(b, big_b) and b >= max(min_count, 1):
        ref_rate = b / big_b
    out: list[GroupRate] = []
    for category, (a, big_a) in rows.items():
        if category == reference:
            continue
        group_rate = a / big_a * per if a is not None and big_a is not None and _usable(a, big_a) else None
        note = ""
        ratio = lower = upper = None
        significant: bool | None = None
        if a is None or big_a is None or group_rate is None:
            note = "no count or population"
        elif ref_rate is None or b is None or big_b is None:
            note = f"the reference group's count is below {max(min_count, 1)}"
        elif a < max(min_count, 1):
            note = "no ratio for a zero count" if a == 0 else f"no ratio for a count below {min_count}"
        else:
            ratio = (a / big_a) / ref_rate
            se = math.sqrt(max(1 / a - 1 / big_a + 1 / b - 1 / big_b, 0.0))
            lower = math.exp(math.log(ratio) - z * se)
            upper = math.exp(math.log(ratio) + z * se)
            significant = lower > 1 or upper < 1
        out.append(
            GroupRate(
                category=category,
                numerator=a,
                denominator=big_a,
                rate=group_rate,
                ratio=ratio,
                ci_lower=lower,
                ci_upper=upper,
                significant=significant,
                note=note,
            )
        )
    return out


def reference_rate(table: pd.DataFrame, *, reference: str, per: float = 1000.0) -> float | None:
    for record in table.to_dict("records"):
        if str(record["category"]) == reference:
            a, big_a = _num(record["numerator"]), _num(record["denominator"])
            return a / big_a * per if a is not None and big_a is not None and _usable(a, big_a) else None
    return None


def _usable(count: float, population: float) -> bool:
    return population > 0 and 0 <= count <= population


def _num(value: object) -> float | None:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number

"""Disproportionality: the relative rate index of each group against a reference group.

rate = numerator / denominator × 1,000; ratio = group rate / reference rate; the 95% interval is
exp(ln(ratio) ± 1.96 × √(1/a − 1/A + 1/b − 1/B)) for group counts a of A and reference counts b of B
(Katz's log method); significant when the interval excludes 1. A group (or reference) whose count is
below ``min_count`` gets no ratio: a ratio on a handful of events misleads.

Thin records: a ratio means something only when the characteristic is recorded for most records. The
recorded share is the recorded categories' counts summed over the total's count (``recorded_share``);
below the breakdown's minimum (default 80%) every ratio is withheld with the reason (``withheld_reason``,
``withhold``). Small counts (1 to the suppression threshold) still get a ratio, flagged ``small_numbers``:
logged-in users see it with the flag, public outputs suppress it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any, cast

import pandas as pd

Z95 = 1.959963984540054
MIN_RECORDED = 0.8
SMALL_COUNT = 4  # counts 1-4 are suppressed in public outputs (DESIGN, "Small numbers and symbols")


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
    small_numbers: bool = False  # the group's count is 1 to the suppression threshold


Table = pd.DataFrame | Iterable[Mapping[str, Any]]


def _records(table: Table) -> Iterable[Mapping[str, Any]]:
    """A table's rows as mappings: a DataFrame's records, or the plain rows themselves (pages pass plain
    rows: building a DataFrame for a dozen groups cost more than the arithmetic)."""
    if isinstance(table, pd.DataFrame):
        return cast(list[Mapping[str, Any]], table.to_dict("records"))
    return table


def relative_rates(
    table: Table,
    *,
    reference: str,
    min_count: int = 1,
    per: float = 1000.0,
    z: float = Z95,
    small_count: int = SMALL_COUNT,
) -> list[GroupRate]:
    """``table`` has columns ``category``, ``numerator``, ``denominator``, one row per group (a DataFrame,
    or plain mappings with those keys).

    Returns one entry per group other than the reference, in the table's order. A group whose count is
    from 1 to ``small_count`` has ``small_numbers`` set (its ratio is still computed).
    """
    rows: dict[str, tuple[float | None, float | None]] = {
        str(record["category"]): (_num(record["numerator"]), _num(record["denominator"])) for record in _records(table)
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
                small_numbers=a is not None and 0 < a <= small_count,
            )
        )
    return out


def recorded_share(
    counts_by_category: Mapping[str, float | None], total: float | None, not_recorded: str | None
) -> float | None:
    """The share (0-1) of records whose category is recorded: the recorded categories' counts summed,
    over the total's count (CONTRACT, ``recorded_share``).

    ``counts_by_category`` may hold the ``not_recorded`` category or not (it is left out of the sum either
    way); a missing count counts as none. None when the breakdown declares no ``not_recorded`` category,
    or there is no positive total.
    """
    if not_recorded is None or total is None or _num(total) is None or total <= 0:
        return None
    counts = [_num(v) for category, v in counts_by_category.items() if category != not_recorded]
    recorded = sum(c for c in counts if c is not None)
    return recorded / float(total)


def withheld_reason(
    share: float | None,
    min_recorded: float | None = MIN_RECORDED,
    *,
    characteristic: str = "ethnicity",
    records: str = "records",
) -> str | None:
    """Why ratios are withheld — ``"ethnicity recorded for 3% of searches; 80% needed"`` — or None.

    None when the share is unknown or no minimum is set, or the share reaches the minimum.
    """
    if share is None or min_recorded is None or share >= min_recorded:
        return None
    needed = _percent(min_recorded, 0)
    shown = _percent(share, 0)
    if shown == needed:  # 79.6% must not read "80%; 80% needed"
        shown = _percent(share, 1)
    if share > 0 and shown in ("0%", "0.0%"):
        shown = "under 1%"
    return f"{characteristic} recorded for {shown} of {records}; {needed} needed"


def withhold(groups: Iterable[GroupRate], reason: str | None) -> list[GroupRate]:
    """``groups`` with every ratio, interval and significance removed and ``reason`` as their note (rates
    and counts stay); unchanged when ``reason`` is None."""
    if reason is None:
        return list(groups)
    return [replace(g, ratio=None, ci_lower=None, ci_upper=None, significant=None, note=reason) for g in groups]


SUPPRESSED_NOTE = "suppressed to protect small numbers"


def suppress_groups(
    groups: Iterable[GroupRate], hidden: set[str], *, reference_hidden: bool = False
) -> list[GroupRate]:
    """Public outputs: a group whose count is hidden shows no count, population, rate, ratio or interval (any
    of them with the reference's figures would give the count back); when the reference group's count is
    hidden, no group shows a ratio."""
    out = []
    for g in groups:
        if g.category in hidden:
            g = replace(
                g,
                numerator=None,
                denominator=None,
                rate=None,
                ratio=None,
                ci_lower=None,
                ci_upper=None,
                significant=None,
                note=SUPPRESSED_NOTE,
            )
        elif reference_hidden:
            g = replace(g, ratio=None, ci_lower=None, ci_upper=None, significant=None, note=SUPPRESSED_NOTE)
        out.append(g)
    return out


def _percent(share: float, decimals: int) -> str:
    return f"{share * 100:.{decimals}f}%"


def reference_rate(table: Table, *, reference: str, per: float = 1000.0) -> float | None:
    for record in _records(table):
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

"""Comparisons: on earlier quarters, over 12 months, as rates, against peers and the national figure."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd

from metrics.quarters import Quarter


@dataclass(frozen=True)
class Change:
    current: float
    earlier: float
    earlier_period: dt.date

    @property
    def absolute(self) -> float:
        return self.current - self.earlier

    @property
    def percent(self) -> float | None:
        """% change; None when the earlier value is 0 (a change from nothing has no percentage)."""
        if self.earlier == 0:
            return None
        return (self.current - self.earlier) / abs(self.earlier) * 100


def _value_at(series: pd.Series | Mapping[dt.date, float | None], period: dt.date) -> float | None:
    if not isinstance(series, pd.Series):  # a plain dict of values by quarter end: no pandas indexing
        found = series.get(period)
        return None if found is None or found != found else float(found)  # NaN is missing too
    if period not in series.index:
        return None
    value = series.loc[period]
    if isinstance(value, pd.Series):
        value = value.iloc[-1]
    return None if pd.isna(value) else float(value)


def change_on(
    series: pd.Series | Mapping[dt.date, float | None], period: dt.date, *, quarters_back: int
) -> Change | None:
    """The change at ``period`` on the value ``quarters_back`` quarters earlier (None when either is missing).
    ``series``: values by quarter end date, a pandas Series or a plain dict (faster: no ``.loc``)."""
    current = _value_at(series, period)
    earlier_period = Quarter.from_end_date(period).shift(-quarters_back).end_date
    earlier = _value_at(series, earlier_period)
    if current is None or earlier is None:
        return None
    return Change(current, earlier, earlier_period)


def change_on_previous_quarter(series: pd.Series | Mapping[dt.date, float | None], period: dt.date) -> Change | None:
    return change_on(series, period, quarters_back=1)


def change_on_same_quarter_last_year(
    series: pd.Series | Mapping[dt.date, float | None], period: dt.date
) -> Change | None:
    return change_on(series, period, quarters_back=4)


def rolling_12_months(series: pd.Series, period: dt.date) -> float | None:
    """Sum of the four quarters to ``period`` (for counts); None unless all four are there."""
    total = 0.0
    quarter = Quarter.from_end_date(period)
    for back in range(4):
        value = _value_at(series, quarter.shift(-back).end_date)
        if value is None:
            return None
        total += value
    return total


def rolling_12_months_series(series: pd.Series) -> pd.Series:
    """Rolling 12-month totals for every quarter that has the three before it."""
    clean = series.dropna().sort_index()
    out = {period: rolling_12_months(clean, period) for period in clean.index}
    return pd.Series({p: v for p, v in out.items() if v is not None}, dtype=float)


def rate(numerator: float | None, population: float | None, *, per: float = 1000.0) -> float | None:
    """``numerator`` per ``per`` of ``population``; None when either is missing or the population is not positive."""
    if numerator is None or population is None or population <= 0:
        return None
    return numerator / population * per


COMPARABLE_UNITS = frozenset({"percentage", "rate_per_1000", "rate_per_100000", "days", "ratio", "score"})


def default_comparable(unit: str) -> bool:
    """Whether figures in ``unit`` can be compared between areas unless the framework says otherwise.

    Percentages, rates, averages in days, ratios and scores are; raw counts are not (a small area
    "wins" on a count only by being small). Unknown units are not, to be safe.
    """
    return unit in COMPARABLE_UNITS


def rank_meaning(direction: str) -> str:
    """What rank 1 means: ``"1 is the lowest, which is best"``, ``"... highest, which is best"`` or
    ``"1 is the highest"`` for a neutral measure (neutral measures have no best)."""
    if direction == "lower_is_better":
        return "1 is the lowest, which is best"
    if direction == "higher_is_better":
        return "1 is the highest, which is best"
    return "1 is the highest"


@dataclass(frozen=True)
class PeerComparison:
    period: dt.date
    peer_mean: float
    peer_min: float
    peer_max: float
    rank: int | None  # 1 is best given the direction (neutral: 1 is the highest); None when not ranked
    of: int
    national: float | None
    comparable: bool = True  # False: the figures may be shown but are not ranked
    rank_meaning: str = ""  # see ``rank_meaning``
    ranked_from: str = "highest"  # "highest" or "lowest": the end rank 1 is at, for "3rd highest of 8"


def peer_comparison(
    values: Mapping[str, float | None],
    *,
    area: str,
    direction: str,
    period: dt.date,
    national: float | None = None,
    comparable: bool = True,
) -> PeerComparison | None:
    """Compare ``area`` with its peers (``values``: every peer's value, the area's own included).

    Ranks are competition ranks (equal values share the better rank). For ``lower_is_better`` the lowest
    value ranks 1; otherwise (``higher_is_better`` and ``neutral``) the highest does — for ``neutral``
    that is "highest", never "best" (see ``rank_meaning``). Not ``comparable`` (a count, unless the
    framework marks it comparable; or a stale figure): no rank. None when no peer has a value.
    """
    present = {code: float(v) for code, v in values.items() if v is not None and not pd.isna(v)}
    if not present:
        return None
    figures = list(present.values())
    rank = None
    if comparable and area in present:
        mine = present[area]
        if direction == "lower_is_better":
            rank = 1 + sum(1 for v in figures if v < mine)
        else:
            rank = 1 + sum(1 for v in figures if v > mine)
    return PeerComparison(
        period=period,
        peer_mean=sum(figures) / len(figures),
        peer_min=min(figures),
        peer_max=max(figures),
        rank=rank,
        of=len(figures),
        national=national,
        comparable=comparable,
        rank_meaning=rank_meaning(direction),
        ranked_from="lowest" if direction == "lower_is_better" else "highest",
    )

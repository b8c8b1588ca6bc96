"""Statistical process control: XmR charts as NHS England's "Making Data Count" and NHSRplotthedots.

- Centre line: mean of the segment's points. Moving range |x_i − x_(i−1)| between consecutive quarters.
- Gaps: a quarter absent between two present ones, or with no value (NaN, a ``[x]``), is a gap, not a zero.
  No moving range is computed across it (Wheeler: a moving range measures the change between successive
  periods, and a gap has no change to measure), so the point after it has ``after_gap`` and no moving range;
  ``SpcResult.missing_quarters`` lists the gaps. The run, trend and two-of-three rules count the points
  present, in order: a gap neither breaks nor extends a run or a trend. That is how NHSRplotthedots and the
  Making Data Count tools apply the rules (to the rows they are given, one per period with data), and the
  rules are about the order of the values, not the calendar: a missing quarter carries no evidence either
  way, so dropping a run because a quarter was not returned would hide a real shift, and counting the gap
  as a point would invent one.
- Screening (default on): moving ranges above 3.267 × their mean are dropped and the mean recomputed;
  if that would leave a zero mean moving range, the unscreened one is used.
- Process limits mean ± 2.66 × mean moving range; two-sigma lines mean ± (2/3)(2.66) × mean moving range.
- Rules: a point outside the limits; a run of ``run_length`` points on one side of the mean (a point on
  the mean breaks it); a trend of ``trend_length`` points each strictly above (or below) the one before
  (a tie breaks it); two of three consecutive points beyond the same two-sigma line (a point beyond the
  limit counts; only the points beyond the line are flagged). Every point of a qualifying run or trend is
  flagged. Rules work within a segment: a rebase starts a new one.
- A point's label comes from its first rule in the order outside limits, trend, two of three, run; with a
  direction the label is improvement or concern, with none it is neutral.
- A segment of fewer than 13 points has trial limits. A segment with a zero mean moving range (for
  example a constant series) has no limits and so nothing outside them.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

import pandas as pd

from metrics.quarters import Quarter

LIMIT = 2.66
TWO_SIGMA = LIMIT * 2 / 3
SCREEN = 3.267
TRIAL_BELOW = 13

OUTSIDE_LIMITS = "outside_limits"
SHIFT = "shift"
TREND = "trend"
TWO_OF_THREE = "two_of_three"
PRECEDENCE = (OUTSIDE_LIMITS, TREND, TWO_OF_THREE, SHIFT)

DIRECTIONS = {"higher_is_better": 1, "lower_is_better": -1, "neutral": 0}


@dataclass(frozen=True)
class Segment:
    start: dt.date
    n_points: int
    mean: float
    mean_moving_range: float | None
    lower_limit: float | None
    upper_limit: float | None
    lower_two_sigma: float | None
    upper_two_sigma: float | None
    trial_limits: bool
    reason: str = ""


class Point(NamedTuple):
    """One quarter's point (a named tuple: a national overview makes 2,400 of them)."""

    period: dt.date
    value: float
    segment: int
    moving_range: float | None
    special_cause: str | None  # improvement | concern | neutral | None
    rules: tuple[str, ...]
    after_gap: bool = False  # the quarter before has no value (so no moving range)


@dataclass(frozen=True)
class SpcResult:
    points: list[Point] = field(default_factory=list)
    segments: list[Segment] = field(default_factory=list)
    missing_quarters: list[dt.date] = field(default_factory=list)  # end dates of the gaps, oldest first

    @property
    def last_segment(self) -> Segment | None:
        return self.segments[-1] if self.segments else None

    @property
    def variation(self) -> str | None:
        """The latest point's variation: common_cause or special_cause_<label>; None with no points."""
        if not self.points:
            return None
        label = self.points[-1].special_cause
        return f"special_cause_{label}" if label else "common_cause"


def _sum(values: Sequence[float], lo: int = 0, n: int | None = None) -> float:
    """Sum as numpy's pairwise summation does it (bit for bit), so means match the published figures."""
    if n is None:
        n = len(values)
    if n < 8:
        total = -0.0
        for i in range(lo, lo + n):
            total += values[i]
        return total
    if n <= 128:
        r = list(values[lo : lo + 8])
        i = 8
        end = n - n % 8
        while i < end:
            base = lo + i
            r[0] += values[base]
            r[1] += values[base + 1]
            r[2] += values[base + 2]
            r[3] += values[base + 3]
            r[4] += values[base + 4]
            r[5] += values[base + 5]
            r[6] += values[base + 6]
            r[7] += values[base + 7]
            i += 8
        total = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))
        while i < n:
            total += values[lo + i]
            i += 1
        return total
    half = n // 2
    half -= half % 8
    return _sum(values, lo, half) + _sum(values, lo + half, n - half)


def _mean(values: Sequence[float]) -> float:
    return _sum(values) / len(values)


def _tolerance(values: Sequence[float]) -> float:
    scale = max(abs(v) for v in values) if values else 0.0
    return 1e-9 * max(scale, 1e-300)


def _runs(flags: Sequence[bool], length: int) -> list[bool]:
    """Mark every element of each run of True at least ``length`` long."""
    n = len(flags)
    marked = [False] * n
    start = 0
    while start < n:
        if not flags[start]:
            start += 1
            continue
        end = start
        while end + 1 < n and flags[end + 1]:
            end += 1
        if end - start + 1 >= length:
            marked[start : end + 1] = [True] * (end - start + 1)
        start = end + 1
    return marked


def _trend(values: Sequence[float], length: int, tol: float) -> tuple[list[bool], list[bool]]:
    """(points in a rising trend, points in a falling trend) of at least ``length`` points."""
    n = len(values)
    rising = [False] * n
    falling = [False] * n
    if n < 2:
        return rising, falling
    diffs = [values[i + 1] - values[i] for i in range(n - 1)]
    for sign, out in ((1, rising), (-1, falling)):
        steps = [d * sign > tol for d in diffs]
        # A run of k qualifying steps covers k + 1 points.
        marked_steps = _runs(steps, max(length - 1, 1))
        for i, is_marked in enumerate(marked_steps):
            if is_marked:
                out[i] = out[i + 1] = True
    return rising, falling


def _two_of_three(beyond: Sequence[bool]) -> list[bool]:
    """Points beyond a line that are part of 2 or more such points in 3 consecutive."""
    n = len(beyond)
    flagged = [False] * n
    for start in range(max(n - 2, 0)):
        if beyond[start] + beyond[start + 1] + beyond[start + 2] >= 2:
            for i in range(start, start + 3):
                if beyond[i]:
                    flagged[i] = True
    return flagged


def _moving_ranges(values: Sequence[float], gaps_before: Sequence[bool]) -> list[float | None]:
    """|x_i − x_(i−1)|, None for the first point and across a missing quarter."""
    return [None] + [None if gaps_before[i] else abs(values[i] - values[i - 1]) for i in range(1, len(values))]


def _segment_limits(
    values: Sequence[float], gaps_before: Sequence[bool], screen_outliers: bool, tol: float
) -> tuple[float, list[float | None], float | None]:
    mean = _mean(values)
    moving_ranges = _moving_ranges(values, gaps_before)
    valid = [mr for mr in moving_ranges if mr is not None]
    if not valid:
        return mean, moving_ranges, None
    amr = _mean(valid)
    if screen_outliers:
        kept = [mr for mr in valid if mr <= SCREEN * amr + tol]
        screened = _mean(kept) if kept else 0.0
        if screened > tol:
            amr = screened
    if amr <= tol:
        return mean, moving_ranges, None
    return mean, moving_ranges, amr


def _quarter_ordinal(day: dt.date) -> int:
    """The ordinal of the financial quarter containing ``day`` (as ``Quarter.containing(day)._ordinal()``)."""
    if day.month <= 3:
        return (day.year - 1) * 4 + 3
    return day.year * 4 + (day.month - 4) // 3


def xmr(
    series: pd.Series,
    *,
    direction: str = "neutral",
    screen_outliers: bool = True,
    run_length: int = 7,
    trend_length: int = 7,
    rebases: Iterable[dt.date] = (),
    rebase_reasons: Sequence[str] | None = None,
    baseline_points: int | None = None,
    step: int = 1,
) -> SpcResult:
    """An XmR chart of ``series`` (values indexed by quarter end date; missing values are gaps).

    ``rebases`` are the quarters from which new limits apply. ``baseline_points`` fixes each segment's
    limits on its first N points (default: all of them). The order of ``series`` does not matter.
    ``step`` is the number of quarters between expected points: 1 for a quarterly series, 4 for an annual
    one (a figure a year, at the quarter its year ends), so an annual series has no "missing" quarters.
    (``xmr_of`` takes plain (period, value) pairs and computes the same.)
    """
    return xmr_of(
        zip(series.index, series.to_numpy(dtype=float, na_value=math.nan).tolist(), strict=True),
        direction=direction,
        screen_outliers=screen_outliers,
        run_length=run_length,
        trend_length=trend_length,
        rebases=rebases,
        rebase_reasons=rebase_reasons,
        baseline_points=baseline_points,
        step=step,
    )


def xmr_of(
    pairs: Iterable[tuple[object, float | None]],
    *,
    direction: str = "neutral",
    screen_outliers: bool = True,
    run_length: int = 7,
    trend_length: int = 7,
    rebases: Iterable[dt.date] = (),
    rebase_reasons: Sequence[str] | None = None,
    baseline_points: int | None = None,
    step: int = 1,
) -> SpcResult:
    """``xmr`` over plain (quarter end date, value) pairs (None or NaN values are gaps; a period given
    twice keeps its last value), without pandas: the same rules and the same results, bit for bit."""
    if direction not in DIRECTIONS:
        raise ValueError(f"direction must be one of {', '.join(DIRECTIONS)}")
    if run_length < 2 or trend_length < 2:
        raise ValueError("run and trend lengths must be at least 2")
    improvement = DIRECTIONS[direction]
    by_period: dict[dt.date, float] = {}
    for period, value in pairs:
        if value is None:
            continue
        number = float(value)
        if math.isnan(number):
            continue
        by_period[period if type(period) is dt.date else _as_date(period)] = number
    if not by_period:
        return SpcResult()
    periods = sorted(by_period)
    values = [by_period[p] for p in periods]
    tol = _tolerance(values)
    ordinals = [_quarter_ordinal(p) for p in periods]
    gaps = [False] + [ordinals[i] - ordinals[i - 1] > step for i in range(1, len(periods))]
    present = set(ordinals)
    missing = [
        Quarter(k // 4, k % 4 + 1).end_date for k in range(ordinals[0], ordinals[-1] + 1, step) if k not in present
    ]

    reasons = list(rebase_reasons or [])
    starts = sorted(set(rebases))
    seg_starts: list[tuple[int, str]] = [(0, "")]
    for i, b_start in enumerate(starts):
        b_reason = reasons[i] if i < len(reasons) else ""
        first = next((j for j, p in enumerate(periods) if p >= b_start), None)
        if first is None or first == 0 or first == seg_starts[-1][0]:
            if first == 0:
                seg_starts[0] = (0, b_reason)
            continue
        seg_starts.append((first, b_reason))

    points: list[Point] = []
    segments: list[Segment] = []
    for seg_index, (first, reason) in enumerate(seg_starts):
        last = seg_starts[seg_index + 1][0] if seg_index + 1 < len(seg_starts) else len(values)
        seg_values = values[first:last]
        n = len(seg_values)
        seg_gaps = gaps[first:last]
        seg_gaps[0] = True
        base = seg_values if not baseline_points else seg_values[:baseline_points]
        mean, moving_ranges, amr = _segment_limits(base, seg_gaps[: len(base)], screen_outliers, tol)
        if len(base) < n:
            moving_ranges = _moving_ranges(seg_values, seg_gaps)
        lower = upper = lower2 = upper2 = None
        if amr is not None:
            lower, upper = mean - LIMIT * amr, mean + LIMIT * amr
            lower2, upper2 = mean - TWO_SIGMA * amr, mean + TWO_SIGMA * amr
        segments.append(
            Segment(
                start=periods[first],
                n_points=n,
                mean=mean,
                mean_moving_range=amr,
                lower_limit=lower,
                upper_limit=upper,
                lower_two_sigma=lower2,
                upper_two_sigma=upper2,
                trial_limits=len(base) < TRIAL_BELOW,
                reason=reason,
            )
        )
        side = [1 if v > mean + tol else (-1 if v < mean - tol else 0) for v in seg_values]
        if upper is not None and lower is not None and upper2 is not None and lower2 is not None:
            outside = [v > upper + tol or v < lower - tol for v in seg_values]
            above = _two_of_three([v > upper2 + tol for v in seg_values])
            below = _two_of_three([v < lower2 - tol for v in seg_values])
            two_of_three = [a or b for a, b in zip(above, below, strict=True)]
        else:
            outside = two_of_three = [False] * n
        rising, falling = _trend(seg_values, trend_length, tol)
        up = _runs([s == 1 for s in side], run_length)
        down = _runs([s == -1 for s in side], run_length)
        for offset in range(n):
            in_trend = rising[offset] or falling[offset]
            in_run = up[offset] or down[offset]
            if outside[offset] or in_trend or two_of_three[offset] or in_run:
                fired = tuple(
                    name
                    for name, hit in (
                        (OUTSIDE_LIMITS, outside[offset]),
                        (TREND, in_trend),
                        (TWO_OF_THREE, two_of_three[offset]),
                        (SHIFT, in_run),
                    )
                    if hit
                )
            else:
                fired = ()
            label: str | None = None
            if fired:
                sign = (1 if rising[offset] else -1) if fired[0] == TREND else side[offset]
                if improvement == 0 or sign == 0:
                    label = "neutral"
                else:
                    label = "improvement" if sign == improvement else "concern"
            points.append(
                Point(
                    period=periods[first + offset],
                    value=seg_values[offset],
                    segment=seg_index,
                    moving_range=moving_ranges[offset],
                    special_cause=label,
                    rules=fired,
                    after_gap=gaps[first + offset],
                )
            )
    return SpcResult(points=points, segments=segments, missing_quarters=missing)


def _as_date(period: object) -> dt.date:
    if isinstance(period, dt.datetime):
        return period.date()
    if isinstance(period, dt.date):
        return period
    return pd.Timestamp(period).date()  # type: ignore[arg-type]

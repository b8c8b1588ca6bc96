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

import numpy as np
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


@dataclass(frozen=True)
class Point:
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


def _tolerance(values: np.ndarray) -> float:
    scale = float(np.max(np.abs(values))) if len(values) else 0.0
    return 1e-9 * max(scale, 1e-300)


def _runs(flags: np.ndarray, length: int) -> np.ndarray:
    """Mark every element of each run of True at least ``length`` long."""
    marked = np.zeros(len(flags), dtype=bool)
    start = 0
    n = len(flags)
    while start < n:
        if not flags[start]:
            start += 1
            continue
        end = start
        while end + 1 < n and flags[end + 1]:
            end += 1
        if end - start + 1 >= length:
            marked[start : end + 1] = True
        start = end + 1
    return marked


def _trend(values: np.ndarray, length: int, tol: float) -> tuple[np.ndarray, np.ndarray]:
    """(points in a rising trend, points in a falling trend) of at least ``length`` points."""
    n = len(values)
    rising = np.zeros(n, dtype=bool)
    falling = np.zeros(n, dtype=bool)
    if n < 2:
        return rising, falling
    diffs = np.diff(values)
    for sign, out in ((1, rising), (-1, falling)):
        steps = diffs * sign > tol
        # A run of k qualifying steps covers k + 1 points.
        marked_steps = _runs(steps, max(length - 1, 1))
        for i, is_marked in enumerate(marked_steps):
            if is_marked:
                out[i] = out[i + 1] = True
    return rising, falling


def _two_of_three(beyond: np.ndarray) -> np.ndarray:
    """Points beyond a line that are part of 2 or more such points in 3 consecutive."""
    n = len(beyond)
    flagged = np.zeros(n, dtype=bool)
    for start in range(max(n - 2, 0)):
        window = beyond[start : start + 3]
        if window.sum() >= 2:
            flagged[start : start + 3] |= window
    return flagged


def _segment_limits(
    values: np.ndarray, gaps_before: np.ndarray, screen_outliers: bool, tol: float
) -> tuple[float, np.ndarray, float | None]:
    mean = float(np.mean(values))
    moving = np.abs(np.diff(values)).astype(float)
    moving[gaps_before[1:]] = np.nan  # no moving range across a missing quarter
    moving_ranges = np.concatenate([[np.nan], moving])
    valid = moving[~np.isnan(moving)]
    if len(valid) == 0:
        return mean, moving_ranges, None
    amr = float(np.mean(valid))
    if screen_outliers:
        kept = valid[valid <= SCREEN * amr + tol]
        screened = float(np.mean(kept)) if len(kept) else 0.0
        if screened > tol:
            amr = screened
    if amr <= tol:
        return mean, moving_ranges, None
    return mean, moving_ranges, amr


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
    """
    if direction not in DIRECTIONS:
        raise ValueError(f"direction must be one of {', '.join(DIRECTIONS)}")
    if run_length < 2 or trend_length < 2:
        raise ValueError("run and trend lengths must be at least 2")
    improvement = DIRECTIONS[direction]
    clean = series.dropna().astype(float)
    clean = clean[~clean.index.duplicated(keep="last")].sort_index()
    if clean.empty:
        return SpcResult()
    periods = [_as_date(p) for p in clean.index]
    values = clean.to_numpy(dtype=float)
    tol = _tolerance(values)
    quarters = [Quarter.containing(p) for p in periods]
    gaps = np.array([False] + [quarters[i - 1].quarters_between(quarters[i]) > step for i in range(1, len(periods))])
    present = set(quarters)
    missing = [
        quarters[0].shift(k).end_date
        for k in range(0, quarters[0].quarters_between(quarters[-1]) + 1, step)
        if quarters[0].shift(k) not in present
    ]

    reasons = list(rebase_reasons or [])
    starts = sorted(set(rebases))
    boundaries: list[tuple[dt.date, str]] = []
    for i, start in enumerate(starts):
        reason = reasons[i] if i < len(reasons) else ""
        boundaries.append((start, reason))
    segment_of = np.zeros(len(values), dtype=int)
    seg_index = 0
    seg_starts: list[tuple[int, str]] = [(0, "")]
    for b_start, b_reason in boundaries:
        first = next((i for i, p in enumerate(periods) if p >= b_start), None)
        if first is None or first == 0 or first == seg_starts[-1][0]:
            if first == 0:
                seg_starts[0] = (0, b_reason)
            continue
        seg_starts.append((first, b_reason))
    for seg_index, (first, _) in enumerate(seg_starts):
        segment_of[first:] = seg_index

    points: list[Point] = []
    segments: list[Segment] = []
    for seg_index, (first, reason) in enumerate(seg_starts):
        last = seg_starts[seg_index + 1][0] if seg_index + 1 < len(seg_starts) else len(values)
        seg_values = values[first:last]
        seg_gaps = gaps[first:last].copy()
        seg_gaps[0] = True
        base = seg_values if not baseline_points else seg_values[:baseline_points]
        mean, moving_ranges, amr = _segment_limits(base, seg_gaps[: len(base)], screen_outliers, tol)
        if len(base) < len(seg_values):
            full_moving = np.abs(np.diff(seg_values)).astype(float)
            full_moving[seg_gaps[1:]] = np.nan
            moving_ranges = np.concatenate([[np.nan], full_moving])
        lower = upper = lower2 = upper2 = None
        if amr is not None:
            lower, upper = mean - LIMIT * amr, mean + LIMIT * amr
            lower2, upper2 = mean - TWO_SIGMA * amr, mean + TWO_SIGMA * amr
        segments.append(
            Segment(
                start=periods[first],
                n_points=len(seg_values),
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
        side = np.where(seg_values > mean + tol, 1, np.where(seg_values < mean - tol, -1, 0))
        rules: dict[str, np.ndarray] = {}
        if upper is not None and lower is not None and upper2 is not None and lower2 is not None:
            rules[OUTSIDE_LIMITS] = (seg_values > upper + tol) | (seg_values < lower - tol)
            above = seg_values > upper2 + tol
            below = seg_values < lower2 - tol
            rules[TWO_OF_THREE] = _two_of_three(above) | _two_of_three(below)
        else:
            rules[OUTSIDE_LIMITS] = np.zeros(len(seg_values), dtype=bool)
            rules[TWO_OF_THREE] = np.zeros(len(seg_values), dtype=bool)
        rising, falling = _trend(seg_values, trend_length, tol)
        rules[TREND] = rising | falling
        rules[SHIFT] = _runs(side == 1, run_length) | _runs(side == -1, run_length)
        for offset in range(len(seg_values)):
            fired = tuple(name for name in PRECEDENCE if rules[name][offset])
            label: str | None = None
            if fired:
                first_rule = fired[0]
                if first_rule == TREND:
                    sign = 1 if rising[offset] else -1
                else:
                    sign = int(side[offset])
                if improvement == 0 or sign == 0:
                    label = "neutral"
                else:
                    label = "improvement" if sign == improvement else "concern"
            mr = moving_ranges[offset]
            points.append(
                Point(
                    period=periods[first + offset],
                    value=float(seg_values[offset]),
                    segment=seg_index,
                    moving_range=None if math.isnan(mr) else float(mr),
                    special_cause=label,
                    rules=fired,
                    after_gap=bool(gaps[first + offset]),
                )
            )
    return SpcResult(points=points, segments=segments, missing_quarters=missing)


def _as_date(period: object) -> dt.date:
    if isinstance(period, dt.datetime):
        return period.date()
    if isinstance(period, dt.date):
        return period
    return pd.Timestamp(period).date()  # type: ignore[arg-type]

"""Suggested rebases: where a series seems to have changed how it behaves, propose new limits from there.

Recorded rebases stay the performance manager's decision (with a date and a reason); these are proposals.
The rule is deliberately conservative — a suggestion is made only when all of these hold in the series'
last segment (after its latest recorded rebase):

1. The run rule holds to the end: the last ``run_length`` or more points all lie on one side of the mean
   (the points present, in order; a point on the mean ends the run). The first point of that run is the
   quarter where the process seems to have changed.
2. There is an earlier process to change from: at least ``min_before`` points before that quarter.
3. The change is a step, not noise: the mean of the run lies outside the process limits of the points
   before it (mean ± 2.66 × mean moving range, as ``spc.xmr`` computes them; screened the same way).
4. The new level has settled: the run itself holds no trend of ``trend_length`` points (a series still
   rising or falling has not reached a process to set limits on yet).
5. No rebase is recorded at or after that quarter.

A step the source flags (``steps``: quarter -> what the source says, e.g. a change of counting rules) is
proposed too when it falls in the last segment, no rebase is recorded at or after it, and more than half
of the points from it on are special cause.

This follows NHS England's "Making Data Count" guidance on recalculating limits (only after a sustained
shift, signalled by a run, whose cause is understood — which is why the tool asks and the manager decides)
and Wheeler's advice that limits are revised when the process has demonstrably moved to a new level.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from metrics.quarters import Quarter

from .spc import LIMIT, SpcResult, _trend, xmr


@dataclass(frozen=True)
class SuggestedRebase:
    period: dt.date  # the quarter end date new limits would start from
    reason: str  # plain words, for the metric page and the API


def suggest_rebases(
    data: SpcResult | pd.Series,
    *,
    run_length: int = 7,
    trend_length: int = 7,
    recorded: Iterable[dt.date] = (),
    steps: Mapping[dt.date, str] | None = None,
    min_before: int = 4,
    direction: str = "neutral",
    screen_outliers: bool = True,
) -> list[SuggestedRebase]:
    """Proposed rebases for ``data`` (an ``xmr`` result, or a series ``xmr`` is run on), oldest first.

    ``recorded``: rebases already recorded (a result's own segment starts count as recorded too).
    ``run_length``/``trend_length`` should be the ones the chart uses. ``direction`` and
    ``screen_outliers`` are used only when ``data`` is a series.
    """
    recorded = sorted(set(recorded))
    if isinstance(data, pd.Series):
        data = xmr(
            data,
            direction=direction,
            screen_outliers=screen_outliers,
            run_length=run_length,
            trend_length=trend_length,
            rebases=recorded,
        )
    result = data
    if not result.points or not result.segments:
        return []
    decided = set(recorded) | {segment.start for segment in result.segments[1:]}
    last = len(result.segments) - 1
    segment = result.segments[last]
    points = [p for p in result.points if p.segment == last]
    out: list[SuggestedRebase] = []

    for step, note in sorted((steps or {}).items()):
        if step <= segment.start or any(r >= step for r in decided):
            continue
        since = [p for p in points if p.period >= step]
        special = sum(1 for p in since if p.special_cause)
        if len(since) >= 2 and special * 2 > len(since):
            out.append(
                SuggestedRebase(
                    since[0].period,
                    f"the source notes a change in {_label(step)}{f' ({note})' if note else ''} and "
                    f"{special} of the {len(since)} quarters from then on are outside normal variation: "
                    f"the process seems to have changed in {_label(since[0].period)}",
                )
            )

    values = np.array([p.value for p in points], dtype=float)
    tol = 1e-9 * max(float(np.max(np.abs(values))), 1e-300)
    side = np.where(values > segment.mean + tol, 1, np.where(values < segment.mean - tol, -1, 0))
    run = 0
    while run < len(values) and side[-1] != 0 and side[-1 - run] == side[-1]:
        run += 1
    before = len(values) - run
    if run >= run_length and before >= min_before:
        start = points[before].period
        tail, earlier = values[before:], pd.Series(values[:before], index=[p.period for p in points[:before]])
        rising, falling = _trend(tail.tolist(), trend_length, tol)
        if (
            not any(r >= start for r in decided)
            and not (any(rising) or any(falling))
            and _outside(float(np.mean(tail)), earlier, screen_outliers=screen_outliers, tol=tol)
            and all(s.period != start for s in out)
        ):
            where = "above" if side[-1] > 0 else "below"
            out.append(
                SuggestedRebase(
                    start,
                    f"the last {run} quarters are all {where} the mean: "
                    f"the process seems to have changed in {_label(start)}",
                )
            )
    return sorted(out, key=lambda s: s.period)


def _outside(level: float, earlier: pd.Series, *, screen_outliers: bool, tol: float) -> bool:
    """Whether ``level`` lies outside the process limits of the ``earlier`` points."""
    segment = xmr(earlier, screen_outliers=screen_outliers).last_segment
    if segment is None:
        return False
    if segment.lower_limit is None or segment.upper_limit is None:  # a constant process: any move is a step
        return abs(level - segment.mean) > tol
    assert segment.mean_moving_range is not None
    return abs(level - segment.mean) > LIMIT * segment.mean_moving_range + tol


def _label(period: dt.date) -> str:
    return Quarter.containing(period).label

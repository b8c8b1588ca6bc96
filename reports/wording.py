"""Plain-English findings and text alternatives for charts, generated from the statistics."""

from __future__ import annotations

from collections.abc import Sequence

from metrics.models import Metric
from metrics.quarters import period_label
from metrics.stats.compare import Change, PeerComparison
from metrics.stats.disproportionality import GroupRate
from metrics.stats.spc import OUTSIDE_LIMITS, SHIFT, TREND, TWO_OF_THREE, SpcResult

_DECIMALS = {"count": 0, "percentage": 1, "rate_per_1000": 2, "rate_per_100000": 1, "days": 0, "ratio": 2, "score": 1}
_SUFFIX = {"percentage": "%"}


def format_value(value: float | None, unit: str) -> str:
    if value is None:
        return "[x]"
    decimals = _DECIMALS.get(unit, 1)
    return f"{value:,.{decimals}f}{_SUFFIX.get(unit, '')}"


VARIATION_WORDS = {
    "common_cause": "common cause variation",
    "special_cause_improvement": "special cause variation showing improvement",
    "special_cause_concern": "special cause variation of concern",
    "special_cause_neutral": "special cause variation",
    None: "no data",
}
VARIATION_LETTER = {
    "common_cause": "C",
    "special_cause_improvement": "I",
    "special_cause_concern": "!",
    "special_cause_neutral": "N",
    None: "–",
}
VARIATION_SHORT = {
    "common_cause": "Common cause",
    "special_cause_improvement": "Improvement",
    "special_cause_concern": "Concern",
    "special_cause_neutral": "Special cause (neutral)",
    None: "No data",
}


def _end_run(spc: SpcResult) -> tuple[int, int]:
    """(length, side) of the run of points on one side of the mean that the series ends with."""
    seg = spc.last_segment
    if seg is None:
        return 0, 0
    length, side = 0, 0
    for point in reversed([p for p in spc.points if p.segment == len(spc.segments) - 1]):
        s = (point.value > seg.mean) - (point.value < seg.mean)
        if s == 0 or (side and s != side):
            break
        side = s
        length += 1
    return length, side


def spc_text(metric: Metric, spc: SpcResult, *, area_name: str = "") -> str:
    """The text alternative of an XmR chart: the latest value, its variation and why."""
    if not spc.points:
        return f"No figures for {metric.name}{' in ' + area_name if area_name else ''}."
    last = spc.points[-1]
    seg = spc.last_segment
    assert seg is not None
    value = format_value(last.value, metric.unit)
    parts = [f"The latest value, {value} in {period_label(last.period)}, "]
    variation = spc.variation
    if variation == "common_cause":
        parts.append("is within normal variation")
    else:
        reasons = {
            OUTSIDE_LIMITS: "is outside the process limits",
            TREND: f"is part of a trend of {metric.spc_trend_length} or more quarters",
            TWO_OF_THREE: "is one of two of three quarters close to a process limit",
            SHIFT: f"is part of a run of {metric.spc_run_length} or more quarters on one side of the mean",
        }
        parts.append(" and ".join(reasons[r] for r in last.rules) or "shows special cause variation")
        label = last.special_cause
        if label in ("improvement", "concern"):
            parts.append(f", which is {'an improvement' if label == 'improvement' else 'a concern'}")
    run, side = _end_run(spc)
    if run >= 3 and variation == "common_cause":
        parts.append(f"; the last {run} quarters were {'above' if side > 0 else 'below'} the mean")
    text = "".join(parts) + "."
    if seg.upper_limit is not None and seg.lower_limit is not None:
        text += (
            f" The mean is {format_value(seg.mean, metric.unit)} and normal variation runs from "
            f"{format_value(seg.lower_limit, metric.unit)} to {format_value(seg.upper_limit, metric.unit)}"
            f"{' (trial limits: fewer than 13 quarters)' if seg.trial_limits else ''}."
        )
    if len(spc.segments) > 1:
        text += f" Limits were recalculated from {period_label(seg.start)}: {seg.reason or 'rebased'}."
    return text


def change_text(change: Change | None, unit: str, what: str) -> str:
    if change is None:
        return f"no figure for {what}"
    direction = "up" if change.absolute > 0 else "down" if change.absolute < 0 else "no change"
    pct = f" ({change.percent:+.1f}%)" if change.percent is not None and change.absolute else ""
    if direction == "no change":
        return f"no change on {what}"
    return f"{direction} {format_value(abs(change.absolute), unit)}{pct} on {what}"


def peer_text(comparison: PeerComparison | None, unit: str, area_name: str) -> str:
    if comparison is None:
        return "No peer comparison: the area has no peer group, or its peers have no figures."
    rank = f"ranks {comparison.rank} of {comparison.of} (1 is best)" if comparison.rank else "has no figure"
    national = (
        f"; England and Wales {format_value(comparison.national, unit)}" if comparison.national is not None else ""
    )
    return (
        f"In {period_label(comparison.period)} {area_name} {rank} among its peers; the peer average is "
        f"{format_value(comparison.peer_mean, unit)} (range {format_value(comparison.peer_min, unit)} to "
        f"{format_value(comparison.peer_max, unit)}){national}."
    )


def disproportionality_sentences(
    groups: Sequence[GroupRate], *, reference_name: str, labels: dict[str, str]
) -> list[str]:
    """One sentence per group: its rate against the reference group's, and whether the difference is
    statistically significant (the 95% interval excludes 1)."""
    sentences = []
    for g in groups:
        name = labels.get(g.category, g.category)
        if g.ratio is None:
            sentences.append(f"{name}: no ratio ({g.note}).")
            continue
        interval = f"95% interval {g.ci_lower:.2f} to {g.ci_upper:.2f}"
        if g.significant and g.ratio >= 1:
            sentences.append(
                f"The rate for {name} people was {g.ratio:.1f} times the rate for {reference_name} people ({interval}): significantly higher."
            )
        elif g.significant:
            sentences.append(
                f"The rate for {name} people was {g.ratio:.2f} times the rate for {reference_name} people ({interval}): significantly lower."
            )
        else:
            sentences.append(
                f"The rate for {name} people was {g.ratio:.2f} times the rate for {reference_name} people ({interval}): not a significant difference."
            )
    return sentences


DISPROPORTIONALITY_CAVEAT = (
    "Disproportionality shows how rates differ between groups; it does not show why. Differences can reflect "
    "where and when policing happens, who is present in public places, and the use of residential "
    "population (Census 2021) as the denominator."
)


def cause_text_short(cause: str | None) -> str:
    return {
        "improvement": "Special cause: improvement",
        "concern": "Special cause: concern",
        "neutral": "Special cause",
    }.get(cause or "", "Common cause")

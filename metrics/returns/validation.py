"""One engine for the checks on a return's values beyond the per-value checks of the import core:

- the framework's validation rules (CONTRACT §1 ``validation_rules``): categories add up to the total,
  one metric at most another, a value within a range — each an error (blocks submission) or a warning
  (needs the analyst's comment);
- unusual figures: a value outside the SPC process limits of its own approved history, or a change of
  more than ``PCC_PERF_CHANGE_WARNING_PERCENT`` on the previous quarter — warnings that need a comment.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from django.conf import settings

from frameworks.models import Framework
from metrics.figures import metric_spc
from metrics.models import Importance, Metric, Observation, RuleKind, ValidationRule
from metrics.quarters import Quarter, period_label

Key = tuple[int, int, int | None]  # (metric id, area id, category id)
HISTORY_QUARTERS = 20
MIN_HISTORY_FOR_LIMITS = 8


class ValueLike(Protocol):
    metric: Metric
    area_id: int
    category_id: int | None
    value: float | None


@dataclass(frozen=True)
class Finding:
    key: Key  # the value the finding is about (its comment goes there)
    kind: str  # the rule's code, "outside_limits" or "big_change"
    importance: str  # error | warning
    message: str
    row: int | None = None

    @property
    def is_error(self) -> bool:
        return self.importance == Importance.ERROR


def _fmt(value: float) -> str:
    return f"{value:,.6g}" if abs(value) < 1e6 else f"{value:,.0f}"


def evaluate(
    *,
    values: Sequence[ValueLike],
    framework: Framework | None,
    period: dt.date,
    rows: dict[Key, int] | None = None,
) -> list[Finding]:
    """Every rule and unusual-figure finding on ``values`` (a return's values for quarter ``period``)."""
    rows = rows or {}
    by_key: dict[Key, ValueLike] = {(v.metric.id, v.area_id, v.category_id): v for v in values}
    findings: list[Finding] = []
    rules = (
        list(framework.rules.select_related("breakdown").prefetch_related("breakdown__categories")) if framework else []
    )
    if rules:
        findings += _rule_findings(rules, by_key, period, rows)
    findings += _unusual_findings(by_key, period, rows)
    return findings


def _value(v: ValueLike | None) -> float | None:
    return None if v is None else v.value


def _rule_findings(
    rules: list[ValidationRule], by_key: dict[Key, ValueLike], period: dt.date, rows: dict[Key, int]
) -> list[Finding]:
    findings: list[Finding] = []
    areas_by_metric: dict[int, set[int]] = defaultdict(set)
    for metric_id, area_id, _ in by_key:
        areas_by_metric[metric_id].add(area_id)
    need_other = {
        (r.other_metric_id, a)
        for r in rules
        if r.kind == RuleKind.AT_MOST
        for a in areas_by_metric.get(r.metric_id, ())
    }
    approved_other = _approved_totals(need_other, period, by_key)
    for rule in rules:
        for area_id in sorted(areas_by_metric.get(rule.metric_id, ())):
            total_key: Key = (rule.metric_id, area_id, None)
            total = _value(by_key.get(total_key))
            if rule.kind == RuleKind.BREAKDOWN_SUM and rule.breakdown is not None:
                parts = [by_key.get((rule.metric_id, area_id, c.pk)) for c in rule.breakdown.categories.all()]
                if total is None or any(_value(p) is None for p in parts):
                    continue
                added = sum(_value(p) or 0.0 for p in parts)
                if abs(added - total) > rule.tolerance + 1e-9:
                    text = rule.message or "The categories must add up to the total."
                    findings.append(
                        Finding(
                            total_key,
                            rule.code,
                            rule.importance,
                            f"{text} Categories add up to {_fmt(added)}, the total is {_fmt(total)}.",
                            rows.get(total_key),
                        )
                    )
            elif rule.kind == RuleKind.AT_MOST and rule.other_metric_id is not None:
                other_key: Key = (rule.other_metric_id, area_id, None)
                other = _value(by_key.get(other_key))
                if other is None:
                    other = approved_other.get((rule.other_metric_id, area_id))
                if total is None or other is None:
                    continue
                if total > other + rule.tolerance + 1e-9:
                    text = rule.message or "This value must not be above the other metric's."
                    findings.append(
                        Finding(
                            total_key,
                            rule.code,
                            rule.importance,
                            f"{text} {_fmt(total)} is above {_fmt(other)}.",
                            rows.get(total_key),
                        )
                    )
            elif rule.kind == RuleKind.RANGE:
                for key, v in by_key.items():
                    if key[0] != rule.metric_id or key[1] != area_id or v.value is None:
                        continue
                    low, high = rule.minimum, rule.maximum
                    if (low is not None and v.value < low) or (high is not None and v.value > high):
                        bounds = f"{_fmt(low) if low is not None else '…'} to {_fmt(high) if high is not None else '…'}"
                        text = rule.message or "The value is out of its expected range."
                        findings.append(
                            Finding(
                                key,
                                rule.code,
                                rule.importance,
                                f"{text} {_fmt(v.value)} is outside {bounds}.",
                                rows.get(key),
                            )
                        )
    return findings


def _approved_totals(
    pairs: set[tuple[int | None, int]], period: dt.date, by_key: dict[Key, ValueLike]
) -> dict[tuple[int, int], float]:
    wanted = {(m, a) for m, a in pairs if m is not None and (m, a, None) not in by_key}
    if not wanted:
        return {}
    rows = Observation.objects.filter(
        metric_id__in={m for m, _ in wanted}, area_id__in={a for _, a in wanted}, period=period, category__isnull=True
    ).values_list("metric_id", "area_id", "value")
    return {(m, a): v for m, a, v in rows if v is not None}


def _unusual_findings(by_key: dict[Key, ValueLike], period: dt.date, rows: dict[Key, int]) -> list[Finding]:
    if not by_key:
        return []
    threshold = float(settings.PCC_PERF_CHANGE_WARNING_PERCENT)
    start = Quarter.from_end_date(period).shift(-HISTORY_QUARTERS).end_date
    history: dict[Key, list[Observation]] = defaultdict(list)
    query = Observation.objects.filter(
        metric_id__in={k[0] for k in by_key},
        area_id__in={k[1] for k in by_key},
        period__gte=start,
        period__lt=period,
    ).order_by("period")
    for obs in query:
        key = (obs.metric_id, obs.area_id, obs.category_id)
        if key in by_key:
            history[key].append(obs)
    previous_period = Quarter.from_end_date(period).previous().end_date
    metrics = {v.metric.id: v.metric for v in by_key.values()}
    _prefetch_rebases(metrics.values())
    findings: list[Finding] = []
    for key, v in by_key.items():
        if v.value is None or not history.get(key):
            continue
        past = history[key]
        previous = next((o for o in reversed(past) if o.period == previous_period and o.value is not None), None)
        if previous is not None and previous.value:
            change = (v.value - previous.value) / abs(previous.value) * 100
            if abs(change) > threshold:
                findings.append(
                    Finding(
                        key,
                        "big_change",
                        Importance.WARNING,
                        f"{_fmt(v.value)} is {change:+.0f}% on {period_label(previous_period)} ({_fmt(previous.value)}); "
                        f"changes above {threshold:g}% need a comment.",
                        rows.get(key),
                    )
                )
        values = [o for o in past if o.value is not None]
        if len(values) >= MIN_HISTORY_FOR_LIMITS:
            spc = metric_spc(metrics[key[0]], values)
            seg = spc.last_segment
            if (
                seg
                and seg.lower_limit is not None
                and seg.upper_limit is not None
                and not (seg.lower_limit <= v.value <= seg.upper_limit)
            ):
                findings.append(
                    Finding(
                        key,
                        "outside_limits",
                        Importance.WARNING,
                        f"{_fmt(v.value)} is outside the process limits of its history "
                        f"({_fmt(seg.lower_limit)} to {_fmt(seg.upper_limit)}); explain the change.",
                        rows.get(key),
                    )
                )
    return findings


def _prefetch_rebases(metrics: Iterable[Metric]) -> None:
    from django.db.models import Prefetch, prefetch_related_objects

    from metrics.models import Rebase

    pending = [m for m in metrics if "rebases" not in getattr(m, "_prefetched_objects_cache", {})]
    if pending:  # the current partnership's rebases (a shared statistic is rebased by each for itself)
        prefetch_related_objects(pending, Prefetch("rebases", queryset=Rebase.objects.in_scope()))


def blocking(findings: Iterable[Finding]) -> list[Finding]:
    return [f for f in findings if f.is_error]


def needing_comment(findings: Iterable[Finding], comments: dict[Key, str]) -> list[Finding]:
    return [f for f in findings if not f.is_error and not comments.get(f.key, "").strip()]


def as_dicts(findings: Iterable[Finding]) -> list[dict[str, Any]]:
    return [
        {"key": list(f.key), "kind": f.kind, "importance": f.importance, "message": f.message, "row": f.row}
        for f in findings
    ]

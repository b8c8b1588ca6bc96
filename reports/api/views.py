"""The read-only JSON API, version 1 (CONTRACT §3).

Session login or ``Authorization: Token KEY`` (``Bearer`` also accepted); the same role rules as the
pages through ``accounts.access``, in one partnership per call (``reports.api.base._partnership``). Errors are JSON ``{"error": message}`` with a 4xx status."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from accounts.access import Perm
from frameworks.models import Breakdown, BreakdownCategory
from frameworks.selectors import current_framework
from metrics.models import FrameworkMetric, Metric
from metrics.quarters import period_label
from reports.api.base import (
    ApiError,
    api_view,
    get_area,
    get_metric,
    get_param,
    get_period,
    get_snapshot,
    num,
    snapshot_json,
)
from reports.evidence.build import attach_rebases, breakdown_cells, build_evidence, metric_rebases
from reports.evidence.items import Part, fairness_at
from reports.evidence.sources import FigureSource


def _spc_rules(metric: Metric) -> dict[str, Any]:
    return {
        "screen_outliers": metric.spc_screen_outliers,
        "run_length": metric.spc_run_length,
        "trend_length": metric.spc_trend_length,
        "rebases": [{"period": r.period.isoformat(), "reason": r.reason} for r in metric_rebases(metric)],
    }


@api_view(Perm.VIEW_APPROVED_DATA)
def metrics_list(request: HttpRequest, user: Any) -> dict[str, Any]:
    framework = current_framework()
    if framework is None:
        return {"framework": None, "metrics": []}
    placements = list(
        FrameworkMetric.objects.filter(framework=framework)
        .select_related("metric__agency", "priority")
        .prefetch_related("metric__breakdowns")
        .order_by("priority__order", "order")
    )
    attach_rebases(p.metric for p in placements)
    metrics = []
    for place in placements:
        m = place.metric
        metrics.append(
            {
                "code": m.code,
                "name": m.name,
                "priority": place.priority.code,
                "priority_name": place.priority.name,
                "agency": m.agency.code,
                "unit": m.unit,
                "direction": m.direction,
                "source_type": m.source_type,
                "basis": m.basis,
                "breakdowns": sorted(b.code for b in m.breakdowns.all()),
                "description": m.description,
                "caveats": m.caveats,
                "spc": _spc_rules(m),
            }
        )
    return {
        "framework": {
            "code": framework.code,
            "name": framework.name,
            "version": framework.version,
            "home_area": framework.home_area.code,
        },
        "metrics": metrics,
    }


def _category(metric: Metric, breakdown: str | None, category: str | None) -> BreakdownCategory | None:
    if breakdown is None and category is None:
        return None
    if breakdown is None or category is None:
        raise ApiError(400, "'breakdown' and 'category' go together")
    found = (
        BreakdownCategory.objects.select_related("breakdown").filter(breakdown__code=breakdown, code=category).first()
    )
    if found is None:
        raise ApiError(404, f"unknown category '{category}' of breakdown '{breakdown}'")
    if not metric.breakdowns.filter(pk=found.breakdown_id).exists():
        raise ApiError(400, f"metric '{metric.code}' is not broken down by '{breakdown}'")
    return found


@api_view(Perm.VIEW_APPROVED_DATA)
def series(request: HttpRequest, user: Any) -> dict[str, Any]:
    metric = get_metric(get_param(request, "metric") or "")
    area = get_area(get_param(request, "area") or "")
    category = _category(
        metric, get_param(request, "breakdown", required=False), get_param(request, "category", required=False)
    )
    snapshot = get_snapshot(request)
    data = build_evidence(
        framework=current_framework(),
        area=area,
        metrics=[metric],
        category=category,
        source=FigureSource(snapshot),
        parts=Part.PEERS,
    )[0]
    spc_points = {p.period: p for p in data.spc.points}
    points = []
    for obs in data.series:
        point = spc_points.get(obs.period) if obs.value is not None else None
        points.append(
            {
                "period": obs.period.isoformat(),
                "label": period_label(obs.period),
                "value": num(obs.value),
                "numerator": num(obs.numerator),
                "denominator": num(obs.denominator),
                "status": obs.status,
                "missing": obs.missing or None,
                "special_cause": point.special_cause if point else None,
                "rules": list(point.rules) if point else [],
                "after_gap": bool(point.after_gap) if point else False,
                "illustrative": obs.illustrative,
            }
        )
    spc: dict[str, Any] | None = None
    last = data.spc.last_segment
    if last is not None:
        spc = {
            "mean": last.mean,
            "lower_limit": last.lower_limit,
            "upper_limit": last.upper_limit,
            "trial_limits": last.trial_limits,
            "variation": data.spc.variation,
            "segments": [
                {
                    "from": seg.start.isoformat(),
                    "mean": seg.mean,
                    "lower_limit": seg.lower_limit,
                    "upper_limit": seg.upper_limit,
                    "lower_two_sigma": seg.lower_two_sigma,
                    "upper_two_sigma": seg.upper_two_sigma,
                    "trial_limits": seg.trial_limits,
                    "points": seg.n_points,
                    "reason": seg.reason,
                }
                for seg in data.spc.segments
            ],
        }
    comparison = None
    if data.comparison is not None and data.comparison.comparable:
        c = data.comparison
        comparison = {
            "period": c.period.isoformat(),
            "peer_mean": c.peer_mean,
            "peer_min": c.peer_min,
            "peer_max": c.peer_max,
            "rank": c.rank,
            "of": c.of,
            "national": c.national,
        }
    return {
        "metric": metric.code,
        "area": area.code,
        "figures_area": data.area.code,
        "national_fallback": data.national_fallback,
        "breakdown": category.breakdown.code if category else None,
        "category": category.code if category else None,
        "unit": data.metric.unit,  # as the snapshot defined it, when one is asked for
        "direction": data.metric.direction,
        "points": points,
        "spc": spc,
        "comparison": comparison,
        "snapshot": snapshot_json(snapshot),
        "latest_period": data.vintage.isoformat() if data.vintage else None,
        "stale": data.stale,
        "illustrative": data.illustrative,
        "suggested_rebases": [{"period": r.period.isoformat(), "reason": r.reason} for r in data.suggested_rebases],
    }


@api_view(Perm.VIEW_APPROVED_DATA)
def disproportionality(request: HttpRequest, user: Any) -> dict[str, Any]:
    metric = get_metric(get_param(request, "metric") or "")
    area = get_area(get_param(request, "area") or "")
    period = get_period(get_param(request, "period") or "")
    code = get_param(request, "breakdown") or ""
    snapshot = get_snapshot(request)
    breakdown = Breakdown.objects.select_related("reference").prefetch_related("categories").filter(code=code).first()
    if breakdown is None:
        raise ApiError(404, f"unknown breakdown '{code}'")
    if not metric.breakdowns.filter(pk=breakdown.pk).exists():
        raise ApiError(400, f"metric '{metric.code}' is not broken down by '{code}'")
    if breakdown.reference is None:
        raise ApiError(400, f"breakdown '{code}' has no reference category")
    cells, total = breakdown_cells(
        metric=metric, area=area, period=period, breakdown=breakdown, source=FigureSource(snapshot)
    )
    fair = fairness_at(metric=metric, area=area, breakdown=breakdown, period=period, cells=cells, total=total)
    groups, ref_rate = fair.groups, fair.reference_rate
    return {
        "metric": metric.code,
        "area": area.code,
        "period": period.isoformat(),
        "label": period_label(period),
        "breakdown": breakdown.code,
        "reference": breakdown.reference.code,
        "reference_rate": ref_rate,
        "snapshot": snapshot_json(snapshot),
        "groups": [
            {
                "category": g.category,
                "numerator": g.numerator,
                "denominator": g.denominator,
                "rate": g.rate,
                "ratio": g.ratio,
                "ci_lower": g.ci_lower,
                "ci_upper": g.ci_upper,
                "significant": g.significant,
                "note": g.note,
                "small_numbers": g.small_numbers,
            }
            for g in groups
        ],
        "recorded_share": fair.recorded_share,
        "min_recorded": fair.min_recorded,
        "withheld": fair.withheld,
    }

"""The read-only JSON API, version 1 (CONTRACT §3).

Session login or ``Authorization: Token KEY`` (``Bearer`` also accepted); the same role rules as the
pages through ``frameworks.access``. Errors are JSON ``{"error": message}`` with a 4xx status.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

from frameworks.access import Perm, has_perm
from frameworks.models import Area, Breakdown, BreakdownCategory, FrameworkMetric
from frameworks.services import api_token_user
from metrics.models import Metric
from metrics.quarters import Quarter, QuarterError, period_label

from .evidence import FigureSource, Part, breakdown_cells, build_evidence, fairness_at
from .models import Snapshot
from .selectors import current_framework


class ApiError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


def _authenticate(request: HttpRequest) -> Any:
    header = request.headers.get("Authorization", "")
    if header:
        scheme, _, key = header.partition(" ")
        if scheme.lower() not in {"token", "bearer"} or not key.strip():
            raise ApiError(401, "Authorization must be 'Token <key>'")
        user = api_token_user(key=key.strip())
        if user is None:
            raise ApiError(401, "invalid or revoked API key")
        return user
    if request.user.is_authenticated:
        return request.user
    raise ApiError(401, "log in or send an API key ('Authorization: Token <key>')")


ApiView = Callable[..., dict[str, Any]]


def api_view(perm: Perm) -> Callable[[ApiView], Callable[..., JsonResponse]]:
    def decorator(view: ApiView) -> Callable[..., JsonResponse]:
        @require_GET
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
            try:
                user = _authenticate(request)
                if not has_perm(user, perm):
                    raise ApiError(403, "your role may not read this")
                payload = view(request, user, *args, **kwargs)
            except ApiError as exc:
                response = JsonResponse({"error": exc.message}, status=exc.status)
                if exc.status == 401:
                    response["WWW-Authenticate"] = 'Token realm="pcc_perf"'
                return response
            return JsonResponse(payload, json_dumps_params={"allow_nan": False})

        return wrapped

    return decorator


def _param(request: HttpRequest, name: str, *, required: bool = True) -> str | None:
    value = request.GET.get(name, "").strip()
    if not value:
        if required:
            raise ApiError(400, f"the '{name}' parameter is required")
        return None
    return value


def _metric(code: str) -> Metric:
    metric = Metric.objects.select_related("agency").prefetch_related("rebases").filter(code=code).first()
    if metric is None:
        raise ApiError(404, f"unknown metric '{code}'")
    return metric


def _area(code: str) -> Area:
    area = Area.objects.filter(code=code).first()
    if area is None:
        raise ApiError(404, f"unknown area '{code}'")
    return area


def _snapshot(request: HttpRequest) -> Snapshot | None:
    text = _param(request, "snapshot", required=False)
    if text is None:
        return None
    snapshot = Snapshot.objects.filter(pk=int(text)).first() if text.isdigit() else None
    if snapshot is None:
        raise ApiError(404, f"unknown snapshot '{text}'")
    return snapshot


def _snapshot_json(snapshot: Snapshot | None) -> dict[str, Any] | None:
    if snapshot is None:
        return None
    return {
        "id": snapshot.pk,
        "period": snapshot.period.isoformat(),
        "number": snapshot.number,
        "published_at": snapshot.published_at.isoformat(timespec="seconds"),
    }


def _num(value: float | None) -> float | None:
    return None if value is None else float(value)


def _spc_rules(metric: Metric) -> dict[str, Any]:
    return {
        "screen_outliers": metric.spc_screen_outliers,
        "run_length": metric.spc_run_length,
        "trend_length": metric.spc_trend_length,
        "rebases": [{"period": r.period.isoformat(), "reason": r.reason} for r in metric.rebases.all()],
    }


@api_view(Perm.VIEW_APPROVED_DATA)
def metrics_list(request: HttpRequest, user: Any) -> dict[str, Any]:
    framework = current_framework()
    if framework is None:
        return {"framework": None, "metrics": []}
    placements = (
        FrameworkMetric.objects.filter(framework=framework)
        .select_related("metric__agency", "priority")
        .prefetch_related("metric__breakdowns", "metric__rebases")
        .order_by("priority__order", "order")
    )
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
    metric = _metric(_param(request, "metric") or "")
    area = _area(_param(request, "area") or "")
    category = _category(
        metric, _param(request, "breakdown", required=False), _param(request, "category", required=False)
    )
    snapshot = _snapshot(request)
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
                "value": _num(obs.value),
                "numerator": _num(obs.numerator),
                "denominator": _num(obs.denominator),
                "status": obs.status,
                "missing": obs.missing or None,
                "special_cause": point.special_cause if point else None,
                "rules": list(point.rules) if point else [],
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
    if data.comparison is not None:
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
        "unit": metric.unit,
        "direction": metric.direction,
        "points": points,
        "spc": spc,
        "comparison": comparison,
        "snapshot": _snapshot_json(snapshot),
    }


def _period(text: str) -> dt.date:
    try:
        return Quarter.parse(text).end_date
    except QuarterError as exc:
        raise ApiError(400, f"period: {exc}") from None


@api_view(Perm.VIEW_APPROVED_DATA)
def disproportionality(request: HttpRequest, user: Any) -> dict[str, Any]:
    metric = _metric(_param(request, "metric") or "")
    area = _area(_param(request, "area") or "")
    period = _period(_param(request, "period") or "")
    code = _param(request, "breakdown") or ""
    snapshot = _snapshot(request)
    breakdown = Breakdown.objects.select_related("reference").prefetch_related("categories").filter(code=code).first()
    if breakdown is None:
        raise ApiError(404, f"unknown breakdown '{code}'")
    if not metric.breakdowns.filter(pk=breakdown.pk).exists():
        raise ApiError(400, f"metric '{metric.code}' is not broken down by '{code}'")
    if breakdown.reference is None:
        raise ApiError(400, f"breakdown '{code}' has no reference category")
    cells = breakdown_cells(metric=metric, area=area, period=period, breakdown=breakdown, source=FigureSource(snapshot))
    fair = fairness_at(metric=metric, area=area, breakdown=breakdown, period=period, cells=cells)
    groups, ref_rate = fair.groups, fair.reference_rate
    return {
        "metric": metric.code,
        "area": area.code,
        "period": period.isoformat(),
        "label": period_label(period),
        "breakdown": breakdown.code,
        "reference": breakdown.reference.code,
        "reference_rate": ref_rate,
        "snapshot": _snapshot_json(snapshot),
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
            }
            for g in groups
        ],
    }

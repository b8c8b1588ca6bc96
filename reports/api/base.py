"""The API's plumbing: authentication (session or token), role checks, parameters and JSON errors."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

from accounts.access import Perm, has_perm
from accounts.tokens import api_token_user
from frameworks.models import Area
from metrics.models import Metric
from metrics.quarters import Quarter, QuarterError
from reports.evidence.build import scoped_rebases
from reports.models import Snapshot


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


def get_param(request: HttpRequest, name: str, *, required: bool = True) -> str | None:
    value = request.GET.get(name, "").strip()
    if not value:
        if required:
            raise ApiError(400, f"the '{name}' parameter is required")
        return None
    return value


def get_metric(code: str) -> Metric:
    metric = (  # with the partnership's rebases only
        Metric.objects.select_related("agency").prefetch_related(scoped_rebases()).filter(code=code).first()
    )
    if metric is None:
        raise ApiError(404, f"unknown metric '{code}'")
    return metric


def get_area(code: str) -> Area:
    area = Area.objects.filter(code=code).first()
    if area is None:
        raise ApiError(404, f"unknown area '{code}'")
    return area


def get_snapshot(request: HttpRequest) -> Snapshot | None:
    text = get_param(request, "snapshot", required=False)
    if text is None:
        return None
    snapshot = Snapshot.objects.filter(pk=int(text)).first() if text.isdigit() else None
    if snapshot is None:
        raise ApiError(404, f"unknown snapshot '{text}'")
    return snapshot


def snapshot_json(snapshot: Snapshot | None) -> dict[str, Any] | None:
    if snapshot is None:
        return None
    return {
        "id": snapshot.pk,
        "period": snapshot.period.isoformat(),
        "number": snapshot.number,
        "published_at": snapshot.published_at.isoformat(timespec="seconds"),
    }


def num(value: float | None) -> float | None:
    return None if value is None else float(value)


def get_period(text: str) -> dt.date:
    try:
        return Quarter.parse(text).end_date
    except QuarterError as exc:
        raise ApiError(400, f"period: {exc}") from None

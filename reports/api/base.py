"""The API's plumbing: authentication (session or token), the partnership a call reads, role checks,
parameters and JSON errors."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.db.models import F
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

from accounts.access import Perm, has_perm, user_partnerships
from accounts.models import ApiToken, Partnership
from accounts.tenancy import current_partnership, current_partnership_id, partnership_scope
from accounts.tokens import api_token_find
from frameworks.models import Area
from metrics.models import Metric
from metrics.quarters import Quarter, QuarterError
from reports.evidence.build import attach_rebases
from reports.models import Snapshot


class ApiError(Exception):
    def __init__(self, status: int, message: str, **more: Any):
        super().__init__(message)
        self.status = status
        self.message = message
        self.more = more  # more fields of the JSON error (e.g. the partnerships to choose from)


def _authenticate(request: HttpRequest) -> tuple[Any, ApiToken | None]:
    """The caller, and the API key they sent (None: a signed-in user)."""
    header = request.headers.get("Authorization", "")
    if header:
        scheme, _, key = header.partition(" ")
        if scheme.lower() not in {"token", "bearer"} or not key.strip():
            raise ApiError(401, "Authorization must be 'Token <key>'")
        token = api_token_find(key=key.strip())
        if token is None:
            raise ApiError(401, "invalid or revoked API key")
        return token.user, token
    if request.user.is_authenticated:
        return request.user, None
    raise ApiError(401, "log in or send an API key ('Authorization: Token <key>')")


def _partnership(request: HttpRequest, user: Any, token: ApiToken | None) -> Partnership:
    """The one partnership a call reads:

    - a key made for a partnership reads that one (``?partnership=`` naming another: 400);
    - else ``?partnership=CODE``, a partnership the caller has a role in (any other: 404, whether it exists
      or not);
    - else, signed in, the partnership the pages work in (``CurrentPartnershipMiddleware``'s choice);
    - else the key's user's only partnership; with several, one must be named (400, listing them)."""
    asked = request.GET.get("partnership", "").strip()
    if token is not None and token.partnership is not None:
        if asked and asked != token.partnership.code:
            raise ApiError(400, f"this API key reads partnership '{token.partnership.code}' only")
        return token.partnership
    if token is None:
        chosen = getattr(request, "partnership", None) or current_partnership()
        if asked and chosen.code != asked:
            raise ApiError(404, f"unknown partnership '{asked}' (or you have no role in it)")
        return chosen
    mine = user_partnerships(user)
    if asked:
        found = next((p for p in mine if p.code == asked), None)
        if found is None:
            raise ApiError(404, f"unknown partnership '{asked}' (or you have no role in it)")
        return found
    if len(mine) > 1:
        codes = [p.code for p in sorted(mine, key=lambda p: p.code)]
        raise ApiError(
            400,
            f"this API key's user has roles in {len(codes)} partnerships: name one with ?partnership=CODE "
            f"({', '.join(codes)})",
            partnerships=codes,
        )
    return mine[0] if mine else current_partnership()  # no role anywhere: the role check refuses


ApiView = Callable[..., dict[str, Any]]


def api_view(perm: Perm) -> Callable[[ApiView], Callable[..., JsonResponse]]:
    def decorator(view: ApiView) -> Callable[..., JsonResponse]:
        @require_GET
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
            try:
                user, token = _authenticate(request)
                partnership = _partnership(request, user, token)
                request.partnership = partnership  # type: ignore[attr-defined]
                with partnership_scope(partnership):  # every read below is this partnership's
                    if not has_perm(user, perm):
                        raise ApiError(403, "your role may not read this")
                    payload = view(request, user, *args, **kwargs)
            except ApiError as exc:
                response = JsonResponse({"error": exc.message, **exc.more}, status=exc.status)
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
    """The metric ``code`` names in the current partnership: its own, or a shared official statistic (its
    own first); another partnership's is unknown here."""
    metric = (
        Metric.objects.in_scope()
        .filter(code=code, placements__framework__partnership_id=current_partnership_id())  # used here
        .select_related("agency")
        .order_by(F("partnership_id").asc(nulls_last=True))
        .first()
    )
    if metric is None:
        raise ApiError(404, f"unknown metric '{code}'")
    attach_rebases([metric])
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
    snapshot = Snapshot.objects.in_scope().filter(pk=int(text)).first() if text.isdigit() else None
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

"""The audit trail: every recorded action, for a return or a metric, as a page or CSV."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from accounts.access import Perm, permission_required
from accounts.downloads import csv_bytes, download
from accounts.models import AuditEvent
from metrics.models import Return

from .common import agency_scope, return_for

# --- audit ------------------------------------------------------------------------------------------------
AUDIT_HEADER = ["when (UTC)", "who", "action", "object", "summary", "old", "new", "reason", "return", "metric"]


@permission_required(Perm.VIEW_AUDIT)
def audit_log(request: HttpRequest) -> HttpResponse:
    events = AuditEvent.objects.select_related("actor").order_by("-at", "-id")
    return_id = request.GET.get("return", "").strip()
    metric = request.GET.get("metric", "").strip()
    scope = agency_scope(request)
    return_obj = None
    if return_id:
        if not return_id.isdigit():
            raise Http404
        return_obj = return_for(request, int(return_id))
        events = events.filter(return_id=return_obj.pk)
    elif scope is not None:
        # An analyst browses the trail of their own agency's returns only.
        events = events.filter(return_id__in=Return.objects.filter(agency=scope).values("pk"))
    if metric:
        events = events.filter(metric_code=metric)
    fmt = request.GET.get("format")
    if fmt == "csv":
        rows = [
            [
                e.at.isoformat(timespec="seconds"),
                e.who or "system",
                e.action,
                f"{e.object_type}:{e.object_id}",
                e.summary,
                e.old if e.old is not None else "",
                e.new if e.new is not None else "",
                e.reason,
                e.return_id or "",
                e.metric_code,
            ]
            for e in events[:50000]
        ]
        return download(csv_bytes(AUDIT_HEADER, rows), "audit.csv")
    page = events[:500]
    return render(
        request,
        "metrics/audit.html",
        {"events": page, "return_obj": return_obj, "metric": metric, "query": request.GET.urlencode()},
    )

"""Pages for data returns. Thin: permissions through frameworks.access, work in metrics.returns."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from frameworks.access import Perm, has_perm, permission_required
from frameworks.models import AuditEvent, Framework
from pcc_perf.downloads import csv_bytes, download, xlsx_bytes

from . import returns as svc
from .imports import COLUMNS, FileRejected
from .models import Observation, Return, ReturnState, ReturnUpload, UploadState
from .quarters import Quarter, QuarterError, period_label


def _framework() -> Framework:
    framework = (
        Framework.objects.select_related("home_area").filter(is_current=True).order_by("-updated_at", "code").first()
    )
    if framework is None:
        raise Http404("No framework is loaded.")
    return framework


def _agency_scope(request: HttpRequest) -> Any:
    """An analyst sees their own agency; the commissioner's office sees all (None)."""
    user: Any = request.user
    return user.agency if user.role == "analyst" and not user.is_superuser else None


def _return_for(request: HttpRequest, pk: int) -> Return:
    return_obj = get_object_or_404(Return.objects.select_related("round", "agency"), pk=pk)
    svc.require_return_access(request.user, return_obj)
    return return_obj


# --- tracker ----------------------------------------------------------------------------------------------
TRACKER_HEADER = [
    "quarter",
    "agency",
    "state",
    "late",
    "values supplied",
    "values owed",
    "completeness %",
    "due date",
    "first submitted",
    "on time",
]


def _tracker_rows(statuses: list[svc.ReturnStatus]) -> list[list[Any]]:
    return [
        [
            s.return_obj.round.label,
            s.return_obj.agency.name,
            s.state_label,
            "yes" if s.late else "no",
            s.supplied,
            s.owed,
            round(s.completeness, 1),
            s.return_obj.round.due_date.isoformat(),
            s.return_obj.first_submitted_at.date().isoformat() if s.return_obj.first_submitted_at else "",
            {True: "yes", False: "no", None: ""}[s.on_time],
        ]
        for s in statuses
    ]


@permission_required(Perm.VIEW_AGENCY_RETURNS)
def tracker(request: HttpRequest) -> HttpResponse:
    framework = _framework()
    statuses = svc.tracker(framework=framework, agency=_agency_scope(request))
    fmt = request.GET.get("format")
    if fmt in {"csv", "xlsx"}:
        rows = _tracker_rows(statuses)
        name = f"returns-tracker-{timezone.localdate():%Y-%m-%d}"
        if fmt == "csv":
            return download(csv_bytes(TRACKER_HEADER, rows), f"{name}.csv")
        return download(xlsx_bytes([("tracker", TRACKER_HEADER, rows)]), f"{name}.xlsx")
    rounds: dict[dt.date, list[svc.ReturnStatus]] = {}
    for s in statuses:
        rounds.setdefault(s.return_obj.round.period, []).append(s)
    suggested = Quarter.containing(timezone.localdate()).previous()
    return render(
        request,
        "metrics/tracker.html",
        {
            "framework": framework,
            "rounds": [(period_label(p), items) for p, items in rounds.items()],
            "can_open": has_perm(request.user, Perm.MANAGE_ROUNDS),
            "suggested_period": suggested.label,
            "suggested_due": (suggested.end_date + dt.timedelta(days=30)).isoformat(),
        },
    )


@require_POST
@permission_required(Perm.MANAGE_ROUNDS)
def round_open(request: HttpRequest) -> HttpResponse:
    try:
        period = Quarter.parse(request.POST.get("period", "")).end_date
        due = dt.date.fromisoformat(request.POST.get("due_date", ""))
        round_ = svc.round_open(actor=request.user, framework=_framework(), period=period, due_date=due)
    except (QuarterError, ValueError) as exc:
        messages.error(request, f"Could not open the round: {exc}")
    except svc.ReturnError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"The {round_.label} round is open; agencies have been e-mailed.")
    return redirect("returns")


# --- a return ---------------------------------------------------------------------------------------------
def _grid(return_obj: Return, framework: Framework, posted: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    lines = svc.owed_lines(framework=framework, agency=return_obj.agency)
    values = {v.key: v for v in return_obj.values.select_related("metric", "area", "category")}
    history = svc.history_for(lines=lines, period=return_obj.round.period)
    extra = [v for k, v in values.items() if k not in {line.key for line in lines}]
    rows = []
    for index, line in enumerate(lines):
        value = values.get(line.key)
        entry: dict[str, Any] = {
            "index": index,
            "metric": line.metric,
            "area": line.area,
            "category": line.category,
            "breakdown": line.category.breakdown if line.category else None,
            "history": history[line.key],
            "saved": value,
            "has_ratio": line.metric.has_ratio,
            "value": _show(value.value if value and not value.missing else None) if value else "",
            "numerator": _show(value.numerator) if value else "",
            "denominator": _show(value.denominator) if value else "",
            "status": value.status if value else "provisional",
            "note": value.note if value else "",
        }
        if value and value.missing:
            entry["value"] = f"[{value.missing}]"
        if posted is not None:
            for name in ("value", "numerator", "denominator", "status", "note"):
                entry[name] = posted.get(f"l{index}-{name}", "")
        rows.append(entry)
    for value in extra:
        rows.append(
            {"extra": True, "saved": value, "metric": value.metric, "area": value.area, "category": value.category}
        )
    return rows


def _show(number: float | None) -> str:
    if number is None:
        return ""
    return f"{number:.10g}"


def _breakdown_codes(return_obj: Return, framework: Framework) -> dict[int, tuple[str, str, str, str]]:
    out = {}
    for index, line in enumerate(svc.owed_lines(framework=framework, agency=return_obj.agency)):
        out[index] = (
            line.metric.code,
            line.area.code,
            line.category.breakdown.code if line.category else "",
            line.category.code if line.category else "",
        )
    return out


def return_detail(request: HttpRequest, pk: int) -> HttpResponse:
    if not request.user.is_authenticated:
        from django.contrib.auth.views import redirect_to_login

        return redirect_to_login(request.get_full_path())
    return_obj = _return_for(request, pk)
    framework = _framework()
    posted = None
    status = 200
    if request.method == "POST":
        if not svc.can_act(request.user, return_obj, Perm.SUBMIT_RETURN):
            raise PermissionDenied
        action = request.POST.get("action")
        try:
            version = int(request.POST.get("version", "-1"))
        except ValueError:
            version = -1
        try:
            if action == "save":
                codes = _breakdown_codes(return_obj, framework)
                entries = []
                for index, (metric, area, breakdown, category) in codes.items():
                    entries.append(
                        {
                            "metric": metric,
                            "area": area,
                            "period": return_obj.round.period.isoformat(),
                            "breakdown": breakdown,
                            "category": category,
                            "value": request.POST.get(f"l{index}-value", ""),
                            "numerator": request.POST.get(f"l{index}-numerator", ""),
                            "denominator": request.POST.get(f"l{index}-denominator", ""),
                            "status": request.POST.get(f"l{index}-status", "") or "provisional",
                            "note": request.POST.get(f"l{index}-note", ""),
                        }
                    )
                check = svc.return_save_grid(
                    actor=request.user, return_obj=return_obj, version=version, entries=entries
                )
                if check.summary.errors:
                    posted = request.POST
                    status = 400
                    for issue in check.summary.errors:
                        line = codes.get((issue.row or 0) - 1)
                        where = f"{line[0]} {line[3] or 'total'}" if line else f"line {issue.row}"
                        messages.error(request, f"{where}, {issue.column}: {issue.message}")
                else:
                    messages.success(request, "Saved as a draft.")
                    return redirect("return-detail", pk=pk)
            elif action == "comments":
                comments = {
                    int(key.removeprefix("comment-")): str(request.POST.get(key, ""))
                    for key in request.POST
                    if key.startswith("comment-") and key.removeprefix("comment-").isdigit()
                }
                svc.return_save_comments(actor=request.user, return_obj=return_obj, version=version, comments=comments)
                messages.success(request, "Comments saved.")
                return redirect("return-detail", pk=pk)
            else:
                return HttpResponse("Unknown action", status=400)
        except svc.Conflict as exc:
            messages.error(request, str(exc))
            posted = request.POST
            status = 409
            return_obj.refresh_from_db()
        except svc.ReturnError as exc:
            messages.error(request, str(exc))
            return redirect("return-detail", pk=pk)
    values = list(return_obj.values.select_related("metric", "area", "category"))
    findings = svc.return_findings(return_obj=return_obj, values=values)
    by_key = {v.key: v for v in values}
    revisions = list(
        AuditEvent.objects.filter(return_id=return_obj.pk, action="observation.revised").select_related("actor")
    )
    revised = Observation.objects.select_related("metric", "area", "category").in_bulk(
        [int(e.object_id) for e in revisions]
    )
    revision_rows = [(e, revised.get(int(e.object_id))) for e in revisions]
    context = {
        "return_obj": return_obj,
        "framework": framework,
        "grid": _grid(return_obj, framework, posted),
        "history_labels": [Quarter.from_end_date(return_obj.round.period).shift(-k).label for k in range(4, 0, -1)],
        "findings": [(f, by_key.get(f.key)) for f in findings],
        "errors_count": sum(1 for f in findings if f.is_error),
        "warnings_count": sum(1 for f in findings if not f.is_error),
        "revisions": revision_rows,
        "uploads": return_obj.uploads.order_by("-created_at")[:5],
        "can_edit": return_obj.is_editable and svc.can_act(request.user, return_obj, Perm.SUBMIT_RETURN),
        "can_submit": return_obj.state in (ReturnState.DRAFT, ReturnState.RETURNED)
        and svc.can_act(request.user, return_obj, Perm.SUBMIT_RETURN),
        "can_decide": return_obj.state == ReturnState.SUBMITTED and has_perm(request.user, Perm.APPROVE_RETURN),
        "can_reopen": return_obj.state == ReturnState.APPROVED and has_perm(request.user, Perm.APPROVE_RETURN),
    }
    return render(request, "metrics/return_detail.html", context, status=status)


TEMPLATE_HEADER = COLUMNS


def return_template(request: HttpRequest, pk: int, fmt: str) -> HttpResponse:
    """A file to fill in: every owed line pre-filled with its codes, last quarter's value for reference."""
    if not request.user.is_authenticated:
        raise PermissionDenied
    if fmt not in {"csv", "xlsx"}:
        raise Http404
    return_obj = _return_for(request, pk)
    framework = _framework()
    lines = svc.owed_lines(framework=framework, agency=return_obj.agency)
    history = svc.history_for(lines=lines, period=return_obj.round.period, quarters=1)
    values = {v.key: v for v in return_obj.values.all()}
    header = [*TEMPLATE_HEADER, "_metric_name", "_unit", "_last_quarter"]
    rows = []
    for line in lines:
        saved = values.get(line.key)
        last = history[line.key][0]
        rows.append(
            [
                line.metric.code,
                line.area.code,
                return_obj.round.period.isoformat(),
                line.category.breakdown.code if line.category else "",
                line.category.code if line.category else "",
                (f"[{saved.missing}]" if saved.missing else saved.value) if saved else "",
                saved.numerator if saved and saved.numerator is not None else "",
                saved.denominator if saved and saved.denominator is not None else "",
                saved.status if saved else "provisional",
                saved.note if saved else "",
                line.metric.name,
                line.metric.get_unit_display(),
                ("" if last is None else (f"[{last.missing}]" if last.missing else last.value)),
            ]
        )
    name = f"return-{return_obj.agency.code}-{return_obj.round.period:%Y-%m-%d}"
    if fmt == "xlsx":
        return download(xlsx_bytes([("data", header, rows)]), f"{name}.xlsx")
    return download(csv_bytes(header, rows), f"{name}.csv")


@require_POST
def return_upload(request: HttpRequest, pk: int) -> HttpResponse:
    if not request.user.is_authenticated:
        raise PermissionDenied
    return_obj = _return_for(request, pk)
    if not svc.can_act(request.user, return_obj, Perm.SUBMIT_RETURN):
        raise PermissionDenied
    uploaded = request.FILES.get("file")
    if uploaded is None:
        messages.error(request, "Choose a CSV or XLSX file to upload.")
        return redirect("return-detail", pk=pk)
    try:
        content = uploaded.read()
        upload = svc.upload_create(
            actor=request.user, return_obj=return_obj, filename=uploaded.name or "upload", content=content
        )
    except FileRejected as exc:
        messages.error(request, f"{uploaded.name}: {exc}. Nothing was written.")
        return redirect("return-detail", pk=pk)
    except svc.UploadRejected as exc:
        summary = exc.summary
        context = {
            "upload": None,
            "filename": uploaded.name,
            "return_obj": return_obj,
            "summary": summary,
            "errors": _grouped(summary.get("errors", [])),
            "warnings": _grouped(summary.get("warnings", [])),
            "working": False,
            "can_confirm": False,
            "rejected": True,
        }
        return render(request, "metrics/upload_detail.html", context, status=400)
    except svc.ReturnError as exc:
        messages.error(request, str(exc))
        return redirect("return-detail", pk=pk)
    return redirect("upload-detail", pk=upload.pk)


def _upload_for(request: HttpRequest, pk: int) -> ReturnUpload:
    upload = get_object_or_404(ReturnUpload.objects.select_related("return_obj__round", "return_obj__agency"), pk=pk)
    svc.require_return_access(request.user, upload.return_obj)
    return upload


def _grouped(items: list[dict[str, Any]]) -> list[tuple[str, list[dict[str, Any]]]]:
    from .imports import ISSUE_KINDS

    groups: dict[str, list[dict[str, Any]]] = {}
    for item in items:
        groups.setdefault(item["kind"], []).append(item)
    return [(ISSUE_KINDS.get(kind, kind.replace("_", " ").capitalize()), rows) for kind, rows in groups.items()]


def upload_detail(request: HttpRequest, pk: int) -> HttpResponse:
    if not request.user.is_authenticated:
        from django.contrib.auth.views import redirect_to_login

        return redirect_to_login(request.get_full_path())
    upload = _upload_for(request, pk)
    if request.method == "POST":
        try:
            upload = svc.upload_confirm(actor=request.user, upload=upload)
        except svc.ReturnError as exc:
            messages.error(request, str(exc))
            return redirect("upload-detail", pk=pk)
        if upload.state == UploadState.COMMITTED:
            messages.success(request, f"{upload.filename} was written to the return.")
            return redirect("return-detail", pk=upload.return_obj_id)
        return redirect("upload-detail", pk=pk)
    summary = upload.summary or {}
    return render(
        request,
        "metrics/upload_detail.html",
        {
            "upload": upload,
            "return_obj": upload.return_obj,
            "summary": summary,
            "errors": _grouped(summary.get("errors", [])),
            "warnings": _grouped(summary.get("warnings", [])),
            "working": upload.state in (UploadState.CHECKING, UploadState.WRITING),
            "can_confirm": upload.state == UploadState.READY
            and upload.return_obj.is_editable
            and svc.can_act(request.user, upload.return_obj, Perm.SUBMIT_RETURN),
        },
    )


def upload_progress(request: HttpRequest, pk: int) -> JsonResponse:
    if not request.user.is_authenticated:
        return JsonResponse({"error": "log in"}, status=401)
    upload = _upload_for(request, pk)
    return JsonResponse(
        {
            "state": upload.state,
            "percent": upload.percent_done,
            "rows_done": upload.rows_done,
            "rows_total": upload.rows_total,
        }
    )


@require_POST
def return_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    if not request.user.is_authenticated:
        raise PermissionDenied
    return_obj = _return_for(request, pk)
    reason = request.POST.get("reason", "")
    try:
        if action == "submit":
            version = int(request.POST.get("version", "-1") or -1)
            svc.return_submit(actor=request.user, return_obj=return_obj, version=version)
            messages.success(request, "Submitted to the commissioner's office.")
        elif action == "approve":
            svc.return_approve(actor=request.user, return_obj=return_obj)
            messages.success(request, "Approved: the values are now approved data.")
        elif action == "send-back":
            svc.return_send_back(actor=request.user, return_obj=return_obj, reason=reason)
            messages.success(request, "Returned to the agency for correction.")
        elif action == "reopen":
            svc.return_reopen(actor=request.user, return_obj=return_obj, reason=reason)
            messages.success(request, "Reopened for changes.")
        else:
            raise Http404
    except svc.ReturnError as exc:
        messages.error(request, str(exc))
    return redirect("return-detail", pk=pk)


# --- audit ------------------------------------------------------------------------------------------------
AUDIT_HEADER = ["when (UTC)", "who", "action", "object", "summary", "old", "new", "reason", "return", "metric"]


@permission_required(Perm.VIEW_AUDIT)
def audit_log(request: HttpRequest) -> HttpResponse:
    events = AuditEvent.objects.select_related("actor").order_by("-at", "-id")
    return_id = request.GET.get("return", "").strip()
    metric = request.GET.get("metric", "").strip()
    scope = _agency_scope(request)
    return_obj = None
    if return_id:
        if not return_id.isdigit():
            raise Http404
        return_obj = _return_for(request, int(return_id))
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
                e.actor.get_username() if e.actor else "system",
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

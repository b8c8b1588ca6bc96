"""A return's page: its grid of values with their history, findings and comments; its template file; its
state changes (submit, approve, send back, reopen)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from accounts.access import Perm, has_perm
from accounts.audit import AuditAction
from accounts.downloads import csv_bytes, download
from accounts.models import AuditEvent
from metrics.imports.parse import COLUMNS
from metrics.models import Observation, Return, ReturnState, ReturnValue
from metrics.quarters import Quarter
from metrics.returns import selectors, services, template_file
from metrics.returns.forms import ActionForm, CommentsForm, ReasonForm, ReturnGridForm, UploadForm, posted_version
from metrics.returns.forms import initial as grid_initial
from metrics.returns.selectors import OwedLine
from metrics.returns.validation import Key
from metrics.returns.values import return_save_comments, return_save_grid

from .common import framework_or_404, return_for


# --- a return ---------------------------------------------------------------------------------------------
def _grid(
    return_obj: Return, lines: list[OwedLine], grid: ReturnGridForm, values: dict[Key, ReturnValue]
) -> list[dict[str, Any]]:
    """The grid's rows: each owed line with its form, saved value and history; then values no longer owed."""
    history = selectors.history_for(lines=lines, period=return_obj.round.period)
    rows: list[dict[str, Any]] = []
    for form in grid:
        line, saved = form.line, values.get(form.line.key)
        rows.append(
            {
                **grid_initial(saved),  # what a reader who cannot edit sees
                "index": form.index,
                "form": form,
                "metric": line.metric,
                "area": line.area,
                "category": line.category,
                "breakdown": line.category.breakdown if line.category else None,
                "history": history[line.key],
                "saved": saved,
                "has_ratio": line.metric.has_ratio,
            }
        )
    owed = {line.key for line in lines}
    for key, value in values.items():
        if key not in owed:
            rows.append(
                {"extra": True, "saved": value, "metric": value.metric, "area": value.area, "category": value.category}
            )
    return rows


def _save_grid(request: HttpRequest, return_obj: Return, grid: ReturnGridForm) -> bool:
    """Save the posted grid; False when it has errors (each on its cell, and in the page's error summary,
    linked to the cell)."""
    if grid.is_valid():
        check = return_save_grid(
            actor=request.user, return_obj=return_obj, version=posted_version(request.POST), entries=grid.entries()
        )
        grid.add_issues(check.summary.errors)
    return not grid.problems


def return_detail(request: HttpRequest, pk: int) -> HttpResponse:
    if not request.user.is_authenticated:
        from django.contrib.auth.views import redirect_to_login

        return redirect_to_login(request.get_full_path())
    return_obj = return_for(request, pk)
    framework = framework_or_404()
    lines = selectors.owed_lines(framework=framework, agency=return_obj.agency)
    grid = None
    status = 200
    if request.method == "POST":
        if not selectors.can_act(request.user, return_obj, Perm.SUBMIT_RETURN):
            raise PermissionDenied
        action = request.POST.get("action")
        try:
            if action == "save":
                grid = ReturnGridForm(lines=lines, period=return_obj.round.period, data=request.POST)
                if _save_grid(request, return_obj, grid):
                    messages.success(request, "Saved as a draft.")
                    return redirect("return-detail", pk=pk)
                status = 400
            elif action == "comments":
                form = CommentsForm(request.POST, value_ids=return_obj.values.values_list("pk", flat=True))
                return_save_comments(
                    actor=request.user,
                    return_obj=return_obj,
                    version=posted_version(request.POST),
                    comments=form.comments(),
                )
                messages.success(request, "Comments saved.")
                return redirect("return-detail", pk=pk)
            else:
                return HttpResponse("Unknown action", status=400)
        except services.Conflict as exc:
            messages.error(request, str(exc))
            status = 409
            return_obj.refresh_from_db()
        except services.ReturnError as exc:
            messages.error(request, str(exc))
            return redirect("return-detail", pk=pk)
    values = list(return_obj.values.select_related("metric", "area", "category"))
    findings = selectors.return_findings(return_obj=return_obj, values=values)
    by_key = {v.key: v for v in values}
    if grid is None:
        grid = ReturnGridForm(lines=lines, period=return_obj.round.period, saved=by_key)
    revisions = list(
        AuditEvent.objects.filter(return_id=return_obj.pk, action=AuditAction.OBSERVATION_REVISED).select_related(
            "actor"
        )
    )
    revised = Observation.objects.select_related("metric", "area", "category").in_bulk(
        [int(e.object_id) for e in revisions]
    )
    revision_rows = [(e, revised.get(int(e.object_id))) for e in revisions]
    can_edit = return_obj.is_editable and selectors.can_act(request.user, return_obj, Perm.SUBMIT_RETURN)
    context = {
        "return_obj": return_obj,
        "framework": framework,
        "grid": _grid(return_obj, lines, grid, by_key),
        "grid_problems": grid.problems,
        # One area for every line (a force's return): named once above the grid, not in a column of its own.
        "one_area": lines[0].area if lines and len({line.area.pk for line in lines}) == 1 else None,
        "history_labels": [Quarter.from_end_date(return_obj.round.period).shift(-k).label for k in range(4, 0, -1)],
        "findings": _findings_with_boxes(findings, by_key, readonly=not can_edit),
        "errors_count": sum(1 for f in findings if f.is_error),
        "warnings_count": sum(1 for f in findings if not f.is_error),
        "revisions": revision_rows,
        "uploads": return_obj.uploads.order_by("-created_at")[:5],
        "can_edit": can_edit,
        "can_submit": return_obj.state in (ReturnState.DRAFT, ReturnState.RETURNED)
        and selectors.can_act(request.user, return_obj, Perm.SUBMIT_RETURN),
        "can_decide": return_obj.state == ReturnState.SUBMITTED and has_perm(request.user, Perm.APPROVE_RETURN),
        "can_reopen": return_obj.state == ReturnState.APPROVED and has_perm(request.user, Perm.APPROVE_RETURN),
    }
    context.update(_action_forms(return_obj))
    return render(request, "metrics/return_detail.html", context, status=status)


def _findings_with_boxes(
    findings: list[Any], by_key: dict[Key, ReturnValue], *, readonly: bool
) -> list[tuple[Any, ReturnValue | None, Any]]:
    """Each finding with its value and, beside a value's first warning, the value's comment box."""
    warned = [by_key[f.key] for f in findings if not f.is_error and f.key in by_key]
    form = CommentsForm(
        None, value_ids=[v.pk for v in warned], initial={v.pk: v.comment for v in warned}, readonly=readonly
    )
    rows, boxed = [], set()
    for finding in findings:
        value = by_key.get(finding.key)
        box = None
        if value is not None and not finding.is_error and value.pk not in boxed:
            boxed.add(value.pk)
            box = form.box(value.pk)
        rows.append((finding, value, box))
    return rows


def _action_forms(return_obj: Return) -> dict[str, Any]:
    """The page's small forms, through crispy-forms-gds (each shown only when the user may use it)."""
    pk = return_obj.pk
    return {
        "upload_form": UploadForm(action=reverse("return-upload", args=[pk])),
        "submit_form": ActionForm(
            action=reverse("return-action", args=[pk, "submit"]),
            submit="Submit to the commissioner's office",
            version=return_obj.version,
        ),
        "approve_form": ActionForm(action=reverse("return-action", args=[pk, "approve"]), submit="Approve"),
        "send_back_form": ReasonForm(purpose="send-back", action=reverse("return-action", args=[pk, "send-back"])),
        "reopen_form": ReasonForm(purpose="reopen", action=reverse("return-action", args=[pk, "reopen"])),
    }


TEMPLATE_HEADER = COLUMNS


def return_template(request: HttpRequest, pk: int, fmt: str) -> HttpResponse:
    """A file to fill in: every owed line pre-filled with its codes, last quarter's and last year's approved
    figures for reference; the XLSX with instructions, drop-downs and the codes locked (``template_file``)."""
    if not request.user.is_authenticated:
        raise PermissionDenied
    if fmt not in {"csv", "xlsx"}:
        raise Http404
    return_obj = return_for(request, pk)
    framework = framework_or_404()
    name = f"return-{return_obj.agency.code}-{return_obj.round.period:%Y-%m-%d}"
    if fmt == "xlsx":
        return download(template_file.template_xlsx(return_obj=return_obj, framework=framework), f"{name}.xlsx")
    _, rows = template_file.template_rows(return_obj=return_obj, framework=framework)
    return download(csv_bytes(template_file.HEADER, rows), f"{name}.csv")


@require_POST
def return_action(request: HttpRequest, pk: int, action: AuditAction) -> HttpResponse:
    if not request.user.is_authenticated:
        raise PermissionDenied
    return_obj = return_for(request, pk)
    form = ReasonForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    try:
        if action == "submit":
            services.return_submit(actor=request.user, return_obj=return_obj, version=posted_version(request.POST))
            messages.success(request, "Submitted to the commissioner's office.")
        elif action == "approve":
            services.return_approve(actor=request.user, return_obj=return_obj)
            messages.success(request, "Approved: the values are now approved data.")
        elif action == "send-back":
            services.return_send_back(actor=request.user, return_obj=return_obj, reason=reason)
            messages.success(request, "Returned to the agency for correction.")
        elif action == "reopen":
            services.return_reopen(actor=request.user, return_obj=return_obj, reason=reason)
            messages.success(request, "Reopened for changes.")
        else:
            raise Http404
    except services.ReturnError as exc:
        messages.error(request, str(exc))
    return redirect("return-detail", pk=pk)

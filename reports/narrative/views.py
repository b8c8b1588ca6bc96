"""Report pages: list, new, read, edit, state changes; the public edition without login."""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from accounts.access import Perm, has_perm, permission_required
from accounts.partnerships import default_partnership, is_default
from accounts.tenancy import current_partnership, partnership_scope
from reports.dashboards.common import export
from reports.models import Report, ReportEdit, ReportState, Snapshot
from reports.narrative.editions import SectionView, edition, render_markdown, summary_of
from reports.narrative.forms import PackStartForm, ReportEditForm
from reports.narrative.services import ReportError, can_read, report_create, report_edit, report_transition


@permission_required(Perm.VIEW_APPROVED_DATA)
def report_list(request: HttpRequest) -> HttpResponse:
    editor = has_perm(request.user, Perm.EDIT_REPORT)
    reports = Report.objects.in_scope().select_related("snapshot")
    if not editor:
        reports = reports.filter(state=ReportState.PUBLISHED)
    without = Snapshot.objects.in_scope().filter(report__isnull=True)[:10] if editor else []
    return render(request, "reports/report_list.html", {"reports": reports, "without": without, "editor": editor})


@require_POST
@permission_required(Perm.EDIT_REPORT)
def report_new(request: HttpRequest) -> HttpResponse:
    snapshot = get_object_or_404(
        Snapshot.objects.in_scope(),
        pk=request.POST.get("snapshot", "0") if str(request.POST.get("snapshot", "")).isdigit() else 0,
    )
    try:
        report = report_create(actor=request.user, snapshot=snapshot)
    except ReportError as exc:
        messages.error(request, str(exc))
        return redirect("reports")
    return redirect("report-edit", pk=report.pk)


def _report(request: HttpRequest, pk: int) -> Report:
    """The report of the current partnership asked for (another partnership's id: 404), if the user may read it."""
    report = get_object_or_404(
        Report.objects.in_scope().select_related("snapshot__framework__home_area", "deep_dive"), pk=pk
    )
    if not can_read(request.user, report):
        raise PermissionDenied("This report is not published.")
    return report


def _report_page(request: HttpRequest, report: Report, *, public: bool, **more: Any) -> HttpResponse:
    """A report's edition: the board's, or the public one (published reports, public metrics only); with
    ``?format=csv`` or ``xlsx``, the figures it shows."""
    sections = edition(report=report, public=public)
    header, rows = edition_table(sections)
    about = [
        ["Report", report.title],
        ["Edition", "Public: small numbers suppressed [c]" if public else "Board"],
        ["Figures", f"As published in {report.snapshot} on {report.snapshot.published_at:%d %B %Y}"],
    ]
    name = f"report-{report.snapshot.period:%Y-%m-%d}-{'public' if public else 'board'}"
    context = {
        "report": report,
        "summary": summary_of(report, public=public),
        "sections": sections,
        "public": public,
        "deep_dive_findings": "" if public else render_markdown(report.deep_dive_findings),
        "deep_dive_recommendations": "" if public else render_markdown(report.deep_dive_recommendations),
        "pack_form": PackStartForm(report=report, action=reverse("pack-start", args=[report.pk])),
        "public_pack_url": public_url("public-pack", report.pk) if public else "",
    }
    return export(request, name, header, rows, about) or render(request, "reports/report.html", {**context, **more})


def edition_table(sections: list[SectionView]) -> tuple[list[str], list[list[Any]]]:
    """Every figure an edition shows, one row each: each measure's latest figure with its finding, its
    categories (deep dive) and its charted quarters (the same suppressed figures as the page)."""
    header = ["priority", "measure_code", "measure", "row", "category", "quarter", "value", "variation", "finding"]
    rows: list[list[Any]] = []
    for s in sections:
        for line in s.lines:
            base = [s.section.priority.name, line.metric.code, line.metric.name]
            rows.append([*base, "latest", "", line.quarter, line.value, line.variation, line.finding])
            quarter = line.evidence.quarter_label
            rows.extend([*base, "category", name, quarter, value, "", ""] for name, value in line.categories)
            if line.chart:
                for row in line.evidence.rows():
                    rows.append([*base, "series", "", row.label, f"{row.value} {row.symbol}".strip(), row.cause, ""])
    return header, rows


@permission_required(Perm.VIEW_APPROVED_DATA)
def report_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _report_page(request, _report(request, pk), public=False, editor=has_perm(request.user, Perm.EDIT_REPORT))


@permission_required(Perm.EDIT_REPORT)
def report_edit_page(request: HttpRequest, pk: int) -> HttpResponse:
    report = _report(request, pk)
    status = 200
    posted: dict[str, Any] | None = None
    if request.method == "POST":
        fields = ("summary", "public_summary", "deep_dive", "deep_dive_findings", "deep_dive_recommendations")
        changes = {k: str(request.POST.get(k, "")) for k in request.POST if k in fields or ":" in k}
        try:
            version = int(request.POST.get("version", "-1"))
            report_edit(actor=request.user, report=report, version=version, changes=changes)
        except (ReportError, ValueError) as exc:
            messages.error(request, str(exc))
            posted, status = request.POST, 409
        else:
            messages.success(request, "Saved.")
            return redirect("report-edit", pk=pk)
    sections = list(report.sections.select_related("priority").prefetch_related("findings__metric"))
    drafted = None
    if request.GET.get("draft") == "summary" and report.state != ReportState.PUBLISHED and posted is None:
        from reports.narrative.draft import draft_for

        drafted = draft_for(report)  # shown in the box; saved only when the analyst saves
    editable = report.state != ReportState.PUBLISHED
    form = ReportEditForm(posted, report=report, sections=sections, drafted=drafted, editable=editable)
    return render(
        request,
        "reports/report_edit.html",
        {
            "report": report,
            "form": form,
            "sections": sections,
            "priorities": [s.priority for s in sections],
            "posted": posted,
            "drafted": drafted,
            "edits": ReportEdit.objects.filter(report=report).select_related("by")[:50],
            "editable": report.state != ReportState.PUBLISHED,
        },
        status=status,
    )


@permission_required(Perm.EDIT_REPORT)
def report_public_preview(request: HttpRequest, pk: int) -> HttpResponse:
    """Before publishing: each text of the board edition beside its public text, then the public edition
    exactly as the public will see it (the publish button lives here)."""
    report = _report(request, pk)
    sections = list(report.sections.select_related("priority"))
    texts = [("Executive summary", render_markdown(report.executive_summary), render_markdown(report.public_summary))]
    texts += [(s.priority.name, render_markdown(s.narrative), render_markdown(s.public_narrative)) for s in sections]
    return _report_page(
        request,
        report,
        public=True,
        preview=True,
        texts=texts,
        can_publish=has_perm(request.user, Perm.PUBLISH_SNAPSHOT) and report.state == ReportState.IN_REVIEW,
    )


@require_POST
@permission_required(Perm.EDIT_REPORT)
def report_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    report = _report(request, pk)
    target = {"review": ReportState.IN_REVIEW, "draft": ReportState.DRAFT, "publish": ReportState.PUBLISHED}.get(action)
    if target is None:
        raise Http404
    try:
        report_transition(actor=request.user, report=report, to=target)
    except ReportError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"The report is now {ReportState(target).label.lower()}.")
    return redirect("report-detail", pk=pk)


# --- the public edition: no login, published reports only ------------------------------------------------
# A public page names its partnership in its path (``/public/<partnership>/reports/…``: the middleware sets it
# from the view's ``partnership`` argument); the first, unnamed ones (``/public/reports/…``) are the
# installation's default partnership's, as they always were.
def public_scope(partnership: str | None) -> AbstractContextManager[Any]:
    """The scope a public page works in: the partnership its path names (already set by the middleware), or
    the default partnership for a path without one."""
    if partnership is not None or is_default(current_partnership()):
        return nullcontext()
    return partnership_scope(default_partnership())


def public_url(name: str, *args: Any) -> str:
    """The public page ``name`` of the current partnership: the first, unnamed path for the default
    partnership, ``/public/<partnership>/…`` (URL name ``partnership-<name>``) for every other one."""
    current = current_partnership()
    if is_default(current):
        return reverse(name, args=args)
    return reverse(f"partnership-{name}", args=[current.code, *args])


def public_list(request: HttpRequest, partnership: str | None = None) -> HttpResponse:
    with public_scope(partnership):
        reports = list(Report.objects.in_scope().filter(state=ReportState.PUBLISHED).select_related("snapshot"))
        links = [(r, public_url("public-report", r.pk)) for r in reports]
        current = current_partnership()
        return render(
            request,
            "reports/public_list.html",
            {"reports": reports, "links": links, "public_partnership": None if is_default(current) else current},
        )


def public_report(request: HttpRequest, pk: int, partnership: str | None = None) -> HttpResponse:
    with public_scope(partnership):
        report = get_object_or_404(
            Report.objects.in_scope().select_related("snapshot__framework__home_area", "deep_dive"),
            pk=pk,
            state=ReportState.PUBLISHED,
        )
        return _report_page(request, report, public=True)

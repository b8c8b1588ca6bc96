"""Dashboard pages: overview, priority and metric, each with CSV and XLSX of what it shows."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from accounts.access import Perm, has_perm, permission_required
from frameworks.models import Area, Framework
from metrics.models import Rebase
from metrics.quarters import Quarter, QuarterError, period_label
from metrics.rebases import RebaseError, rebase_record
from reports import wording
from reports.dashboards.common import (
    area_asked,
    export_or_render,
    framework_or_404,
    metric_or_404,
    page_asked,
    page_context,
    render_cached,
    snapshot_asked,
    symbol_of,
    wants_export,
)
from reports.dashboards.selectors import Overview, overview, priorities_of, quarter_choice, selectable_areas
from reports.evidence.build import metric_evidence
from reports.evidence.items import MetricEvidence, Part
from reports.evidence.sources import FigureSource
from reports.models import Annotation, Snapshot


# --- overview --------------------------------------------------------------------------------------------
@permission_required(Perm.VIEW_APPROVED_DATA)
def overview_page(request: HttpRequest) -> HttpResponse:
    framework, area, snapshot, period = page_asked(request)
    priority = request.GET.get("priority") or None

    def build() -> Overview:
        return overview(framework=framework, area=area, period=period, priority=priority, source=FigureSource(snapshot))

    if not wants_export(request):
        return render_cached(
            request,
            page="overview",
            framework=framework,
            template="reports/overview.html",
            body_template="reports/_overview_body.html",
            body_context=lambda: _overview_context(framework, area, snapshot, priority, build()),
            outer={"area": area},
        )
    data = build()
    rows = [[prio.name, *_tile_row(tile)] for prio, tiles in data.priorities for tile in tiles]
    header = [
        "priority", "metric", "name", "area", "quarter", "value", "symbol", "unit", "change on previous quarter",
        "change on previous quarter %", "change on same quarter last year", "change on same quarter last year %",
        "variation", "rank among peers", "peers", "value (full precision)", "changes in", "out of date",
        "illustrative",
    ]  # fmt: skip
    about = [
        ["Framework", f"{framework.name} (version {framework.version})"],
        ["Area", area.name],
        ["Quarter", period_label(data.period) if data.period else ""],
    ]
    return export_or_render(
        request,
        f"overview-{area.code}-{data.period or 'none'}",
        header,
        rows,
        about,
        template="reports/overview.html",
        context=dict,
    )


def _overview_context(
    framework: Framework,
    area: Area,
    snapshot: Snapshot | None,
    priority: str | None,
    data: Overview,
) -> dict[str, Any]:
    return page_context(
        framework,
        area,
        snapshot,
        data=data,
        selected_priority=priority,
        period_choices=[(p.isoformat(), period_label(p)) for p in data.periods],
        words=wording.VARIATION_WORDS,
        letters=wording.VARIATION_LETTER,
        short=wording.VARIATION_SHORT,
    )


def _tile_row(tile: MetricEvidence) -> list[Any]:
    """A tile as an export row: figures at the metric's precision (a full-precision value beside them);
    changes in percentage points for percentages (no % of a percentage), else with the relative change."""
    latest, comparison = tile.latest, tile.comparison
    percentage = tile.metric.unit == "percentage"

    def relative(change: Any) -> Any:
        return round(change.percent, 1) if change and change.percent is not None and not percentage else ""

    return [
        tile.metric.code,
        tile.metric.name,
        tile.area.name,
        period_label(latest.period) if latest else "",
        tile.rounded(latest.value) if latest else "",
        symbol_of(latest),
        tile.metric.get_unit_display(),
        tile.rounded(tile.change_previous.absolute) if tile.change_previous else "",
        relative(tile.change_previous),
        tile.rounded(tile.change_year.absolute) if tile.change_year else "",
        relative(tile.change_year),
        "Out of date (not judged)" if tile.stale else wording.VARIATION_SHORT[tile.variation],
        comparison.rank if comparison and comparison.rank else "",
        comparison.of if comparison else "",
        latest.value if latest else "",
        "percentage points" if percentage else tile.metric.get_unit_display(),
        "yes" if tile.stale else "",
        "yes" if tile.illustrative else "",
    ]


# --- priority and metric pages ---------------------------------------------------------------------------
DEFAULT_WINDOW = 20  # quarters shown on a chart by default (five years); the limits use the whole series


def _figure_context(evidence: MetricEvidence, *, window: int | None = DEFAULT_WINDOW) -> dict[str, Any]:
    """A metric's XmR chart, finding and table, as the metric and priority pages show them."""
    return {
        "metric": evidence.metric,
        "area": evidence.area,
        "evidence": evidence,
        "finding": evidence.finding,
        "latest": evidence.latest,
        "spc": evidence.spc,
        "xmr_json": evidence.xmr_chart(window=window),
        "xmr_text": evidence.chart_text,
        "windowed": window is not None and len(evidence.series) > window,
        "table": evidence.rows(),
        "annotations": evidence.annotations,
    }


def _metric_context(evidence: MetricEvidence, *, window: int | None = DEFAULT_WINDOW) -> dict[str, Any]:
    context = _figure_context(evidence, window=window)
    context["area"] = evidence.requested_area
    context["spc_rebases"] = evidence.rebases  # those the limits were worked out with
    peer_fig = evidence.peer_chart()
    context["peer_json"] = peer_fig
    context["peer_text"] = evidence.peer_text if peer_fig is not None else ""
    context["peer_rows"] = sorted(
        ((b.area.name, evidence.format(b.value), b.area.pk == evidence.area.pk) for b in evidence.peers),
        key=lambda r: r[0],
    )
    national = evidence.national_value
    context["national"] = evidence.format(national) if national is not None and peer_fig is not None else None
    context["national_name"] = evidence.national_name
    context["breakdowns"] = [
        {
            "breakdown": item.breakdown,
            "json": evidence.breakdown_chart(item),
            "text": evidence.breakdown_text(item),
            "rows": [
                (c.name, evidence.format(o.value) if o and o.value is not None else "[x]", symbol_of(o))
                for c, o in item.cells
            ],
        }
        for item in evidence.breakdowns
        if item.has_values
    ]
    return context


@permission_required(Perm.VIEW_APPROVED_DATA)
def metric_page(request: HttpRequest, code: str) -> HttpResponse:
    framework = framework_or_404()
    snapshot = snapshot_asked(request)
    metric = metric_or_404(code, framework=framework, snapshot=snapshot)
    area = area_asked(request, framework)
    period = quarter_choice(request.GET.get("quarter"))
    can_rebase = has_perm(request.user, Perm.MANAGE_FRAMEWORK) and snapshot is None

    def build() -> tuple[MetricEvidence, dict[str, Any]]:
        evidence = metric_evidence(
            framework=framework, metric=metric, area=area, period=period, source=FigureSource(snapshot)
        )
        show_all = request.GET.get("window") == "all"
        context = _metric_context(evidence, window=None if show_all else DEFAULT_WINDOW)
        context["show_all"] = show_all
        context["can_rebase"] = can_rebase
        if can_rebase:
            context["manage_rebases"] = list(Rebase.objects.in_scope().filter(metric=metric))
            context["manage_notes"] = list(Annotation.objects.in_scope().filter(metric=metric).select_related("area"))
        context["snapshot"] = snapshot
        context["snapshot_caption"] = evidence.source.caption
        return evidence, context

    if not wants_export(request):

        def body_context() -> dict[str, Any]:
            evidence, context = build()
            return {
                **context,
                "framework": framework,
                "place": evidence if evidence.priority else None,
                "areas": selectable_areas(),
            }

        return render_cached(
            request,
            page="metric",
            framework=framework,
            template="reports/metric.html",
            body_template="reports/_metric_body.html",
            body_context=body_context,
            outer={"area": area},
            # the metric as the source defines it (a snapshot's name, when one is asked for)
            title=lambda context: f"{context['metric'].name}: {area.name}",
            cacheable=not can_rebase,  # the rebase form carries the manager's CSRF token: never shared
        )
    evidence, context = build()
    metric = evidence.metric  # as the snapshot defined it, when one is asked for
    header = [
        "quarter",
        "label",
        "value",
        "symbol",
        "numerator",
        "denominator",
        "status",
        "variation",
        "mean",
        "lower limit",
        "upper limit",
        "value (full precision)",
        "illustrative",
    ]
    rows = [
        [
            r.obs.period.isoformat(),
            r.label,
            evidence.rounded(r.obs.value) if r.obs.value is not None else "",
            r.obs.symbol,
            r.obs.numerator if r.obs.numerator is not None else "",
            r.obs.denominator if r.obs.denominator is not None else "",
            r.obs.status,
            r.cause,
            evidence.rounded(r.mean) if r.mean is not None else "",
            evidence.rounded(r.lower) if r.lower is not None else "",
            evidence.rounded(r.upper) if r.upper is not None else "",
            r.obs.value if r.obs.value is not None else "",
            "yes" if r.obs.illustrative else "",
        ]
        for r in context["table"]
    ]
    about = [
        ["Metric", f"{metric.code} {metric.name}"],
        ["Area", evidence.area.name],
        ["Unit", metric.get_unit_display()],
        ["Direction", metric.get_direction_display()],
        ["Source type", metric.get_source_type_display()],
        ["Basis", metric.get_basis_display()],
        ["Definition", metric.description],
        ["Caveats", metric.caveats],
        ["Owner", metric.agency.name],
        ["Figures", context["snapshot_caption"] or "Approved data as it stands now."],
    ]
    return export_or_render(
        request, f"{metric.code}-{area.code}", header, rows, about, template="reports/metric.html", context=dict
    )


@permission_required(Perm.VIEW_APPROVED_DATA)
def priority_page(request: HttpRequest, code: str) -> HttpResponse:
    framework, area, snapshot, period = page_asked(request)
    priority = next((p for p in priorities_of(framework) if p.code == code), None)
    if priority is None:
        raise Http404("No Priority matches the given query.")

    def build() -> tuple[Overview, list[dict[str, Any]]]:
        data = overview(
            framework=framework,
            area=area,
            period=period,
            priority=priority.code,
            source=FigureSource(snapshot),
            parts=Part.PEERS | Part.ANNOTATIONS,
        )
        return data, [_figure_context(tile) for tile in data.tiles]

    if not wants_export(request):

        def body_context() -> dict[str, Any]:
            data, sections = build()
            return page_context(framework, area, snapshot, priority=priority, sections=sections, areas=data.areas)

        return render_cached(
            request,
            page="priority",
            framework=framework,
            template="reports/priority.html",
            body_template="reports/_priority_body.html",
            body_context=body_context,
            outer={"area": area, "priority": priority},
        )
    _, sections = build()
    rows = [
        [
            s["metric"].code,
            s["metric"].name,
            period_label(s["latest"].period) if s["latest"] else "",
            s["latest"].value if s["latest"] and s["latest"].value is not None else "",
            s["xmr_text"],
        ]
        for s in sections
    ]
    return export_or_render(
        request,
        f"priority-{priority.code}-{area.code}",
        ["metric", "name", "quarter", "value", "finding"],
        rows,
        [["Priority", priority.name], ["Area", area.name]],
        template="reports/priority.html",
        context=dict,
    )


@require_POST
@permission_required(Perm.MANAGE_FRAMEWORK)
def metric_rebase(request: HttpRequest, code: str) -> HttpResponse:
    """The performance manager records a rebase the metric page suggested (with its reason)."""
    framework = framework_or_404()
    metric = metric_or_404(code, framework=framework)
    back = f"{reverse('dashboard-metric', args=[metric.code])}?area={request.POST.get('area', '')}"
    try:
        period = Quarter.parse(request.POST.get("period", "")).end_date
        rebase_record(
            actor=request.user, framework=framework, metric=metric, period=period, reason=request.POST.get("reason", "")
        )
    except (QuarterError, RebaseError) as exc:
        messages.error(request, str(exc))
        return redirect(back)
    messages.success(request, f"Rebased from {period_label(period)}: the limits are recalculated from there.")
    return redirect(back)

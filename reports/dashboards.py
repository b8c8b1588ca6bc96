"""Dashboard pages: overview, priority, metric and fairness, each with CSV and XLSX of what it shows."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone

from frameworks.access import Perm, permission_required
from frameworks.models import Area, Framework, FrameworkMetric
from metrics.models import Metric
from metrics.quarters import period_label
from metrics.selectors import metric_series
from metrics.stats.disproportionality import relative_rates
from metrics.stats.suppression import SYMBOLS, missing_symbol, status_symbol
from pcc_perf.downloads import csv_bytes, download, xlsx_bytes

from . import charts, findings
from .models import Annotation, Snapshot
from .selectors import (
    breakdown_values,
    current_framework,
    fairness_blocks,
    overview,
    peer_values,
    quarter_choice,
    selectable_areas,
)
from .snapshots import observations_for, snapshot_caption, snapshot_spc_settings


def _framework() -> Framework:
    framework = current_framework()
    if framework is None:
        raise Http404("No framework is loaded yet.")
    return framework


def _area(request: HttpRequest, framework: Framework) -> Area:
    code = request.GET.get("area") or framework.home_area.code
    return get_object_or_404(Area, code=code)


def _snapshot(request: HttpRequest) -> Snapshot | None:
    """``?snapshot=ID``: show the figures exactly as that snapshot published them."""
    text = request.GET.get("snapshot", "").strip()
    if not text:
        return None
    if not text.isdigit():
        raise Http404("Unknown snapshot")
    return get_object_or_404(Snapshot, pk=int(text))


def _sources(snapshot: Snapshot | None) -> dict[str, Any]:
    if snapshot is None:
        return {}
    return {"source": observations_for(snapshot), "spc_settings": snapshot_spc_settings(snapshot)}


def _symbol(obs: Any) -> str:
    if obs is None:
        return ""
    return missing_symbol(obs.missing) or status_symbol(obs.status)


LEGEND = [(symbol, meaning) for symbol, meaning in SYMBOLS.items()]


def _export(
    request: HttpRequest, name: str, header: list[str], rows: list[list[Any]], about: list[list[Any]]
) -> HttpResponse | None:
    fmt = request.GET.get("format")
    if fmt not in {"csv", "xlsx"}:
        return None
    about = [
        *about,
        ["Downloaded", timezone.now().strftime("%Y-%m-%d %H:%M UTC")],
        [],
        ["Symbol", "Meaning"],
        *[[s, m] for s, m in LEGEND],
    ]
    if fmt == "csv":
        preamble = [*about, []]
        return download(csv_bytes(header, rows, preamble=preamble), f"{name}.csv")
    return download(xlsx_bytes([("data", header, rows), ("about", ["Item", "Value"], about)]), f"{name}.xlsx")


# --- overview --------------------------------------------------------------------------------------------
@permission_required(Perm.VIEW_APPROVED_DATA)
def overview_page(request: HttpRequest) -> HttpResponse:
    framework = _framework()
    area = _area(request, framework)
    snapshot = _snapshot(request)
    period = quarter_choice(request.GET.get("quarter")) or (snapshot.period if snapshot else None)
    priority = request.GET.get("priority") or None
    data = overview(framework=framework, area=area, period=period, priority=priority, **_sources(snapshot))
    rows = []
    for prio, tiles in data.priorities:
        for tile in tiles:
            latest = tile.latest
            comparison = tile.comparison
            rows.append(
                [
                    prio.name,
                    tile.metric.code,
                    tile.metric.name,
                    tile.area.name,
                    period_label(latest.period) if latest else "",
                    latest.value if latest and latest.value is not None else "",
                    _symbol(latest),
                    tile.metric.get_unit_display(),
                    tile.change_previous.absolute if tile.change_previous else "",
                    round(tile.change_previous.percent, 1)
                    if tile.change_previous and tile.change_previous.percent is not None
                    else "",
                    tile.change_year.absolute if tile.change_year else "",
                    round(tile.change_year.percent, 1)
                    if tile.change_year and tile.change_year.percent is not None
                    else "",
                    findings.VARIATION_SHORT[tile.variation],
                    comparison.rank if comparison and comparison.rank else "",
                    comparison.of if comparison else "",
                ]
            )
    header = [
        "priority", "metric", "name", "area", "quarter", "value", "symbol", "unit", "change on previous quarter",
        "change on previous quarter %", "change on same quarter last year", "change on same quarter last year %",
        "variation", "rank among peers", "peers",
    ]  # fmt: skip
    about = [
        ["Framework", f"{framework.name} (version {framework.version})"],
        ["Area", area.name],
        ["Quarter", period_label(data.period) if data.period else ""],
    ]
    exported = _export(request, f"overview-{area.code}-{data.period or 'none'}", header, rows, about)
    if exported:
        return exported
    return render(
        request,
        "reports/overview.html",
        {
            "data": data,
            "framework": framework,
            "selected_priority": priority,
            "period_choices": [(p.isoformat(), period_label(p)) for p in data.periods],
            "words": findings.VARIATION_WORDS,
            "letters": findings.VARIATION_LETTER,
            "short": findings.VARIATION_SHORT,
            "table_rows": rows,
            "snapshot": snapshot,
            "snapshot_caption": snapshot_caption(snapshot) if snapshot else "",
        },
    )


# --- priority and metric pages ---------------------------------------------------------------------------
def _metric_context(
    framework: Framework, metric: Metric, area: Area, period: dt.date | None, snapshot: Snapshot | None = None
) -> dict[str, Any]:
    sources = _sources(snapshot)
    source = sources.get("source")
    spc_settings = sources["spc_settings"].get(metric.code) if snapshot else None
    data = metric_series(metric=metric, area=area, framework=framework, source=source, spc_settings=spc_settings)
    observations = [o for o in data.observations if period is None or o.period <= period]
    if len(observations) != len(data.observations):
        from metrics.selectors import metric_spc

        spc = metric_spc(metric, observations, spc_settings)
    else:
        spc = data.spc
    notes = list(
        Annotation.objects.filter(metric=metric, period__lte=period or dt.date.max)
        .filter(Q(area__isnull=True) | Q(area=area))
        .order_by("period")
    )
    xmr = charts.xmr_figure(
        title=f"{metric.name}, {area.name}",
        unit_label=metric.get_unit_display(),
        observations=observations,
        spc=spc,
        annotations=[(n.period, n.label) for n in notes],
    )
    spc_points = {p.period: p for p in spc.points}
    seg_of = {p.period: spc.segments[p.segment] for p in spc.points}
    table = []
    for obs in observations:
        point = spc_points.get(obs.period)
        seg = seg_of.get(obs.period)
        table.append(
            {
                "obs": obs,
                "label": period_label(obs.period),
                "value": findings.format_value(obs.value, metric.unit)
                if obs.value is not None
                else missing_symbol(obs.missing),
                "symbol": status_symbol(obs.status) if obs.value is not None else "",
                "cause": findings._cause_text_short(point.special_cause if point else None)
                if obs.value is not None
                else "",
                "mean": seg.mean if seg else None,
                "lower": seg.lower_limit if seg else None,
                "upper": seg.upper_limit if seg else None,
            }
        )
    latest = next((o for o in reversed(observations) if o.value is not None), None)
    context: dict[str, Any] = {
        "metric": metric,
        "area": area,
        "spc": spc,
        "xmr_json": charts.figure_json(xmr),
        "xmr_text": findings.spc_text(metric, spc, area_name=area.name),
        "table": table,
        "latest": latest,
        "peer_json": None,
        "peer_text": "",
        "peer_rows": [],
        "breakdowns": [],
        "annotations": notes,
    }
    if latest is not None:
        bars, national = peer_values(framework=framework, metric=metric, area=area, period=latest.period, source=source)
        if len(bars) > 1:
            peer_fig = charts.peer_figure(
                title=f"{metric.name}: peers, {period_label(latest.period)}",
                unit_label=metric.get_unit_display(),
                values=[(b.area.name, b.value) for b in bars],
                home=area.name,
                national=national,
            )
            from metrics.stats.compare import peer_comparison

            comparison = peer_comparison(
                {b.area.code: b.value for b in bars},
                area=area.code,
                direction=metric.direction,
                period=latest.period,
                national=national,
            )
            context["peer_json"] = charts.figure_json(peer_fig)
            context["peer_text"] = findings.peer_text(comparison, metric.unit, area.name)
            context["peer_rows"] = sorted(
                ((b.area.name, findings.format_value(b.value, metric.unit), b.area.pk == area.pk) for b in bars),
                key=lambda r: r[0],
            )
            context["national"] = findings.format_value(national, metric.unit) if national is not None else None
        for breakdown, cats in breakdown_values(metric=metric, area=area, period=latest.period, source=source):
            values = [(c.name, o.value if o else None) for c, o in cats]
            if not any(v is not None for _, v in values):
                continue
            fig = charts.breakdown_figure(
                title=f"{metric.name} by {breakdown.name.lower()}, {period_label(latest.period)}",
                unit_label=metric.get_unit_display(),
                values=values,
            )
            described = "; ".join(
                f"{name} {findings.format_value(v, metric.unit)}" for name, v in values if v is not None
            )
            context["breakdowns"].append(
                {
                    "breakdown": breakdown,
                    "json": charts.figure_json(fig),
                    "text": f"{metric.name} in {area.name} by {breakdown.name.lower()}, {period_label(latest.period)}: {described}.",
                    "rows": [
                        (
                            c.name,
                            findings.format_value(o.value, metric.unit) if o and o.value is not None else "[x]",
                            _symbol(o),
                        )
                        for c, o in cats
                    ],
                }
            )
    return context


@permission_required(Perm.VIEW_APPROVED_DATA)
def metric_page(request: HttpRequest, code: str) -> HttpResponse:
    framework = _framework()
    metric = get_object_or_404(Metric.objects.select_related("agency").prefetch_related("rebases"), code=code)
    area = _area(request, framework)
    snapshot = _snapshot(request)
    period = quarter_choice(request.GET.get("quarter"))
    context = _metric_context(framework, metric, area, period, snapshot)
    context["snapshot"] = snapshot
    context["snapshot_caption"] = snapshot_caption(snapshot) if snapshot else ""
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
    ]
    rows = [
        [
            r["obs"].period.isoformat(),
            r["label"],
            r["obs"].value if r["obs"].value is not None else "",
            missing_symbol(r["obs"].missing) or r["symbol"],
            r["obs"].numerator if r["obs"].numerator is not None else "",
            r["obs"].denominator if r["obs"].denominator is not None else "",
            r["obs"].status,
            r["cause"],
            r["mean"] if r["mean"] is not None else "",
            r["lower"] if r["lower"] is not None else "",
            r["upper"] if r["upper"] is not None else "",
        ]
        for r in context["table"]
    ]
    about = [
        ["Metric", f"{metric.code} {metric.name}"],
        ["Area", area.name],
        ["Unit", metric.get_unit_display()],
        ["Direction", metric.get_direction_display()],
        ["Source type", metric.get_source_type_display()],
        ["Basis", metric.get_basis_display()],
        ["Definition", metric.description],
        ["Caveats", metric.caveats],
        ["Owner", metric.agency.name],
        ["Figures", context["snapshot_caption"] or "Approved data as it stands now."],
    ]
    exported = _export(request, f"{metric.code}-{area.code}", header, rows, about)
    if exported:
        return exported
    place = FrameworkMetric.objects.filter(framework=framework, metric=metric).select_related("priority").first()
    return render(
        request, "reports/metric.html", {**context, "framework": framework, "place": place, "areas": selectable_areas()}
    )


def _tile_section(tile: Any, notes: list[Annotation]) -> dict[str, Any]:
    """A metric's chart, finding and table on the priority page, from the overview's data (no query)."""
    metric = tile.metric
    fig = charts.xmr_figure(
        title=f"{metric.name}, {tile.area.name}",
        unit_label=metric.get_unit_display(),
        observations=tile.observations,
        spc=tile.spc,
        annotations=[(n.period, n.label) for n in notes],
    )
    causes = {p.period: p.special_cause for p in tile.spc.points}
    table = [
        {
            "label": period_label(o.period),
            "value": findings.format_value(o.value, metric.unit) if o.value is not None else missing_symbol(o.missing),
            "symbol": status_symbol(o.status) if o.value is not None else "",
            "cause": findings._cause_text_short(causes.get(o.period)) if o.value is not None else "",
        }
        for o in tile.observations
    ]
    return {
        "metric": metric,
        "latest": tile.latest,
        "area": tile.area,
        "xmr_json": charts.figure_json(fig),
        "xmr_text": findings.spc_text(metric, tile.spc, area_name=tile.area.name),
        "table": table,
    }


@permission_required(Perm.VIEW_APPROVED_DATA)
def priority_page(request: HttpRequest, code: str) -> HttpResponse:
    framework = _framework()
    priority = get_object_or_404(framework.priorities, code=code)
    area = _area(request, framework)
    snapshot = _snapshot(request)
    period = quarter_choice(request.GET.get("quarter")) or (snapshot.period if snapshot else None)
    data = overview(framework=framework, area=area, period=period, priority=priority.code, **_sources(snapshot))
    tiles = [tile for _, group in data.priorities for tile in group]
    notes: dict[int, list[Annotation]] = {}
    for note in (
        Annotation.objects.filter(metric__in=[t.metric for t in tiles])
        .filter(Q(area__isnull=True) | Q(area=area))
        .order_by("period")
    ):
        notes.setdefault(note.metric_id, []).append(note)
    sections = [_tile_section(tile, notes.get(tile.metric.pk, [])) for tile in tiles]
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
    exported = _export(
        request,
        f"priority-{priority.code}-{area.code}",
        ["metric", "name", "quarter", "value", "finding"],
        rows,
        [["Priority", priority.name], ["Area", area.name]],
    )
    if exported:
        return exported
    return render(
        request,
        "reports/priority.html",
        {
            "framework": framework,
            "priority": priority,
            "area": area,
            "sections": sections,
            "areas": data.areas,
            "snapshot": snapshot,
            "snapshot_caption": snapshot_caption(snapshot) if snapshot else "",
        },
    )


# --- fairness ---------------------------------------------------------------------------------------------
@permission_required(Perm.VIEW_APPROVED_DATA)
def fairness_page(request: HttpRequest) -> HttpResponse:
    from django.conf import settings

    framework = _framework()
    area = _area(request, framework)
    snapshot = _snapshot(request)
    period = quarter_choice(request.GET.get("quarter")) or (snapshot.period if snapshot else None)
    sections = []
    rows: list[list[Any]] = []
    import pandas as pd

    source = observations_for(snapshot) if snapshot else None
    for block in fairness_blocks(framework=framework, area=area, period=period, source=source):
        metric, breakdown, when, cats = block.metric, block.breakdown, block.period, block.cells
        if breakdown.reference is not None:
            table = pd.DataFrame(
                [
                    {
                        "category": c.code,
                        "numerator": o.numerator if o else None,
                        "denominator": o.denominator if o else None,
                    }
                    for c, o in cats
                ],
                columns=["category", "numerator", "denominator"],
            )
            groups = relative_rates(
                table, reference=breakdown.reference.code, min_count=settings.PCC_PERF_SUPPRESSION_THRESHOLD + 1
            )
            labels = {c.code: c.name for c, _ in cats}
            ref_obs = next((o for c, o in cats if c.pk == breakdown.reference_id), None)
            fig = charts.disproportionality_figure(
                title=f"{metric.name}: rate ratio by {breakdown.name.lower()}, {area.name}, {period_label(when)}",
                reference=breakdown.reference.code,
                groups=groups,
                labels=labels,
            )
            sentences = findings.disproportionality_sentences(
                groups,
                reference_name=breakdown.reference.name,
                labels=labels,
            )
            sections.append(
                {
                    "metric": metric,
                    "breakdown": breakdown,
                    "period": when,
                    "json": charts.figure_json(fig),
                    "groups": groups,
                    "labels": labels,
                    "reference": breakdown.reference,
                    "reference_rate": (ref_obs.numerator / ref_obs.denominator * 1000)
                    if ref_obs and ref_obs.numerator is not None and ref_obs.denominator
                    else None,
                    "reference_counts": ref_obs,
                    "sentences": sentences,
                }
            )
            for g in groups:
                rows.append(
                    [
                        metric.code,
                        breakdown.code,
                        period_label(when),
                        labels[g.category],
                        g.numerator,
                        g.denominator,
                        g.rate,
                        g.ratio,
                        g.ci_lower,
                        g.ci_upper,
                        g.significant,
                        g.note,
                    ]
                )
    header = [
        "metric",
        "breakdown",
        "quarter",
        "group",
        "count",
        "population",
        "rate per 1,000",
        "ratio",
        "95% lower",
        "95% upper",
        "significant",
        "note",
    ]
    exported = _export(
        request,
        f"fairness-{area.code}",
        header,
        [[("" if v is None else v) for v in r] for r in rows],
        [["Area", area.name], ["Caveat", findings.DISPROPORTIONALITY_CAVEAT]],
    )
    if exported:
        return exported
    return render(
        request,
        "reports/fairness.html",
        {
            "framework": framework,
            "area": area,
            "sections": sections,
            "caveat": findings.DISPROPORTIONALITY_CAVEAT,
            "areas": selectable_areas(),
            "snapshot": snapshot,
            "snapshot_caption": snapshot_caption(snapshot) if snapshot else "",
        },
    )

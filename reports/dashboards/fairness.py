"""The fairness page: rate ratios by group with 95% intervals, and its CSV and XLSX."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest, HttpResponse

from accounts.access import Perm, permission_required
from metrics.quarters import period_label
from reports import charts, wording
from reports.dashboards.common import export, page_asked, page_context, render_cached, wants_export
from reports.dashboards.selectors import fairness_periods, selectable_areas
from reports.evidence.build import build_evidence, fairness_metrics
from reports.evidence.items import Part
from reports.evidence.sources import FigureSource


# --- fairness ---------------------------------------------------------------------------------------------
@permission_required(Perm.VIEW_APPROVED_DATA)
def fairness_page(request: HttpRequest) -> HttpResponse:
    framework, area, snapshot, asked = page_asked(request)
    source = FigureSource(snapshot)

    def build() -> tuple[list[dict[str, Any]], list[list[Any]], list[dt.date], dt.date | None]:
        placements = fairness_metrics(framework=framework)
        periods = fairness_periods(placements=placements, area=area, source=source)
        period = asked
        if periods and not request.GET.get("quarter", "").strip():
            # The latest quarter with counts by group (never a later quarter with totals only: an empty axis).
            period = periods[0]
        evidence = build_evidence(
            framework=framework,
            area=area,
            placements=placements,
            period=period,
            source=source,
            parts=Part.FAIRNESS,
        )
        sections, rows = _sections(evidence, with_charts=not wants_export(request))
        return sections, rows, periods, period

    if not wants_export(request):

        def body_context() -> dict[str, Any]:
            sections, _, periods, period = build()
            return page_context(
                framework,
                area,
                snapshot,
                sections=sections,
                caveat=wording.DISPROPORTIONALITY_CAVEAT,
                areas=selectable_areas(),
                period_choices=[(p.isoformat(), period_label(p)) for p in periods],
                period_value=period.isoformat() if period else "",
                period=period,
            )

        return render_cached(
            request,
            page="fairness",
            framework=framework,
            template="reports/fairness.html",
            body_template="reports/_fairness_body.html",
            body_context=body_context,
            outer={"area": area},
        )
    _, rows, _, _ = build()
    response = export(
        request,
        f"fairness-{area.code}",
        HEADER,
        [[("" if v is None else v) for v in r] for r in rows],
        [["Area", area.name], ["Caveat", wording.DISPROPORTIONALITY_CAVEAT]],
    )
    assert response is not None
    return response


HEADER = [
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
    "small numbers",
    "recorded share %",
    "ratios withheld because",
]


def _sections(evidence: Any, *, with_charts: bool) -> tuple[list[dict[str, Any]], list[list[Any]]]:
    """Each breakdown's section of the page (its chart's figure data only when the page is drawn) and the
    rows of the page's table (its CSV and XLSX)."""
    sections = []
    rows: list[list[Any]] = []
    for item in evidence:
        for fair in item.fairness:
            sections.append(
                {
                    "metric": fair.metric,
                    "breakdown": fair.breakdown,
                    "period": fair.period,
                    "json": charts.figure_json(fair.figure()) if with_charts else None,
                    "groups": fair.groups,
                    "labels": fair.labels,
                    "reference": fair.reference,
                    "reference_rate": fair.reference_rate,
                    "reference_counts": fair.reference_counts,
                    "sentences": fair.sentences,
                    "fair": fair,
                    "chart_text": fair.chart_text,
                    "stale_notice": item.stale_notice,
                }
            )
            labels = fair.labels
            for g in fair.groups:
                rows.append(
                    [
                        fair.metric.code,
                        fair.breakdown.code,
                        period_label(fair.period),
                        labels[g.category],
                        g.numerator,
                        g.denominator,
                        g.rate,
                        g.ratio,
                        g.ci_lower,
                        g.ci_upper,
                        g.significant,
                        g.note,
                        g.small_numbers,
                        None if fair.recorded_share is None else round(fair.recorded_share * 100, 1),
                        fair.withheld or "",
                    ]
                )
    return sections, rows

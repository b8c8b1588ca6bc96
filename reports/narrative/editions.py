"""A report's two editions, from the evidence of its snapshot: the board's, and the public's with small numbers suppressed and management information left out."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import markdown
import nh3
from django.conf import settings
from django.db.models import Prefetch
from django.utils.safestring import SafeString, mark_safe

from metrics.models import Metric, SourceType
from metrics.quarters import period_label
from metrics.stats.presentation import format_value
from metrics.stats.suppression import CONFIDENTIAL, is_primary, missing_symbol
from reports import charts
from reports.evidence.build import build_evidence
from reports.evidence.items import MetricEvidence, Part
from reports.evidence.sources import FigureSource, ObsRow
from reports.models import Report, ReportFinding, ReportSection

# Narratives are text: no images at all (a remote one would be fetched by every reader's browser and by the
# PDF build; a relative one names a file on the server). Charts come from the evidence, not from Markdown.
NARRATIVE_TAGS = nh3.ALLOWED_TAGS - {"img"}


def render_markdown(text: str) -> SafeString:
    """Markdown to HTML with everything unsafe removed (scripts, event handlers, javascript: links, images)."""
    html = markdown.markdown(text or "", extensions=["extra", "sane_lists"])
    return mark_safe(nh3.clean(html, tags=NARRATIVE_TAGS))  # noqa: S308 - sanitised by nh3 just above


# --- the editions ------------------------------------------------------------------------------------
@dataclass
class MetricLine:
    metric: Metric
    evidence: MetricEvidence
    finding: str
    value: str
    quarter: str
    variation: str
    categories: list[tuple[str, str]] = field(default_factory=list)
    chart: Any = None  # the XmR chart (board edition, deep dive) as JSON for the page
    chart_text: str = ""
    pack_chart: Any = None  # the chart as the PDF draws it (set by reports.packs)


@dataclass
class SectionView:
    section: ReportSection
    title: str  # the priority's name as the snapshot published it
    narrative: SafeString
    commentary: SafeString
    lines: list[MetricLine]
    deep_dive: bool
    notes: list[tuple[str, str, str]] = field(default_factory=list)  # (metric, quarter, note)


def edition(*, report: Report, public: bool, parts: Part = Part.ALL) -> list[SectionView]:
    """What a report shows, from the evidence of its snapshot. The public edition leaves out management
    information (unless a metric is marked public) and suppresses counts from 1 to the threshold, with rates
    built on them."""
    snapshot = report.snapshot
    framework = snapshot.framework
    threshold = settings.PCC_PERF_SUPPRESSION_THRESHOLD
    sections = list(
        report.sections.select_related("priority").prefetch_related(
            Prefetch(
                "findings",
                queryset=ReportFinding.objects.select_related("metric__agency").prefetch_related("metric__rebases"),
            )
        )
    )
    metrics = [f.metric for s in sections for f in s.findings.all()]
    source = FigureSource(snapshot)
    evidence = {
        e.metric.pk: e
        for e in build_evidence(
            framework=framework,
            area=framework.home_area,
            metrics=list({m.pk: m for m in metrics}.values()),
            period=snapshot.period,
            source=source,
            parts=parts,
        )
    }
    out = []
    for section in sections:
        deep_dive = section.priority_id == report.deep_dive_id
        lines = []
        for finding in section.findings.all():
            item = evidence[finding.metric_id]
            metric = item.metric  # names, definitions and annotations as the snapshot froze them
            if public and not (_public(metric) and _public(finding.metric)):
                continue  # left out when published; or withdrawn since (no longer marked public)
            latest = item.latest
            value = _shown(latest, metric.unit, public, threshold)
            cats: list[tuple[str, str]] = []
            if deep_dive and item.breakdowns:
                cells = [(cat, obs) for b in item.breakdowns for cat, obs in b.cells if obs is not None]
                ordered = sorted(cells, key=lambda cell: cell[0].order)
                cats = [(cat.name, _shown(obs, metric.unit, public, threshold)) for cat, obs in ordered]
                if public and metric.unit == "count" and latest is not None:
                    value, cats = _secondary(value, cats, ordered, threshold)
            chart = chart_text = None
            if deep_dive and not public and item.series:
                chart, chart_text = charts.figure_json(item.xmr_figure()), item.finding
            lines.append(
                MetricLine(
                    metric=metric,
                    evidence=item,
                    finding=finding.text,
                    value=value,
                    quarter=item.stale_text or item.quarter_label,
                    variation="Out of date (not judged)" if item.stale else item.variation_short,
                    categories=cats,
                    chart=chart,
                    chart_text=chart_text or "",
                )
            )
        out.append(
            SectionView(
                section=section,
                title=source.priority_name(section.priority),
                narrative=render_markdown(section.narrative),
                commentary=render_markdown(section.commentary),
                lines=lines,
                deep_dive=deep_dive,
                notes=[
                    (line.metric.name, period_label(n.period), n.label)
                    for line in lines
                    for n in line.evidence.annotations
                ],
            )
        )
    return out


def _public(metric: Metric) -> bool:
    """Shown in the public edition: anything but management information, unless marked public."""
    return metric.source_type != SourceType.MANAGEMENT_INFORMATION or metric.public


def _secondary(
    total_text: str, cats: list[tuple[str, str]], ordered: list[tuple[Any, ObsRow]], threshold: int
) -> tuple[str, list[tuple[str, str]]]:
    """Categories shown with their total: hide a second cell where one hidden cell could be worked out."""
    import pandas as pd

    from metrics.stats.suppression import suppression_mask

    counts = pd.DataFrame([[obs.value or 0.0 for _, obs in ordered]], columns=[str(i) for i in range(len(ordered))])
    if counts.empty:
        return total_text, cats
    mask = suppression_mask(counts, threshold=threshold, row_totals=True, column_totals=False).iloc[0].tolist()
    shown = [(name, CONFIDENTIAL if hidden else text) for (name, text), hidden in zip(cats, mask[:-1], strict=True)]
    return (CONFIDENTIAL if mask[-1] else total_text), shown


def _shown(obs: ObsRow | None, unit: str, public: bool, threshold: int) -> str:
    if obs is None:
        return "[x]"
    if obs.value is None:
        return missing_symbol(obs.missing)
    if public:
        # A small count, or a rate or percentage built on one, is suppressed.
        if unit == "count" and is_primary(obs.value, threshold):
            return CONFIDENTIAL
        if obs.numerator is not None and is_primary(obs.numerator, threshold):
            return CONFIDENTIAL
    symbol = obs.symbol
    text = format_value(obs.value, unit)
    return f"{text} {symbol}" if symbol else text

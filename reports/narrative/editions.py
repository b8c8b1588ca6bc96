"""A report's two editions, from the evidence of its snapshot: the board's, and the public's.

The public edition is built from public evidence (``build_evidence(public=True)``: small numbers suppressed
with secondary suppression before anything is worked out, so cells, findings, chart texts and charts hold no
hidden number); its findings are the ones generated from that evidence (never the board's edited text), its
narrative is the public text written for it (never the board's: empty when none was written), and it leaves
out management information unless a measure is marked public, and every internal note (partner commentary,
publishing reasons, returns, agency codes, user names)."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import markdown
import nh3
from django.db.models import Prefetch
from django.utils.safestring import SafeString, mark_safe

from metrics.models import Metric, SourceType
from metrics.quarters import period_label
from metrics.stats.presentation import format_value
from metrics.stats.suppression import missing_symbol
from reports.evidence.build import attach_rebases, build_evidence
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
    deep_dive: bool = False  # the line of the deep-dive priority (the page draws its XmR chart)
    pack_chart: Any = None  # the chart as the PDF draws it (set by reports.packs)

    # Built when a page asks for it: a pack draws its own charts and never reads these.
    @cached_property
    def chart(self) -> dict[str, Any] | None:
        """The XmR chart of a deep-dive line as figure data for the page; None for the others."""
        return self.evidence.xmr_chart() if self.deep_dive and self.evidence.spc.points else None

    @property
    def chart_text(self) -> str:
        return self.evidence.chart_text if self.chart is not None else ""


@dataclass
class SectionView:
    section: ReportSection
    title: str  # the priority's name as the snapshot published it
    narrative: SafeString
    commentary: SafeString  # partner commentary: the board edition's only
    lines: list[MetricLine]
    deep_dive: bool
    notes: list[tuple[str, str, str]] = field(default_factory=list)  # (metric, quarter, note)


def in_public_edition(metric: Metric) -> bool:
    """Official statistics are published openly elsewhere and always appear; management information only
    when the framework marks the measure public; local returns appear (suppressed like everything else)."""
    if metric.source_type == SourceType.OFFICIAL_STATISTICS:
        return True
    return metric.source_type != SourceType.MANAGEMENT_INFORMATION or metric.public


def summary_of(report: Report, *, public: bool) -> SafeString:
    """The executive summary of an edition: the public one is its own text (empty when none was written)."""
    return render_markdown(report.public_summary if public else report.executive_summary)


def edition(*, report: Report, public: bool, parts: Part = Part.ALL) -> list[SectionView]:
    """What a report shows, from the evidence of its snapshot (see the module's docstring for the public
    edition)."""
    snapshot = report.snapshot
    framework = snapshot.framework
    sections = list(
        report.sections.select_related("priority").prefetch_related(
            Prefetch("findings", queryset=ReportFinding.objects.select_related("metric__agency"))
        )
    )
    metrics = [f.metric for s in sections for f in s.findings.all()]
    attach_rebases(metrics)
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
            public=public,
        )
    }
    out = []
    for section in sections:
        deep_dive = section.priority_id == report.deep_dive_id
        lines = []
        for finding in section.findings.all():
            item = evidence[finding.metric_id]
            metric = item.metric  # names, definitions and annotations as the snapshot froze them
            if public and not (in_public_edition(metric) and in_public_edition(finding.metric)):
                continue  # left out when published; or withdrawn since (no longer marked public)
            value = _shown(item.latest, metric)
            cats: list[tuple[str, str]] = []
            if deep_dive and item.breakdowns:
                cells = [(cat, obs) for b in item.breakdowns for cat, obs in b.cells if obs is not None]
                ordered = sorted(cells, key=lambda cell: cell[0].order)
                cats = [(cat.name, _shown(obs, metric)) for cat, obs in ordered]
            lines.append(
                MetricLine(
                    metric=metric,
                    evidence=item,
                    # The public edition's finding is generated from the public evidence, never the board's text.
                    finding=item.finding if public else finding.text,
                    value=value,
                    quarter=item.stale_text or item.quarter_label,
                    variation="Out of date (not judged)" if item.stale else item.variation_short,
                    categories=cats,
                    deep_dive=deep_dive,
                )
            )
        out.append(
            SectionView(
                section=section,
                title=source.priority_name(section.priority),
                narrative=render_markdown(section.public_narrative if public else section.narrative),
                commentary=render_markdown("" if public else section.commentary),
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


def _shown(obs: ObsRow | None, metric: Metric) -> str:
    """A figure as an edition prints it: at its unit's precision with its symbol, or the symbol of a missing
    or suppressed figure (public evidence holds suppressed figures as ``[c]`` gaps already)."""
    if obs is None:
        return "[x]"
    if obs.value is None:
        return missing_symbol(obs.missing) or "[x]"
    symbol = obs.symbol
    text = format_value(obs.value, metric.unit, metric.decimals)
    return f"{text} {symbol}" if symbol else text

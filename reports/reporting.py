"""Quarterly reports: create on a snapshot, edit (every edit kept), review, publish; and their two
editions — the board's, and the public's with small numbers suppressed and management information out."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import markdown
import nh3
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe

from frameworks.access import Perm, has_perm, require
from frameworks.models import Priority, audit
from metrics.models import Metric, SourceType
from metrics.quarters import period_label
from metrics.stats.suppression import CONFIDENTIAL, is_primary, missing_symbol

from . import charts
from .evidence import FigureSource, MetricEvidence, ObsRow, Part, build_evidence
from .findings import format_value
from .models import (
    REPORT_TRANSITIONS,
    Report,
    ReportEdit,
    ReportFinding,
    ReportSection,
    ReportState,
    Snapshot,
)


class ReportError(Exception):
    """A report action that cannot be done now."""


def render_markdown(text: str) -> SafeString:
    """Markdown to HTML with everything unsafe removed (scripts, event handlers, javascript: links)."""
    html = markdown.markdown(text or "", extensions=["extra", "sane_lists"])
    return mark_safe(nh3.clean(html))  # noqa: S308 - sanitised by nh3 just above


def next_deep_dive(*, framework_priorities: list[Priority]) -> Priority | None:
    """The priority after the last report's deep dive, in the framework's order (the rotation)."""
    if not framework_priorities:
        return None
    last = (
        Report.objects.exclude(deep_dive__isnull=True)
        .order_by("-snapshot__period", "-created_at")
        .values_list("deep_dive_id", flat=True)
        .first()
    )
    ids = [p.pk for p in framework_priorities]
    if last not in ids:
        return framework_priorities[0]
    return framework_priorities[(ids.index(last) + 1) % len(ids)]


def report_create(*, actor: Any, snapshot: Snapshot) -> Report:
    """A draft report for a snapshot: a section per priority with a generated finding per metric, and
    the next deep-dive priority in rotation proposed."""
    require(actor, Perm.EDIT_REPORT)
    framework = snapshot.framework
    priorities = list(framework.priorities.order_by("order"))
    evidence = build_evidence(
        framework=framework,
        area=framework.home_area,
        period=snapshot.period,
        source=FigureSource(snapshot),
        parts=Part.NONE,
    )
    with transaction.atomic():
        if Report.objects.filter(snapshot=snapshot).exists():
            raise ReportError(f"{snapshot} already has a report.")
        report = Report.objects.create(
            snapshot=snapshot,
            title=f"{framework.name}: {period_label(snapshot.period)} report",
            deep_dive=next_deep_dive(framework_priorities=priorities),
            created_by=actor,
        )
        sections = {p.pk: ReportSection.objects.create(report=report, priority=p, order=p.order) for p in priorities}
        findings = []
        for order, item in enumerate(evidence):
            assert item.priority is not None
            text = item.finding
            findings.append(
                ReportFinding(
                    section=sections[item.priority.pk], metric=item.metric, order=order, generated=text, text=text
                )
            )
        ReportFinding.objects.bulk_create(findings)
        audit(actor=actor, action="report.created", obj=report, summary=report.title)
    return report


EDITABLE = {ReportState.DRAFT, ReportState.IN_REVIEW}


def report_edit(*, actor: Any, report: Report, version: int, changes: dict[str, str]) -> Report:
    """Apply text changes: ``summary``, ``deep_dive`` (a priority id or ""), ``narrative:<section id>``,
    ``commentary:<section id>``, ``finding:<finding id>``. Each change is kept as a version."""
    require(actor, Perm.EDIT_REPORT)
    with transaction.atomic():
        locked = Report.objects.select_for_update().get(pk=report.pk)
        if locked.state not in EDITABLE:
            raise ReportError("A published report cannot be changed.")
        if locked.version != version:
            raise ReportError(
                "Someone else saved this report while you were editing it; your text is kept below, check it and save again."
            )
        sections = {s.pk: s for s in locked.sections.all()}
        findings = {f.pk: f for f in ReportFinding.objects.filter(section__report=locked)}
        edits = []
        for key, new in changes.items():
            new = new.replace("\r\n", "\n")
            kind, _, ident = key.partition(":")
            target: Report | ReportSection | ReportFinding
            if kind == "summary":
                target, attr = locked, "executive_summary"
            elif kind == "deep_dive":
                old_id = locked.deep_dive_id
                new_id = int(new) if new.isdigit() else None
                if old_id != new_id:
                    locked.deep_dive_id = new_id
                    edits.append(
                        ReportEdit(
                            report=locked, field="deep_dive", old=str(old_id or ""), new=str(new_id or ""), by=actor
                        )
                    )
                continue
            elif kind in ("narrative", "commentary") and ident.isdigit() and int(ident) in sections:
                target, attr = sections[int(ident)], kind
            elif kind == "finding" and ident.isdigit() and int(ident) in findings:
                target, attr = findings[int(ident)], "text"
            else:
                raise ReportError(f"unknown field {key}")
            old = getattr(target, attr)
            if old == new:
                continue
            setattr(target, attr, new)
            target.save(update_fields=[attr])
            edits.append(ReportEdit(report=locked, field=key, old=old, new=new, by=actor))
        if edits:
            ReportEdit.objects.bulk_create(edits)
            locked.version += 1
            locked.save(update_fields=["version", "deep_dive", "executive_summary"])
            audit(actor=actor, action="report.edited", obj=locked, summary=", ".join(e.field for e in edits)[:500])
    return locked


def report_transition(*, actor: Any, report: Report, to: str) -> Report:
    require(actor, Perm.EDIT_REPORT)
    with transaction.atomic():
        locked = Report.objects.select_for_update().get(pk=report.pk)
        if (locked.state, to) not in REPORT_TRANSITIONS:
            raise ReportError(
                f"A {locked.get_state_display().lower()} report cannot be {ReportState(to).label.lower()}."
            )
        old = locked.state
        locked.state = to
        if to == ReportState.PUBLISHED:
            require(actor, Perm.PUBLISH_SNAPSHOT)
            locked.published_at, locked.published_by = timezone.now(), actor
        locked.save()
        audit(actor=actor, action=f"report.{to}", obj=locked, old={"state": old}, new={"state": to})
    return locked


def can_read(user: Any, report: Report) -> bool:
    """Drafts and reviews: the commissioner's office. Published: every logged-in role."""
    if report.state == ReportState.PUBLISHED:
        return has_perm(user, Perm.VIEW_APPROVED_DATA)
    return has_perm(user, Perm.EDIT_REPORT)


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
    narrative: SafeString
    commentary: SafeString
    lines: list[MetricLine]
    deep_dive: bool
    notes: list[tuple[str, str, str]] = field(default_factory=list)  # (metric, quarter, note)


def edition(*, report: Report, public: bool, parts: Part = Part.ANNOTATIONS | Part.BREAKDOWNS) -> list[SectionView]:
    """What a report shows, from the evidence of its snapshot. The public edition leaves out management
    information (unless a metric is marked public) and suppresses counts from 1 to the threshold, with rates
    built on them."""
    snapshot = report.snapshot
    framework = snapshot.framework
    threshold = settings.PCC_PERF_SUPPRESSION_THRESHOLD
    sections = list(report.sections.select_related("priority").prefetch_related("findings__metric__rebases"))
    metrics = [f.metric for s in sections for f in s.findings.all()]
    evidence = {
        e.metric.pk: e
        for e in build_evidence(
            framework=framework,
            area=framework.home_area,
            metrics=list({m.pk: m for m in metrics}.values()),
            period=snapshot.period,
            source=FigureSource(snapshot),
            parts=parts,
        )
    }
    out = []
    for section in sections:
        deep_dive = section.priority_id == report.deep_dive_id
        lines = []
        for finding in section.findings.all():
            metric = finding.metric
            if public and metric.source_type == SourceType.MANAGEMENT_INFORMATION and not metric.public:
                continue
            item = evidence[metric.pk]
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
                    quarter=item.quarter_label,
                    variation=item.variation_short,
                    categories=cats,
                    chart=chart,
                    chart_text=chart_text or "",
                )
            )
        out.append(
            SectionView(
                section=section,
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

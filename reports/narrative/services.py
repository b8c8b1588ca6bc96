"""Quarterly reports: create on a snapshot, edit (every edit kept), review, publish."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from accounts.access import Perm, has_perm, require
from accounts.audit import AuditAction, record
from accounts.workflow import IllegalTransition, change_state, locked
from frameworks.models import Priority
from metrics.quarters import period_label
from reports.evidence.build import snapshot_evidence
from reports.evidence.items import Part
from reports.models import (
    REPORT_TRANSITIONS,
    Report,
    ReportEdit,
    ReportFinding,
    ReportSection,
    ReportState,
    Snapshot,
)
from reports.narrative.draft import draft_summary


class ReportError(Exception):
    """A report action that cannot be done now."""


def next_deep_dive(*, framework_priorities: list[Priority]) -> Priority | None:
    """The priority after the partnership's last report's deep dive, in the framework's order (the rotation)."""
    if not framework_priorities:
        return None
    last = (
        Report.objects.in_scope()
        .exclude(deep_dive__isnull=True)
        .order_by("-snapshot__period", "-created_at")
        .values_list("deep_dive_id", flat=True)
        .first()
    )
    ids = [p.pk for p in framework_priorities]
    if last not in ids:
        return framework_priorities[0]
    return framework_priorities[(ids.index(last) + 1) % len(ids)]


def report_create(*, actor: Any, snapshot: Snapshot) -> Report:
    """A draft report for a snapshot: the executive summary drafted from the evidence, a section per priority
    with a generated finding per metric, and the next deep-dive priority in rotation proposed."""
    require(actor, Perm.EDIT_REPORT)
    framework = snapshot.framework
    priorities = list(framework.priorities.order_by("order"))
    evidence = snapshot_evidence(snapshot=snapshot, parts=Part.ALL)
    with transaction.atomic():
        if Report.objects.filter(snapshot=snapshot).exists():
            raise ReportError(f"{snapshot} already has a report.")
        report = Report.objects.create(
            snapshot=snapshot,
            title=f"{framework.name}: {period_label(snapshot.period)} report",
            executive_summary=draft_summary(evidence, quarter=period_label(snapshot.period)),
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
        record(AuditAction.REPORT_CREATED, actor=actor, obj=report, summary=report.title)
    return report


EDITABLE = {ReportState.DRAFT, ReportState.IN_REVIEW}


def report_edit(*, actor: Any, report: Report, version: int, changes: dict[str, str]) -> Report:
    """Apply text changes: ``summary``, ``public_summary``, ``deep_dive`` (a priority id or ""),
    ``deep_dive_findings``, ``deep_dive_recommendations``, ``narrative:<section id>``, ``public:<section id>``
    (the section's public narrative), ``commentary:<section id>``, ``finding:<finding id>``. Each change is kept
    as a version."""
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
            elif kind in ("deep_dive_findings", "deep_dive_recommendations"):
                target, attr = locked, kind
            elif kind == "public_summary":
                target, attr = locked, "public_summary"
            elif kind == "deep_dive":
                old_id = locked.deep_dive_id
                new_id = int(new) if new.isdigit() else None
                if new_id is not None and new_id not in {s.priority_id for s in sections.values()}:
                    raise ReportError("The deep dive must be one of the report's priorities.")
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
            elif kind == "public" and ident.isdigit() and int(ident) in sections:
                target, attr = sections[int(ident)], "public_narrative"
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
            locked.save(
                update_fields=[
                    "version",
                    "deep_dive",
                    "executive_summary",
                    "public_summary",
                    "deep_dive_findings",
                    "deep_dive_recommendations",
                ]
            )
            record(AuditAction.REPORT_EDITED, actor=actor, obj=locked, summary=", ".join(e.field for e in edits)[:500])
    return locked


REPORT_ACTIONS = {
    ReportState.DRAFT: AuditAction.REPORT_DRAFT,
    ReportState.IN_REVIEW: AuditAction.REPORT_IN_REVIEW,
    ReportState.PUBLISHED: AuditAction.REPORT_PUBLISHED,
}


def report_transition(*, actor: Any, report: Report, to: str, version: int | None = None) -> Report:
    """Send a report for review, back to draft, or publish it (which locks it for good)."""
    require(actor, Perm.EDIT_REPORT)
    target = ReportState(to)
    if target == ReportState.PUBLISHED:
        require(actor, Perm.PUBLISH_SNAPSHOT)
    with transaction.atomic():
        row = locked(Report, report.pk, version=version)
        fields: list[str] = []
        if target == ReportState.PUBLISHED:
            row.published_at, row.published_by = timezone.now(), actor
            fields = ["published_at", "published_by"]
        try:
            change_state(
                row, to=target, table=REPORT_TRANSITIONS, actor=actor, action=REPORT_ACTIONS[target], fields=fields
            )
        except IllegalTransition:
            raise ReportError(f"A {row.get_state_display().lower()} report cannot be {target.label.lower()}.") from None
    return row


def can_read(user: Any, report: Report) -> bool:
    """Drafts and reviews: the commissioner's office. Published: every logged-in role."""
    if report.state == ReportState.PUBLISHED:
        return has_perm(user, Perm.VIEW_APPROVED_DATA)
    return has_perm(user, Perm.EDIT_REPORT)

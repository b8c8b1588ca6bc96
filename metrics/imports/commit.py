"""Writing checked rows as approved data: what would change (``plan_diff``), then one transaction."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone

from accounts.audit import AuditAction, event
from accounts.models import Agency, AuditEvent
from accounts.versions import data_changed
from metrics.models import FIGURE_FIELDS, FIGURE_VALUE_FIELDS, ImportBatch, Observation, ObservationStatus

from .checks import Row, check_rows, same_numbers
from .parse import FileRejected, parse_file
from .summary import ImportSummary, Issue


@dataclass
class ImportPlan:
    summary: ImportSummary
    agency: Agency
    sha256: str
    source_return: Any = None  # the approved Return these values come from
    to_create: list[Row] = field(default_factory=list)
    to_update: list[tuple[Row, Observation]] = field(default_factory=list)


def import_plan(*, content: bytes, filename: str, agency: Agency, dry_run: bool = False) -> ImportPlan:
    """Read and check a file; work out what it would create and update. Writes nothing."""
    summary = ImportSummary(filename=filename, dry_run=dry_run)
    plan = ImportPlan(summary=summary, agency=agency, sha256=hashlib.sha256(content).hexdigest())
    try:
        positions, raw_rows = parse_file(content=content, filename=filename)
    except FileRejected as exc:
        summary.errors.append(Issue(None, "", "file", str(exc)))
        return plan
    rows = check_rows(positions=positions, raw_rows=raw_rows, agency=agency, summary=summary)
    if summary.errors:
        return plan
    plan_diff(plan, rows)
    return plan


def plan_diff(plan: ImportPlan, rows: list[Row]) -> None:
    """Sort checked rows into new, changed and unchanged approved observations."""
    if not rows:
        return
    existing: dict[tuple[int, int, dt.date, int | None], Observation] = {}
    query = Observation.objects.filter(
        metric_id__in={r.metric.pk for r in rows},
        area_id__in={r.area_id for r in rows},
        period__in={r.period for r in rows},
    )
    for found in query:
        existing[(found.metric_id, found.area_id, found.period, found.category_id)] = found
    summary = plan.summary
    for row in rows:
        obs = existing.get(row.key)
        if obs is None:
            plan.to_create.append(row)
            continue
        stored_status = ObservationStatus.FINAL if obs.status == ObservationStatus.REVISED else obs.status
        same_figures = same_numbers(obs, row)
        if same_figures and stored_status == row.status and obs.note == row.note:
            summary.unchanged += 1
        else:
            plan.to_update.append((row, obs))
    summary.created = len(plan.to_create)
    summary.updated = len(plan.to_update)


# --- write -------------------------------------------------------------------------------------------
def _figures(obs: Observation) -> dict[str, Any]:
    return {
        **{name: getattr(obs, name) for name in FIGURE_VALUE_FIELDS},
        "source": obs.source_id,
        "source_row": obs.source_row,
    }


def import_commit(*, plan: ImportPlan, actor: Any = None) -> ImportSummary:
    """Write an accepted plan in one transaction; a changed value keeps its old value in the audit trail."""
    summary = plan.summary
    if summary.errors or summary.dry_run:
        return summary
    if not plan.to_create and not plan.to_update:
        return summary
    actor_id = actor.pk if getattr(actor, "pk", None) else None
    with transaction.atomic():
        batch = ImportBatch.objects.create(
            agency=plan.agency,
            source_return=plan.source_return,
            filename=summary.filename[:300],
            sha256=plan.sha256,
            uploaded_by_id=actor_id,
            rows_read=summary.rows_read,
            created=summary.created,
            updated=summary.updated,
            unchanged=summary.unchanged,
        )
        Observation.objects.bulk_create(
            [
                Observation(**row.figures(), period=row.period, source=batch, source_row=row.row)
                for row in plan.to_create
            ],
            batch_size=2000,
        )
        events: list[AuditEvent] = []
        changed: list[Observation] = []
        now = timezone.now()
        for row, obs in plan.to_update:
            old = _figures(obs)
            figures_changed = not same_numbers(obs, row)
            obs.value, obs.numerator, obs.denominator = row.value, row.numerator, row.denominator
            obs.missing, obs.note, obs.unit = row.missing, row.note, row.metric.unit
            obs.illustrative = row.illustrative
            # Any change to an approved figure is a revision ([r]); the old figure is in the audit trail.
            obs.status = ObservationStatus.REVISED if figures_changed else row.status
            obs.source, obs.source_row, obs.updated_at = batch, row.row, now
            changed.append(obs)
            events.append(
                event(
                    AuditAction.OBSERVATION_REVISED if figures_changed else AuditAction.OBSERVATION_UPDATED,
                    actor_id=actor_id,
                    obj=obs,
                    summary=f"{row.metric.code} area {row.area_id} {row.period} row {row.row} of {summary.filename}",
                    old=old,
                    new=_figures(obs),
                    metric_code=row.metric.code,
                    return_id=plan.source_return.pk if plan.source_return is not None else None,
                )
            )
        Observation.objects.bulk_update(
            changed,
            [*FIGURE_FIELDS, "source", "source_row", "updated_at"],
            batch_size=1000,
        )
        events.append(
            event(
                AuditAction.IMPORT_ACCEPTED,
                actor_id=actor_id,
                obj=batch,
                summary=f"{summary.filename}: {summary.created} created, {summary.updated} updated, {summary.unchanged} unchanged",
                new={"agency": plan.agency.code, "sha256": plan.sha256, "rows": summary.rows_read},
                return_id=plan.source_return.pk if plan.source_return is not None else None,
            )
        )
        AuditEvent.objects.bulk_create(events, batch_size=2000)
        data_changed()  # approved data changed: every cached page of it is out of date
    summary.written = True
    summary.batch_id = batch.pk
    return summary


def import_file(
    *, content: bytes, filename: str, agency: Agency, actor: Any = None, dry_run: bool = False
) -> ImportSummary:
    """Check a data file and, when it has no errors and this is no dry run, write it."""
    plan = import_plan(content=content, filename=filename, agency=agency, dry_run=dry_run)
    return import_commit(plan=plan, actor=actor)

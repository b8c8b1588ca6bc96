"""Writing checked rows as approved data: what would change (``plan_diff``), then one transaction."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from accounts.audit import AuditAction, event, record
from accounts.bulk import analyze
from accounts.models import Agency, AuditEvent
from accounts.tenancy import current_partnership_id
from accounts.versions import data_changed
from metrics.models import FIGURE_FIELDS, FIGURE_VALUE_FIELDS, ImportBatch, Observation, ObservationStatus
from metrics.shared import is_host

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


def import_plan(
    *, content: bytes, filename: str, agency: Agency, dry_run: bool = False, actor: Any = None
) -> ImportPlan:
    """Read and check a file for the partnership of the work in hand (its metric codes and the shared ones);
    work out what it would create and update. Writes nothing. Figures of a shared official statistic that
    another partnership's framework uses are refused (row errors) unless ``actor`` is the host
    (``metrics.shared``: a command, the system actor, a superuser)."""
    summary = ImportSummary(filename=filename, dry_run=dry_run)
    plan = ImportPlan(summary=summary, agency=agency, sha256=hashlib.sha256(content).hexdigest())
    try:
        positions, raw_rows = parse_file(content=content, filename=filename)
    except FileRejected as exc:
        summary.errors.append(Issue(None, "", "file", str(exc)))
        return plan
    rows = check_rows(
        positions=positions, raw_rows=raw_rows, agency=agency, summary=summary, guard_shared=not is_host(actor)
    )
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
    pid = current_partnership_id()
    with transaction.atomic():
        batch = ImportBatch.objects.create(
            agency=plan.agency,
            # The partnership whose data it loaded. None for the host's loads: their figures of shared
            # statistics are everyone's; a partnership's figures of a shared statistic stay its own until it
            # publishes them (``Observation.objects.in_scope``).
            partnership_id=None if is_host(actor) else pid,
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
                    partnership_id=pid,
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
                partnership_id=pid,
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
    """Check a data file and, when it has no errors and this is no dry run, write it (for the partnership of
    the work in hand: ``import_plan``)."""
    plan = import_plan(content=content, filename=filename, agency=agency, dry_run=dry_run, actor=actor)
    return import_commit(plan=plan, actor=actor)


# --- a return's values into approved data, set-based ----------------------------------------------------
def _sql(vendor: str) -> dict[str, str]:
    """The SQL pieces of ``approve_return_values`` for ``vendor``: the same rules as ``plan_diff`` and
    ``import_commit`` (``same_number``, a revised status read as final, the analyst's comment after the note)."""
    greatest = "GREATEST" if vendor == "postgresql" else "MAX"
    trim = "BTRIM" if vendor == "postgresql" else "TRIM"

    def same(column: str) -> str:
        a, b = f"o.{column}", f"rv.{column}"
        return (
            f"(({a} IS NULL AND {b} IS NULL) OR ({a} IS NOT NULL AND {b} IS NOT NULL AND "
            f"ABS({a} - {b}) <= {greatest}(1e-9 * {greatest}(ABS({a}), ABS({b})), 1e-12)))"
        )

    figures = (
        f"({same('value')} AND {same('numerator')} AND {same('denominator')} "
        "AND o.missing = rv.missing AND o.illustrative = rv.illustrative)"
    )
    note = f"{trim}(rv.note || CASE WHEN rv.comment <> '' THEN ' Comment: ' || rv.comment ELSE '' END, %(ws)s)"
    unchanged = (
        f"({figures} AND (CASE WHEN o.status = 'revised' THEN 'final' ELSE o.status END) = rv.status "
        f"AND o.note = {note})"
    )
    if vendor == "postgresql":
        flag = num = "{}"
        obj = "JSONB_BUILD_OBJECT"
    else:  # SQLite writes a float into JSON to 15 digits: 17 keep every figure exactly, as Python's json does
        flag = "JSON(CASE WHEN {} THEN 'true' ELSE 'false' END)"
        num = "JSON(CASE WHEN {0} IS NULL THEN 'null' ELSE PRINTF('%%!.17g', {0}) END)"
        obj = "JSON_OBJECT"

    def figures_json(t: str, status: str, note: str, source: str, source_row: str) -> str:
        return (
            f"{obj}('value', {num.format(t + '.value')}, 'numerator', {num.format(t + '.numerator')}, "
            f"'denominator', {num.format(t + '.denominator')}, 'missing', {t}.missing, 'status', {status}, "
            f"'note', {note}, 'illustrative', {flag.format(t + '.illustrative')}, 'source', {source}, "
            f"'source_row', {source_row})"
        )

    old = figures_json("o", "o.status", "o.note", "o.source_id", "o.source_row")
    new = figures_json(
        "rv",
        f"CASE WHEN {figures} THEN rv.status ELSE 'revised' END",
        note,
        "%(batch)s",
        "COALESCE(rv.source_row, 0)",
    )
    source = (
        "FROM metrics_returnvalue rv "
        "JOIN metrics_metric m ON m.id = rv.metric_id "
        "JOIN frameworks_area a ON a.id = rv.area_id "
        "LEFT JOIN frameworks_breakdowncategory c ON c.id = rv.category_id "
        "LEFT JOIN metrics_observation o ON o.metric_id = rv.metric_id AND o.area_id = rv.area_id "
        "AND o.period = %(period)s AND (o.category_id = rv.category_id OR (o.category_id IS NULL AND rv.category_id IS NULL)) "
        "WHERE rv.return_obj_id = %(return_id)s"
    )
    order = 'ORDER BY m.code, a.code, c."order"'
    counts = (
        "SELECT COALESCE(SUM(CASE WHEN o.id IS NULL THEN 1 ELSE 0 END), 0), "
        f"COALESCE(SUM(CASE WHEN o.id IS NOT NULL AND NOT {unchanged} THEN 1 ELSE 0 END), 0), "
        f"COALESCE(SUM(CASE WHEN o.id IS NOT NULL AND {unchanged} THEN 1 ELSE 0 END), 0), COUNT(*) {source}"
    )
    events = (
        "INSERT INTO frameworks_auditevent (at, actor_id, actor_username, action, object_type, object_id, summary, "
        "old, new, reason, return_id, metric_code, partnership_id) "
        f"SELECT %(now)s, CAST(%(actor_id)s AS BIGINT), %(username)s, CASE WHEN {figures} THEN %(updated)s ELSE %(revised)s END, "
        "'metrics.observation', CAST(o.id AS TEXT), SUBSTR(m.code || ' area ' || CAST(rv.area_id AS TEXT) || ' ' || "
        "%(period_text)s || ' row ' || CAST(COALESCE(rv.source_row, 0) AS TEXT) || ' of ' || %(filename)s, 1, 500), "
        f"{old}, {new}, '', %(return_id)s, m.code, CAST(%(partnership)s AS BIGINT) "
        f"{source} AND o.id IS NOT NULL AND NOT {unchanged} {order}"
    )
    columns = (
        "unit, value, numerator, denominator, missing, status, note, illustrative, metric_id, area_id, period, "
        "category_id, source_id, source_row, updated_at"
    )
    updates = ", ".join(
        f"{c} = excluded.{c}"
        for c in (
            "unit",
            "value",
            "numerator",
            "denominator",
            "missing",
            "status",
            "note",
            "illustrative",
            "source_id",
            "source_row",
            "updated_at",
        )
    )
    select = (
        f"SELECT m.unit, rv.value, rv.numerator, rv.denominator, rv.missing, "
        f"CASE WHEN o.id IS NULL OR {figures} THEN rv.status ELSE 'revised' END, {note}, rv.illustrative, "
        "rv.metric_id, rv.area_id, %(period)s, rv.category_id, %(batch)s, COALESCE(rv.source_row, 0), %(now)s "
        f"{source} AND (o.id IS NULL OR NOT {unchanged})"
    )
    upsert_total = (
        f"INSERT INTO metrics_observation ({columns}) {select} AND rv.category_id IS NULL {order} "
        f"ON CONFLICT (metric_id, area_id, period) WHERE category_id IS NULL DO UPDATE SET {updates}"
    )
    upsert_category = (
        f"INSERT INTO metrics_observation ({columns}) {select} AND rv.category_id IS NOT NULL {order} "
        f"ON CONFLICT (metric_id, area_id, period, category_id) WHERE category_id IS NOT NULL DO UPDATE SET {updates}"
    )
    return {"counts": counts, "events": events, "upsert_total": upsert_total, "upsert_category": upsert_category}


# Python's str.strip() whitespace that a note can hold (the approval's note is the value's note and comment, stripped).
_WHITESPACE = " \t\n\r\x0b\x0c"


def approve_return_values(*, return_obj: Any, actor: Any, filename: str) -> ImportSummary:
    """Write an approved return's values into approved data in a fixed number of statements, whatever its
    size: the same outcome as ``plan_diff`` + ``import_commit`` over its values (new observations, changes,
    a changed figure a revision with its old figures in the audit trail, one import batch), by one
    ``INSERT … SELECT … ON CONFLICT DO UPDATE`` per unique key (totals, categories) and one ``INSERT … SELECT``
    of the audit events. Call inside the approval's transaction."""
    summary = ImportSummary(filename=filename)
    sql = _sql(connection.vendor)
    acting = actor if getattr(actor, "pk", None) else None
    period = return_obj.round.period
    params: dict[str, Any] = {
        "ws": _WHITESPACE,
        "period": connection.ops.adapt_datefield_value(period),
        "period_text": period.isoformat(),
        "return_id": return_obj.pk,
        "filename": filename,
        "now": connection.ops.adapt_datetimefield_value(timezone.now()),
        "actor_id": acting.pk if acting is not None else None,
        "username": acting.username if acting is not None else "",
        "updated": AuditAction.OBSERVATION_UPDATED.value,
        "revised": AuditAction.OBSERVATION_REVISED.value,
        "partnership": return_obj.round.partnership_id,  # the return's partnership: its events' and batch's
    }
    with connection.cursor() as cursor:
        cursor.execute(sql["counts"], params)
        created, updated, unchanged, _ = cursor.fetchone()
    # As the model path did: an approval's batch counts what it created, updated and left unchanged; no file
    # rows were read (rows_read stays 0).
    summary.created, summary.updated, summary.unchanged = created, updated, unchanged
    rows = summary.rows_read
    if not created and not updated:
        return summary
    with transaction.atomic():
        batch = ImportBatch.objects.create(
            agency=return_obj.agency,
            partnership_id=params["partnership"],
            source_return=return_obj,
            filename=filename[:300],
            sha256="",
            uploaded_by=acting,
            rows_read=rows,
            created=created,
            updated=updated,
            unchanged=unchanged,
        )
        params["batch"] = batch.pk
        with connection.cursor() as cursor:
            if updated:
                cursor.execute(sql["events"], params)
            cursor.execute(sql["upsert_total"], params)
            cursor.execute(sql["upsert_category"], params)
        record(
            AuditAction.IMPORT_ACCEPTED,
            actor=acting,
            obj=batch,
            summary=f"{filename}: {created} created, {updated} updated, {unchanged} unchanged",
            new={"agency": return_obj.agency.code, "sha256": "", "rows": rows},
            return_id=return_obj.pk,
        )
    analyze(Observation, AuditEvent, rows=created + updated)
    summary.written = True
    summary.batch_id = batch.pk
    return summary

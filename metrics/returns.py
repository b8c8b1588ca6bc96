"""Agency data returns: collection rounds, entering and uploading values, validation, approval.

Every state change has one shape: check permission → one transaction (lock the return) → check the
transition is legal (``RETURN_TRANSITIONS``) → save → audit event → side effects (e-mail) after commit.
Values reach approved data (``Observation``) only when a performance manager approves, through the same
write as the import core: a changed value is a revision with the old value kept in the audit trail.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import zipfile
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Prefetch
from django.utils import timezone

from frameworks.access import Perm, require
from frameworks.models import Agency, Area, AuditEvent, BreakdownCategory, Framework, FrameworkMetric, audit

from . import notifications
from .imports import (
    COLUMNS,
    FileRejected,
    ImportPlan,
    ImportSummary,
    Issue,
    Row,
    check_rows,
    import_commit,
    parse_file,
    plan_diff,
    same_number,
)
from .models import (
    RETURN_TRANSITIONS,
    CollectionRound,
    Metric,
    Observation,
    Return,
    ReturnState,
    ReturnUpload,
    ReturnValue,
    UploadState,
)
from .quarters import Quarter, period_label
from .validation import Finding, Key, as_dicts, blocking, evaluate, needing_comment


class ReturnError(Exception):
    """An action that cannot be done now, with a message for the person who tried."""


class Conflict(ReturnError):
    """Someone else changed the return since the page was opened."""


# --- what is owed -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class OwedLine:
    metric: Metric
    area: Area
    category: BreakdownCategory | None

    @property
    def key(self) -> Key:
        return (self.metric.pk, self.area.pk, self.category.pk if self.category else None)


def owed_lines(*, framework: Framework, agency: Agency | None = None) -> list[OwedLine]:
    """Each (metric, area, category) the agency owes every quarter: its metrics in the framework × the
    metric's areas (the home area when none are named) × the total and each breakdown category."""
    placements = (
        FrameworkMetric.objects.filter(framework=framework)
        .select_related("metric__agency")
        .prefetch_related("metric__areas", Prefetch("metric__breakdowns__categories"))
        .order_by("priority__order", "order")
    )
    if agency is not None:
        placements = placements.filter(metric__agency=agency)
    home = framework.home_area
    lines: list[OwedLine] = []
    for place in placements:
        metric = place.metric
        areas = sorted(metric.areas.all(), key=lambda a: a.name) or [home]
        for area in areas:
            lines.append(OwedLine(metric, area, None))
            for breakdown in metric.breakdowns.all():
                lines.extend(OwedLine(metric, area, category) for category in breakdown.categories.all())
    return lines


def owing_agencies(*, framework: Framework) -> list[Agency]:
    ids = FrameworkMetric.objects.filter(framework=framework).values_list("metric__agency_id", flat=True)
    return list(Agency.objects.filter(pk__in=set(ids)).order_by("name"))


# --- rounds -------------------------------------------------------------------------------------------
def round_open(*, actor: Any, framework: Framework, period: dt.date, due_date: dt.date) -> CollectionRound:
    """Open the collection round for a quarter: a draft return for each agency that owes data."""
    require(actor, Perm.MANAGE_ROUNDS)
    quarter = Quarter.from_end_date(period)
    if due_date <= quarter.end_date:
        raise ReturnError("The due date must be after the quarter ends.")
    with transaction.atomic():
        if CollectionRound.objects.select_for_update().filter(period=quarter.end_date).exists():
            raise ReturnError(f"The round for {quarter.label} is already open.")
        round_ = CollectionRound.objects.create(period=quarter.end_date, due_date=due_date, opened_by=actor)
        returns = [Return(round=round_, agency=agency) for agency in owing_agencies(framework=framework)]
        Return.objects.bulk_create(returns)
        audit(
            actor=actor,
            action="round.opened",
            obj=round_,
            summary=f"{quarter.label}, due {due_date:%d %B %Y}",
            new={"due_date": due_date.isoformat()},
        )
        transaction.on_commit(lambda: notifications.round_opened(round_id=round_.pk))
    return round_


# --- return status for the tracker ---------------------------------------------------------------------
@dataclass
class ReturnStatus:
    return_obj: Return
    owed: int
    supplied: int
    today: dt.date

    @property
    def state(self) -> str:
        r = self.return_obj
        if r.state == ReturnState.DRAFT and self.supplied == 0 and r.first_submitted_at is None:
            return "not_started"
        return str(r.state)

    @property
    def state_label(self) -> str:
        labels = {"not_started": "Not started", **dict(ReturnState.choices)}
        text = labels[self.state]
        return f"{text} (late)" if self.late else text

    @property
    def late(self) -> bool:
        r = self.return_obj
        due = r.round.due_date
        if r.state in (ReturnState.SUBMITTED, ReturnState.APPROVED):
            return r.first_submitted_at is not None and r.first_submitted_at.date() > due
        return self.today > due

    @property
    def on_time(self) -> bool | None:
        r = self.return_obj
        if r.first_submitted_at is None:
            return None
        return r.first_submitted_at.date() <= r.round.due_date

    @property
    def completeness(self) -> float:
        return self.supplied / self.owed * 100 if self.owed else 100.0


def tracker(*, framework: Framework, agency: Agency | None = None, today: dt.date | None = None) -> list[ReturnStatus]:
    """Every return (of ``agency``, or all) with its state, completeness and timeliness. Fixed queries."""
    today = today or timezone.localdate()
    lines = owed_lines(framework=framework)
    owed_by_agency: dict[int, set[Key]] = defaultdict(set)
    for line in lines:
        owed_by_agency[line.metric.agency_id].add(line.key)
    returns = Return.objects.select_related("round", "agency").order_by("-round__period", "agency__name")
    if agency is not None:
        returns = returns.filter(agency=agency)
    returns_list = list(returns)
    supplied: dict[int, set[Key]] = defaultdict(set)
    for return_id, metric_id, area_id, category_id in ReturnValue.objects.filter(
        return_obj__in=returns_list
    ).values_list("return_obj_id", "metric_id", "area_id", "category_id"):
        supplied[return_id].add((metric_id, area_id, category_id))
    out = []
    for r in returns_list:
        owed = owed_by_agency.get(r.agency_id, set())
        out.append(ReturnStatus(r, len(owed), len(owed & supplied[r.pk]), today))
    return out


# --- values ---------------------------------------------------------------------------------------------
def _check_editable(return_obj: Return) -> None:
    if not return_obj.is_editable:
        raise ReturnError(f"This return is {return_obj.get_state_display().lower()}; it cannot be changed now.")


def _lock(return_obj: Return, version: int | None) -> Return:
    locked = Return.objects.select_for_update().select_related("round", "agency").get(pk=return_obj.pk)
    if version is not None and locked.version != version:
        raise Conflict(
            "Someone else saved this return while you were editing it. Your entries are kept below: "
            "check them against the latest figures and save again."
        )
    return locked


def _period_issues(rows: list[Row], period: dt.date, summary: ImportSummary) -> list[Row]:
    kept = []
    for row in rows:
        if row.period != period:
            summary.errors.append(
                Issue(
                    row.row,
                    "period",
                    "bad_period",
                    f"{period_label(row.period)} is not this return's quarter ({period_label(period)})",
                )
            )
        else:
            kept.append(row)
    return kept


@dataclass
class ValuesCheck:
    summary: ImportSummary
    rows: list[Row] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    created: list[Row] = field(default_factory=list)
    updated: list[tuple[Row, ReturnValue]] = field(default_factory=list)


def check_return_rows(
    *,
    return_obj: Return,
    positions: dict[str, int],
    raw_rows: list[tuple[int, list[Any]]],
    filename: str,
    progress: Any = None,
    findings: bool = True,
) -> ValuesCheck:
    """The import core's checks plus this return's own (its quarter), and what would change; with
    ``findings``, also the rules and unusual-figure checks on the return as it would be."""
    summary = ImportSummary(filename=filename)
    rows = check_rows(
        positions=positions, raw_rows=raw_rows, agency=return_obj.agency, summary=summary, progress=progress
    )
    rows = _period_issues(rows, return_obj.round.period, summary)
    check = ValuesCheck(summary=summary, rows=rows)
    if summary.errors:
        return check
    existing = {v.key: v for v in return_obj.values.all()}
    for row in rows:
        current = existing.get((row.metric.pk, row.area_id, row.category_id))
        if current is None:
            check.created.append(row)
        elif _same_value(current, row):
            summary.unchanged += 1
        else:
            check.updated.append((row, current))
    summary.created, summary.updated = len(check.created), len(check.updated)
    if not findings:
        return check
    merged: dict[Key, Any] = dict(existing)
    for row in rows:
        merged[(row.metric.pk, row.area_id, row.category_id)] = row
    framework = _framework()
    check.findings = evaluate(
        values=list(merged.values()),
        framework=framework,
        period=return_obj.round.period,
        rows={(r.metric.pk, r.area_id, r.category_id): r.row for r in rows},
    )
    return check


def _same_value(current: ReturnValue, row: Row) -> bool:
    return (
        same_number(current.value, row.value)
        and same_number(current.numerator, row.numerator)
        and same_number(current.denominator, row.denominator)
        and current.missing == row.missing
        and current.status == row.status
        and current.note == row.note
    )


def _framework() -> Framework | None:
    return Framework.objects.select_related("home_area").filter(is_current=True).order_by("-updated_at", "code").first()


def _write_values(return_obj: Return, check: ValuesCheck, actor: Any, source: str) -> None:
    now = timezone.now()
    actor_id = actor.pk if getattr(actor, "pk", None) else None
    ReturnValue.objects.bulk_create(
        [
            ReturnValue(
                return_obj=return_obj,
                **row.figures(),
                source=source[:300],
                source_row=row.row if source != "web form" else None,
                updated_by_id=actor_id,
            )
            for row in check.created
        ],
        batch_size=2000,
    )
    changed = []
    events = []
    for row, current in check.updated:
        old = {
            "value": current.value,
            "numerator": current.numerator,
            "denominator": current.denominator,
            "missing": current.missing,
        }
        current.value, current.numerator, current.denominator = row.value, row.numerator, row.denominator
        current.missing, current.status, current.note = row.missing, row.status, row.note
        current.source, current.source_row = source[:300], row.row if source != "web form" else None
        current.updated_at, current.updated_by_id = now, actor_id
        changed.append(current)
        events.append(
            AuditEvent(
                actor_id=actor_id,
                action="return_value.changed",
                object_type="metrics.returnvalue",
                object_id=str(current.pk),
                summary=f"{row.metric.code} area {row.area_id} category {row.category_id}"[:500],
                old=old,
                new={
                    "value": row.value,
                    "numerator": row.numerator,
                    "denominator": row.denominator,
                    "missing": row.missing,
                },
                return_id=return_obj.pk,
                metric_code=row.metric.code,
            )
        )
    ReturnValue.objects.bulk_update(
        changed,
        [
            "value",
            "numerator",
            "denominator",
            "missing",
            "status",
            "note",
            "source",
            "source_row",
            "updated_at",
            "updated_by",
        ],
        batch_size=1000,
    )
    AuditEvent.objects.bulk_create(events, batch_size=2000)
    if return_obj.state == ReturnState.RETURNED:
        return_obj.state = ReturnState.DRAFT
    return_obj.version += 1
    return_obj.save(update_fields=["state", "version", "updated_at"])
    audit(
        actor=actor,
        action="return.values_saved",
        obj=return_obj,
        summary=f"{source}: {len(check.created)} added, {len(check.updated)} changed",
        return_id=return_obj.pk,
    )


GRID_COLUMNS = COLUMNS


def return_save_grid(*, actor: Any, return_obj: Return, version: int, entries: list[dict[str, Any]]) -> ValuesCheck:
    """Save the web form grid as a draft. ``entries``: one dict per line with GRID_COLUMNS keys; a line with
    no value, numerator or denominator is left out (or, if saved before, removed)."""
    require(actor, Perm.SUBMIT_RETURN, agency=return_obj.agency_id)
    positions = {name: i for i, name in enumerate(GRID_COLUMNS)}
    filled = [e for e in entries if any(str(e.get(k) or "").strip() for k in ("value", "numerator", "denominator"))]
    cleared = [e for e in entries if e not in filled]
    raw_rows = [(index + 1, [e.get(name) for name in GRID_COLUMNS]) for index, e in enumerate(filled)]
    with transaction.atomic():
        locked = _lock(return_obj, version)
        _check_editable(locked)
        check = check_return_rows(return_obj=locked, positions=positions, raw_rows=raw_rows, filename="web form")
        if check.summary.errors:
            transaction.set_rollback(True)
            return check
        _write_values(locked, check, actor, "web form")
        removed = _remove_cleared(locked, cleared, actor)
        if removed and not (check.created or check.updated):
            locked.version += 1
            locked.save(update_fields=["version", "updated_at"])
    return check


def _remove_cleared(return_obj: Return, cleared: list[dict[str, Any]], actor: Any) -> int:
    if not cleared:
        return 0
    metrics = {m.code: m.pk for m in Metric.objects.filter(code__in={e["metric"] for e in cleared})}
    areas = dict(Area.objects.filter(code__in={e["area"] for e in cleared}).values_list("code", "id"))
    categories = {f"{b}/{c}": pk for b, c, pk in BreakdownCategory.objects.values_list("breakdown__code", "code", "id")}
    existing = {v.key: v for v in return_obj.values.all()}
    removed = 0
    for entry in cleared:
        key = (
            metrics.get(entry["metric"]),
            areas.get(entry["area"]),
            categories.get(f"{entry.get('breakdown')}/{entry.get('category')}") if entry.get("category") else None,
        )
        value = existing.get(key)  # type: ignore[arg-type]
        if value is not None:
            audit(
                actor=actor,
                action="return_value.removed",
                obj=value,
                old={"value": value.value, "missing": value.missing},
                return_id=return_obj.pk,
                metric_code=entry["metric"],
            )
            value.delete()
            removed += 1
    return removed


def return_save_comments(*, actor: Any, return_obj: Return, version: int, comments: dict[int, str]) -> None:
    """Keep the analyst's explanations of warnings with the values (``comments``: value id -> text)."""
    require(actor, Perm.SUBMIT_RETURN, agency=return_obj.agency_id)
    with transaction.atomic():
        locked = _lock(return_obj, version)
        _check_editable(locked)
        values = {v.pk: v for v in locked.values.filter(pk__in=list(comments))}
        changed = []
        for pk, text in comments.items():
            value = values.get(pk)
            if value is None or value.comment == text.strip():
                continue
            audit(
                actor=actor,
                action="return_value.commented",
                obj=value,
                old={"comment": value.comment},
                new={"comment": text.strip()},
                return_id=locked.pk,
                metric_code=value.metric.code,
            )
            value.comment = text.strip()
            changed.append(value)
        ReturnValue.objects.bulk_update(changed, ["comment"])
        if changed:
            locked.version += 1
            locked.save(update_fields=["version", "updated_at"])


# --- uploads --------------------------------------------------------------------------------------------
MACRO_MARKERS = (b"xl/vbaProject.bin", b"macroEnabled")


def sniff_upload(*, content: bytes, filename: str) -> str:
    """'csv' or 'xlsx' by what the file is, not what it is called. Raises ``FileRejected``."""
    limit = settings.PCC_PERF_MAX_UPLOAD_MB
    if len(content) > limit * 1024 * 1024:
        raise FileRejected(f"the file is {len(content) / 1024 / 1024:.1f} MB; the limit is {limit:g} MB")
    if not content.strip():
        raise FileRejected("the file is empty")
    if content[:4] == b"PK\x03\x04":
        try:
            with zipfile.ZipFile(io.BytesIO(content)) as archive:
                names = archive.namelist()
                types = archive.read("[Content_Types].xml") if "[Content_Types].xml" in names else b""
        except zipfile.BadZipFile:
            raise FileRejected("the file looks like a spreadsheet but is damaged") from None
        if "xl/vbaProject.bin" in names or any(marker in types for marker in MACRO_MARKERS):
            raise FileRejected("macro-enabled workbooks are refused; save it as a plain .xlsx or as CSV")
        if "xl/workbook.xml" not in names:
            raise FileRejected("the file is a ZIP archive, not an XLSX workbook")
        return "xlsx"
    if content[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise FileRejected("old .xls workbooks are not read; save it as .xlsx or CSV")
    head = content[:65536]
    if b"\x00" in head:
        raise FileRejected("the file is not text: upload a CSV (UTF-8) or an XLSX workbook")
    try:
        head.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        cut_at_the_end = len(content) > len(head) and exc.start >= len(head) - 4  # a character cut by the sample
        if not cut_at_the_end:
            raise FileRejected("the file is not UTF-8 text; save it as CSV UTF-8") from None
    return "csv"


class UploadRejected(ReturnError):
    """A file with errors: nothing was written. ``summary`` lists every problem."""

    def __init__(self, summary: dict[str, Any]):
        super().__init__(f"{len(summary.get('errors', []))} error(s); nothing was written")
        self.summary = summary


def upload_create(*, actor: Any, return_obj: Return, filename: str, content: bytes) -> ReturnUpload:
    """Check an uploaded file against the return and keep it for confirmation.

    A small file is checked at once: with errors it raises ``UploadRejected`` and nothing at all is
    written. A large one is kept and checked by a background task, with progress on its page.
    """
    require(actor, Perm.SUBMIT_RETURN, agency=return_obj.agency_id)
    _check_editable(return_obj)
    kind = sniff_upload(content=content, filename=filename)
    stored_name = filename if filename.lower().endswith(f".{kind}") else f"{filename}.{kind}"
    lines = content.count(b"\n") if kind == "csv" else 0
    large = lines > settings.PCC_PERF_BACKGROUND_ROWS or (kind == "xlsx" and len(content) > 512 * 1024)
    upload = ReturnUpload(
        return_obj=return_obj,
        filename=stored_name[:300],
        content=content,
        sha256=hashlib.sha256(content).hexdigest(),
        return_version=return_obj.version,
        created_by=actor if getattr(actor, "pk", None) else None,
        rows_total=lines,
    )
    if not large:
        _check_into(upload)
        if upload.state == UploadState.REJECTED:
            raise UploadRejected(upload.summary)
    with transaction.atomic():
        upload.save()
        audit(actor=actor, action="upload.received", obj=upload, summary=stored_name, return_id=return_obj.pk)
        if large:
            from .tasks import check_upload_task

            transaction.on_commit(lambda: check_upload_task.enqueue(upload.pk))
    return upload


def upload_check(*, upload: ReturnUpload) -> ReturnUpload:
    """Check a stored upload (the background task) and save its preview."""
    _check_into(upload, save_progress=True)
    upload.save(update_fields=["summary", "state", "rows_total", "rows_done"])
    return upload


def _check_into(upload: ReturnUpload, *, save_progress: bool = False) -> None:
    """Check ``upload`` against its return and put the preview on it. Writes nothing but progress."""
    return_obj = Return.objects.select_related("round", "agency").get(pk=upload.return_obj_id)
    content = bytes(upload.content)
    try:
        positions, raw_rows = parse_file(content=content, filename=upload.filename)
    except FileRejected as exc:
        upload.summary = {"errors": [{"row": None, "column": "", "kind": "file", "message": str(exc)}], "warnings": []}
        upload.state = UploadState.REJECTED
        return
    progress = None
    if save_progress and upload.pk:
        ReturnUpload.objects.filter(pk=upload.pk).update(rows_total=len(raw_rows), rows_done=0)

        def progress(done: int) -> None:
            ReturnUpload.objects.filter(pk=upload.pk).update(rows_done=done)

    check = check_return_rows(
        return_obj=return_obj, positions=positions, raw_rows=raw_rows, filename=upload.filename, progress=progress
    )
    s = check.summary
    upload.rows_total = upload.rows_done = s.rows_read
    upload.summary = {
        "rows_read": s.rows_read,
        "created": s.created,
        "updated": s.updated,
        "unchanged": s.unchanged,
        "errors": [{"row": i.row, "column": i.column, "kind": i.kind, "message": i.message} for i in s.errors],
        "warnings": [{"row": i.row, "column": i.column, "kind": i.kind, "message": i.message} for i in s.warnings]
        + [
            {"row": f.row, "column": "value", "kind": f.kind, "message": f.message, "importance": f.importance}
            for f in check.findings
        ],
    }
    upload.state = UploadState.REJECTED if s.errors else UploadState.READY


def upload_confirm(*, actor: Any, upload: ReturnUpload) -> ReturnUpload:
    """Write a checked upload into its return, in one transaction (in the background for a large file)."""
    return_obj = upload.return_obj
    require(actor, Perm.SUBMIT_RETURN, agency=return_obj.agency_id)
    if upload.state != UploadState.READY:
        raise ReturnError("Only a checked file without errors can be confirmed.")
    if upload.rows_total > settings.PCC_PERF_BACKGROUND_ROWS:
        ReturnUpload.objects.filter(pk=upload.pk, state=UploadState.READY).update(
            state=UploadState.WRITING, rows_done=0
        )
        from .tasks import commit_upload_task

        actor_id = actor.pk
        transaction.on_commit(lambda: commit_upload_task.enqueue(upload.pk, actor_id))
        upload.state = UploadState.WRITING
        return upload
    return upload_write(actor=actor, upload=upload)


def upload_write(*, actor: Any, upload: ReturnUpload) -> ReturnUpload:
    with transaction.atomic():
        locked = _lock(upload.return_obj, upload.return_version)
        _check_editable(locked)
        positions, raw_rows = parse_file(content=bytes(upload.content), filename=upload.filename)
        check = check_return_rows(
            return_obj=locked, positions=positions, raw_rows=raw_rows, filename=upload.filename, findings=False
        )
        if check.summary.errors:
            raise ReturnError("The file no longer passes its checks; upload it again.")
        _write_values(locked, check, actor, upload.filename)
        upload.state = UploadState.COMMITTED
        upload.rows_done = upload.rows_total
        upload.save(update_fields=["state", "rows_done"])
        locked.uploads.filter(state=UploadState.READY).exclude(pk=upload.pk).update(state=UploadState.SUPERSEDED)
    return upload


# --- findings on a saved return ----------------------------------------------------------------------------
def return_findings(*, return_obj: Return, values: list[ReturnValue] | None = None) -> list[Finding]:
    if values is None:
        values = list(return_obj.values.select_related("metric"))
    return evaluate(values=values, framework=_framework(), period=return_obj.round.period)


# --- transitions --------------------------------------------------------------------------------------------
def _transition(return_obj: Return, to: str) -> None:
    if (return_obj.state, to) not in RETURN_TRANSITIONS:
        raise ReturnError(
            f"A {return_obj.get_state_display().lower()} return cannot become {ReturnState(to).label.lower()}."
        )


def return_submit(*, actor: Any, return_obj: Return, version: int | None = None) -> Return:
    """Send the return to the commissioner's office. Every owed value must be accounted for (a number,
    [x] or [z]), no rule error may stand, and every warning needs a comment."""
    require(actor, Perm.SUBMIT_RETURN, agency=return_obj.agency_id)
    with transaction.atomic():
        locked = _lock(return_obj, version)
        _transition(locked, ReturnState.SUBMITTED)
        framework = _framework()
        values = list(locked.values.select_related("metric"))
        have = {v.key for v in values}
        if framework is not None:
            missing = [line for line in owed_lines(framework=framework, agency=locked.agency) if line.key not in have]
            if missing:
                names = ", ".join(
                    f"{line.metric.code} {line.area.name}{' ' + line.category.name if line.category else ''}"
                    for line in missing[:5]
                )
                more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
                raise ReturnError(
                    f"{len(missing)} owed value(s) are missing: {names}{more}. Give a number, [x] or [z]."
                )
        findings = evaluate(values=values, framework=framework, period=locked.round.period)
        errors = blocking(findings)
        if errors:
            raise ReturnError("Fix these before submitting: " + " ".join(f.message for f in errors))
        comments = {v.key: v.comment for v in values}
        uncommented = needing_comment(findings, comments)
        if uncommented:
            raise ReturnError(f"{len(uncommented)} warning(s) need your comment before you submit.")
        now = timezone.now()
        locked.state = ReturnState.SUBMITTED
        locked.submitted_at, locked.submitted_by = now, actor
        locked.first_submitted_at = locked.first_submitted_at or now
        locked.version += 1
        locked.save()
        audit(
            actor=actor,
            action="return.submitted",
            obj=locked,
            summary=str(locked),
            new={"state": "submitted"},
            return_id=locked.pk,
            old={"state": return_obj.state},
        )
    return locked


def _move(locked: Return, to: str, *, actor: Any, action: str, summary: str = "", reason: str | None = None) -> None:
    """Save a legal state change of a locked return and audit it with its old and new state."""
    old = locked.state
    locked.state = to
    if reason is not None:
        locked.reason = reason
    locked.version += 1
    locked.save()
    audit(
        actor=actor,
        action=action,
        obj=locked,
        summary=summary or str(locked),
        old={"state": str(old)},
        new={"state": str(to)},
        reason=reason or "",
        return_id=locked.pk,
    )


def return_send_back(*, actor: Any, return_obj: Return, reason: str) -> Return:
    """Return a submitted return to its agency for correction, with the reason."""
    require(actor, Perm.APPROVE_RETURN)
    if not reason.strip():
        raise ReturnError("Say what needs correcting.")
    with transaction.atomic():
        locked = _lock(return_obj, None)
        _transition(locked, ReturnState.RETURNED)
        locked.decided_at, locked.decided_by = timezone.now(), actor
        _move(locked, ReturnState.RETURNED, actor=actor, action="return.returned", reason=reason.strip())
        transaction.on_commit(lambda: notifications.return_decided(return_id=locked.pk, kind="returned"))
    return locked


def return_approve(*, actor: Any, return_obj: Return) -> Return:
    """Approve a submitted return: it is locked and its values become approved data. A value that differs
    from approved data is a revision; the old value is kept in the audit trail."""
    require(actor, Perm.APPROVE_RETURN)
    with transaction.atomic():
        locked = _lock(return_obj, None)
        _transition(locked, ReturnState.APPROVED)
        values = list(locked.values.select_related("metric"))
        summary = ImportSummary(filename=f"return {locked.agency.code} {locked.round.label}")
        plan = ImportPlan(summary=summary, agency=locked.agency, sha256="", source_return=locked)
        rows = [
            Row(
                row=v.source_row or 0,
                metric=v.metric,
                area_id=v.area_id,
                period=locked.round.period,
                category_id=v.category_id,
                value=v.value,
                numerator=v.numerator,
                denominator=v.denominator,
                missing=v.missing,
                status=v.status,
                note=(v.note + (f" Comment: {v.comment}" if v.comment else "")).strip(),
            )
            for v in values
        ]
        plan_diff(plan, rows)
        import_commit(plan=plan, actor=actor)
        locked.decided_at, locked.decided_by = timezone.now(), actor
        locked.reason = ""
        _move(
            locked,
            ReturnState.APPROVED,
            actor=actor,
            action="return.approved",
            summary=f"{locked}: {summary.created} new, {summary.updated} revised, {summary.unchanged} unchanged",
        )
        transaction.on_commit(lambda: notifications.return_decided(return_id=locked.pk, kind="approved"))
    return locked


def return_reopen(*, actor: Any, return_obj: Return, reason: str) -> Return:
    """Reopen an approved return for changes (a performance manager, with a reason). Approved data stays
    as it is until the return is approved again."""
    require(actor, Perm.APPROVE_RETURN)
    if not reason.strip():
        raise ReturnError("Give the reason for reopening an approved return.")
    with transaction.atomic():
        locked = _lock(return_obj, None)
        _transition(locked, ReturnState.DRAFT)
        _move(locked, ReturnState.DRAFT, actor=actor, action="return.reopened", reason=reason.strip())
    return locked


def can_act(user: Any, return_obj: Return, perm: Perm) -> bool:
    from frameworks.access import has_perm

    return has_perm(user, perm, agency=return_obj.agency_id)


def require_return_access(user: Any, return_obj: Return) -> None:
    from frameworks.access import has_perm

    if not has_perm(user, Perm.VIEW_AGENCY_RETURNS, agency=return_obj.agency_id):
        raise PermissionDenied("This return belongs to another agency.")


def findings_json(findings: list[Finding]) -> list[dict[str, Any]]:
    return as_dicts(findings)


def history_for(*, lines: list[OwedLine], period: dt.date, quarters: int = 4) -> dict[Key, list[Observation | None]]:
    """The approved values of the ``quarters`` before ``period`` for each line (None where missing)."""
    quarter = Quarter.from_end_date(period)
    periods = [quarter.shift(-k).end_date for k in range(quarters, 0, -1)]
    found: dict[tuple[Key, dt.date], Observation] = {}
    if lines:
        query = Observation.objects.filter(
            metric_id__in={line.metric.pk for line in lines},
            area_id__in={line.area.pk for line in lines},
            period__in=periods,
        )
        for obs in query:
            found[((obs.metric_id, obs.area_id, obs.category_id), obs.period)] = obs
    return {line.key: [found.get((line.key, p)) for p in periods] for line in lines}


def return_import_draft(*, return_obj: Return, content: bytes, filename: str) -> ValuesCheck:
    """``import_return --draft``: an administrator's command puts a file into an agency's return as
    draft values, through the same checks as a web upload; with any error nothing is written."""
    summary = ImportSummary(filename=filename)
    try:
        positions, raw_rows = parse_file(content=content, filename=filename)
    except FileRejected as exc:
        summary.errors.append(Issue(None, "", "file", str(exc)))
        return ValuesCheck(summary=summary)
    with transaction.atomic():
        locked = _lock(return_obj, None)
        _check_editable(locked)
        check = check_return_rows(return_obj=locked, positions=positions, raw_rows=raw_rows, filename=filename)
        if check.summary.errors:
            return check
        _write_values(locked, check, None, filename)
        check.summary.written = True
    return check


def draft_return_for(*, agency: Agency, content: bytes, filename: str) -> Return:
    """The open return a file belongs to: the agency's return for the one quarter the file covers."""
    positions, raw_rows = parse_file(content=content, filename=filename)
    index = positions["period"]
    quarters = set()
    for _, cells in raw_rows:
        value = cells[index] if index < len(cells) else None
        if value is None or str(value).strip() == "":
            continue
        try:
            if isinstance(value, dt.datetime):
                value = value.date()
            quarters.add(Quarter.from_end_date(value) if isinstance(value, dt.date) else Quarter.parse(str(value)))
        except ValueError:
            continue  # the row checks report it
    if len(quarters) != 1:
        raise ReturnError(f"a draft return covers one quarter; the file has {len(quarters)}")
    (quarter,) = quarters
    found = (
        Return.objects.select_related("round", "agency").filter(agency=agency, round__period=quarter.end_date).first()
    )
    if found is None:
        raise ReturnError(f"no collection round is open for {quarter.label}")
    return found

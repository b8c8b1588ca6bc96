"""Uploaded files: check and keep for a preview, then write into the return on confirmation."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import zlib
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from accounts.access import Perm, require, system_actor
from accounts.audit import AuditAction, record
from accounts.background import stale_before, stopped_message, task_abandoned
from accounts.models import Agency, Partnership
from accounts.tenancy import partnership_scope
from accounts.workflow import change_state, locked
from metrics.imports.checks import Row
from metrics.imports.parse import FileRejected, parse_file, sniff_upload, xlsx_sheet_bytes
from metrics.imports.summary import ImportSummary, Issue, capped
from metrics.models import UPLOAD_TRANSITIONS, Metric, Return, ReturnUpload, UploadState
from metrics.quarters import Quarter

from .services import STALE, Conflict, ReturnError, check_editable, lock_return
from .values import ValuesCheck, check_return_rows, checked_return_rows, write_values

# A worksheet row of four cells takes at least this many bytes of XML: a workbook whose worksheets inflate to
# less than PCC_PERF_BACKGROUND_ROWS times it cannot hold more rows than are checked inside the request.
XLSX_INLINE_BYTES_PER_ROW = 40


class UploadSuperseded(Exception):
    """The upload is no longer this worker's: it was failed as stopped (and maybe checked again)."""


# The states in which a worker works on an upload.
WORKING = (UploadState.CHECKING, UploadState.WRITING)


class UploadRejected(ReturnError):
    """A file with errors: nothing was written. ``summary`` lists every problem."""

    def __init__(self, summary: dict[str, Any]):
        total = len(summary.get("errors", [])) + sum(summary.get("errors_omitted", {}).values())
        super().__init__(f"{total} error(s); nothing was written")
        self.summary = summary


def upload_create(*, actor: Any, return_obj: Return, filename: str, content: bytes) -> ReturnUpload:
    """Check an uploaded file against the return and keep it for confirmation.

    A small file is checked at once: with errors it raises ``UploadRejected`` and nothing at all is
    written. A large one is kept and checked by a background task, with progress on its page.
    """
    require(actor, Perm.SUBMIT_RETURN, agency=return_obj.agency_id)
    check_editable(return_obj)
    kind = sniff_upload(content=content, filename=filename)
    stored_name = filename if filename.lower().endswith(f".{kind}") else f"{filename}.{kind}"
    lines = content.count(b"\n") if kind == "csv" else 0
    large = _large(content)
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
        upload.state = _check_into(upload)
        if upload.state == UploadState.REJECTED:
            raise UploadRejected(upload.summary)
    with transaction.atomic():
        upload.save()
        record(AuditAction.UPLOAD_RECEIVED, actor=actor, obj=upload, summary=stored_name, return_id=return_obj.pk)
        if large:
            from .tasks import check_upload_task

            transaction.on_commit(lambda: check_upload_task.enqueue(upload.pk))
    return upload


def _large(content: bytes) -> bool:
    """Whether a (sniffed) file is read by the worker. Nothing that may be large is parsed inside a web
    request: a CSV by its lines, a workbook by the inflated size of its worksheets, from the archive's
    directory (a 450 KB workbook can hold 700,000 rows)."""
    limit = settings.PCC_PERF_BACKGROUND_ROWS
    if content[:4] != b"PK\x03\x04":
        return content.count(b"\n") > limit
    return len(content) > 512 * 1024 or xlsx_sheet_bytes(content) > limit * XLSX_INLINE_BYTES_PER_ROW


def _move_upload(upload: ReturnUpload, to: UploadState, action: AuditAction, *, actor: Any, **change: Any) -> None:
    """``change_state`` on an upload: its transition table, the audit event filed under its return."""
    change_state(
        upload, to=to, table=UPLOAD_TRANSITIONS, actor=actor, action=action, return_id=upload.return_obj_id, **change
    )


def upload_started(*, upload_id: int, task_id: str, state: UploadState) -> bool:
    """A worker takes the upload in ``state`` (checking or writing): records its task and a first heartbeat.
    False when the upload is no longer in that state (nothing to do)."""
    taken = ReturnUpload.objects.filter(pk=upload_id, state=state).update(task_id=task_id, heartbeat_at=timezone.now())
    return bool(taken)


def working(upload_id: int, task_id: str, state: UploadState) -> QuerySet[ReturnUpload]:
    """The upload while this task works on it in ``state`` (for progress and heartbeats)."""
    return ReturnUpload.objects.filter(pk=upload_id, task_id=task_id, state=state)


def upload_check(*, upload: ReturnUpload, task_id: str | None = None) -> ReturnUpload:
    """Check a stored upload (the background task) and save its preview: checking → ready or rejected.
    ``task_id``: the worker's task; ``UploadSuperseded`` if the upload stopped being its meanwhile."""
    state = _check_into(upload, save_progress=True, task_id=task_id)
    with transaction.atomic():
        current = locked(ReturnUpload, upload.pk)
        _still_mine(current, task_id, UploadState.CHECKING)
        current.summary, current.rows_total, current.rows_done = upload.summary, upload.rows_total, upload.rows_done
        current.checked = upload.checked
        _move_upload(
            current,
            state,
            AuditAction.UPLOAD_CHECKED,
            actor=system_actor(),
            fields=["summary", "rows_total", "rows_done", "checked"],
        )
    return current


def _still_mine(upload: ReturnUpload, task_id: str | None, state: UploadState) -> None:
    if task_id is not None and (upload.task_id != task_id or upload.state != state):
        raise UploadSuperseded(f"upload {upload.pk} is no longer worked on by task {task_id}")


def _checked_key(content: bytes, return_obj: Return) -> list[Any]:
    """What the preview's checked rows are good for: this file (its hash) in this return at this version."""
    return [hashlib.sha256(content).hexdigest(), return_obj.pk, return_obj.version]


# The checked rows' fields as ``checked_pack`` keeps them, a list of each (a row's metric by its id).
CHECKED_FIELDS = (
    "row",
    "metric",
    "area_id",
    "category_id",
    "value",
    "numerator",
    "denominator",
    "missing",
    "status",
    "note",
    "illustrative",
)


def checked_pack(rows: list[Row], *, key: list[Any], rows_read: int) -> bytes:
    """The preview's checked rows, compact (JSON, compressed), under ``key`` (``_checked_key``): one list per
    field (``CHECKED_FIELDS``), which JSON writes and reads faster than a list per row."""
    columns = {name: [getattr(r, name) for r in rows] for name in CHECKED_FIELDS if name != "metric"}
    ids = {id(r.metric): r.metric.pk for r in rows}  # a file's rows share a few dozen metric objects
    columns["metric"] = [ids[id(r.metric)] for r in rows]
    data = {"key": key, "rows_read": rows_read, "columns": columns}
    return zlib.compress(json.dumps(data, separators=(",", ":")).encode(), 1)


def checked_unpack(blob: bytes | memoryview | None, *, key: list[Any], period: dt.date) -> tuple[int, list[Row]] | None:
    """The rows ``checked_pack`` kept, if kept under ``key``: ``(rows read, rows)``; otherwise (none kept,
    another file or return version, kept in another form, a metric gone since) None, and the file is checked
    again."""
    if not blob:
        return None
    try:
        data = json.loads(zlib.decompress(bytes(blob)))
    except (zlib.error, ValueError):
        return None
    if not isinstance(data, dict) or data.get("key") != key:
        return None
    columns = data.get("columns")
    if not isinstance(columns, dict) or set(columns) != set(CHECKED_FIELDS):
        return None
    if len({len(values) for values in columns.values()}) != 1:
        return None
    metrics = Metric.objects.in_scope().in_bulk(set(columns["metric"]))
    try:
        objects = [metrics[pk] for pk in columns["metric"]]
    except KeyError:
        return None
    rows = list(
        map(
            Row,
            columns["row"],
            objects,
            columns["area_id"],
            [period] * len(objects),
            columns["category_id"],
            columns["value"],
            columns["numerator"],
            columns["denominator"],
            columns["missing"],
            columns["status"],
            columns["note"],
            columns["illustrative"],
        )
    )
    return data["rows_read"], rows


def _check_into(upload: ReturnUpload, *, save_progress: bool = False, task_id: str | None = None) -> UploadState:
    """Check ``upload`` against its return and put the preview on it; the state it should move to.
    Writes nothing but progress (and, by ``task_id``'s worker, a heartbeat with it)."""
    return_obj = Return.objects.in_scope().select_related("round", "agency").get(pk=upload.return_obj_id)
    content = bytes(upload.content)
    try:
        positions, raw_rows = parse_file(content=content, filename=upload.filename)
    except FileRejected as exc:
        upload.summary = {"errors": [_file_error(str(exc))], "warnings": []}
        return UploadState.REJECTED
    progress = None
    if save_progress and upload.pk:
        rows = ReturnUpload.objects.filter(pk=upload.pk, state=UploadState.CHECKING)
        if task_id is not None:
            rows = rows.filter(task_id=task_id)
        rows.update(rows_total=len(raw_rows), rows_done=0, heartbeat_at=timezone.now())

        def progress(done: int) -> None:
            rows.update(rows_done=done, heartbeat_at=timezone.now())

    check = check_return_rows(
        return_obj=return_obj, positions=positions, raw_rows=raw_rows, filename=upload.filename, progress=progress
    )
    s = check.summary
    upload.checked = (
        None if s.errors else checked_pack(check.rows, key=_checked_key(content, return_obj), rows_read=s.rows_read)
    )
    upload.rows_total = upload.rows_done = s.rows_read
    # At most ISSUES_PER_KIND problems of each kind are stored and shown; the rest are counted.
    warnings, warnings_omitted = capped(
        [{"row": i.row, "column": i.column, "kind": i.kind, "message": i.message} for i in s.warnings]
        + [
            {"row": f.row, "column": "value", "kind": f.kind, "message": f.message, "importance": f.importance}
            for f in check.findings
        ]
    )
    for kind, count in s.warnings.omitted.items():
        warnings_omitted[kind] = warnings_omitted.get(kind, 0) + count
    upload.summary = {
        "rows_read": s.rows_read,
        "created": s.created,
        "updated": s.updated,
        "unchanged": s.unchanged,
        "errors": [{"row": i.row, "column": i.column, "kind": i.kind, "message": i.message} for i in s.errors],
        "errors_omitted": dict(s.errors.omitted),
        "warnings": warnings,
        "warnings_omitted": warnings_omitted,
    }
    return UploadState.REJECTED if s.errors else UploadState.READY


def _file_error(message: str) -> dict[str, Any]:
    return {"row": None, "column": "", "kind": "file", "message": message}


def _check_confirmable(upload: ReturnUpload, *, writing: bool = False) -> None:
    """A clear answer to a second confirmation (a double click, a second tab) instead of doing it twice."""
    if upload.state == UploadState.READY or (writing and upload.state == UploadState.WRITING):
        return
    if upload.state == UploadState.WRITING:
        raise ReturnError(f"{upload.filename} is already being written to the return.")
    if upload.state == UploadState.COMMITTED:
        raise ReturnError(f"{upload.filename} has already been written to the return.")
    raise ReturnError("Only a checked file without errors can be confirmed.")


def upload_confirm(*, actor: Any, upload: ReturnUpload) -> ReturnUpload:
    """Write a checked upload into its return, in one transaction (in the background for a large file:
    ready → writing, and the task queued once the change is committed)."""
    require(actor, Perm.SUBMIT_RETURN, agency=upload.return_obj.agency_id)
    if upload.rows_total <= settings.PCC_PERF_BACKGROUND_ROWS and not _large(bytes(upload.content)):
        return upload_write(actor=actor, upload=upload)
    from .tasks import commit_upload_task

    with transaction.atomic():
        current = locked(ReturnUpload, upload.pk)
        _check_confirmable(current)
        current.rows_done = 0
        actor_id = actor.pk
        _move_upload(
            current,
            UploadState.WRITING,
            AuditAction.UPLOAD_CONFIRMED,
            actor=actor,
            fields=["rows_done"],
            on_commit=lambda: commit_upload_task.enqueue(current.pk, actor_id),
        )
    return current


def upload_write(*, actor: Any, upload: ReturnUpload, task_id: str | None = None) -> ReturnUpload:
    """Write the upload's rows into its return (ready or writing → committed); other ready files of the
    return are superseded. With any problem nothing is written. ``task_id``: the background worker's task."""
    require(actor, Perm.SUBMIT_RETURN, agency=upload.return_obj.agency_id)
    with transaction.atomic():
        ret = lock_return(upload.return_obj, None)  # the return first, then the upload: one lock order
        current = locked(ReturnUpload, upload.pk)
        _still_mine(current, task_id, UploadState.WRITING)
        _check_confirmable(current, writing=True)
        if ret.version != current.return_version:
            raise Conflict(STALE)
        check_editable(ret)
        check = _commit_check(current, ret)
        if check.summary.errors:
            raise ReturnError("The file no longer passes its checks; upload it again.")
        write_values(ret, check, actor, current.filename)
        current.rows_done, current.checked = current.rows_total, None
        _move_upload(
            current,
            UploadState.COMMITTED,
            AuditAction.UPLOAD_WRITTEN,
            actor=actor,
            fields=["rows_done", "checked"],
            summary=f"{current.filename}: {check.summary.created} added, {check.summary.updated} changed",
        )
        for other in ret.uploads.select_for_update().filter(state=UploadState.READY).exclude(pk=current.pk):
            _move_upload(
                other,
                UploadState.SUPERSEDED,
                AuditAction.UPLOAD_SUPERSEDED,
                actor=actor,
                summary=f"{other.filename}: {current.filename} was written first",
            )
    return current


def _commit_check(upload: ReturnUpload, ret: Return) -> ValuesCheck:
    """The upload's rows sorted against the return as it is now: the preview's checked rows when they were
    kept for this very file and this version of the return, otherwise the file read and checked again."""
    content = bytes(upload.content)
    kept = checked_unpack(upload.checked, key=_checked_key(content, ret), period=ret.round.period)
    if kept is not None:
        rows_read, rows = kept
        return checked_return_rows(return_obj=ret, rows=rows, rows_read=rows_read, filename=upload.filename)
    positions, raw_rows = parse_file(content=content, filename=upload.filename)
    return check_return_rows(
        return_obj=ret, positions=positions, raw_rows=raw_rows, filename=upload.filename, findings=False
    )


def upload_fail(*, actor: Any, upload_id: int, message: str, task_id: str | None = None) -> ReturnUpload:
    """A background write that could not be done: writing → rejected, with the reason on its page."""
    with transaction.atomic():
        current = locked(ReturnUpload, upload_id)
        _still_mine(current, task_id, UploadState.WRITING)
        current.summary = {**current.summary, "errors": [_file_error(message)]}
        _move_upload(
            current, UploadState.REJECTED, AuditAction.UPLOAD_REJECTED, actor=actor, fields=["summary"], reason=message
        )
    return current


def upload_failed(*, upload_id: int, message: str, task_id: str | None = None) -> ReturnUpload:
    """Background work on an upload that stopped (an unexpected error, or its worker died): checking or
    writing → failed, with the reason on its page. Nothing was written; it can be checked again."""
    with transaction.atomic():
        current = locked(ReturnUpload, upload_id)
        if task_id is not None:
            _still_mine(current, task_id, UploadState(current.state))
        current.summary = {**current.summary, "errors": [_file_error(message)]}
        _move_upload(
            current,
            UploadState.FAILED,
            AuditAction.UPLOAD_FAILED,
            actor=system_actor(),
            fields=["summary"],
            reason=message,
        )
    return current


def uploads_recover(*, uploads: QuerySet[ReturnUpload] | None = None) -> list[int]:
    """Fail the uploads a worker was checking or writing when it stopped (no heartbeat for
    ``PCC_PERF_TASK_STALE_SECONDS``), and mark its task failed. Returns their ids. Uploads still waiting
    for a worker (no heartbeat yet) are left alone: a live worker takes them. Every partnership's (the worker's
    sweep), each failed inside its own partnership (``accounts.tenancy``), so its audit event is filed there."""
    threshold = stale_before()
    rows = ReturnUpload.objects.all() if uploads is None else uploads
    candidates = list(
        rows.filter(state__in=WORKING, heartbeat_at__lt=threshold).values_list(
            "pk", "state", "task_id", "return_obj__round__partnership_id"
        )
    )
    partnerships = Partnership.objects.in_bulk({c[3] for c in candidates}) if candidates else {}
    failed = []
    for pk, state, task_id, partnership_id in candidates:
        message = stopped_message("checking this file" if state == UploadState.CHECKING else "writing this file")
        try:
            with partnership_scope(partnerships[partnership_id]), transaction.atomic():
                current = locked(ReturnUpload, pk)
                if current.state not in WORKING or current.heartbeat_at is None or current.heartbeat_at >= threshold:
                    continue  # it beat, or finished, meanwhile
                upload_failed(upload_id=pk, message=message)
        except UploadSuperseded:
            continue
        task_abandoned(task_id, message)
        failed.append(pk)
    return failed


def upload_alive(upload: ReturnUpload) -> ReturnUpload:
    """``upload``, failed first if the worker on it stopped (its page asks before showing progress)."""
    stale = upload.state in WORKING and upload.heartbeat_at is not None and upload.heartbeat_at < stale_before()
    if stale and uploads_recover(uploads=ReturnUpload.objects.filter(pk=upload.pk)):
        upload.refresh_from_db()
    return upload


def upload_retry(*, actor: Any, upload_id: int) -> ReturnUpload:
    """Check a failed upload again, from the start (its page's "Check it again"): failed → checking, and the
    check queued once that is committed. The return must still be open to changes."""
    upload = ReturnUpload.objects.in_scope().select_related("return_obj").get(pk=upload_id)
    require(actor, Perm.SUBMIT_RETURN, agency=upload.return_obj.agency_id)
    from .tasks import check_upload_task

    with transaction.atomic():
        ret = lock_return(upload.return_obj, None)
        check_editable(ret)
        current = locked(ReturnUpload, upload_id)
        current.summary, current.rows_done, current.task_id, current.heartbeat_at = {}, 0, "", None
        current.return_version, current.checked = ret.version, None
        _move_upload(
            current,
            UploadState.CHECKING,
            AuditAction.UPLOAD_RETRIED,
            actor=actor,
            fields=["summary", "rows_done", "task_id", "heartbeat_at", "return_version", "checked"],
            on_commit=lambda: check_upload_task.enqueue(upload_id),
        )
    return current


def return_import_draft(*, actor: Any, return_obj: Return, content: bytes, filename: str) -> ValuesCheck:
    """``import_return --draft``: an administrator's command (``actor``: the system actor) puts a file into
    an agency's return as draft values, through the same checks as a web upload; with any error nothing is
    written."""
    require(actor, Perm.SUBMIT_RETURN, agency=return_obj.agency_id)
    summary = ImportSummary(filename=filename)
    try:
        positions, raw_rows = parse_file(content=content, filename=filename)
    except FileRejected as exc:
        summary.errors.append(Issue(None, "", "file", str(exc)))
        return ValuesCheck(summary=summary)
    with transaction.atomic():
        ret = lock_return(return_obj, None)
        check_editable(ret)
        check = check_return_rows(return_obj=ret, positions=positions, raw_rows=raw_rows, filename=filename)
        if check.summary.errors:
            return check
        write_values(ret, check, actor, filename)
        check.summary.written = True
    return check


def draft_return_for(*, agency: Agency, content: bytes, filename: str) -> Return:
    """The open return a file belongs to: the agency's return, in the current partnership, for the one quarter
    the file covers."""
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
        Return.objects.in_scope()
        .select_related("round", "agency")
        .filter(agency=agency, round__period=quarter.end_date)
        .first()
    )
    if found is None:
        raise ReturnError(f"no collection round is open for {quarter.label}")
    return found

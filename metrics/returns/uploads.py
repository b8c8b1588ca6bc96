"""Uploaded files: check and keep for a preview, then write into the return on confirmation."""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

from django.conf import settings
from django.db import transaction

from accounts.access import Perm, require
from accounts.audit import AuditAction, record
from accounts.models import Agency
from metrics.imports.parse import FileRejected, parse_file, sniff_upload
from metrics.imports.summary import ImportSummary, Issue
from metrics.models import Return, ReturnUpload, UploadState
from metrics.quarters import Quarter

from .services import ReturnError, check_editable, lock_return
from .values import ValuesCheck, check_return_rows, write_values


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
    check_editable(return_obj)
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
        record(AuditAction.UPLOAD_RECEIVED, actor=actor, obj=upload, summary=stored_name, return_id=return_obj.pk)
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
        locked = lock_return(upload.return_obj, upload.return_version)
        check_editable(locked)
        positions, raw_rows = parse_file(content=bytes(upload.content), filename=upload.filename)
        check = check_return_rows(
            return_obj=locked, positions=positions, raw_rows=raw_rows, filename=upload.filename, findings=False
        )
        if check.summary.errors:
            raise ReturnError("The file no longer passes its checks; upload it again.")
        write_values(locked, check, actor, upload.filename)
        upload.state = UploadState.COMMITTED
        upload.rows_done = upload.rows_total
        upload.save(update_fields=["state", "rows_done"])
        locked.uploads.filter(state=UploadState.READY).exclude(pk=upload.pk).update(state=UploadState.SUPERSEDED)
    return upload


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
        locked = lock_return(return_obj, None)
        check_editable(locked)
        check = check_return_rows(return_obj=locked, positions=positions, raw_rows=raw_rows, filename=filename)
        if check.summary.errors:
            return check
        write_values(locked, check, None, filename)
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

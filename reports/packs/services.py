"""Board pack state changes: requested or tried again (by a person), started, built or failed (by the worker),
failed because its worker stopped (by any worker's sweep or the pack's page), each through the state-change
kit — permission, one transaction with the row locked, a legal move, audit, side effects on commit."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.access import Perm, require, system_actor
from accounts.audit import AuditAction, record
from accounts.background import stale_before, stopped_message, task_abandoned
from accounts.models import Partnership
from accounts.tenancy import partnership_scope
from accounts.workflow import change_state, locked
from reports.models import PACK_TRANSITIONS, BoardPack, PackState, Report, ReportState
from reports.narrative.services import can_read


class PackError(Exception):
    """A pack that cannot be asked for now."""


class PackSuperseded(Exception):
    """The pack is no longer this worker's to build: it was failed as stopped (and maybe queued again)."""


ACTIVE = (PackState.QUEUED, PackState.BUILDING)


def pack_request(*, actor: Any, report: Report, public: bool) -> tuple[BoardPack, bool]:
    """Queue the PDF of a report's edition for the background worker. Returns the pack and whether it is
    new: asking again while the same edition is queued or building (a double submit) returns that pack
    and queues nothing."""
    require(actor, Perm.EDIT_REPORT)
    if not can_read(actor, report):
        raise PermissionDenied
    with transaction.atomic():
        row = locked(Report, report.pk)  # one request at a time per report
        if public and row.state != ReportState.PUBLISHED:
            raise PackError("The public edition is for published reports only.")
        active = BoardPack.objects.filter(report=row, public=public, state__in=ACTIVE).order_by("-pk").first()
        if active is not None and pack_alive(active).state in ACTIVE:
            return active, False
        pack = BoardPack.objects.create(report=row, public=public, created_by=actor)
        record(AuditAction.PACK_REQUESTED, actor=actor, obj=pack, summary=str(pack))
        transaction.on_commit(lambda: _enqueue(pack.pk))
    return pack, True


def _enqueue(pack_id: int) -> None:
    from reports.tasks import build_pack_task

    build_pack_task.enqueue(pack_id)


def pack_retry(*, actor: Any, pack_id: int) -> BoardPack:
    """Queue a failed pack again (its page's "Try again"). If the same edition is already queued or building
    (a second tab), that pack is returned and nothing is queued."""
    require(actor, Perm.EDIT_REPORT)
    pack = BoardPack.objects.in_scope().select_related("report").get(pk=pack_id)
    if not can_read(actor, pack.report):
        raise PermissionDenied
    with transaction.atomic():
        locked(Report, pack.report_id)  # one request at a time per report, as pack_request
        pack = locked(BoardPack, pack_id)
        active = BoardPack.objects.filter(report_id=pack.report_id, public=pack.public, state__in=ACTIVE)
        other = active.exclude(pk=pack.pk).order_by("-pk").first()
        if other is not None:
            return other
        pack.progress, pack.message, pack.finished_at, pack.task_id, pack.heartbeat_at = 0, "", None, "", None
        return change_state(
            pack,
            to=PackState.QUEUED,
            table=PACK_TRANSITIONS,
            actor=actor,
            action=AuditAction.PACK_RETRIED,
            fields=["progress", "message", "finished_at", "task_id", "heartbeat_at"],
            on_commit=lambda: _enqueue(pack_id),
        )


def packs_recover(*, packs: QuerySet[BoardPack] | None = None) -> list[int]:
    """Fail the building packs whose worker stopped (no heartbeat for ``PCC_PERF_TASK_STALE_SECONDS``), with
    a message and an audit event, and mark the dead worker's task failed. Returns their ids. Run by every
    worker (``db_worker``) and by a stopped pack's page."""
    threshold = stale_before()
    rows = BoardPack.objects.all() if packs is None else packs
    # A pack building since before heartbeats were kept counts from when it was asked for.
    candidates = list(
        rows.filter(state=PackState.BUILDING)
        .alias(alive_at=Coalesce("heartbeat_at", "created_at"))
        .filter(alive_at__lt=threshold)
        .values_list("pk", "report__snapshot__framework__partnership_id")
    )
    partnerships = (
        {p.pk: p for p in Partnership.objects.filter(pk__in={pid for _, pid in candidates})} if candidates else {}
    )
    failed = []
    for pk, partnership_id in candidates:
        message = stopped_message("building this pack")
        # Each pack failed in its own partnership (the audit event is that partnership's).
        with partnership_scope(partnerships[partnership_id]), transaction.atomic():
            pack = locked(BoardPack, pk)
            if pack.state != PackState.BUILDING or (pack.heartbeat_at or pack.created_at) >= threshold:
                continue  # it beat, or finished, meanwhile
            pack.message, pack.finished_at = message[:300], timezone.now()
            change_state(
                pack,
                to=PackState.FAILED,
                table=PACK_TRANSITIONS,
                actor=system_actor(),
                action=AuditAction.PACK_FAILED,
                fields=["message", "finished_at"],
                reason=message,
            )
        task_abandoned(pack.task_id, message)
        failed.append(pk)
    return failed


def pack_alive(pack: BoardPack) -> BoardPack:
    """``pack``, failed first if its worker stopped (a pack's page asks before showing progress)."""
    stale = pack.state == PackState.BUILDING and (pack.heartbeat_at or pack.created_at) < stale_before()
    if stale and packs_recover(packs=BoardPack.objects.filter(pk=pack.pk)):
        pack.refresh_from_db()
    return pack


def _pack_change(
    pack_id: int,
    *,
    to: PackState,
    action: AuditAction,
    fields: dict[str, Any],
    packs: QuerySet[BoardPack] | None = None,
    summary: Callable[[BoardPack], str] | None = None,
    reason: str = "",
    task_id: str | None = None,
) -> BoardPack:
    """The worker's state changes: lock the pack, set ``fields`` on it, move it to ``to`` as the system actor.
    ``task_id``: the worker's task; ``PackSuperseded`` if the pack is no longer that task's (it was failed as
    stopped, or tried again)."""
    with transaction.atomic():
        pack = locked(BoardPack.objects.all() if packs is None else packs, pack_id)
        if task_id is not None and (pack.task_id != task_id or pack.state not in ACTIVE):
            raise PackSuperseded(f"pack {pack_id} is no longer built by task {task_id}")
        for name, value in fields.items():
            setattr(pack, name, value)
        return change_state(
            pack,
            to=to,
            table=PACK_TRANSITIONS,
            actor=system_actor(),
            action=action,
            fields=list(fields),
            summary=summary(pack) if summary is not None else "",
            reason=reason,
        )


def pack_started(*, pack_id: int, task_id: str = "") -> BoardPack:
    """The worker starts building (queued → building), recording its task and a first heartbeat."""
    return _pack_change(
        pack_id,
        to=PackState.BUILDING,
        action=AuditAction.PACK_STARTED,
        fields={
            "progress": 5,
            "message": "Collecting the snapshot's figures",
            "task_id": task_id,
            "heartbeat_at": timezone.now(),
        },
        packs=BoardPack.objects.select_related("report__snapshot"),
    )


def building(pack_id: int, task_id: str = "") -> QuerySet[BoardPack]:
    """The pack while this task builds it (for progress and heartbeats: nothing once it is failed or retried)."""
    return BoardPack.objects.filter(pk=pack_id, state=PackState.BUILDING, task_id=task_id)


def pack_progress(*, pack_id: int, percent: int, message: str, task_id: str = "") -> None:
    """Progress of a building pack (not a change of state: no audit); a heartbeat too."""
    building(pack_id, task_id).update(progress=percent, message=message, heartbeat_at=timezone.now())


def pack_built(
    *, pack_id: int, pdf: bytes, charts_rendered: bool, docx: bytes | None = None, task_id: str | None = None
) -> BoardPack:
    """The built PDF (and, for the board edition, the Word document) stored with the PDF's checksum."""
    return _pack_change(
        pack_id,
        to=PackState.READY,
        action=AuditAction.PACK_BUILT,
        fields={
            "progress": 100,
            "message": "Ready" if charts_rendered else "Ready (charts shown as tables: no browser was available)",
            "pdf": pdf,
            "sha256": hashlib.sha256(pdf).hexdigest(),
            "size": len(pdf),
            "charts_rendered": charts_rendered,
            "docx": docx,
            "finished_at": timezone.now(),
        },
        summary=lambda pack: f"{pack}: {len(pdf):,} bytes",
        task_id=task_id,
    )


def pack_failed(*, pack_id: int, error: str, task_id: str | None = None) -> BoardPack:
    return _pack_change(
        pack_id,
        to=PackState.FAILED,
        action=AuditAction.PACK_FAILED,
        fields={"message": error[:300], "finished_at": timezone.now()},
        reason=error[:500],
        task_id=task_id,
    )

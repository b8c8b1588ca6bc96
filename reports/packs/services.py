"""Board pack state changes: requested (by a person), started, built or failed (by the worker), each through
the state-change kit — permission, one transaction with the row locked, a legal move, audit, side effects on
commit."""

from __future__ import annotations

import hashlib
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from accounts.access import Perm, require, system_actor
from accounts.audit import AuditAction, record
from accounts.workflow import change_state, locked
from reports.models import PACK_TRANSITIONS, BoardPack, PackState, Report, ReportState
from reports.narrative.services import can_read


class PackError(Exception):
    """A pack that cannot be asked for now."""


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
        if active is not None:
            return active, False
        pack = BoardPack.objects.create(report=row, public=public, created_by=actor)
        record(AuditAction.PACK_REQUESTED, actor=actor, obj=pack, summary=str(pack))
        transaction.on_commit(lambda: _enqueue(pack.pk))
    return pack, True


def _enqueue(pack_id: int) -> None:
    from reports.tasks import build_pack_task

    build_pack_task.enqueue(pack_id)


def pack_started(*, pack_id: int) -> BoardPack:
    with transaction.atomic():
        pack = locked(BoardPack.objects.select_related("report__snapshot"), pack_id)
        pack.progress, pack.message = 5, "Collecting the snapshot's figures"
        return change_state(
            pack,
            to=PackState.BUILDING,
            table=PACK_TRANSITIONS,
            actor=system_actor(),
            action=AuditAction.PACK_STARTED,
            fields=["progress", "message"],
        )


def pack_progress(*, pack_id: int, percent: int, message: str) -> None:
    """Progress of a building pack (not a change of state: no audit)."""
    BoardPack.objects.filter(pk=pack_id, state=PackState.BUILDING).update(progress=percent, message=message)


def pack_built(*, pack_id: int, pdf: bytes, charts_rendered: bool) -> BoardPack:
    with transaction.atomic():
        pack = locked(BoardPack, pack_id)
        pack.progress = 100
        pack.message = "Ready" if charts_rendered else "Ready (charts shown as tables: no browser was available)"
        pack.pdf, pack.sha256, pack.size = pdf, hashlib.sha256(pdf).hexdigest(), len(pdf)
        pack.charts_rendered, pack.finished_at = charts_rendered, timezone.now()
        return change_state(
            pack,
            to=PackState.READY,
            table=PACK_TRANSITIONS,
            actor=system_actor(),
            action=AuditAction.PACK_BUILT,
            fields=["progress", "message", "pdf", "sha256", "size", "charts_rendered", "finished_at"],
            summary=f"{pack}: {len(pdf):,} bytes",
        )


def pack_failed(*, pack_id: int, error: str) -> BoardPack:
    with transaction.atomic():
        pack = locked(BoardPack, pack_id)
        pack.message, pack.finished_at = error[:300], timezone.now()
        return change_state(
            pack,
            to=PackState.FAILED,
            table=PACK_TRANSITIONS,
            actor=system_actor(),
            action=AuditAction.PACK_FAILED,
            fields=["message", "finished_at"],
            reason=error[:500],
        )

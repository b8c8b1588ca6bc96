"""Board pack state changes: requested (by a person), started, built or failed (by the worker), each through
the state-change kit — permission, one transaction with the row locked, a legal move, audit, side effects on
commit."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import QuerySet
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


def _pack_change(
    pack_id: int,
    *,
    to: PackState,
    action: AuditAction,
    fields: dict[str, Any],
    packs: QuerySet[BoardPack] | None = None,
    summary: Callable[[BoardPack], str] | None = None,
    reason: str = "",
) -> BoardPack:
    """The worker's state changes: lock the pack, set ``fields`` on it, move it to ``to`` as the system actor."""
    with transaction.atomic():
        pack = locked(BoardPack.objects.all() if packs is None else packs, pack_id)
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


def pack_started(*, pack_id: int) -> BoardPack:
    return _pack_change(
        pack_id,
        to=PackState.BUILDING,
        action=AuditAction.PACK_STARTED,
        fields={"progress": 5, "message": "Collecting the snapshot's figures"},
        packs=BoardPack.objects.select_related("report__snapshot"),
    )


def pack_progress(*, pack_id: int, percent: int, message: str) -> None:
    """Progress of a building pack (not a change of state: no audit)."""
    BoardPack.objects.filter(pk=pack_id, state=PackState.BUILDING).update(progress=percent, message=message)


def pack_built(*, pack_id: int, pdf: bytes, charts_rendered: bool, docx: bytes | None = None) -> BoardPack:
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
    )


def pack_failed(*, pack_id: int, error: str) -> BoardPack:
    return _pack_change(
        pack_id,
        to=PackState.FAILED,
        action=AuditAction.PACK_FAILED,
        fields={"message": error[:300], "finished_at": timezone.now()},
        reason=error[:500],
    )

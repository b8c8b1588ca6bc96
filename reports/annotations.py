"""Notes on a measure (``Annotation``): added, changed and removed by the performance manager from the
metric page, each change audited. They show on the measure's charts, in reports and in the board pack. A note
belongs to the partnership of the work in hand (``accounts.tenancy``): on a shared official statistic each
partnership writes its own; another partnership's note is not found (``Annotation.DoesNotExist``)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction

from accounts.access import Perm, require
from accounts.audit import AuditAction, record
from accounts.tenancy import current_partnership
from accounts.versions import data_changed
from accounts.workflow import locked
from frameworks.models import Area
from metrics.models import Metric
from metrics.quarters import Quarter

from .models import Annotation, AnnotationKind


class AnnotationError(Exception):
    """A note that cannot be saved as asked."""


def _clean(text: str, kind: str) -> str:
    text = text.strip()
    if not text:
        raise AnnotationError("Write the note.")
    if len(text) > 200:
        raise AnnotationError("Keep the note to 200 characters: it is shown on the chart.")
    if kind not in AnnotationKind.values:
        raise AnnotationError(f"Unknown kind of note “{kind}”.")
    return text


def _describe(note: Annotation) -> dict[str, Any]:
    return {
        "period": note.period.isoformat(),
        "area": note.area.code if note.area_id and note.area else None,
        "kind": note.kind,
        "text": note.text,
    }


def annotation_add(
    *,
    actor: Any,
    metric: Metric,
    period: dt.date,
    text: str,
    kind: str = AnnotationKind.CONTEXT,
    area: Area | None = None,
) -> Annotation:
    require(actor, Perm.MANAGE_FRAMEWORK)
    text = _clean(text, kind)
    quarter = Quarter.from_end_date(period)
    if not Metric.objects.in_scope().filter(pk=metric.pk).exists():
        raise AnnotationError(f"No measure {metric.code} in this partnership.")
    with transaction.atomic():
        note = Annotation.objects.create(
            partnership=current_partnership(),
            metric=metric,
            area=area,
            period=quarter.end_date,
            kind=kind,
            text=text,
            created_by=actor if getattr(actor, "pk", None) else None,
        )
        record(
            AuditAction.ANNOTATION_ADDED,
            actor=actor,
            obj=note,
            summary=f"{metric.code} {quarter.label}: {text}",
            new=_describe(note),
            metric_code=metric.code,
        )
        data_changed()  # notes are shown on the cached pages
    return note


def annotation_change(
    *, actor: Any, annotation_id: int, period: dt.date, text: str, kind: str, area: Area | None
) -> Annotation:
    require(actor, Perm.MANAGE_FRAMEWORK)
    text = _clean(text, kind)
    quarter = Quarter.from_end_date(period)
    with transaction.atomic():
        note = locked(Annotation.objects.in_scope(), annotation_id)
        old = _describe(note)
        note.period, note.text, note.kind, note.area = quarter.end_date, text, kind, area
        new = _describe(note)
        if old == new:
            return note
        note.save(update_fields=["period", "text", "kind", "area"])
        record(
            AuditAction.ANNOTATION_CHANGED,
            actor=actor,
            obj=note,
            summary=f"{note.metric.code} {quarter.label}: {text}",
            old={k: v for k, v in old.items() if new[k] != v},
            new={k: v for k, v in new.items() if old[k] != v},
            metric_code=note.metric.code,
        )
        data_changed()  # notes are shown on the cached pages
    return note


def annotation_remove(*, actor: Any, annotation_id: int) -> Annotation:
    require(actor, Perm.MANAGE_FRAMEWORK)
    with transaction.atomic():
        note = locked(Annotation.objects.in_scope(), annotation_id)
        record(
            AuditAction.ANNOTATION_REMOVED,
            actor=actor,
            obj=note,
            summary=f"{note.metric.code} {Quarter.from_end_date(note.period).label}: {note.text}",
            old=_describe(note),
            metric_code=note.metric.code,
        )
        note.delete()
        data_changed()  # notes are shown on the cached pages

    return note

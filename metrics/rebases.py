"""Rebases: the performance manager's decision to recalculate a measure's SPC limits from a quarter on,
recorded with its reason, audited, and written back to the framework (a new version of its file)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction

from accounts.access import Perm, require
from accounts.audit import AuditAction, record
from accounts.versions import data_changed
from accounts.workflow import locked
from frameworks.models import Framework
from metrics.models import Metric, Rebase
from metrics.quarters import Quarter


class RebaseError(Exception):
    """A rebase that cannot be recorded as asked."""


def rebase_record(*, actor: Any, framework: Framework, metric: Metric, period: dt.date, reason: str) -> Rebase:
    """Record that ``metric``'s limits are recalculated from ``period`` (a quarter end date) on."""
    from metrics.catalogue.load import framework_version_save

    require(actor, Perm.MANAGE_FRAMEWORK)
    reason = reason.strip()
    if not reason:
        raise RebaseError("Give the reason for the rebase (quote the source where it documents a break).")
    quarter = Quarter.from_end_date(period)
    with transaction.atomic():
        row = locked(Metric, metric.pk)
        if Rebase.objects.filter(metric=row, period=quarter.end_date).exists():
            raise RebaseError(f"{row.name} is already rebased from {quarter.label}.")
        rebase = Rebase.objects.create(metric=row, period=quarter.end_date, reason=reason)
        record(
            AuditAction.REBASE_RECORDED,
            actor=actor,
            obj=rebase,
            summary=f"{row.code} rebased from {quarter.label}",
            new={"period": quarter.end_date.isoformat(), "reason": reason},
            reason=reason,
            metric_code=row.code,
        )
        framework_version_save(framework=framework, actor=actor)
        data_changed()  # the SPC limits every page shows changed
    return rebase


def rebase_remove(*, actor: Any, framework: Framework, rebase_id: int) -> Rebase:
    """Remove a rebase (the limits run on across that quarter again), audited with what it said, and written
    back to the framework file as a new version."""
    from metrics.catalogue.load import framework_version_save

    require(actor, Perm.MANAGE_FRAMEWORK)
    with transaction.atomic():
        rebase = locked(Rebase, rebase_id)
        label = Quarter.from_end_date(rebase.period).label
        record(
            AuditAction.REBASE_REMOVED,
            actor=actor,
            obj=rebase,
            summary=f"{rebase.metric.code} no longer rebased from {label}",
            old={"period": rebase.period.isoformat(), "reason": rebase.reason},
            metric_code=rebase.metric.code,
        )
        rebase.delete()
        framework_version_save(framework=framework, actor=actor)
        data_changed()  # the SPC limits every page shows changed
    return rebase

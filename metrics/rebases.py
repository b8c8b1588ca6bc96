"""Rebases: the performance manager's decision to recalculate a measure's SPC limits from a quarter on,
recorded with its reason, audited, and written back to the framework (a new version of its file). A rebase is
the decision of the framework's partnership: on a shared official statistic each partnership has its own."""

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
    """Record that ``metric``'s limits are recalculated from ``period`` (a quarter end date) on, in
    ``framework``'s partnership (``Metric.DoesNotExist`` for a metric that is neither its own nor shared)."""
    from metrics.catalogue.load import framework_version_save

    require(actor, Perm.MANAGE_FRAMEWORK, partnership=framework.partnership_id)
    reason = reason.strip()
    if not reason:
        raise RebaseError("Give the reason for the rebase (quote the source where it documents a break).")
    quarter = Quarter.from_end_date(period)
    pid = framework.partnership_id
    with transaction.atomic():
        row = locked(Metric.objects.in_scope(pid), metric.pk)
        if Rebase.objects.in_scope(pid).filter(metric=row, period=quarter.end_date).exists():
            raise RebaseError(f"{row.name} is already rebased from {quarter.label}.")
        rebase = Rebase.objects.create(partnership_id=pid, metric=row, period=quarter.end_date, reason=reason)
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
    """Remove a rebase of ``framework``'s partnership (the limits run on across that quarter again), audited
    with what it said, and written back to the framework file as a new version. ``Rebase.DoesNotExist`` for
    another partnership's rebase."""
    from metrics.catalogue.load import framework_version_save

    require(actor, Perm.MANAGE_FRAMEWORK, partnership=framework.partnership_id)
    with transaction.atomic():
        rebase = locked(Rebase.objects.in_scope(framework.partnership_id), rebase_id)
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

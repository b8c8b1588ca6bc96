"""Publishing snapshots: permission → one transaction → checks → copy → audit."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.db.models import Max

from accounts.access import Perm, require
from accounts.audit import AuditAction, record
from accounts.tenancy import current_partnership, current_partnership_id, in_a_scope, partnership_scope
from accounts.versions import data_changed
from frameworks.models import Framework
from metrics.catalogue.export import framework_export
from metrics.models import FIGURE_FIELDS, CollectionRound, ImportBatch, Metric, Observation, Return, ReturnState
from metrics.quarters import Quarter
from reports.models import Annotation, Snapshot, SnapshotObservation, SnapshotRevision

COPIED_FIELDS = ["metric_id", "area_id", "period", "category_id", *FIGURE_FIELDS]


class SnapshotError(Exception):
    """The snapshot cannot be published as asked."""


@dataclass
class Readiness:
    period: dt.date
    returns: list[Return]

    @property
    def missing(self) -> list[Return]:
        return [r for r in self.returns if r.state != ReturnState.APPROVED]

    @property
    def complete(self) -> bool:
        return not self.missing


def readiness(*, period: dt.date) -> Readiness:
    """Which of the quarter's returns (the current partnership's) are approved and which are not."""
    returns = list(
        Return.objects.in_scope()
        .filter(round__period=period)
        .select_related("agency", "round")
        .order_by("agency__name")
    )
    return Readiness(period, returns)


def snapshot_publish(*, actor: Any, framework: Framework, period: dt.date, reason: str = "") -> Snapshot:
    """Freeze the quarter: every approved observation up to its end, the framework file (definitions,
    structure, SPC settings) and what was revised since the previous snapshot. A reason is required when
    any return of the quarter is not approved. Commands act as ``accounts.access.system_actor()``.

    Works in ``framework``'s partnership: its round's returns, its metrics' and the shared observations, its
    annotations; numbered within the framework. The actor publishes in that partnership (their role there)."""
    if in_a_scope() and current_partnership_id() == framework.partnership_id:
        return _publish(actor=actor, framework=framework, period=period, reason=reason)
    with partnership_scope(framework.partnership):
        return _publish(actor=actor, framework=framework, period=period, reason=reason)


def _publish(*, actor: Any, framework: Framework, period: dt.date, reason: str) -> Snapshot:
    require(actor, Perm.PUBLISH_SNAPSHOT)
    quarter = Quarter.from_end_date(period)
    state = readiness(period=quarter.end_date)
    if not CollectionRound.objects.in_scope().filter(period=quarter.end_date).exists() and not reason.strip():
        raise SnapshotError(
            f"No collection round was opened for {quarter.label}: give the reason for publishing anyway."
        )
    if state.missing and not reason.strip():
        names = ", ".join(r.agency.name for r in state.missing)
        raise SnapshotError(
            f"Returns not approved: {names}. Wait for them, or give the reason for publishing without them."
        )
    with transaction.atomic():
        previous_number = (
            Snapshot.objects.select_for_update()
            .filter(framework=framework, period=quarter.end_date)
            .aggregate(n=Max("number"))["n"]
            or 0
        )
        previous = Snapshot.objects.in_scope().order_by("-published_at", "-pk").first()
        # The snapshot row is written once, complete: the database refuses any later change to it.
        # Its figures: the partnership's own measures' and the shared official statistics'.
        expected = Observation.objects.in_scope().filter(period__lte=quarter.end_date).count()
        snapshot = Snapshot.objects.create(
            period=quarter.end_date,
            number=previous_number + 1,
            framework=framework,
            framework_version=framework.version,
            framework_file=framework_export(code=framework.code, partnership=current_partnership()),
            published_by=actor if getattr(actor, "pk", None) else None,
            reason=reason.strip(),
            missing_returns=[r.agency.code for r in state.missing],
            observation_count=expected,
            annotations=frozen_annotations(period=quarter.end_date),
        )
        columns = ", ".join(COPIED_FIELDS)
        table = SnapshotObservation._meta.db_table
        source = Observation._meta.db_table
        metrics = Metric._meta.db_table
        batches = ImportBatch._meta.db_table
        # The partnership's own measures' figures, and the shared statistics' not approved from another
        # partnership's return (as ``Observation.objects.in_scope()`` reads them).
        own = f"SELECT id FROM {metrics} WHERE partnership_id = %s"  # noqa: S608
        shared = f"SELECT id FROM {metrics} WHERE partnership_id IS NULL"  # noqa: S608
        theirs = f"SELECT id FROM {batches} WHERE partnership_id IS NOT NULL AND partnership_id <> %s"  # noqa: S608
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} (snapshot_id, {columns}) SELECT %s, {columns} FROM {source} "  # noqa: S608 - table and column names are ours
                f"WHERE period <= %s AND (metric_id IN ({own}) OR (metric_id IN ({shared}) "
                f"AND (source_id IS NULL OR source_id NOT IN ({theirs}))))",
                [snapshot.pk, quarter.end_date, framework.partnership_id, framework.partnership_id],
            )
            count = cursor.rowcount
        if count != expected:
            raise SnapshotError("Approved data changed while the snapshot was being published: publish it again.")
        revisions = _revisions(previous, snapshot) if previous is not None else []
        SnapshotRevision.objects.bulk_create(revisions, batch_size=2000)
        record(
            AuditAction.SNAPSHOT_PUBLISHED,
            actor=actor,
            obj=snapshot,
            summary=f"{snapshot}: {count} observations, {len(revisions)} revised since the previous snapshot",
            new={"period": quarter.end_date.isoformat(), "missing_returns": snapshot.missing_returns},
            reason=snapshot.reason,
        )
        data_changed()  # a new snapshot: pages citing the latest one are out of date
    return snapshot


def frozen_annotations(*, period: dt.date) -> list[dict[str, Any]]:
    """The current partnership's annotations up to ``period`` as they stand: frozen into the snapshot, so
    editing one later changes no published page, report or pack."""
    rows = (
        Annotation.objects.in_scope()
        .filter(period__lte=period)
        .order_by("period", "pk")
        .values_list("metric__code", "area__code", "period", "kind", "text")
    )
    return [
        {"metric": metric, "area": area, "period": when.isoformat(), "kind": kind, "text": text}
        for metric, area, when, kind, text in rows
    ]


def _revisions(previous: Snapshot, current: Snapshot) -> list[SnapshotRevision]:
    def rows(snapshot: Snapshot, upto: dt.date) -> dict[tuple[int, int, dt.date, int | None], tuple[float | None, str]]:
        values = SnapshotObservation.objects.filter(snapshot=snapshot, period__lte=upto).values_list(
            "metric_id", "area_id", "period", "category_id", "value", "missing"
        )
        return {(m, a, p, c): (v, miss) for m, a, p, c, v, miss in values}

    upto = min(previous.period, current.period)
    old, new = rows(previous, upto), rows(current, upto)
    changed = []
    for key, (value, missing) in new.items():
        if key not in old:
            continue
        old_value, old_missing = old[key]
        if old_value != value or old_missing != missing:
            metric_id, area_id, period, category_id = key
            changed.append(
                SnapshotRevision(
                    snapshot=current,
                    metric_id=metric_id,
                    area_id=area_id,
                    period=period,
                    category_id=category_id,
                    old_value=old_value,
                    new_value=value,
                    old_missing=old_missing,
                    new_missing=missing,
                )
            )
    return changed


def snapshot_spc_settings(snapshot: Snapshot) -> dict[str, dict[str, Any]]:
    """Each metric's SPC settings and rebases as they were published (from the snapshot's framework file)."""
    from reports.snapshots.frozen import FrozenDefinitions

    return FrozenDefinitions.of(snapshot).spc_settings()

"""The evidence builder's reads, each prepared (``accounts.prepared``): built and compiled to SQL once per
connection, partnership and shape of its arguments, then run with the call's values. A page's reads are the
same every request but for their values; building and compiling them took as long as the database took to
answer them.

Each takes ids, codes and quarters (never model instances) and returns a list. Those that read no
partnership's rows (areas, placements, peer groups, breakdowns: found by the ids they are given) are
``scoped=False``: one SQL for every partnership. ``snapshot_id``: figures from
that snapshot's frozen copy; None: the approved figures as they stand (``sources.figure_rows``)."""

from __future__ import annotations

from typing import Any

from django.db.models import Max, OuterRef, Q, QuerySet, Subquery

from accounts.prepared import prepared_read
from frameworks.models import Area, AreaType, BreakdownCategory, PeerGroupMembership
from metrics.models import FrameworkMetric, Metric, Observation, Rebase
from reports.evidence.sources import OBS_FIELDS, figure_rows, in_partnership
from reports.models import Annotation


@prepared_read
def rebases_of(*, metric_ids: Any) -> QuerySet[Any]:
    """The partnership's rebases of ``metric_ids``, in quarter order (not the model's default order: it joins
    the metric only to sort by its code)."""
    return in_partnership(Rebase.objects.filter(metric_id__in=metric_ids)).order_by("period", "pk")


@prepared_read(scoped=False)
def national_areas(*, exclude: Any) -> QuerySet[Any]:
    """The national areas but ``exclude`` (an id, or None), the first (England and Wales) first."""
    query = Area.objects.filter(type=AreaType.NATIONAL)
    if exclude is not None:
        query = query.exclude(pk=exclude)
    return query.order_by("pk")


@prepared_read(scoped=False)
def placements(*, framework_id: Any, priority: Any) -> QuerySet[Any]:
    """The framework's placements (of one priority, by code, or all when None) in order, with their metric,
    agency and priority."""
    query = FrameworkMetric.objects.filter(framework_id=framework_id)
    if priority is not None:
        query = query.filter(priority__code=priority)
    return query.select_related("metric__agency", "priority").order_by("priority__order", "order")


@prepared_read(scoped=False)
def placement(*, framework_id: Any, metric_id: Any) -> QuerySet[Any]:
    """The metric's placement in the framework (at most one row), with its priority."""
    query = FrameworkMetric.objects.filter(framework_id=framework_id, metric_id=metric_id)
    return query.select_related("priority").order_by("pk")[:1]


@prepared_read
def series_rows(*, snapshot_id: Any, metric_ids: Any, area_ids: Any, category_id: Any, period: Any) -> QuerySet[Any]:
    """The figures of ``metric_ids`` for ``area_ids`` (the total series, or a category's), up to ``period``
    (None: every quarter), oldest first, as ``OBS_FIELDS`` rows."""
    rows = figure_rows(snapshot_id).filter(metric_id__in=metric_ids, area_id__in=area_ids, category_id=category_id)
    if period is not None:
        rows = rows.filter(period__lte=period)
    return rows.order_by("period").values_list(*OBS_FIELDS)


@prepared_read
def newest_by_metric() -> QuerySet[Any]:
    """Each of the partnership's measures' newest quarter with figures (None: none), each found by index
    (obs_metric_period), not by reading every observation in scope."""
    newest = in_partnership(Observation.objects.filter(metric=OuterRef("pk"))).order_by("-period").values("period")
    return in_partnership(Metric.objects.all()).annotate(last=Subquery(newest[:1])).values_list("last", flat=True)


@prepared_read(scoped=False)
def peer_memberships(*, peer_group_id: Any) -> QuerySet[Any]:
    """The peer group's memberships, with their area and group."""
    return PeerGroupMembership.objects.filter(peer_group_id=peer_group_id).select_related("area", "peer_group")


@prepared_read
def peer_rows(*, snapshot_id: Any, metric_ids: Any, area_ids: Any, category_id: Any, periods: Any) -> QuerySet[Any]:
    """(metric, area, quarter, value, numerator) of ``metric_ids`` for ``area_ids`` at ``periods``, unordered
    (the models' default orderings join metric and area only to sort)."""
    rows = figure_rows(snapshot_id).filter(
        metric_id__in=metric_ids, area_id__in=area_ids, category_id=category_id, period__in=periods
    )
    return rows.order_by().values_list("metric_id", "area_id", "period", "value", "numerator")


@prepared_read
def annotations_of(*, metric_ids: Any, area_id: Any, period: Any) -> QuerySet[Any]:
    """The partnership's annotations of ``metric_ids`` for the area or every area, up to ``period`` (None:
    all), in quarter order."""
    query = in_partnership(Annotation.objects.all()).filter(metric_id__in=metric_ids)
    query = query.filter(Q(area__isnull=True) | Q(area_id=area_id))
    if period is not None:
        query = query.filter(period__lte=period)
    return query.order_by("period", "pk")


@prepared_read(scoped=False)
def breakdown_links(*, metric_ids: Any) -> QuerySet[Any]:
    """Which breakdowns ``metric_ids`` have (the many-to-many's rows), each with its breakdown and reference
    group."""
    return Metric.breakdowns.through.objects.filter(metric_id__in=metric_ids).select_related("breakdown__reference")


@prepared_read(scoped=False)
def breakdown_link_ids(*, metric_ids: Any) -> QuerySet[Any]:
    """(metric id, breakdown id) of ``metric_ids``' breakdowns."""
    return Metric.breakdowns.through.objects.filter(metric_id__in=metric_ids).values_list("metric_id", "breakdown_id")


@prepared_read(scoped=False)
def categories_of(*, breakdown_ids: Any) -> QuerySet[Any]:
    """The categories of ``breakdown_ids``, in their order."""
    return BreakdownCategory.objects.filter(breakdown_id__in=breakdown_ids).order_by("order", "pk")


@prepared_read(scoped=False)
def category_ids_of(*, breakdown_ids: Any) -> QuerySet[Any]:
    """(category id, breakdown id) of ``breakdown_ids``' categories, in their order."""
    query = BreakdownCategory.objects.filter(breakdown_id__in=breakdown_ids).order_by("order", "pk")
    return query.values_list("pk", "breakdown_id")


@prepared_read
def newest_counted(*, snapshot_id: Any, metric_ids: Any, area_id: Any, period: Any) -> QuerySet[Any]:
    """(metric id, newest quarter) with counts by group for the area, up to ``period`` (None: any)."""
    counted = figure_rows(snapshot_id).filter(
        metric_id__in=metric_ids, area_id=area_id, category__isnull=False, numerator__isnull=False
    )
    if period is not None:
        counted = counted.filter(period__lte=period)
    return counted.values("metric_id").annotate(last=Max("period")).order_by().values_list("metric_id", "last")


@prepared_read
def category_rows(*, snapshot_id: Any, metric_ids: Any, area_ids: Any, periods: Any, up_to: Any) -> QuerySet[Any]:
    """The breakdown figures of ``metric_ids`` for ``area_ids``, at ``periods`` (None: every quarter) up to
    ``up_to`` (None: every quarter), unordered (into dicts), as ``OBS_FIELDS`` rows."""
    rows = figure_rows(snapshot_id).filter(metric_id__in=metric_ids, area_id__in=area_ids, category__isnull=False)
    if periods is not None:
        rows = rows.filter(period__in=periods)
    if up_to is not None:
        rows = rows.filter(period__lte=up_to)
    return rows.order_by().values_list(*OBS_FIELDS)

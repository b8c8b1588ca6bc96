"""Reads of metrics and observations, each in a fixed number of queries, with their statistics."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
from django.db.models import Q, QuerySet

from frameworks.models import Area, AreaType, BreakdownCategory, Framework, PeerGroupMembership

from .models import Metric, Observation
from .stats.compare import PeerComparison, peer_comparison
from .stats.spc import SpcResult, xmr


def observation_values(observations: Sequence[Any]) -> pd.Series:
    """The values of observations (missing ones left out) indexed by quarter end date."""
    data = {o.period: o.value for o in observations if o.value is not None}
    return pd.Series(data, dtype=float).sort_index()


def metric_spc(metric: Metric, observations: Sequence[Any], spc_settings: dict[str, Any] | None = None) -> SpcResult:
    """SPC of a series with the metric's settings and rebases (``metric.rebases`` should be prefetched),
    or with ``spc_settings`` (a snapshot's, as published) when given."""
    if spc_settings is None:
        rebases = [(r.period, r.reason) for r in sorted(metric.rebases.all(), key=lambda r: r.period)]
        spc_settings = {
            "screen_outliers": metric.spc_screen_outliers,
            "run_length": metric.spc_run_length,
            "trend_length": metric.spc_trend_length,
            "rebases": rebases,
        }
    rebases = sorted(spc_settings["rebases"])
    return xmr(
        observation_values(observations),
        direction=metric.direction,
        screen_outliers=spc_settings["screen_outliers"],
        run_length=spc_settings["run_length"],
        trend_length=spc_settings["trend_length"],
        rebases=[period for period, _ in rebases],
        rebase_reasons=[reason for _, reason in rebases],
    )


def peer_members(*, framework: Framework | None, area: Area, period: dt.date) -> list[Area] | None:
    """The areas of the framework's peer group on ``period`` if ``area`` is one of them, else None."""
    if framework is None or framework.peer_group_id is None:
        return None
    memberships = (
        PeerGroupMembership.objects.filter(peer_group_id=framework.peer_group_id)
        .filter(Q(valid_from__isnull=True) | Q(valid_from__lte=period))
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gte=period))
        .select_related("area")
    )
    areas = [m.area for m in memberships]
    if area.pk not in {a.pk for a in areas}:
        return None
    return areas


def comparison_at(
    *,
    metric: Metric,
    area: Area,
    category: BreakdownCategory | None,
    period: dt.date,
    framework: Framework | None,
    source: QuerySet[Any] | None = None,
) -> PeerComparison | None:
    """Peer group mean, range, rank and the national figure at ``period``; None when there are no peers
    with a value (the area has no peer group, or the metric is only published nationally)."""
    peers = peer_members(framework=framework, area=area, period=period)
    if not peers:
        return None
    peer_ids = {a.pk: a.code for a in peers}
    rows = (
        (source if source is not None else Observation.objects.all())
        .filter(metric=metric, period=period, category=category)
        .filter(Q(area_id__in=list(peer_ids)) | Q(area__type=AreaType.NATIONAL))
    )
    values: dict[str, float | None] = {}
    national: float | None = None
    for obs in rows.select_related("area"):
        if obs.area_id in peer_ids:
            values[peer_ids[obs.area_id]] = obs.value
        elif obs.area.type == AreaType.NATIONAL:
            national = obs.value
    if sum(1 for code, v in values.items() if v is not None and code != area.code) == 0:
        return None
    return peer_comparison(values, area=area.code, direction=metric.direction, period=period, national=national)


@dataclass
class SeriesData:
    metric: Metric
    area: Area
    category: BreakdownCategory | None
    observations: list[Any]
    spc: SpcResult
    comparison: PeerComparison | None


def series_observations(
    *, metric: Metric, area: Area, category: BreakdownCategory | None, source: QuerySet[Any] | None = None
) -> QuerySet[Any]:
    base = source if source is not None else Observation.objects.all()
    return base.filter(metric=metric, area=area, category=category).order_by("period")


def metric_series(
    *,
    metric: Metric,
    area: Area,
    category: BreakdownCategory | None = None,
    framework: Framework | None = None,
    source: QuerySet[Any] | None = None,
    spc_settings: dict[str, Any] | None = None,
) -> SeriesData:
    """A metric's series for an area (and category) with its SPC and its latest peer comparison.
    ``source`` and ``spc_settings`` give a snapshot's figures and settings instead of today's."""
    observations = list(series_observations(metric=metric, area=area, category=category, source=source))
    spc = metric_spc(metric, observations, spc_settings)
    latest = next((o.period for o in reversed(observations) if o.value is not None), None)
    comparison = None
    if latest is not None:
        comparison = comparison_at(
            metric=metric, area=area, category=category, period=latest, framework=framework, source=source
        )
    return SeriesData(metric, area, category, observations, spc, comparison)


def breakdown_observations(
    *,
    metric: Metric,
    area: Area,
    period: dt.date,
    categories: list[BreakdownCategory],
    source: QuerySet[Any] | None = None,
) -> dict[int, Any]:
    """The observations of each category at ``period``, by category id."""
    base = source if source is not None else Observation.objects.all()
    rows = base.filter(metric=metric, area=area, period=period, category__in=categories)
    return {obs.category_id: obs for obs in rows if obs.category_id is not None}

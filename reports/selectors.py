"""Reads that pages need, each in a fixed number of queries."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db.models import OuterRef, Prefetch, Q, Subquery

from frameworks.models import Area, AreaType, Breakdown, Framework, FrameworkMetric, PeerGroupMembership, Priority
from metrics.models import Metric, Observation
from metrics.quarters import Quarter, period_label
from metrics.selectors import metric_spc, observation_values
from metrics.stats.compare import (
    Change,
    PeerComparison,
    change_on_previous_quarter,
    change_on_same_quarter_last_year,
    peer_comparison,
)
from metrics.stats.spc import SpcResult


def current_framework() -> Framework | None:
    return (
        Framework.objects.select_related("home_area", "peer_group")
        .filter(is_current=True)
        .order_by("-updated_at", "code")
        .first()
    )


@dataclass
class LatestValue:
    metric: Metric
    observation: Observation | None
    area: Area | None = None  # the area the value is for, when it is not the page's area

    @property
    def period_label(self) -> str:
        return period_label(self.observation.period) if self.observation else ""


@dataclass
class PriorityLatest:
    priority: Priority
    rows: list[LatestValue] = field(default_factory=list)


def latest_values(*, framework: Framework, area: Area) -> list[PriorityLatest]:
    """Each priority of ``framework`` with its metrics and their latest total value for ``area``.

    A metric published only for England and Wales shows the national value, labelled as such.
    Four queries whatever the number of metrics: priorities, placements with metrics, the national
    area, latest values.
    """
    priorities = list(framework.priorities.order_by("order"))
    placements = list(
        FrameworkMetric.objects.filter(framework=framework)
        .select_related("metric__agency")
        .order_by("priority__order", "order")
    )
    national = Area.objects.filter(type=AreaType.NATIONAL).exclude(pk=area.pk).first()
    area_ids = [area.pk] + ([national.pk] if national else [])
    latest_period = (
        Observation.objects.filter(metric=OuterRef("metric"), area=OuterRef("area"), category__isnull=True)
        .order_by("-period")
        .values("period")[:1]
    )
    observations = {
        (obs.metric_id, obs.area_id): obs
        for obs in Observation.objects.filter(
            metric_id__in=[p.metric_id for p in placements],
            area_id__in=area_ids,
            category__isnull=True,
            period=Subquery(latest_period),
        )
    }
    by_priority = {p.pk: PriorityLatest(p) for p in priorities}
    for place in placements:
        own = observations.get((place.metric_id, area.pk))
        fallback = observations.get((place.metric_id, national.pk)) if national is not None else None
        if own is None and fallback is not None:
            row = LatestValue(place.metric, fallback, national)
        else:
            row = LatestValue(place.metric, own)
        by_priority[place.priority_id].rows.append(row)
    return list(by_priority.values())


def latest_period_with_data(*, area: Area) -> dt.date | None:
    return Observation.objects.filter(area=area).order_by("-period").values_list("period", flat=True).first()


# --- dashboards ---------------------------------------------------------------------------------------
SPARKLINE_QUARTERS = 12


@dataclass(frozen=True, slots=True)
class ObsRow:
    """A light observation (or snapshot observation) row: what tiles and charts read, without the cost
    of building model instances for thousands of rows."""

    metric_id: int
    area_id: int
    period: dt.date
    value: float | None
    numerator: float | None
    denominator: float | None
    missing: str
    status: str
    unit: str


OBS_FIELDS = ("metric_id", "area_id", "period", "value", "numerator", "denominator", "missing", "status", "unit")


@dataclass
class Tile:
    metric: Metric
    priority: Priority
    observations: list[ObsRow]  # the area's (or national) total series up to the quarter
    area: Area  # the area the figures are for
    national_fallback: bool
    spc: SpcResult
    latest: ObsRow | None
    change_previous: Change | None
    change_year: Change | None
    comparison: PeerComparison | None

    @property
    def variation(self) -> str | None:
        return self.spc.variation if self.latest is not None and self.latest.value is not None else None

    @property
    def variation_key(self) -> str:
        v = self.variation
        return "none" if v is None else v.removeprefix("special_cause_")

    @property
    def sparkline(self) -> list[float | None]:
        return [o.value for o in self.observations[-SPARKLINE_QUARTERS:]]


@dataclass
class Overview:
    framework: Framework
    area: Area
    period: dt.date | None
    priorities: list[tuple[Priority, list[Tile]]]
    periods: list[dt.date]
    areas: list[Area]

    @property
    def summary(self) -> dict[str, int]:
        counts = {"improvement": 0, "concern": 0, "neutral": 0, "common_cause": 0, "no_data": 0}
        for _, tiles in self.priorities:
            for tile in tiles:
                v = tile.variation
                key = "no_data" if v is None else v.removeprefix("special_cause_")
                counts[key] += 1
        return counts


def selectable_areas() -> list[Area]:
    return list(Area.objects.filter(type__in=[AreaType.NATIONAL, AreaType.POLICE_FORCE_AREA]).order_by("type", "name"))


def _rows(source: Any) -> Any:
    return source if source is not None else Observation.objects.all()


def periods_with_data(*, area: Area, source: Any = None) -> list[dt.date]:
    return list(
        _rows(source)
        .filter(area=area, value__isnull=False)
        .values_list("period", flat=True)
        .distinct()
        .order_by("-period")
    )


def _peer_ids(framework: Framework, area: Area, period: dt.date) -> dict[int, str]:
    if framework.peer_group_id is None:
        return {}
    memberships = (
        PeerGroupMembership.objects.filter(peer_group_id=framework.peer_group_id)
        .filter(Q(valid_from__isnull=True) | Q(valid_from__lte=period))
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gte=period))
        .values_list("area_id", "area__code")
    )
    ids = dict(memberships)
    return ids if area.pk in ids else {}


def overview(
    *,
    framework: Framework,
    area: Area,
    period: dt.date | None = None,
    priority: str | None = None,
    source: Any = None,
    spc_settings: dict[str, dict[str, Any]] | None = None,
) -> Overview:
    """Every metric of the framework as a tile for ``area`` at ``period`` (default: the latest quarter with
    data). A fixed number of queries whatever the number of metrics."""
    periods = periods_with_data(area=area, source=source)
    if period is None:
        period = periods[0] if periods else None
    priorities = list(framework.priorities.order_by("order"))
    if priority:
        priorities = [p for p in priorities if p.code == priority]
    placements = list(
        FrameworkMetric.objects.filter(framework=framework, priority__in=priorities)
        .select_related("metric__agency", "priority")
        .prefetch_related("metric__rebases")
        .order_by("priority__order", "order")
    )
    national = Area.objects.filter(type=AreaType.NATIONAL).exclude(pk=area.pk).first()
    area_ids = [area.pk] + ([national.pk] if national else [])
    series: dict[tuple[int, int], list[ObsRow]] = defaultdict(list)
    if period is not None and placements:
        rows = (
            _rows(source)
            .filter(
                metric_id__in=[p.metric_id for p in placements],
                area_id__in=area_ids,
                category__isnull=True,
                period__lte=period,
            )
            .order_by("period")
            .values_list(*OBS_FIELDS)
        )
        for values in rows:
            obs = ObsRow(*values)
            series[(obs.metric_id, obs.area_id)].append(obs)
    peers = _peer_ids(framework, area, period) if period is not None else {}
    tiles_by_priority: dict[int, list[Tile]] = {p.pk: [] for p in priorities}
    latest_periods: dict[int, dt.date] = {}
    tiles: list[Tile] = []
    for place in placements:
        own = series.get((place.metric_id, area.pk), [])
        fallback = not own and national is not None and bool(series.get((place.metric_id, national.pk)))
        obs_list = series[(place.metric_id, national.pk)] if fallback and national else own
        spc = metric_spc(place.metric, obs_list, spc_settings.get(place.metric.code) if spc_settings else None)
        latest = obs_list[-1] if obs_list else None
        values = observation_values(obs_list)
        tile = Tile(
            metric=place.metric,
            priority=place.priority,
            observations=obs_list,
            area=national if fallback and national else area,
            national_fallback=fallback,
            spc=spc,
            latest=latest,
            change_previous=change_on_previous_quarter(values, latest.period) if latest else None,
            change_year=change_on_same_quarter_last_year(values, latest.period) if latest else None,
            comparison=None,
        )
        if latest is not None and not fallback and peers:
            latest_periods[place.metric_id] = latest.period
        tiles.append(tile)
        tiles_by_priority[place.priority_id].append(tile)
    if latest_periods:
        peer_rows = (
            _rows(source)
            .filter(
                metric_id__in=list(latest_periods),
                area_id__in=list(peers) + ([national.pk] if national else []),
                category__isnull=True,
                period__in=set(latest_periods.values()),
            )
            .values_list("metric_id", "area_id", "period", "value")
        )
        found: dict[int, dict[str, float | None]] = defaultdict(dict)
        national_values: dict[int, float | None] = {}
        for metric_id, area_id, when, value in peer_rows:
            if when != latest_periods.get(metric_id):
                continue
            if area_id in peers:
                found[metric_id][peers[area_id]] = value
            elif national and area_id == national.pk:
                national_values[metric_id] = value
        for tile in tiles:
            values_at = found.get(tile.metric.pk, {})
            if tile.latest is not None and any(v is not None and code != area.code for code, v in values_at.items()):
                tile.comparison = peer_comparison(
                    values_at,
                    area=area.code,
                    direction=tile.metric.direction,
                    period=tile.latest.period,
                    national=national_values.get(tile.metric.pk),
                )
    return Overview(
        framework=framework,
        area=area,
        period=period,
        priorities=[(p, tiles_by_priority[p.pk]) for p in priorities],
        periods=periods,
        areas=selectable_areas(),
    )


@dataclass
class PeerBar:
    area: Area
    value: float


def peer_values(
    *, framework: Framework, metric: Metric, area: Area, period: dt.date, source: Any = None
) -> tuple[list[PeerBar], float | None]:
    """The peers' values at ``period`` (home area included) and the national value."""
    peers = _peer_ids(framework, area, period)
    national = Area.objects.filter(type=AreaType.NATIONAL).first()
    ids = list(peers) + ([national.pk] if national else [])
    rows = (
        _rows(source)
        .filter(metric=metric, period=period, category__isnull=True, area_id__in=ids)
        .select_related("area")
    )
    bars, national_value = [], None
    for obs in rows:
        if obs.value is None:
            continue
        if national and obs.area_id == national.pk:
            national_value = obs.value
        elif obs.area_id in peers:
            bars.append(PeerBar(obs.area, obs.value))
    return bars, national_value


def breakdown_values(
    *, metric: Metric, area: Area, period: dt.date, source: Any = None
) -> list[tuple[Breakdown, list[tuple[Any, Observation | None]]]]:
    """For each breakdown of the metric: its categories with the area's observation at ``period``."""
    breakdowns = list(metric.breakdowns.prefetch_related(Prefetch("categories")).select_related("reference"))
    rows = _rows(source).filter(metric=metric, area=area, period=period, category__isnull=False)
    by_category = {o.category_id: o for o in rows}
    return [(b, [(c, by_category.get(c.pk)) for c in b.categories.all()]) for b in breakdowns]


def quarter_choice(text: str | None) -> dt.date | None:
    if not text:
        return None
    try:
        return Quarter.parse(text).end_date
    except ValueError:
        return None


@dataclass
class FairnessBlock:
    metric: Metric
    breakdown: Breakdown
    period: dt.date
    cells: list[tuple[Any, Observation | None]]  # (category, observation)


def fairness_blocks(
    *, framework: Framework, area: Area, period: dt.date | None = None, source: Any = None
) -> list[FairnessBlock]:
    """Each framework metric broken down by a breakdown with a reference group: its categories at the
    latest quarter (up to ``period``) with counts. Five queries whatever the number of metrics."""
    from django.db.models import Max

    placements = list(
        FrameworkMetric.objects.filter(framework=framework, metric__breakdowns__reference__isnull=False)
        .select_related("metric")
        .prefetch_related(
            Prefetch(
                "metric__breakdowns",
                queryset=Breakdown.objects.select_related("reference").prefetch_related("categories"),
            )
        )
        .order_by("priority__order", "order")
        .distinct()
    )
    metrics = [p.metric for p in placements if p.metric.has_ratio]
    if not metrics:
        return []
    latest_query = _rows(source).filter(metric__in=metrics, area=area, category__isnull=False, numerator__isnull=False)
    if period is not None:
        latest_query = latest_query.filter(period__lte=period)
    latest = dict(latest_query.values("metric_id").annotate(last=Max("period")).values_list("metric_id", "last"))
    rows = _rows(source).filter(
        metric_id__in=list(latest), area=area, category__isnull=False, period__in=set(latest.values())
    )
    found = {(o.metric_id, o.period, o.category_id): o for o in rows}
    blocks = []
    for metric in metrics:
        when = latest.get(metric.pk)
        if when is None:
            continue
        for breakdown in metric.breakdowns.all():
            if breakdown.reference_id is None:
                continue
            cells = [(c, found.get((metric.pk, when, c.pk))) for c in breakdown.categories.all()]
            blocks.append(FairnessBlock(metric, breakdown, when, cells))
    return blocks

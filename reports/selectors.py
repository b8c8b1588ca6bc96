"""Reads that pages need, each in a fixed number of queries."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import OuterRef, Subquery

from frameworks.models import Area, AreaType, Framework, FrameworkMetric, Priority
from metrics.models import Metric, Observation
from metrics.quarters import period_label


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

"""Reads that pages need, each in a fixed number of queries."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import OuterRef, Subquery

from frameworks.models import Area, Framework, FrameworkMetric, Priority
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

    @property
    def period_label(self) -> str:
        return period_label(self.observation.period) if self.observation else ""


@dataclass
class PriorityLatest:
    priority: Priority
    rows: list[LatestValue] = field(default_factory=list)


def latest_values(*, framework: Framework, area: Area) -> list[PriorityLatest]:
    """Each priority of ``framework`` with its metrics and their latest total value for ``area``.

    Three queries whatever the number of metrics: priorities, placements with metrics, latest values.
    """
    priorities = list(framework.priorities.order_by("order"))
    placements = list(
        FrameworkMetric.objects.filter(framework=framework)
        .select_related("metric__agency")
        .order_by("priority__order", "order")
    )
    latest_period = (
        Observation.objects.filter(metric=OuterRef("metric"), area=area, category__isnull=True)
        .order_by("-period")
        .values("period")[:1]
    )
    observations = {
        obs.metric_id: obs
        for obs in Observation.objects.filter(
            metric_id__in=[p.metric_id for p in placements],
            area=area,
            category__isnull=True,
            period=Subquery(latest_period),
        )
    }
    by_priority = {p.pk: PriorityLatest(p) for p in priorities}
    for place in placements:
        by_priority[place.priority_id].rows.append(LatestValue(place.metric, observations.get(place.metric_id)))
    return list(by_priority.values())


def latest_period_with_data(*, area: Area) -> dt.date | None:
    return Observation.objects.filter(area=area).order_by("-period").values_list("period", flat=True).first()

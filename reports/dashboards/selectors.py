"""Reads that pages need, each in a fixed number of queries."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from frameworks.models import Area, AreaType, Framework, Priority
from metrics.quarters import Quarter
from reports.evidence.build import build_evidence, placements_of
from reports.evidence.items import MetricEvidence, Part
from reports.evidence.sources import LIVE, FigureSource


# --- dashboards ---------------------------------------------------------------------------------------
@dataclass
class Overview:
    framework: Framework
    area: Area
    period: dt.date | None
    priorities: list[tuple[Priority, list[MetricEvidence]]]
    periods: list[dt.date]
    areas: list[Area]

    @property
    def tiles(self) -> list[MetricEvidence]:
        return [tile for _, tiles in self.priorities for tile in tiles]

    @property
    def summary(self) -> dict[str, int]:
        """Tiles by verdict; a stale figure counts as out of date, never as an improvement or a concern."""
        counts = {"improvement": 0, "concern": 0, "neutral": 0, "common_cause": 0, "stale": 0, "no_data": 0}
        for tile in self.tiles:
            counts["no_data" if tile.verdict == "none" else tile.verdict] += 1
        return counts


def selectable_areas() -> list[Area]:
    return list(Area.objects.filter(type__in=[AreaType.NATIONAL, AreaType.POLICE_FORCE_AREA]).order_by("type", "name"))


def periods_with_data(*, area: Area, source: FigureSource = LIVE) -> list[dt.date]:
    return list(
        source.rows.filter(area=area, value__isnull=False)
        .values_list("period", flat=True)
        .distinct()
        .order_by("-period")
    )


def overview(
    *,
    framework: Framework,
    area: Area,
    period: dt.date | None = None,
    priority: str | None = None,
    source: FigureSource = LIVE,
    parts: Part = Part.PEERS,
) -> Overview:
    """Every metric of the framework (or of one priority) as evidence for ``area`` at ``period`` (default:
    the latest quarter with data). A fixed number of queries whatever the number of metrics."""
    periods = periods_with_data(area=area, source=source)
    if period is None:
        period = periods[0] if periods else None
    priorities = list(framework.priorities.order_by("order"))
    if priority:
        priorities = [p for p in priorities if p.code == priority]
    placements = placements_of(framework=framework, priority=priority)
    tiles: dict[int, list[MetricEvidence]] = {p.pk: [] for p in priorities}
    if period is not None:
        for item in build_evidence(
            framework=framework, area=area, placements=placements, period=period, source=source, parts=parts
        ):
            assert item.priority is not None
            tiles[item.priority.pk].append(item)
    return Overview(
        framework=framework,
        area=area,
        period=period,
        priorities=[(p, tiles[p.pk]) for p in priorities],
        periods=periods,
        areas=selectable_areas(),
    )


def quarter_choice(text: str | None) -> dt.date | None:
    if not text:
        return None
    try:
        return Quarter.parse(text).end_date
    except ValueError:
        return None


def priorities_evidence(
    *, framework: Framework, area: Area, parts: Part = Part.NONE
) -> list[tuple[Priority, list[MetricEvidence]]]:
    """Each priority with its metrics' evidence up to the latest figure (the home page's latest values)."""
    priorities = list(framework.priorities.order_by("order"))
    tiles: dict[int, list[MetricEvidence]] = {p.pk: [] for p in priorities}
    for item in build_evidence(framework=framework, area=area, parts=parts):
        assert item.priority is not None
        tiles[item.priority.pk].append(item)
    return [(p, tiles[p.pk]) for p in priorities]

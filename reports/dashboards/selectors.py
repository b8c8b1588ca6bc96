"""Reads that pages need, each in a fixed number of queries."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from django.core.exceptions import BadRequest
from django.db.models import QuerySet

from accounts.prepared import prepared_read
from frameworks.models import Area, AreaType, Framework, Priority
from metrics.models import CollectionRound, FrameworkMetric, Return
from metrics.quarters import Quarter
from metrics.returns.selectors import QueuedReturn, awaiting_approval, late_returns, latest_round
from reports.evidence.build import build_evidence, placements_of
from reports.evidence.items import MetricEvidence, Part
from reports.evidence.sources import LIVE, FigureSource, figure_rows
from reports.models import BoardPack, PackState, Report, ReportState, Snapshot
from reports.snapshots.services import Readiness, readiness


# --- dashboards ---------------------------------------------------------------------------------------
@dataclass
class Overview:
    framework: Framework
    area: Area
    period: dt.date | None
    priorities: list[tuple[Priority, list[MetricEvidence]]]
    periods: list[dt.date]
    areas: list[Area]
    choices: list[Priority] = field(default_factory=list)  # every priority of the framework (the filter's)

    @property
    def tiles(self) -> list[MetricEvidence]:
        return [tile for _, tiles in self.priorities for tile in tiles]

    @cached_property
    def summary(self) -> dict[str, int]:
        """Tiles by verdict; a stale figure counts as out of date, never as an improvement or a concern.
        Counted once (the page reads it six times, a count at a time)."""
        counts = {"improvement": 0, "concern": 0, "neutral": 0, "common_cause": 0, "stale": 0, "no_data": 0}
        for tile in self.tiles:
            counts["no_data" if tile.verdict == "none" else tile.verdict] += 1
        return counts


@prepared_read(scoped=False)
def _selectable_areas() -> QuerySet[Any]:
    return Area.objects.filter(type__in=[AreaType.NATIONAL, AreaType.POLICE_FORCE_AREA]).order_by("type", "name")


def selectable_areas() -> list[Area]:
    return _selectable_areas.read()


@prepared_read
def _periods_with_data(*, snapshot_id: Any, area_id: Any) -> QuerySet[Any]:
    rows = figure_rows(snapshot_id).filter(area_id=area_id, value__isnull=False)
    return rows.values_list("period", flat=True).distinct().order_by("-period")


def periods_with_data(*, area: Area, source: FigureSource = LIVE) -> list[dt.date]:
    return _periods_with_data.read(snapshot_id=source.snapshot_id, area_id=area.pk)


@prepared_read(scoped=False)
def _priorities_of(*, framework_id: Any) -> QuerySet[Any]:
    return Priority.objects.filter(framework_id=framework_id).order_by("order")


def priorities_of(framework: Framework) -> list[Priority]:
    """The framework's priorities, in order."""
    return _priorities_of.read(framework_id=framework.pk)


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
    choices = priorities = priorities_of(framework)
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
        choices=choices,
    )


class UnknownQuarter(BadRequest):
    """``?quarter=`` names no quarter: the page answers 400 with this message, never ignores it silently."""


def quarter_choice(text: str | None) -> dt.date | None:
    """The quarter ``?quarter=`` asks for (``2023/24 Q4`` or ``2024-03-31``), ``None`` when it asks none."""
    if not text or not text.strip():
        return None
    try:
        return Quarter.parse(text).end_date
    except ValueError:
        raise UnknownQuarter(
            f"Unknown quarter '{text.strip()[:40]}': use a label like 2023/24 Q4 (or a quarter end date like 2024-03-31)."
        ) from None


def fairness_periods(*, placements: list[FrameworkMetric], area: Area, source: FigureSource = LIVE) -> list[dt.date]:
    """The quarters, latest first, in which any of ``placements``' metrics has counts by group for ``area``
    (the fairness page's picker; its default is the first). One query."""
    return _counted_periods.read(
        snapshot_id=source.snapshot_id, metric_ids=[p.metric_id for p in placements], area_id=area.pk
    )


@prepared_read
def _counted_periods(*, snapshot_id: Any, metric_ids: Any, area_id: Any) -> QuerySet[Any]:
    rows = figure_rows(snapshot_id).filter(
        metric_id__in=metric_ids, area_id=area_id, category__isnull=False, numerator__isnull=False
    )
    return rows.values_list("period", flat=True).distinct().order_by("-period")


def priorities_evidence(
    *, framework: Framework, area: Area, parts: Part = Part.NONE
) -> list[tuple[Priority, list[MetricEvidence]]]:
    """Each priority with its metrics' evidence up to the latest figure (the home page's latest values)."""
    priorities = priorities_of(framework)
    tiles: dict[int, list[MetricEvidence]] = {p.pk: [] for p in priorities}
    for item in build_evidence(framework=framework, area=area, parts=parts):
        assert item.priority is not None
        tiles[item.priority.pk].append(item)
    return [(p, tiles[p.pk]) for p in priorities]


# --- the home page's work queues ---------------------------------------------------------------------------
RECENT_PACKS = 5


@dataclass
class ManagerQueue:
    awaiting: list[Return]
    late: list[QueuedReturn]
    round: CollectionRound | None
    readiness: Readiness | None
    reports: list[Report]  # in draft or in review
    packs: list[BoardPack]  # built lately


@dataclass
class BoardQueue:
    report: Report | None  # the latest published report
    pack: BoardPack | None  # its board pack
    previous: Snapshot | None  # the snapshot before the report's
    revisions: int  # values revised since the previous snapshot


def manager_queue(*, today: dt.date | None = None) -> ManagerQueue:
    """Returns awaiting approval, late agencies, the latest round's readiness to publish, reports still in
    draft or review, and the packs built lately, of the current partnership. A fixed number of queries."""
    latest = latest_round()
    return ManagerQueue(
        awaiting=awaiting_approval(),
        late=late_returns(today=today),
        round=latest,
        readiness=readiness(period=latest.period) if latest is not None else None,
        reports=list(
            Report.objects.in_scope()
            .exclude(state=ReportState.PUBLISHED)
            .select_related("snapshot")
            .order_by("-snapshot__period", "-snapshot__number")
        ),
        packs=list(
            BoardPack.objects.in_scope()
            .filter(state=PackState.READY)
            .select_related("report__snapshot")
            .defer("pdf", "docx", "report__executive_summary", "report__public_summary")
            .order_by("-finished_at", "-created_at")[:RECENT_PACKS]
        ),
    )


def board_queue() -> BoardQueue:
    """The current partnership's latest published report, its board pack and what changed since its
    snapshot before it. A fixed number of queries."""
    report = (
        Report.objects.in_scope()
        .filter(state=ReportState.PUBLISHED)
        .select_related("snapshot")
        .order_by("-published_at", "-pk")
        .first()
    )
    if report is None:
        return BoardQueue(report=None, pack=None, previous=None, revisions=0)
    pack = (
        BoardPack.objects.filter(report=report, public=False, state=PackState.READY)
        .defer("pdf", "docx")
        .order_by("-finished_at", "-created_at")
        .first()
    )
    snapshot = report.snapshot
    previous = (
        Snapshot.objects.in_scope()
        .filter(published_at__lt=snapshot.published_at)
        .defer("framework_file", "annotations")
        .order_by("-published_at", "-pk")
        .first()
    )
    return BoardQueue(report=report, pack=pack, previous=previous, revisions=snapshot.revisions.count())

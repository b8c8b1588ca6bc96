"""The one evidence builder: everything shown about a measure, decided once.

Given metrics, an area, a quarter and a source of figures (approved data as it stands, or a snapshot with
its frozen SPC settings), ``build_evidence`` returns one ``MetricEvidence`` per metric: the series, its SPC,
changes on the previous quarter and a year before, the peer comparison and national figure, breakdowns and
disproportionality, annotations, the data vintage, the chart figures and the plain-English finding.
Dashboards, report editions, the PDF pack and the JSON API all read it, so a measure reads the same
everywhere. Rules decided here, once:

- National fallback: a metric with no total series for the area but one for England and Wales shows the
  national series, labelled as such (``national_fallback``); it gets no peer comparison.
- The latest figure is the last quarter with a value up to the quarter asked for.
- Peers: the framework's peer group at the latest figure's quarter; a comparison only when at least one
  other peer has a figure.
- Breakdowns are read at the latest figure's quarter; disproportionality at the latest quarter (up to the
  one asked for) with counts by group.

Fetches run in a fixed number of queries whatever the number of metrics; ``parts`` says which optional
evidence a view needs (a tile needs no breakdowns), never how it is computed.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import pandas as pd
from django.conf import settings
from django.db.models import Max, Prefetch, Q, QuerySet

from frameworks.models import (
    Area,
    AreaType,
    Breakdown,
    BreakdownCategory,
    Framework,
    FrameworkMetric,
    PeerGroupMembership,
    Priority,
)
from metrics.figures import metric_spc, observation_values
from metrics.models import Metric, Observation
from metrics.quarters import period_label
from metrics.stats.compare import (
    Change,
    PeerComparison,
    change_on_previous_quarter,
    change_on_same_quarter_last_year,
    peer_comparison,
)
from metrics.stats.disproportionality import GroupRate, relative_rates
from metrics.stats.spc import SpcResult
from metrics.stats.suppression import missing_symbol, status_symbol

from . import charts, findings
from .models import Annotation, Snapshot, SnapshotObservation

SPARKLINE_QUARTERS = 12


# --- where figures come from ------------------------------------------------------------------------------
class FigureSource:
    """Approved data as it stands now, or a snapshot's copy with the SPC settings it was published with."""

    def __init__(self, snapshot: Snapshot | None = None) -> None:
        self.snapshot = snapshot

    @property
    def rows(self) -> QuerySet[Any]:
        if self.snapshot is None:
            return Observation.objects.all()
        return SnapshotObservation.objects.filter(snapshot=self.snapshot)

    @cached_property
    def spc_settings(self) -> dict[str, dict[str, Any]] | None:
        """Each metric's SPC settings and rebases by code, as the snapshot published them (None: live)."""
        if self.snapshot is None:
            return None
        from .snapshots import snapshot_spc_settings

        return snapshot_spc_settings(self.snapshot)

    def spc_settings_for(self, metric: Metric) -> dict[str, Any] | None:
        return self.spc_settings.get(metric.code) if self.spc_settings is not None else None

    @property
    def caption(self) -> str:
        if self.snapshot is None:
            return ""
        when = self.snapshot.published_at.strftime("%d %B %Y")
        return f"As published in snapshot {self.snapshot.number} of {period_label(self.snapshot.period)} on {when}."


LIVE = FigureSource()


@dataclass(frozen=True, slots=True)
class ObsRow:
    """A light observation (or snapshot observation) row, without the cost of model instances."""

    metric_id: int
    area_id: int
    period: dt.date
    value: float | None
    numerator: float | None
    denominator: float | None
    missing: str
    status: str
    unit: str
    category_id: int | None = None

    @property
    def symbol(self) -> str:
        """The GSS symbol of the row: [x]/[z] when missing, else [p]/[r] from its status."""
        return missing_symbol(self.missing) if self.value is None else status_symbol(self.status)


OBS_FIELDS = (
    "metric_id",
    "area_id",
    "period",
    "value",
    "numerator",
    "denominator",
    "missing",
    "status",
    "unit",
    "category_id",
)


def _obs_rows(queryset: QuerySet[Any]) -> Iterable[ObsRow]:
    for values in queryset.values_list(*OBS_FIELDS):
        yield ObsRow(*values)


# --- the evidence ---------------------------------------------------------------------------------------------
class Part(enum.Flag):
    """Optional evidence a view asks for (what to fetch; how it is computed does not change)."""

    NONE = 0
    PEERS = enum.auto()
    ANNOTATIONS = enum.auto()
    BREAKDOWNS = enum.auto()
    FAIRNESS = enum.auto()
    ALL = PEERS | ANNOTATIONS | BREAKDOWNS | FAIRNESS


@dataclass
class PeerBar:
    area: Area
    value: float


@dataclass
class SeriesRow:
    """One quarter of a measure's table: value at the metric's precision, symbol, variation and limits."""

    obs: ObsRow
    label: str
    value: str
    symbol: str
    cause: str
    mean: float | None
    lower: float | None
    upper: float | None


@dataclass
class BreakdownEvidence:
    breakdown: Breakdown
    period: dt.date
    cells: list[tuple[BreakdownCategory, ObsRow | None]]

    @property
    def values(self) -> list[tuple[str, float | None]]:
        return [(c.name, o.value if o else None) for c, o in self.cells]

    @property
    def has_values(self) -> bool:
        return any(v is not None for _, v in self.values)


@dataclass
class FairnessEvidence:
    """Rates by group against the breakdown's reference group at one quarter, with 95% intervals."""

    metric: Metric
    area: Area
    breakdown: Breakdown
    reference: BreakdownCategory
    period: dt.date
    cells: list[tuple[BreakdownCategory, ObsRow | None]]
    groups: list[GroupRate]

    @property
    def labels(self) -> dict[str, str]:
        return {c.code: c.name for c, _ in self.cells}

    @property
    def reference_counts(self) -> ObsRow | None:
        return next((o for c, o in self.cells if c.pk == self.reference.pk), None)

    @property
    def reference_rate(self) -> float | None:
        ref = self.reference_counts
        if ref is None or ref.numerator is None or not ref.denominator:
            return None
        return ref.numerator / ref.denominator * 1000

    @property
    def sentences(self) -> list[str]:
        return findings.disproportionality_sentences(
            self.groups, reference_name=self.reference.name, labels=self.labels
        )

    @property
    def title(self) -> str:
        return (
            f"{self.metric.name}: rate ratio by {self.breakdown.name.lower()}, {self.area.name}, "
            f"{period_label(self.period)}"
        )

    def figure(self) -> Any:
        return charts.disproportionality_figure(
            title=self.title, reference=self.reference.code, groups=self.groups, labels=self.labels
        )


def fairness_at(
    *,
    metric: Metric,
    area: Area,
    breakdown: Breakdown,
    period: dt.date,
    cells: list[tuple[BreakdownCategory, ObsRow | None]],
) -> FairnessEvidence:
    """Disproportionality of one breakdown at one quarter from its cells (every caller goes through here)."""
    assert breakdown.reference is not None
    table = pd.DataFrame(
        [
            {"category": c.code, "numerator": o.numerator if o else None, "denominator": o.denominator if o else None}
            for c, o in cells
        ],
        columns=["category", "numerator", "denominator"],
    )
    groups = relative_rates(
        table, reference=breakdown.reference.code, min_count=settings.PCC_PERF_SUPPRESSION_THRESHOLD + 1
    )
    return FairnessEvidence(metric, area, breakdown, breakdown.reference, period, cells, groups)


@dataclass
class MetricEvidence:
    metric: Metric
    priority: Priority | None
    requested_area: Area  # the area asked for
    area: Area  # the area the figures are for (England and Wales when ``national_fallback``)
    national_fallback: bool
    category: BreakdownCategory | None
    period: dt.date | None  # the quarter asked for (None: the latest)
    series: list[ObsRow]
    spc: SpcResult
    source: FigureSource
    change_previous: Change | None = None
    change_year: Change | None = None
    comparison: PeerComparison | None = None
    peers: list[PeerBar] = field(default_factory=list)
    national_value: float | None = None
    breakdowns: list[BreakdownEvidence] = field(default_factory=list)
    fairness: list[FairnessEvidence] = field(default_factory=list)
    annotations: list[Annotation] = field(default_factory=list)

    # --- the figures
    @property
    def latest(self) -> ObsRow | None:
        """The latest quarter with a value (up to the quarter asked for)."""
        return next((o for o in reversed(self.series) if o.value is not None), None)

    @property
    def vintage(self) -> dt.date | None:
        latest = self.latest
        return latest.period if latest else None

    @property
    def quarter_label(self) -> str:
        return period_label(self.vintage) if self.vintage else ""

    @property
    def has_figures(self) -> bool:
        return self.latest is not None

    def format(self, value: float | None) -> str:
        return findings.format_value(value, self.metric.unit)

    @property
    def latest_text(self) -> str:
        latest = self.latest
        return self.format(latest.value) if latest else "[x]"

    # --- variation
    @property
    def variation(self) -> str | None:
        return self.spc.variation if self.latest is not None else None

    @property
    def variation_key(self) -> str:
        v = self.variation
        return "none" if v is None else v.removeprefix("special_cause_")

    @property
    def variation_short(self) -> str:
        return findings.VARIATION_SHORT[self.variation]

    @property
    def sparkline(self) -> list[float | None]:
        return [o.value for o in self.series[-SPARKLINE_QUARTERS:]]

    # --- words
    @property
    def title(self) -> str:
        return f"{self.metric.name}, {self.area.name}"

    @property
    def finding(self) -> str:
        """The plain-English finding, which is also the XmR chart's text alternative."""
        if not self.has_figures:
            return f"No figures for {self.metric.name} in {self.requested_area.name}."
        return findings.spc_text(self.metric, self.spc, area_name=self.area.name)

    @property
    def peer_text(self) -> str:
        return findings.peer_text(self.comparison, self.metric.unit, self.area.name)

    @property
    def unit_label(self) -> str:
        return self.metric.get_unit_display()

    def rows(self) -> list[SeriesRow]:
        """The series as a table: value at the metric's precision, symbol, variation, the segment's limits."""
        points = {p.period: p for p in self.spc.points}
        segments = {p.period: self.spc.segments[p.segment] for p in self.spc.points}
        out = []
        for obs in self.series:
            point, seg = points.get(obs.period), segments.get(obs.period)
            present = obs.value is not None
            out.append(
                SeriesRow(
                    obs=obs,
                    label=period_label(obs.period),
                    value=self.format(obs.value) if present else missing_symbol(obs.missing),
                    symbol=status_symbol(obs.status) if present else "",
                    cause=findings.cause_text_short(point.special_cause if point else None) if present else "",
                    mean=seg.mean if seg else None,
                    lower=seg.lower_limit if seg else None,
                    upper=seg.upper_limit if seg else None,
                )
            )
        return out

    # --- charts
    def xmr_figure(self) -> Any:
        return charts.xmr_figure(
            title=self.title,
            unit_label=self.unit_label,
            observations=self.series,
            spc=self.spc,
            annotations=[(n.period, n.label) for n in self.annotations],
        )

    def peer_figure(self) -> Any | None:
        """The peers' bar chart (home area highlighted, national line), when there is more than one peer."""
        if len(self.peers) < 2 or self.latest is None:
            return None
        return charts.peer_figure(
            title=f"{self.metric.name}: peers, {self.quarter_label}",
            unit_label=self.unit_label,
            values=[(b.area.name, b.value) for b in self.peers],
            home=self.area.name,
            national=self.national_value,
        )

    def breakdown_figure(self, item: BreakdownEvidence) -> Any:
        return charts.breakdown_figure(
            title=f"{self.metric.name} by {item.breakdown.name.lower()}, {period_label(item.period)}",
            unit_label=self.unit_label,
            values=item.values,
        )

    def breakdown_text(self, item: BreakdownEvidence) -> str:
        described = "; ".join(f"{name} {self.format(v)}" for name, v in item.values if v is not None)
        return (
            f"{self.metric.name} in {self.area.name} by {item.breakdown.name.lower()}, "
            f"{period_label(item.period)}: {described}."
        )


# --- the builder ---------------------------------------------------------------------------------------------
def national_area(*, exclude: Area | None = None) -> Area | None:
    query = Area.objects.filter(type=AreaType.NATIONAL)
    if exclude is not None:
        query = query.exclude(pk=exclude.pk)
    return query.order_by("pk").first()


def placements_of(*, framework: Framework, priority: str | None = None) -> list[FrameworkMetric]:
    """The framework's metrics in order, with what evidence needs (metric, agency, priority, rebases)."""
    query = FrameworkMetric.objects.filter(framework=framework)
    if priority:
        query = query.filter(priority__code=priority)
    return list(
        query.select_related("metric__agency", "priority")
        .prefetch_related("metric__rebases")
        .order_by("priority__order", "order")
    )


def build_evidence(
    *,
    framework: Framework | None,
    area: Area,
    placements: Sequence[FrameworkMetric] | None = None,
    metrics: Sequence[Metric] | None = None,
    period: dt.date | None = None,
    source: FigureSource = LIVE,
    category: BreakdownCategory | None = None,
    parts: Part = Part.PEERS,
) -> list[MetricEvidence]:
    """Evidence for each metric (``placements`` of the framework, or bare ``metrics``) for ``area`` up to
    ``period``, in a fixed number of queries whatever the number of metrics."""
    if placements is None and metrics is None:
        placements = placements_of(framework=framework) if framework is not None else []
    items: list[tuple[Metric, Priority | None]] = (
        [(p.metric, p.priority) for p in placements] if placements is not None else [(m, None) for m in metrics or []]
    )
    if not items:
        return []
    metric_ids = [m.pk for m, _ in items]
    national = national_area(exclude=area)
    area_ids = [area.pk] + ([national.pk] if national else [])
    rows = source.rows.filter(metric_id__in=metric_ids, area_id__in=area_ids, category=category)
    if period is not None:
        rows = rows.filter(period__lte=period)
    series: dict[tuple[int, int], list[ObsRow]] = defaultdict(list)
    for obs in _obs_rows(rows.order_by("period")):
        series[(obs.metric_id, obs.area_id)].append(obs)

    out: list[MetricEvidence] = []
    for metric, priority in items:
        own = series.get((metric.pk, area.pk), [])
        national_series = series.get((metric.pk, national.pk), []) if national is not None else []
        fallback = national is not None and not any(o.value is not None for o in own) and bool(national_series)
        observations = national_series if fallback else own
        spc = metric_spc(metric, observations, source.spc_settings_for(metric))
        evidence = MetricEvidence(
            metric=metric,
            priority=priority,
            requested_area=area,
            area=national if fallback and national is not None else area,
            national_fallback=fallback,
            category=category,
            period=period,
            series=observations,
            spc=spc,
            source=source,
        )
        latest = evidence.latest
        if latest is not None:
            values = observation_values(observations)
            evidence.change_previous = change_on_previous_quarter(values, latest.period)
            evidence.change_year = change_on_same_quarter_last_year(values, latest.period)
        out.append(evidence)

    if parts & Part.PEERS:
        _add_peers(out, framework=framework, area=area, national=national, source=source, category=category)
    if parts & Part.ANNOTATIONS:
        _add_annotations(out, area=area, period=period)
    if parts & (Part.BREAKDOWNS | Part.FAIRNESS) and category is None:
        _add_breakdowns(out, area=area, period=period, source=source, parts=parts)
    return out


def metric_evidence(
    *,
    framework: Framework | None,
    metric: Metric,
    area: Area,
    period: dt.date | None = None,
    source: FigureSource = LIVE,
    category: BreakdownCategory | None = None,
    parts: Part = Part.ALL,
) -> MetricEvidence:
    """One metric's evidence (the metric page, the API)."""
    place = (
        FrameworkMetric.objects.filter(framework=framework, metric=metric).select_related("priority").first()
        if framework is not None
        else None
    )
    (evidence,) = build_evidence(
        framework=framework,
        area=area,
        metrics=[metric],
        period=period,
        source=source,
        category=category,
        parts=parts,
    )
    evidence.priority = place.priority if place else None
    return evidence


def _peer_areas(framework: Framework | None, area: Area, periods: set[dt.date]) -> dict[dt.date, dict[int, Area]]:
    """The framework's peer group members at each of ``periods``, when ``area`` is one of them."""
    if framework is None or framework.peer_group_id is None or not periods:
        return {}
    memberships = list(PeerGroupMembership.objects.filter(peer_group_id=framework.peer_group_id).select_related("area"))
    out: dict[dt.date, dict[int, Area]] = {}
    for when in periods:
        members = {
            m.area_id: m.area
            for m in memberships
            if (m.valid_from is None or m.valid_from <= when) and (m.valid_to is None or m.valid_to >= when)
        }
        if area.pk in members:
            out[when] = members
    return out


def _add_peers(
    evidence: list[MetricEvidence],
    *,
    framework: Framework | None,
    area: Area,
    national: Area | None,
    source: FigureSource,
    category: BreakdownCategory | None,
) -> None:
    wanted = {e.metric.pk: e.latest.period for e in evidence if e.latest is not None and not e.national_fallback}
    if not wanted:
        return
    peers = _peer_areas(framework, area, set(wanted.values()))
    area_ids = {a for members in peers.values() for a in members} | ({national.pk} if national else set())
    rows = source.rows.filter(
        metric_id__in=list(wanted), area_id__in=area_ids, category=category, period__in=set(wanted.values())
    ).values_list("metric_id", "area_id", "period", "value")
    values: dict[int, dict[int, float | None]] = defaultdict(dict)
    national_values: dict[int, float | None] = {}
    for metric_id, area_id, when, value in rows:
        if when != wanted[metric_id]:
            continue
        if national is not None and area_id == national.pk:
            national_values[metric_id] = value
        if area_id in peers.get(when, {}):
            values[metric_id][area_id] = value
    for item in evidence:
        when = wanted.get(item.metric.pk)
        if when is None:
            continue
        members = peers.get(when, {})
        found = values.get(item.metric.pk, {})
        item.national_value = national_values.get(item.metric.pk)
        item.peers = [PeerBar(members[a], v) for a, v in found.items() if v is not None]
        if any(v is not None and a != area.pk for a, v in found.items()):
            item.comparison = peer_comparison(
                {members[a].code: v for a, v in found.items()},
                area=area.code,
                direction=item.metric.direction,
                period=when,
                national=item.national_value,
            )


def _add_annotations(evidence: list[MetricEvidence], *, area: Area, period: dt.date | None) -> None:
    notes: dict[int, list[Annotation]] = defaultdict(list)
    query = Annotation.objects.filter(metric_id__in=[e.metric.pk for e in evidence]).filter(
        Q(area__isnull=True) | Q(area=area)
    )
    if period is not None:
        query = query.filter(period__lte=period)
    for note in query.order_by("period", "pk"):
        notes[note.metric_id].append(note)
    for item in evidence:
        item.annotations = notes.get(item.metric.pk, [])


def _add_breakdowns(
    evidence: list[MetricEvidence], *, area: Area, period: dt.date | None, source: FigureSource, parts: Part
) -> None:
    """Each metric's breakdowns at its latest figure's quarter, and disproportionality (for breakdowns with a
    reference group) at the latest quarter with counts by group."""
    by_metric = {e.metric.pk: e for e in evidence if not e.national_fallback}
    breakdowns: dict[int, list[Breakdown]] = defaultdict(list)
    through = Metric.breakdowns.through.objects.filter(metric_id__in=list(by_metric)).select_related(
        "breakdown__reference"
    )
    categories: dict[int, list[BreakdownCategory]] = defaultdict(list)
    links = list(through)
    for cat in BreakdownCategory.objects.filter(breakdown_id__in={link.breakdown_id for link in links}).order_by(
        "order", "pk"
    ):
        categories[cat.breakdown_id].append(cat)
    for link in sorted(links, key=lambda link: (link.breakdown.name, link.breakdown_id)):
        breakdowns[link.metric_id].append(link.breakdown)
    if not breakdowns:
        return
    fair_ids = [m for m, bs in breakdowns.items() if any(b.reference_id for b in bs) and by_metric[m].metric.has_ratio]
    fair_periods: dict[int, dt.date] = {}
    if parts & Part.FAIRNESS and fair_ids:
        counted = source.rows.filter(metric_id__in=fair_ids, area=area, category__isnull=False, numerator__isnull=False)
        if period is not None:
            counted = counted.filter(period__lte=period)
        fair_periods = dict(
            counted.values("metric_id").annotate(last=Max("period")).order_by().values_list("metric_id", "last")
        )
    periods = {e.latest.period for m, e in by_metric.items() if m in breakdowns and e.latest} | set(
        fair_periods.values()
    )
    cells: dict[tuple[int, dt.date, int], ObsRow] = {}
    if periods:
        rows = source.rows.filter(metric_id__in=list(breakdowns), area=area, category__isnull=False, period__in=periods)
        for obs in _obs_rows(rows):
            assert obs.category_id is not None
            cells[(obs.metric_id, obs.period, obs.category_id)] = obs
    for metric_id, metric_breakdowns in breakdowns.items():
        item = by_metric[metric_id]
        for breakdown in metric_breakdowns:
            cats = categories.get(breakdown.pk, [])
            latest = item.latest
            if parts & Part.BREAKDOWNS and latest is not None:
                item.breakdowns.append(
                    BreakdownEvidence(
                        breakdown, latest.period, [(c, cells.get((metric_id, latest.period, c.pk))) for c in cats]
                    )
                )
            when = fair_periods.get(metric_id)
            if breakdown.reference_id is not None and when is not None:
                item.fairness.append(
                    fairness_at(
                        metric=item.metric,
                        area=area,
                        breakdown=breakdown,
                        period=when,
                        cells=[(c, cells.get((metric_id, when, c.pk))) for c in cats],
                    )
                )


def breakdown_cells(
    *, metric: Metric, area: Area, period: dt.date, breakdown: Breakdown, source: FigureSource = LIVE
) -> list[tuple[BreakdownCategory, ObsRow | None]]:
    """A breakdown's categories with the area's figures at ``period`` (the API's disproportionality)."""
    found = {
        o.category_id: o
        for o in _obs_rows(source.rows.filter(metric=metric, area=area, period=period, category__isnull=False))
    }
    return [(c, found.get(c.pk)) for c in breakdown.categories.all()]


def fairness_metrics(*, framework: Framework) -> list[FrameworkMetric]:
    """The framework's placements whose metric has a breakdown with a reference group and counts."""
    places = (
        FrameworkMetric.objects.filter(framework=framework, metric__breakdowns__reference__isnull=False)
        .select_related("metric__agency", "priority")
        .prefetch_related(
            "metric__rebases",
            Prefetch("metric__breakdowns", queryset=Breakdown.objects.select_related("reference")),
        )
        .order_by("priority__order", "order")
        .distinct()
    )
    return [p for p in places if p.metric.has_ratio]

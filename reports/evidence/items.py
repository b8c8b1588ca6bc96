"""What the evidence builder returns: a measure's evidence, its breakdowns and its disproportionality."""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from django.conf import settings

from frameworks.models import (
    Area,
    Breakdown,
    BreakdownCategory,
    Priority,
)
from metrics.models import Metric
from metrics.quarters import period_label
from metrics.stats.compare import (
    Change,
    PeerComparison,
)
from metrics.stats.disproportionality import GroupRate, relative_rates
from metrics.stats.spc import SpcResult
from metrics.stats.suppression import missing_symbol, status_symbol
from reports import charts, wording
from reports.evidence.sources import FigureSource, ObsRow
from reports.models import Annotation

SPARKLINE_QUARTERS = 12


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
        return wording.disproportionality_sentences(self.groups, reference_name=self.reference.name, labels=self.labels)

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
        return wording.format_value(value, self.metric.unit)

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
        return wording.VARIATION_SHORT[self.variation]

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
        return wording.spc_text(self.metric, self.spc, area_name=self.area.name)

    @property
    def peer_text(self) -> str:
        return wording.peer_text(self.comparison, self.metric.unit, self.area.name)

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
                    cause=wording.cause_text_short(point.special_cause if point else None) if present else "",
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

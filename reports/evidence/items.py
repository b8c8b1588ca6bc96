"""What the evidence builder returns: a measure's evidence, its breakdowns and its disproportionality."""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from django.conf import settings

from frameworks.models import (
    Area,
    Breakdown,
    BreakdownCategory,
    Priority,
)
from metrics.figures import quarters_between_points
from metrics.models import Metric
from metrics.quarters import period_label
from metrics.stats.compare import Change, PeerComparison, default_comparable
from metrics.stats.currency import Staleness, staleness
from metrics.stats.disproportionality import GroupRate, recorded_share, relative_rates, withheld_reason, withhold
from metrics.stats.findings import latest_signal, plain_finding
from metrics.stats.presentation import display_decimals, format_change, format_value
from metrics.stats.rebase import SuggestedRebase, suggest_rebases
from metrics.stats.spc import SpcResult
from metrics.stats.suppression import CONFIDENTIAL, SUPPRESSED, missing_symbol, status_symbol
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
    mean_text: str = ""
    lower_text: str = ""
    upper_text: str = ""


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
    recorded_share: float | None = None  # share of records with the characteristic recorded (0-1)
    min_recorded: float | None = None
    withheld: str | None = None  # why every ratio is withheld, or None
    trend: list[FairnessEvidence] = field(default_factory=list)  # the last 8 quarters with counts, oldest first
    national_trend: list[FairnessEvidence] = field(default_factory=list)  # England and Wales, same quarters

    @property
    def trend_groups(self) -> list[str]:
        return [c.code for c, _ in self.cells if c.pk not in (self.reference.pk, self.breakdown.not_recorded_id)]

    def trend_rows(self) -> list[tuple[str, float | None, str | None, list[float | None]]]:
        """Per quarter: its label, the recorded share, why ratios are withheld (or None), each group's ratio."""
        out = []
        for item in self.trend:
            ratios = {g.category: g.ratio for g in item.groups}
            out.append(
                (
                    period_label(item.period),
                    item.recorded_share,
                    item.withheld,
                    [ratios.get(code) for code in self.trend_groups],
                )
            )
        return out

    @property
    def recorded_text(self) -> str:
        """ "ethnicity recorded for 92% of records", or "" when the breakdown declares no not-recorded category."""
        if self.recorded_share is None:
            return ""
        return f"{self.breakdown.name.split(' (')[0].lower()} recorded for {self.recorded_share * 100:.0f}% of records"

    @property
    def labels(self) -> dict[str, str]:
        return {c.code: c.name for c, _ in self.cells}

    @property
    def reference_counts(self) -> ObsRow | None:
        return next((o for c, o in self.cells if c.pk == self.reference.pk), None)

    @property
    def per(self) -> float:
        """Rates are per 1,000 people, or per 100 records (a percentage, e.g. searches leading to arrest)."""
        return rate_base(self.metric.unit)

    @property
    def rate_label(self) -> str:
        return "Share (%)" if self.per == 100 else "Rate per 1,000"

    @property
    def base_label(self) -> str:
        """What the denominator counts: people (a population) or the records the share is of."""
        return "Out of" if self.per == 100 else "Population"

    @property
    def reference_rate(self) -> float | None:
        ref = self.reference_counts
        if ref is None or ref.numerator is None or not ref.denominator:
            return None
        return ref.numerator / ref.denominator * self.per

    @property
    def chart_text(self) -> str:
        """The ratio chart's text alternative: what it shows (the sentences are printed beside it)."""
        return (
            f"Chart of each group's rate ratio to {self.reference.name} people with its 95% interval, on a log "
            f"scale, {period_label(self.period)}; the ratios are listed above and in the table."
        )

    @property
    def sentences(self) -> list[str]:
        if self.withheld:
            return [f"Ratios between groups are withheld: {self.withheld}."]
        return wording.disproportionality_sentences(self.groups, reference_name=self.reference.name, labels=self.labels)

    @property
    def title(self) -> str:
        return (
            f"{self.metric.name}: rate ratio by {self.breakdown.name.lower()}, {self.area.name}, "
            f"{period_label(self.period)}"
        )

    def figure(self) -> Any:
        return charts.disproportionality_chart(
            title=self.title, reference=self.reference.code, groups=self.groups, labels=self.labels
        )


def rate_base(unit: str) -> float:
    return 100.0 if unit == "percentage" else 1000.0


def fairness_at(
    *,
    metric: Metric,
    area: Area,
    breakdown: Breakdown,
    period: dt.date,
    cells: list[tuple[BreakdownCategory, ObsRow | None]],
    total: ObsRow | None = None,
) -> FairnessEvidence:
    """Disproportionality of one breakdown at one quarter from its cells and the total row (every caller goes
    through here). Ratios are withheld when the characteristic is recorded for too few records; small counts
    keep their ratio with a flag (public outputs suppress them)."""
    assert breakdown.reference is not None
    table = [
        {"category": c.code, "numerator": o.numerator if o else None, "denominator": o.denominator if o else None}
        for c, o in cells
        if c.pk != breakdown.not_recorded_id
    ]
    groups = relative_rates(
        table,
        reference=breakdown.reference.code,
        min_count=1,
        small_count=settings.PCC_PERF_SUPPRESSION_THRESHOLD,
        per=rate_base(metric.unit),
    )
    not_recorded = next((c.code for c, _ in cells if c.pk == breakdown.not_recorded_id), None)
    share = recorded_share(
        {c.code: o.numerator if o else None for c, o in cells},
        total.numerator if total is not None else None,
        not_recorded,
    )
    reason = withheld_reason(
        share,
        breakdown.min_recorded,
        characteristic=breakdown.name.split(" (")[0].lower(),
    )
    return FairnessEvidence(
        metric,
        area,
        breakdown,
        breakdown.reference,
        period,
        cells,
        withhold(groups, reason),
        recorded_share=share,
        min_recorded=breakdown.min_recorded,
        withheld=reason,
    )


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
    rebases: list[tuple[dt.date, str]] = field(default_factory=list)  # (quarter, reason) the limits restart at
    change_previous: Change | None = None
    change_year: Change | None = None
    comparison: PeerComparison | None = None
    peers: list[PeerBar] = field(default_factory=list)
    national_value: float | None = None
    national_name: str = "England and Wales"  # England when only England's figure is published (youth justice)
    peer_group_name: str = "Most similar group"  # the framework's peer group, as it is named
    breakdowns: list[BreakdownEvidence] = field(default_factory=list)
    fairness: list[FairnessEvidence] = field(default_factory=list)
    annotations: list[Annotation] = field(default_factory=list)
    as_at: dt.date | None = None  # the quarter the measure is read at (the one asked, or the data's latest)
    public: bool = False  # built from suppressed figures (a public output): hidden figures are [c] gaps

    @cached_property
    def suggested_rebases(self) -> list[SuggestedRebase]:
        """Proposed rebases (the manager decides), worked out only where a page or the API shows them."""
        settings_ = self.source.spc_settings_for(self.metric)
        return suggest_rebases(
            self.spc,
            run_length=settings_["run_length"] if settings_ else self.metric.spc_run_length,
            trend_length=settings_["trend_length"] if settings_ else self.metric.spc_trend_length,
            direction=self.metric.direction,
            screen_outliers=settings_["screen_outliers"] if settings_ else self.metric.spc_screen_outliers,
        )

    # --- the figures
    @property
    def latest(self) -> ObsRow | None:
        """The latest quarter with a value (up to the quarter asked for); in public evidence a suppressed
        quarter counts (its value is hidden, not missing: it reads ``[c]``). Remembered for the series it
        was found in (a page asks for it dozens of times a tile)."""
        key = (id(self.series), len(self.series))
        memo = self.__dict__.get("_latest_memo")
        if memo is not None and memo[0] == key:
            return memo[1]
        found = next((o for o in reversed(self.series) if o.value is not None or o.missing == SUPPRESSED), None)
        self.__dict__["_latest_memo"] = (key, found)
        return found

    @property
    def latest_suppressed(self) -> bool:
        """The latest figure is hidden to protect small numbers (public evidence only)."""
        latest = self.latest
        return latest is not None and latest.value is None

    @property
    def suppressed_quarters(self) -> list[dt.date]:
        return [o.period for o in self.series if o.missing == SUPPRESSED]

    @property
    def vintage(self) -> dt.date | None:
        latest = self.latest
        return latest.period if latest else None

    @property
    def quarter_label(self) -> str:
        return period_label(self.vintage) if self.vintage else ""

    @property
    def illustrative(self) -> bool:
        """Some figure shown is made up for the demo (never published data): every page that shows it says so."""
        key = (id(self.series), len(self.series))
        memo = self.__dict__.get("_illustrative_memo")
        if memo is not None and memo[0] == key:
            return memo[1]
        found = any(o.illustrative for o in self.series)
        self.__dict__["_illustrative_memo"] = (key, found)
        return found

    @property
    def has_figures(self) -> bool:
        return self.latest is not None

    @property
    def decimals(self) -> int:
        """Display precision: the framework's ``decimals``, else the unit's default."""
        return display_decimals(self.metric.unit, self.metric.decimals)

    def format(self, value: float | None) -> str:
        return format_value(value, self.metric.unit, self.metric.decimals)

    def rounded(self, value: float | None) -> float | None:
        """A value at the metric's display precision (for exports beside the full-precision column)."""
        if value is None:
            return None
        return round(value) if self.decimals == 0 else round(value, self.decimals)

    @property
    def comparable(self) -> bool:
        """Peer ranks allowed: the framework's ``comparable``, else by unit (never for raw counts)."""
        return self.metric.comparable if self.metric.comparable is not None else default_comparable(self.metric.unit)

    def change_text(self, change: Change | None, what: str) -> str:
        """ "up 2.3 percentage points on a year before" / "down 1,234 (−5.2%) on the previous quarter"."""
        if change is None:
            return f"no figure for {what}"
        return format_change(change, self.metric.unit, self.metric.decimals, what=what)

    @property
    def change_previous_text(self) -> str:
        return self.change_text(self.change_previous, "the previous quarter")

    @property
    def change_year_text(self) -> str:
        return self.change_text(self.change_year, "a year before")

    @property
    def annual(self) -> bool:
        """One figure a year (``basis: annual``): its previous point is a year before."""
        return quarters_between_points(self.metric) == 4

    @property
    def changes_text(self) -> str:
        """ "Up 3 on the previous quarter; down 5 on a year before." (an annual figure: the year's change only)."""
        parts = [self.change_year_text] if self.annual else [self.change_previous_text, self.change_year_text]
        text = "; ".join(parts)
        return f"{text[0].upper()}{text[1:]}."

    # --- currency
    @property
    def staleness(self) -> Staleness | None:
        latest = self.latest
        if self.as_at is None or latest is None:
            return None
        key = (latest.period, self.as_at, settings.PCC_PERF_STALE_QUARTERS)
        memo = self.__dict__.get("_staleness_memo")
        if memo is not None and memo[0] == key:
            return memo[1]
        state = staleness(latest.period, self.as_at, settings.PCC_PERF_STALE_QUARTERS)
        self.__dict__["_staleness_memo"] = (key, state)
        return state

    @property
    def stale(self) -> bool:
        """Older than the quarter read by more than the setting allows: shown greyed, never judged or ranked."""
        state = self.staleness
        return state is not None and state.stale

    @property
    def stale_text(self) -> str:
        return f"latest available: {self.quarter_label}" if self.stale else ""

    @property
    def stale_notice(self) -> str:
        """The metric page's banner for an out-of-date figure ("" when it is current)."""
        state = self.staleness
        if state is None or not state.stale or self.as_at is None:
            return ""
        return (
            f"{self.stale_text[0].upper()}{self.stale_text[1:]}, {state.quarters_old} quarters before "
            f"{period_label(self.as_at)}. It is shown for reference and is not judged or ranked."
        )

    @property
    def missing_quarters(self) -> list[dt.date]:
        """Gaps in the series that are not suppressed figures (those are named as such)."""
        hidden = set(self.suppressed_quarters)
        return [p for p in self.spc.missing_quarters if p not in hidden]

    @property
    def latest_text(self) -> str:
        latest = self.latest
        if latest is not None and latest.value is None:
            return CONFIDENTIAL
        return self.format(latest.value) if latest else "[x]"

    # --- variation
    @property
    def variation(self) -> str | None:
        """The latest figure's variation; None without figures, or when the latest figure is suppressed (its
        variation would say where a hidden count lies)."""
        return self.spc.variation if self.latest is not None and not self.latest_suppressed else None

    @property
    def variation_key(self) -> str:
        v = self.variation
        return "none" if v is None else v.removeprefix("special_cause_")

    @property
    def verdict(self) -> str:
        """What the summary counts: the variation's key, ``stale`` for an old figure, ``none`` without figures."""
        return "stale" if self.stale else self.variation_key

    @property
    def variation_short(self) -> str:
        if self.latest_suppressed:
            return "Not shown (small numbers)"
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
        """The plain-English finding: the variation and what it means for this measure, the change on a year
        before, the peer position; a stale figure is named as such and not judged."""
        if not self.has_figures:
            return f"No figures for {self.metric.name} in {self.requested_area.name}."
        where = f" ({self.area.name})" if self.national_fallback else ""
        if self.latest_suppressed:
            text = (
                f"The latest figure for {self.metric.name}{where}, for {self.quarter_label}, is suppressed "
                f"{CONFIDENTIAL} to protect small numbers, so it is not compared or judged here."
            )
            return f"{wording.ILLUSTRATIVE} {text}" if self.illustrative else text
        text = plain_finding(
            name=f"{self.metric.name}{where}",
            unit=self.metric.unit,
            variation=self.variation,
            signal=latest_signal(self.spc),
            year_change=self.change_year,
            peer=self.comparison,
            staleness=self.staleness,
            withheld=next((f.withheld for f in self.fairness if f.withheld), None),
            decimals=self.metric.decimals,
        )
        if self.missing_quarters and not self.stale:
            count = len(self.missing_quarters)
            text += f" {count} quarter{'s are' if count > 1 else ' is'} missing from the series."
        if self.suppressed_quarters:
            count = len(self.suppressed_quarters)
            text += f" {count} quarter{'s are' if count > 1 else ' is'} suppressed {CONFIDENTIAL} (small numbers)."
        if self.illustrative:
            text = f"{wording.ILLUSTRATIVE} {text}"
        return text

    @property
    def chart_text(self) -> str:
        """The XmR chart's text alternative: what the chart shows (the finding is printed beside it)."""
        if not self.spc.points:
            if self.suppressed_quarters:
                return f"No chart: every figure for {self.metric.name} is suppressed {CONFIDENTIAL} (small numbers)."
            return f"No chart: no figures for {self.metric.name} in {self.requested_area.name}."
        first, last = self.spc.points[0].period, max([self.spc.points[-1].period, *self.suppressed_quarters])
        seg = self.spc.last_segment
        assert seg is not None
        parts = [
            f"Chart of {self.metric.name}, {self.area.name}, by quarter from {period_label(first)} to "
            f"{period_label(last)}; latest {self.latest_text} in {self.quarter_label}."
        ]
        if seg.lower_limit is not None and seg.upper_limit is not None:
            trial = " (trial limits: fewer than 13 quarters)" if seg.trial_limits else ""
            parts.append(
                f"Average {self.format(seg.mean)}; usual range {self.format(seg.lower_limit)} to "
                f"{self.format(seg.upper_limit)} from {period_label(seg.start)}{trial}."
            )
        if len(self.spc.segments) > 1:
            parts.append(
                f"Limits recalculated from {period_label(seg.start)}: {(seg.reason or 'rebased').rstrip('.')}."
            )
        if self.missing_quarters:
            parts.append("Missing: " + ", ".join(period_label(p) for p in self.missing_quarters) + ".")
        if self.suppressed_quarters:
            parts.append(
                f"Suppressed {CONFIDENTIAL} to protect small numbers, not drawn: "
                + ", ".join(period_label(p) for p in self.suppressed_quarters)
                + "."
            )
        if self.illustrative:
            parts.insert(0, wording.ILLUSTRATIVE)
        return " ".join(parts)

    @property
    def peer_text(self) -> str:
        return wording.peer_text(
            self.comparison,
            self.metric.unit,
            self.area.name,
            decimals=self.metric.decimals,
            stale=self.stale,
            national_name=self.national_name,
        )

    @property
    def unit_label(self) -> str:
        return self.metric.get_unit_display()

    @property
    def comparisons(self) -> list[tuple[str, str]]:
        """The comparison lines a report prints under a finding: the same quarter last year, the most similar
        group (ranked on comparable figures only) and England and Wales, each worded once here."""
        latest = self.latest
        if latest is None:
            return []
        year = self.change_year
        if year is None:
            last_year = "no figure for the same quarter a year before"
        else:
            last_year = (
                f"{self.format(year.earlier)} in {period_label(year.earlier_period)}; "
                f"{self.change_text(year, 'a year before')}"
            )
        if self.national_fallback:
            peers = "not compared: these are the England and Wales figures (no local series)"
            national = f"{self.latest_text} in {self.quarter_label} (the figures shown)"
        else:
            if self.stale:
                peers = "not compared: the figure is out of date"
            elif self.comparison is None:
                peers = "no peer figures for this quarter"
            elif not self.comparison.comparable:
                peers = "not compared: counts depend on an area's size (compare the rate)"
            else:
                peers = self.peer_text
            national = (
                f"{self.format(self.national_value)} in {self.quarter_label}"
                if self.national_value is not None
                else f"no {self.national_name} figure for this quarter"
            )
        return [
            ("Same quarter last year", last_year),
            (self.peer_group_name, peers),
            (self.national_name, national),
        ]

    def rows(self) -> list[SeriesRow]:
        """The series as a table: value at the metric's precision, symbol, variation, the segment's limits."""
        points = {p.period: p for p in self.spc.points}
        segments = {p.period: self.spc.segments[p.segment] for p in self.spc.points}
        # Each segment's mean and limits as text, once a segment rather than once a row.
        limits_text = {
            id(seg): (
                self.format(seg.mean),
                self.format(seg.lower_limit) if seg.lower_limit is not None else "",
                self.format(seg.upper_limit) if seg.upper_limit is not None else "",
            )
            for seg in self.spc.segments
        }
        out = []
        for obs in self.series:
            point, seg = points.get(obs.period), segments.get(obs.period)
            present = obs.value is not None
            mean_text, lower_text, upper_text = limits_text[id(seg)] if seg else ("", "", "")
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
                    mean_text=mean_text,
                    lower_text=lower_text,
                    upper_text=upper_text,
                )
            )
        return out

    # --- charts
    def xmr_figure(self, *, window: int | None = None) -> Any:
        """The XmR chart as a Plotly Figure (for the PDF); pages use ``xmr_chart``."""
        return charts.as_figure(self.xmr_chart(window=window))

    def xmr_chart(self, *, window: int | None = None) -> dict[str, Any]:
        """The XmR chart as plain figure data; ``window``: show the last N quarters (limits still from the
        whole series)."""
        return charts.xmr_chart(
            title=self.title,
            unit_label=self.unit_label,
            observations=self.series,
            spc=self.spc,
            annotations=[(n.period, n.label) for n in self.annotations],
            window=window,
            decimals=self.decimals,
            judged=not self.stale,
        )

    def peer_figure(self) -> Any | None:
        """The peers' chart as a Plotly Figure; pages use ``peer_chart``."""
        chart = self.peer_chart()
        return charts.as_figure(chart) if chart is not None else None

    def peer_chart(self) -> dict[str, Any] | None:
        """The peers' bar chart (home area highlighted, national line), when there is more than one peer."""
        if len(self.peers) < 2 or self.latest is None:
            return None
        return charts.peer_chart(
            title=f"{self.metric.name}: peers, {self.quarter_label}",
            unit_label=self.unit_label,
            values=[(b.area.name, b.value) for b in self.peers],
            home=self.area.name,
            national=self.national_value,
            unit=self.metric.unit,
            decimals=self.metric.decimals,
            national_name=self.national_name,
        )

    def breakdown_figure(self, item: BreakdownEvidence) -> Any:
        return charts.as_figure(self.breakdown_chart(item))

    def breakdown_chart(self, item: BreakdownEvidence) -> dict[str, Any]:
        return charts.breakdown_chart(
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

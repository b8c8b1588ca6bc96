"""The public dashboard by local area: the areas under the home area, each with its public measures.

Everything here is public: figures come only from the latest published snapshot (``FigureSource(snapshot)``,
its frozen definitions), never from live data; a measure appears only when the public edition may show it
(``in_public_edition``) and the framework reports it by local area (``local_areas``). Figures are suppressed
as in the public edition (``build_evidence(public=True)``), plus a local secondary suppression: local
counts add up (districts to their county, the county and unitary areas to the force area), so in a quarter
where one local figure is too small to show, every local area's figure of that measure is withheld, before
anything is worked out. One evidence builder: a
measure reads the same here as on the board's dashboard filtered to the area and in the API (``area=``).

Fixed queries whatever the number of local areas and measures.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings

from frameworks.models import Area, Framework
from frameworks.selectors import current_framework, local_areas
from metrics.models import Metric
from metrics.quarters import period_label
from metrics.stats.presentation import format_value
from metrics.stats.suppression import CONFIDENTIAL, SUPPRESSED, is_primary, missing_symbol
from reports import charts, wording
from reports.evidence.build import build_evidence, placements_of, public_count
from reports.evidence.items import MetricEvidence, Part
from reports.evidence.sources import FigureSource, ObsRow, _obs_rows
from reports.models import Snapshot
from reports.narrative.editions import in_public_edition


def published_snapshot(framework: Framework) -> Snapshot | None:
    """The latest published snapshot of the framework (the only figures the public dashboard reads), in the
    current partnership."""
    return Snapshot.objects.in_scope().filter(framework=framework).order_by("-period", "-number").first()


@dataclass
class LocalIndex:
    framework: Framework
    snapshot: Snapshot | None
    areas: list[Area]  # in tree order, each with ``depth``


def local_index() -> LocalIndex | None:
    """The current partnership's framework, its latest published snapshot and its local areas (None: no
    framework is loaded)."""
    framework = current_framework()
    if framework is None:
        return None
    return LocalIndex(framework=framework, snapshot=published_snapshot(framework), areas=local_areas(framework))


# --- a local area's page ----------------------------------------------------------------------------------
@dataclass
class Compared:
    area: Area
    text: str  # the figure as shown: value, or [c] / [x]
    value: float | None  # None when hidden or missing
    this: bool  # the page's own area


@dataclass
class LocalMeasure:
    evidence: MetricEvidence
    force: MetricEvidence | None  # the force area's evidence at the same quarter
    compared: list[Compared] = field(default_factory=list)  # the other local areas (rates only)
    chart: Any = None
    chart_text: str = ""
    compare_chart: Any = None
    compare_text: str = ""

    @property
    def metric(self) -> Metric:
        return self.evidence.metric

    @property
    def single(self) -> bool:
        """One figure only (a level, not a trend): its variation is not judged and no chart is drawn."""
        return len([o for o in self.evidence.series if o.value is not None]) < 2

    @property
    def variation_plain(self) -> str:
        e = self.evidence
        if e.latest_suppressed:
            return "Not shown (small numbers)"
        if self.single:
            return "One figure only: no trend to judge"
        if e.stale:
            return "Out of date: not judged"
        return wording.VARIATION_PLAIN[e.variation]

    @property
    def finding(self) -> str:
        e = self.evidence
        if self.single and not e.latest_suppressed:
            text = (
                f"{e.metric.name}: {e.latest_text} in {e.quarter_label}. This is the only figure held, so it shows "
                "a level, not a trend: it is not judged as usual or unusual."
            )
            return f"{wording.ILLUSTRATIVE} {text}" if e.illustrative else text
        return e.finding

    @property
    def rate_like(self) -> bool:
        return self.metric.unit != "count"

    @property
    def force_text(self) -> str:
        """The force area's figure at the local figure's quarter, in words."""
        force = self.force
        when = self.evidence.vintage
        if force is None or when is None:
            return ""
        row = next((o for o in force.series if o.period == when), None)
        name = force.area.name
        if row is None or (row.value is None and row.missing != SUPPRESSED):
            return f"No {name} figure for {period_label(when)}."
        if row.value is None:
            return f"{name} (force area), {period_label(when)}: {CONFIDENTIAL} (suppressed)."
        if not self.rate_like:
            return (
                f"{name} (force area), {period_label(when)}: {force.format(row.value)}. A count depends on the "
                "size of the area: compare rates, not counts."
            )
        own = self.evidence.latest
        comparison = ""
        if own is not None and own.value is not None:
            here = f"{self.evidence.requested_area.name} ({self.evidence.format(own.value)})"
            if self.evidence.format(own.value) == force.format(row.value):
                comparison = f" {here} is the same as the force area as a whole."
            else:
                comparison = f" {here} is {'higher' if own.value > row.value else 'lower'} than the force area."
        return f"{name} (force area), {period_label(when)}: {force.format(row.value)}.{comparison}"


@dataclass
class LocalPage:
    framework: Framework
    snapshot: Snapshot
    area: Area
    parent: Area | None  # the local area it lies in (a district's county), None under the force area
    children: list[Area]
    measures: list[LocalMeasure]
    no_figures: list[tuple[Metric, str]]  # reported by local area, but no figures for this one (why)
    not_local: list[Metric]  # public measures not reported by local area

    @property
    def illustrative(self) -> bool:
        return any(m.evidence.illustrative for m in self.measures)


def local_page(*, framework: Framework, area: Area, snapshot: Snapshot) -> LocalPage:
    """Everything the public page of ``area`` shows, from ``snapshot`` only."""
    tree = local_areas(framework)
    by_pk = {a.pk: a for a in tree}
    if area.pk not in by_pk:
        raise ValueError(f"{area.name} is not a local area of {framework.home_area.name}")
    area = by_pk[area.pk]
    home = framework.home_area
    source = FigureSource(snapshot)
    public_metrics: list[Metric] = []
    not_local: list[Metric] = []
    for place in placements_of(framework=framework):
        metric = source.definition(place.metric)
        if not (in_public_edition(metric) and in_public_edition(place.metric)):
            continue  # management information, unless marked public (as published and as now)
        (public_metrics if getattr(metric, "local_areas", False) else not_local).append(metric)
    rows = _local_rows(public_metrics, [home, *tree], source, snapshot.period)
    hidden = _secondary(public_metrics, rows, local=tree)
    own = build_evidence(
        framework=framework,
        area=area,
        metrics=public_metrics,
        period=snapshot.period,
        source=source,
        parts=Part.PEERS | Part.ANNOTATIONS,
        public=True,
        also_hidden=hidden,
    )
    force = {
        e.metric.pk: e
        for e in build_evidence(
            framework=framework,
            area=home,
            metrics=public_metrics,
            period=snapshot.period,
            source=source,
            parts=Part.NONE,
            public=True,
            also_hidden=hidden,
        )
    }
    measures: list[LocalMeasure] = []
    no_figures: list[tuple[Metric, str]] = []
    for item in own:
        if item.national_fallback or not item.has_figures:
            no_figures.append((item.metric, _why_none(item.metric, area, rows, by_pk)))
            continue
        item.comparison, item.peers = None, []  # peers compare force areas, not local areas
        measure = LocalMeasure(evidence=item, force=force.get(item.metric.pk))
        if item.spc.points and not measure.single:
            measure.chart, measure.chart_text = item.xmr_chart(window=20), item.chart_text
        if measure.rate_like:
            _compare(measure, area, tree, rows, hidden)
        measures.append(measure)
    parent = by_pk.get(area.parent_id) if area.parent_id else None
    return LocalPage(
        framework=framework,
        snapshot=snapshot,
        area=area,
        parent=parent,
        children=[a for a in tree if a.parent_id == area.pk],
        measures=measures,
        no_figures=no_figures,
        not_local=not_local,
    )


Rows = dict[tuple[int, int], dict[dt.date, ObsRow]]


def _local_rows(metrics: list[Metric], areas: list[Area], source: FigureSource, period: dt.date) -> Rows:
    """Every total figure of ``metrics`` for the home area and its local areas up to ``period``: one query."""
    out: Rows = defaultdict(dict)
    query = source.rows.filter(
        metric_id__in=[m.pk for m in metrics], area_id__in=[a.pk for a in areas], category__isnull=True
    ).filter(period__lte=period)
    # In quarter order; not the model's default order (it joins metric and area only to sort by them).
    for obs in _obs_rows(query.order_by("period")):
        out[(obs.metric_id, obs.area_id)][obs.period] = obs
    return out


def _secondary(metrics: list[Metric], rows: Rows, *, local: list[Area]) -> set[tuple[int, int, dt.date]]:
    """Figures to hide besides the small ones. Local figures add up in more than one way (districts to their
    county, the county and the unitary areas to the force area, whose figure is published everywhere), so a
    second hidden cell in one line can be given back by another. The rule is the safe one: in a quarter where
    any local area's count (a rate's numerator) is too small to show, every local area's figure of that
    measure is withheld; the force area's figure is never hidden (the public edition prints it)."""
    threshold = settings.PCC_PERF_SUPPRESSION_THRESHOLD
    hidden: set[tuple[int, int, dt.date]] = set()
    for metric in metrics:
        periods = sorted({when for a in local for when in rows.get((metric.pk, a.pk), {})})
        for when in periods:
            line = [public_count(rows.get((metric.pk, a.pk), {}).get(when), metric.unit) for a in local]
            if any(is_primary(v, threshold) for v in line):
                hidden.update((metric.pk, a.pk, when) for a in local)
    return hidden


def _shown(metric: Metric, obs: ObsRow | None, hidden: set[tuple[int, int, dt.date]]) -> tuple[str, float | None]:
    threshold = settings.PCC_PERF_SUPPRESSION_THRESHOLD
    if obs is None:
        return "[x]", None
    if obs.value is None:
        return missing_symbol(obs.missing) or "[x]", None
    if is_primary(public_count(obs, metric.unit), threshold) or (obs.metric_id, obs.area_id, obs.period) in hidden:
        return CONFIDENTIAL, None
    return format_value(obs.value, metric.unit, metric.decimals), obs.value


def _compare(
    measure: LocalMeasure, area: Area, tree: list[Area], rows: Rows, hidden: set[tuple[int, int, dt.date]]
) -> None:
    """The local areas with a figure at the page's quarter, side by side (rates only: counts depend on size).
    Areas that overlap another area in the list (a county and its districts) are left out: the list holds
    the areas at the page's own level (those with a figure, none inside another)."""
    metric, when = measure.metric, measure.evidence.vintage
    with_figures = [a for a in tree if when in rows.get((metric.pk, a.pk), {})]
    ids = {a.pk for a in with_figures}
    level = [a for a in with_figures if a.parent_id not in ids and not any(b.parent_id == a.pk for b in with_figures)]
    if len(level) < 2 or area not in level or when is None:
        return
    for other in level:
        obs = rows[(metric.pk, other.pk)].get(when)
        text, value = _shown(metric, obs, hidden)
        measure.compared.append(Compared(area=other, text=text, value=value, this=other.pk == area.pk))
    force = measure.force
    force_value = None
    if force is not None:
        row = next((o for o in force.series if o.period == when), None)
        force_value = row.value if row is not None else None
    values = [(c.area.name, c.value) for c in measure.compared if c.value is not None]
    measure.compare_chart = charts.figure_json(
        charts.peer_chart(
            title=f"{metric.name}, local areas, {period_label(when)}",
            unit_label=measure.evidence.unit_label,
            values=values,
            home=area.name,
            national=force_value,
            unit=metric.unit,
            decimals=measure.evidence.decimals,
            national_name=f"{force.area.name} (force area)" if force is not None else "",
        )
    )
    ordered = sorted(measure.compared, key=lambda c: (c.value is None, -(c.value or 0.0)))
    listing = "; ".join(f"{c.area.name} {c.text}" for c in ordered)
    text = f"Bar chart of {metric.name} for the local areas in {period_label(when)}, highest first: {listing}."
    if force_value is not None and force is not None:
        text += f" {force.area.name} as a whole: {force.format(force_value)} (dashed line)."
    if measure.evidence.illustrative:
        text = f"{wording.ILLUSTRATIVE} {text}"
    measure.compare_text = text


def _why_none(metric: Metric, area: Area, rows: Rows, by_pk: dict[int, Area]) -> str:
    """Why a measure reported by local area has no figure for ``area``: published for the area it lies in, or
    for the areas inside it, or not at all."""
    has = {area_id for (metric_id, area_id), found in rows.items() if metric_id == metric.pk and found}
    parent = by_pk.get(area.parent_id) if area.parent_id else None
    if parent is not None and parent.pk in has:
        return f"Published for {parent.name}, which includes {area.name}, not for {area.name} alone."
    inside = [by_pk[a].name for a in has if a in by_pk and by_pk[a].parent_id == area.pk]
    if inside:
        return "Published for the areas inside it: " + ", ".join(sorted(inside)) + "."
    return f"No figures for {area.name} in this publication."


def local_area_or_none(framework: Framework, code: str) -> Area | None:
    return next((a for a in local_areas(framework) if a.code == code), None)

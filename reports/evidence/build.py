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
- Public evidence (``public=True``, for the public edition, its PDF and CSV) is built from suppressed figures:
  a count from 1 to ``PCC_PERF_SUPPRESSION_THRESHOLD`` (or a rate or percentage on one) becomes a ``[c]``
  gap before anything is worked out, every quarter's total is suppressed together with its breakdowns
  (``suppression.breakdown_mask``: secondary suppression, so no hidden count comes back by subtraction),
  and the SPC, changes, peers, findings, chart texts and charts are worked out from what is left — so no
  number derived from a hidden count can reach a public output.

Fetches run in a fixed number of queries whatever the number of metrics; ``parts`` says which optional
evidence a view needs (a tile needs no breakdowns), never how it is computed."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from typing import Any

from django.conf import settings
from django.db.models import Prefetch

from accounts.tenancy import current_partnership_id
from frameworks.models import (
    Area,
    Breakdown,
    BreakdownCategory,
    Framework,
    PeerGroupMembership,
    Priority,
)
from metrics.figures import metric_spc, observation_dict, quarters_between_points
from metrics.models import FrameworkMetric, Metric, Rebase
from metrics.quarters import Quarter
from metrics.stats.compare import (
    change_on_previous_quarter,
    change_on_same_quarter_last_year,
    peer_comparison,
)
from metrics.stats.disproportionality import suppress_groups
from metrics.stats.suppression import SUPPRESSED, breakdown_mask, is_primary
from reports.evidence import reads
from reports.evidence.items import BreakdownEvidence, FairnessEvidence, MetricEvidence, Part, PeerBar, fairness_at
from reports.evidence.sources import LIVE, FigureSource, ObsRow, _obs_rows, partnership_key
from reports.models import Annotation, Snapshot

_REBASES = "_partnership_rebases"  # where ``attach_rebases`` keeps a metric's rebases, with whose they are


def attach_rebases(metrics: Iterable[Metric]) -> None:
    """Fetch the current partnership's rebases of ``metrics`` in one query and keep each metric's with it (for
    ``live_spc_settings``): a shared measure's limits are each partnership's own (``Rebase.partnership``).
    Not Django's prefetch (a queryset cloned and filtered per metric: ~2.5 ms for a national framework's 60,
    for a handful of rebases), nor the model's default order (it joins the metric only to sort by its code)."""
    by_id: dict[int, list[Metric]] = defaultdict(list)
    for metric in metrics:
        by_id[metric.pk].append(metric)
    found: dict[int, list[Rebase]] = defaultdict(list)
    if by_id:
        for rebase in reads.rebases_of.read(metric_ids=list(by_id)):
            found[rebase.metric_id].append(rebase)
    whose = partnership_key()
    for metric_id, same in by_id.items():
        for metric in same:
            metric.__dict__[_REBASES] = (whose, found.get(metric_id, []))


def metric_rebases(metric: Metric) -> list[Rebase]:
    """The current partnership's rebases of ``metric``, in quarter order: as ``attach_rebases`` kept them for
    this partnership, else from the caller's prefetch of ``rebases`` (every partnership's: the current one's
    kept), else fetched."""
    kept = metric.__dict__.get(_REBASES)
    if kept is not None and kept[0] == partnership_key():
        return list(kept[1])
    prefetched = getattr(metric, "_prefetched_objects_cache", {}).get("rebases")
    if prefetched is None:
        attach_rebases([metric])
        return list(metric.__dict__[_REBASES][1])
    rebases = list(prefetched)
    if rebases:  # (rare: the partnership is looked up only then)
        pid = current_partnership_id()
        rebases = [r for r in rebases if r.partnership_id == pid]
    return sorted(rebases, key=lambda r: (r.period, r.pk))


def live_spc_settings(metric: Metric) -> dict[str, Any]:
    """A metric's SPC settings as they stand, with the current partnership's rebases only
    (``metric_rebases``): what ``metric_spc`` would read itself, but never another partnership's rebase of a
    shared measure."""
    return {
        "screen_outliers": metric.spc_screen_outliers,
        "run_length": metric.spc_run_length,
        "trend_length": metric.spc_trend_length,
        "rebases": sorted((r.period, r.reason) for r in metric_rebases(metric)),
    }


# --- the builder ---------------------------------------------------------------------------------------------
def _national_areas(*, exclude: Area | None = None) -> list[Area]:
    """The national areas, the first (England and Wales) first."""
    return reads.national_areas.read(exclude=None if exclude is None else exclude.pk)


def placements_of(*, framework: Framework, priority: str | None = None) -> list[FrameworkMetric]:
    """The framework's metrics in order, with what evidence needs (metric, agency, priority, rebases)."""
    placements: list[FrameworkMetric] = reads.placements.read(framework_id=framework.pk, priority=priority or None)
    attach_rebases(p.metric for p in placements)
    return placements


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
    public: bool = False,
    also_hidden: Collection[tuple[int, int, dt.date]] = (),
) -> list[MetricEvidence]:
    """Evidence for each metric (``placements`` of the framework, or bare ``metrics``) for ``area`` up to
    ``period``, in a fixed number of queries whatever the number of metrics. ``public``: from suppressed
    figures (see the module's docstring); ``also_hidden``: more (metric, area, quarter) figures a public
    output hides before anything is worked out (a local area's secondary suppression, ``reports.local``)."""
    if placements is None and metrics is None:
        placements = placements_of(framework=framework) if framework is not None else []
    items: list[tuple[Metric, Priority | None]] = (
        [(p.metric, p.priority) for p in placements] if placements is not None else [(m, None) for m in metrics or []]
    )
    # A snapshot's metrics read as it defined them (name, definition, unit, direction, …), not as they are now.
    items = [(source.definition(m), p) for m, p in items]
    if not items:
        return []
    metric_ids = [m.pk for m, _ in items]
    nationals = _national_areas(exclude=area)
    national = nationals[0] if nationals else None
    area_ids = [area.pk] + ([national.pk] if national else [])
    rows = reads.series_rows.read(
        snapshot_id=source.snapshot_id,
        metric_ids=metric_ids,
        area_ids=area_ids,
        category_id=None if category is None else category.pk,
        period=period,
    )
    series: dict[tuple[int, int], list[ObsRow]] = defaultdict(list)
    for obs in map(ObsRow._make, rows):
        series[(obs.metric_id, obs.area_id)].append(obs)
    hidden_cells: set[tuple[int, dt.date, int]] | None = None
    if public:
        hidden_cells = _suppress_for_public(
            series, {m.pk: m for m, _ in items}, area=area, period=period, source=source, category=category
        )
        if also_hidden:
            for key, rows_ in series.items():
                series[key] = [suppressed(o) if (*key, o.period) in also_hidden else o for o in rows_]

    as_at = period or source.latest_period()
    out: list[MetricEvidence] = []
    for metric, priority in items:
        own = series.get((metric.pk, area.pk), [])
        national_series = series.get((metric.pk, national.pk), []) if national is not None else []
        fallback = national is not None and not any(o.value is not None for o in own) and bool(national_series)
        observations = national_series if fallback else own
        values = observation_dict(observations)  # built once: the SPC and the changes read it
        # The snapshot's settings as published; the live ones (the partnership's rebases) otherwise, or for a
        # measure the snapshot did not define.
        published = source.spc_settings_for(metric) if source.frozen is not None else None
        settings_ = published or live_spc_settings(metric)
        spc = metric_spc(metric, observations, settings_, values=values)
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
            rebases=sorted(settings_["rebases"]),
            as_at=as_at,
            public=public,
        )
        latest = evidence.latest
        if latest is not None and latest.value is not None:
            # An annual figure's previous point is a year before: only the change on a year is given.
            if quarters_between_points(metric) == 1:
                evidence.change_previous = change_on_previous_quarter(values, latest.period)
            evidence.change_year = change_on_same_quarter_last_year(values, latest.period)
        out.append(evidence)

    if parts & Part.PEERS:
        _add_peers(
            out, framework=framework, area=area, nationals=nationals, source=source, category=category, public=public
        )
    if parts & Part.ANNOTATIONS:
        _add_annotations(out, area=area, period=period, source=source)
    if parts & (Part.BREAKDOWNS | Part.FAIRNESS) and category is None:
        national_totals = {
            m.pk: {o.period: o for o in series.get((m.pk, national.pk), [])} for m, _ in items if national is not None
        }
        _add_breakdowns(
            out,
            area=area,
            period=period,
            source=source,
            parts=parts,
            hidden=hidden_cells,
            # the national ratio's trend is the board's: public outputs show the area's own, suppressed
            national=national if hidden_cells is None else None,
            national_totals=national_totals,
        )
    return out


def snapshot_evidence(*, snapshot: Snapshot, parts: Part) -> list[MetricEvidence]:
    """Every measure of the snapshot's framework for its home area, as the snapshot published them (what a
    report on it is drafted from)."""
    framework = snapshot.framework
    return build_evidence(
        framework=framework,
        area=framework.home_area,
        period=snapshot.period,
        source=FigureSource(snapshot),
        parts=parts,
    )


# --- public evidence: suppressed before anything is worked out ----------------------------------------------
def public_count(obs: ObsRow | None, unit: str) -> float | None:
    """The count a figure discloses: a count's value, a rate's or percentage's numerator; None for others
    (days, ratios without counts) and missing figures."""
    if obs is None or obs.value is None:
        return None
    if unit == "count":
        return obs.value
    return obs.numerator


def suppressed(obs: ObsRow) -> ObsRow:
    """The figure as a public output shows it: no value, numerator or denominator, missing as ``[c]``."""
    return obs._replace(value=None, numerator=None, denominator=None, missing=SUPPRESSED)


def _primary(obs: ObsRow, unit: str, threshold: int) -> ObsRow:
    return suppressed(obs) if is_primary(public_count(obs, unit), threshold) else obs


def _suppress_for_public(
    series: dict[tuple[int, int], list[ObsRow]],
    metrics: dict[int, Metric],
    *,
    area: Area,
    period: dt.date | None,
    source: FigureSource,
    category: BreakdownCategory | None,
) -> set[tuple[int, dt.date, int]]:
    """Suppress ``series`` in place for a public output and return the breakdown cells to hide, as
    (metric, quarter, category). Every quarter of the area's total series is suppressed together with all
    its breakdowns (whichever quarter a report shows them at: a figure hidden in one public report must not
    be shown by the next), so the total may be hidden too (its quarter becomes a gap)."""
    threshold = settings.PCC_PERF_SUPPRESSION_THRESHOLD
    raw = {key: list(rows) for key, rows in series.items()}
    for key, rows in raw.items():
        unit = metrics[key[0]].unit
        series[key] = [_primary(o, unit, threshold) for o in rows]
    hidden: set[tuple[int, dt.date, int]] = set()
    if category is not None:
        return hidden  # a category's own series: its breakdown lines are not shown with it
    links: list[tuple[int, int]] = reads.breakdown_link_ids.read(metric_ids=list(metrics))
    if not links:
        return hidden
    categories: dict[int, list[int]] = defaultdict(list)
    for cat_id, breakdown_id in reads.category_ids_of.read(breakdown_ids=[b for _, b in links]):
        categories[breakdown_id].append(cat_id)
    found = reads.category_rows.read(
        snapshot_id=source.snapshot_id,
        metric_ids=[m for m, _ in links],
        area_ids=[area.pk],
        periods=None,
        up_to=period,
    )
    cells: dict[tuple[int, dt.date, int], ObsRow] = {}
    for obs in map(ObsRow._make, found):  # into a dict: no ORDER BY (the default joins metric and area to sort)
        assert obs.category_id is not None
        cells[(obs.metric_id, obs.period, obs.category_id)] = obs
    by_metric: dict[int, list[int]] = defaultdict(list)
    for metric_id, breakdown_id in links:
        by_metric[metric_id].append(breakdown_id)
    periods: dict[int, set[dt.date]] = defaultdict(set)
    for metric_id, when, _ in cells:
        periods[metric_id].add(when)
    for metric_id, breakdown_ids in by_metric.items():
        unit = metrics[metric_id].unit
        own_raw = raw.get((metric_id, area.pk), [])
        position = {o.period: i for i, o in enumerate(own_raw)}
        for when in sorted(periods[metric_id]):
            at = position.get(when)
            total = public_count(own_raw[at], unit) if at is not None else None
            lines = [
                [public_count(cells.get((metric_id, when, c)), unit) for c in categories[b]] for b in breakdown_ids
            ]
            if not any(is_primary(v, threshold) for line in lines for v in line):
                continue  # nothing hidden among the categories: the total's own suppression is enough
            mask = breakdown_mask(total, lines, threshold=threshold)
            for b, row in zip(breakdown_ids, mask.cells, strict=True):
                for cat_id, hide in zip(categories[b], row, strict=True):
                    if hide and (metric_id, when, cat_id) in cells:
                        hidden.add((metric_id, when, cat_id))
            if mask.total and at is not None:
                series[(metric_id, area.pk)][at] = suppressed(own_raw[at])
    return hidden


def metric_evidence(
    *,
    framework: Framework | None,
    metric: Metric,
    area: Area,
    period: dt.date | None = None,
    source: FigureSource = LIVE,
    category: BreakdownCategory | None = None,
    parts: Part = Part.ALL,
    public: bool = False,
) -> MetricEvidence:
    """One metric's evidence (the metric page, the API)."""
    places = reads.placement.read(framework_id=framework.pk, metric_id=metric.pk) if framework is not None else []
    place = places[0] if places else None
    (evidence,) = build_evidence(
        framework=framework,
        area=area,
        metrics=[metric],
        period=period,
        source=source,
        category=category,
        parts=parts,
        public=public,
    )
    evidence.priority = place.priority if place else None
    return evidence


def _peer_areas(
    framework: Framework | None, area: Area, periods: set[dt.date]
) -> tuple[dict[dt.date, dict[int, Area]], str]:
    """The framework's peer group members at each of ``periods``, when ``area`` is one of them, and the peer
    group's name (an illustrative group says so in its name)."""
    if framework is None or framework.peer_group_id is None or not periods:
        return {}, ""
    memberships: list[PeerGroupMembership] = reads.peer_memberships.read(peer_group_id=framework.peer_group_id)
    name = memberships[0].peer_group.name if memberships else ""
    out: dict[dt.date, dict[int, Area]] = {}
    for when in periods:
        members = {
            m.area_id: m.area
            for m in memberships
            if (m.valid_from is None or m.valid_from <= when) and (m.valid_to is None or m.valid_to >= when)
        }
        if area.pk in members:
            out[when] = members
    return out, name


def _add_peers(
    evidence: list[MetricEvidence],
    *,
    framework: Framework | None,
    area: Area,
    nationals: list[Area],
    source: FigureSource,
    category: BreakdownCategory | None,
    public: bool = False,
) -> None:
    wanted = {e.metric.pk: e.latest.period for e in evidence if e.latest is not None and not e.national_fallback}
    if not wanted:
        return
    peers, group_name = _peer_areas(framework, area, set(wanted.values()))
    # The national figure: the first national area's (England and Wales), else another's (England alone,
    # where a source covers England only), named as such.
    national_rank = {a.pk: i for i, a in enumerate(nationals)}
    area_ids = {a for members in peers.values() for a in members} | set(national_rank)
    # No ORDER BY: the models' default orderings join metric and area only to sort; the order the peers are
    # listed in (area code, or name in a snapshot, as those orderings gave) is applied below in Python.
    rows = reads.peer_rows.read(
        snapshot_id=source.snapshot_id,
        metric_ids=list(wanted),
        area_ids=sorted(area_ids),
        category_id=None if category is None else category.pk,
        periods=sorted(set(wanted.values())),
    )
    values: dict[int, dict[int, float | None]] = defaultdict(dict)
    national_values: dict[int, dict[int, float]] = defaultdict(dict)
    units = {e.metric.pk: e.metric.unit for e in evidence}
    own = {e.metric.pk: e.latest.value for e in evidence if e.latest is not None}
    threshold = settings.PCC_PERF_SUPPRESSION_THRESHOLD
    for metric_id, area_id, when, value, numerator in rows:
        if when != wanted[metric_id]:
            continue
        if public:
            # Peers and the national figure are suppressed like the area's own; the area's own value is the
            # public series' (it may be hidden by secondary suppression).
            count = value if units[metric_id] == "count" else numerator
            if is_primary(count, threshold):
                value = None
            if area_id == area.pk:
                value = own.get(metric_id)
        if area_id in national_rank and value is not None:
            national_values[metric_id][national_rank[area_id]] = value
        if area_id in peers.get(when, {}):
            values[metric_id][area_id] = value
    by_name = source.snapshot is not None
    for item in evidence:
        when = wanted.get(item.metric.pk)
        if when is None:
            continue
        members = peers.get(when, {})
        found = dict(
            sorted(values.get(item.metric.pk, {}).items(), key=lambda kv: _peer_order(members[kv[0]], by_name))
        )
        item.peer_group_name = group_name or item.peer_group_name
        found_national = national_values.get(item.metric.pk, {})
        if found_national:
            first = min(found_national)
            item.national_value, item.national_name = found_national[first], nationals[first].name
        item.peers = [PeerBar(members[a], v) for a, v in found.items() if v is not None]
        if any(v is not None and a != area.pk for a, v in found.items()):
            item.comparison = peer_comparison(
                {members[a].code: v for a, v in found.items()},
                area=area.code,
                direction=item.metric.direction,
                period=when,
                national=item.national_value,
                comparable=item.comparable and not item.stale,
            )


def _peer_order(area: Area, by_name: bool) -> tuple[str, int]:
    return (area.name if by_name else area.code, area.pk)


def _add_annotations(
    evidence: list[MetricEvidence], *, area: Area, period: dt.date | None, source: FigureSource
) -> None:
    """Each metric's annotations for the area (or every area) up to ``period``: as the snapshot froze them, or
    the live ones."""
    if source.frozen is not None:
        frozen = source.frozen.annotations_for([e.metric for e in evidence], area=area, period=period)
        for item in evidence:
            item.annotations = frozen.get(item.metric.pk, [])
        return
    notes: dict[int, list[Annotation]] = defaultdict(list)
    for note in reads.annotations_of.read(metric_ids=[e.metric.pk for e in evidence], area_id=area.pk, period=period):
        notes[note.metric_id].append(note)
    for item in evidence:
        item.annotations = notes.get(item.metric.pk, [])


def _add_breakdowns(
    evidence: list[MetricEvidence],
    *,
    area: Area,
    period: dt.date | None,
    source: FigureSource,
    parts: Part,
    hidden: set[tuple[int, dt.date, int]] | None = None,
    national: Area | None = None,
    national_totals: dict[int, dict[dt.date, ObsRow]] | None = None,
) -> None:
    """Each metric's breakdowns at its latest figure's quarter, and disproportionality (for breakdowns with a
    reference group) at the latest quarter with counts by group, with its trend over the last quarters for the
    area and for England and Wales (when the national figures are broken down too). ``hidden``: public
    evidence, with these cells suppressed (ratios are worked out from the full counts, then every one a hidden
    count would give back is removed)."""
    by_metric = {e.metric.pk: e for e in evidence if not e.national_fallback}
    breakdowns: dict[int, list[Breakdown]] = defaultdict(list)
    categories: dict[int, list[BreakdownCategory]] = defaultdict(list)
    links: list[Any] = reads.breakdown_links.read(metric_ids=list(by_metric)) if by_metric else []
    for cat in reads.categories_of.read(breakdown_ids=sorted({link.breakdown_id for link in links})):
        categories[cat.breakdown_id].append(cat)
    for link in sorted(links, key=lambda link: (link.breakdown.name, link.breakdown_id)):
        breakdowns[link.metric_id].append(link.breakdown)
    if not breakdowns:
        return
    fair_ids = [m for m, bs in breakdowns.items() if any(b.reference_id for b in bs) and by_metric[m].metric.has_ratio]
    fair_periods: dict[int, dt.date] = {}
    if parts & Part.FAIRNESS and fair_ids:
        fair_periods = dict(
            reads.newest_counted.read(
                snapshot_id=source.snapshot_id, metric_ids=fair_ids, area_id=area.pk, period=period
            )
        )
    trend = {
        m: _quarters_to(when, TREND_QUARTERS, step=quarters_between_points(by_metric[m].metric))
        for m, when in fair_periods.items()
    }
    periods = {e.latest.period for m, e in by_metric.items() if m in breakdowns and e.latest} | {
        q for quarters in trend.values() for q in quarters
    }
    cells: dict[tuple[int, dt.date, int], ObsRow] = {}
    national_cells: dict[tuple[int, dt.date, int], ObsRow] = {}
    if periods:
        areas = [area.pk] + ([national.pk] if national is not None and fair_periods else [])
        rows = reads.category_rows.read(
            snapshot_id=source.snapshot_id,
            metric_ids=list(breakdowns),
            area_ids=areas,
            periods=sorted(periods),
            up_to=None,
        )
        for obs in map(ObsRow._make, rows):  # into dicts: no ORDER BY (the default joins metric and area)
            assert obs.category_id is not None
            into = cells if obs.area_id == area.pk else national_cells
            into[(obs.metric_id, obs.period, obs.category_id)] = obs
    shown = cells
    if hidden is not None:
        shown = {key: suppressed(obs) if key in hidden else obs for key, obs in cells.items()}
    for metric_id, metric_breakdowns in breakdowns.items():
        item = by_metric[metric_id]
        for breakdown in metric_breakdowns:
            cats = categories.get(breakdown.pk, [])
            latest = item.latest
            if parts & Part.BREAKDOWNS and latest is not None:
                item.breakdowns.append(
                    BreakdownEvidence(
                        breakdown, latest.period, [(c, shown.get((metric_id, latest.period, c.pk))) for c in cats]
                    )
                )
            if breakdown.reference_id is None or metric_id not in fair_periods:
                continue
            totals = {o.period: o for o in item.series}
            by_quarter = [
                fairness_at(
                    metric=item.metric,
                    area=area,
                    breakdown=breakdown,
                    period=when,
                    cells=[(c, cells.get((metric_id, when, c.pk))) for c in cats],
                    total=totals.get(when),
                )
                for when in trend[metric_id]
            ]
            if hidden is not None:
                by_quarter = [
                    _public_fairness(
                        f, shown, metric_id, total_hidden=getattr(totals.get(f.period), "missing", "") == SUPPRESSED
                    )
                    for f in by_quarter
                ]
            latest_fair = by_quarter[-1]
            latest_fair.trend = [f for f in by_quarter if any(o is not None for _, o in f.cells)]
            if national is not None and national_cells:
                national_total = (national_totals or {}).get(metric_id, {})
                latest_fair.national_trend = [
                    fairness_at(
                        metric=item.metric,
                        area=national,
                        breakdown=breakdown,
                        period=f.period,
                        cells=[(c, national_cells.get((metric_id, f.period, c.pk))) for c in cats],
                        total=national_total.get(f.period),
                    )
                    for f in latest_fair.trend
                    if any((metric_id, f.period, c.pk) in national_cells for c in cats)
                ]
            item.fairness.append(latest_fair)


def _public_fairness(
    item: FairnessEvidence, shown: dict[tuple[int, dt.date, int], ObsRow], metric_id: int, *, total_hidden: bool
) -> FairnessEvidence:
    """Disproportionality as a public output shows it: the cells suppressed, no ratio, rate or count a hidden
    count would give back, and no recorded share (with the total it would give back a hidden not-recorded
    count); ratios withheld for thin records stay withheld, with the reason but not the share."""
    cells = [(c, shown.get((metric_id, item.period, c.pk))) for c, _ in item.cells]
    hidden = {c.code for c, o in cells if o is not None and o.missing == SUPPRESSED}
    if total_hidden:
        hidden |= {c.code for c, _ in cells}
    if not hidden:
        return dataclasses.replace(item, cells=cells)
    withheld = item.withheld
    if withheld is not None:
        needed = f"{(item.min_recorded or 0) * 100:.0f}%"
        withheld = f"{item.breakdown.name.split(' (')[0].lower()} recorded for fewer than {needed} of records"
    return dataclasses.replace(
        item,
        cells=cells,
        groups=suppress_groups(item.groups, hidden, reference_hidden=item.reference.code in hidden),
        recorded_share=None,
        withheld=withheld,
    )


TREND_QUARTERS = 8  # quarters of disproportionality and recorded share shown as a trend


def _quarters_to(end: dt.date, count: int, *, step: int = 1) -> list[dt.date]:
    """The ``count`` quarter end dates up to and including ``end``, oldest first, ``step`` quarters apart
    (4 for an annual measure: its last 8 years)."""
    last = Quarter.from_end_date(end)
    return [last.shift(-back * step).end_date for back in range(count - 1, -1, -1)]


def breakdown_cells(
    *, metric: Metric, area: Area, period: dt.date, breakdown: Breakdown, source: FigureSource = LIVE
) -> tuple[list[tuple[BreakdownCategory, ObsRow | None]], ObsRow | None]:
    """A breakdown's categories with the area's figures at ``period``, and the total row (the API's
    disproportionality)."""
    rows = source.rows.filter(metric=metric, area=area, period=period).order_by()  # into a dict: no ORDER BY
    found = {o.category_id: o for o in _obs_rows(rows)}
    return [(c, found.get(c.pk)) for c in breakdown.categories.all()], found.get(None)


def fairness_metrics(*, framework: Framework) -> list[FrameworkMetric]:
    """The framework's placements whose metric has a breakdown with a reference group and counts."""
    places = (
        FrameworkMetric.objects.filter(framework=framework, metric__breakdowns__reference__isnull=False)
        .select_related("metric__agency", "priority")
        .prefetch_related(Prefetch("metric__breakdowns", queryset=Breakdown.objects.select_related("reference")))
        .order_by("priority__order", "order")
        .distinct()
    )
    fair = [p for p in places if p.metric.has_ratio]
    attach_rebases(p.metric for p in fair)
    return fair

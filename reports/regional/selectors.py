"""The regional view: the partnerships of one region side by side on the measures their frameworks share.

What crosses partnerships here is published figures only: each partnership's latest published snapshot
(``SnapshotObservation``), never live ``Observation`` rows, returns or draft reports, and only from partnerships
that share their published figures with the region (``Partnership.shares_published_with_region``), plus the
reader's own. A measure is shared when each framework places a metric with the same code (typically a shared
official statistic); each partnership's figure is its home area's total, the latest quarter its snapshot holds.

Fixed queries whatever the number of partnerships and measures (six at most).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import OuterRef, Q, Subquery

from accounts.models import Partnership
from frameworks.models import Area
from frameworks.selectors import current_framework
from metrics.models import FrameworkMetric
from metrics.quarters import Quarter, period_label
from metrics.stats.currency import staleness
from metrics.stats.presentation import format_value
from metrics.stats.suppression import missing_symbol
from reports.models import Snapshot, SnapshotObservation


@dataclass
class Member:
    """A partnership shown in the view, with its latest published snapshot (None: nothing published yet)."""

    partnership: Partnership
    own: bool
    snapshot: Snapshot | None
    area: Area | None  # its framework's home area: the area its figures are for
    note: str = ""  # the plain note when its snapshot is old or missing

    @property
    def snapshot_label(self) -> str:
        if self.snapshot is None:
            return "nothing published"
        return f"{self.snapshot} (published {self.snapshot.published_at:%d %B %Y})"


@dataclass
class Cell:
    text: str  # the figure at the metric's precision, a symbol ([x], [c]), or "" when there is nothing
    value: float | None
    period: dt.date | None  # the quarter the figure is for
    note: str = ""

    @property
    def quarter(self) -> str:
        return period_label(self.period) if self.period else ""


@dataclass
class Row:
    code: str
    name: str
    cells: list[Cell]  # one per member, in the members' order


@dataclass
class RegionalView:
    partnership: Partnership  # the reader's
    region: str
    members: list[Member] = field(default_factory=list)  # the reader's own first, then the others by name
    rows: list[Row] = field(default_factory=list)
    not_sharing: int = 0  # partnerships of the region that do not share (not named)
    without_area_figures: list[tuple[str, str]] = field(default_factory=list)  # shared measures with no figure

    @property
    def neighbours(self) -> list[Member]:
        return [m for m in self.members if not m.own]


def _latest_snapshots(partnership_ids: list[int]) -> dict[int, Snapshot]:
    """Each partnership's latest published snapshot (any of its frameworks), in one query."""
    latest = (
        Snapshot.objects.filter(framework__partnership_id=OuterRef("framework__partnership_id"))
        .order_by("-period", "-number", "-pk")
        .values("pk")[:1]
    )
    found = Snapshot.objects.filter(framework__partnership_id__in=partnership_ids, pk=Subquery(latest)).select_related(
        "framework__home_area"
    )
    return {s.framework.partnership_id: s for s in found}


def regional_view(*, partnership: Partnership) -> RegionalView:
    """The regional view as ``partnership`` (the reader's) sees it."""
    view = RegionalView(partnership=partnership, region=partnership.region)
    if not partnership.region:
        return view
    region = list(Partnership.objects.filter(region=partnership.region).order_by("name", "code"))
    shown = [p for p in region if p.pk == partnership.pk or p.shares_published_with_region]
    view.not_sharing = len(region) - len(shown)
    shown.sort(key=lambda p: (p.pk != partnership.pk, p.name, p.code))
    snapshots = _latest_snapshots([p.pk for p in shown])
    for p in shown:
        snapshot = snapshots.get(p.pk)
        view.members.append(
            Member(
                partnership=p,
                own=p.pk == partnership.pk,
                snapshot=snapshot,
                area=snapshot.framework.home_area if snapshot is not None else None,
            )
        )
    if not view.neighbours:
        return view
    _notes(view.members)

    # The measures: the reader's framework's, in its order, that another partnership's published framework has.
    own = current_framework(partnership=partnership)
    own_snapshot = view.members[0].snapshot
    own_framework_id = own.pk if own is not None else (own_snapshot.framework_id if own_snapshot else None)
    framework_ids = {m.snapshot.framework_id for m in view.members if m.snapshot is not None}
    if own_framework_id is not None:
        framework_ids.add(own_framework_id)
    placed: dict[int, dict[str, tuple[int, str, str, int | None]]] = {fid: {} for fid in framework_ids}
    order: list[tuple[str, str]] = []
    for fid, metric_id, code, name, unit, decimals in (
        FrameworkMetric.objects.filter(framework_id__in=framework_ids)
        .order_by("priority__order", "order", "metric__code")
        .values_list("framework_id", "metric_id", "metric__code", "metric__name", "metric__unit", "metric__decimals")
    ):
        placed[fid][code] = (metric_id, name, unit, decimals)
        if fid == own_framework_id:
            order.append((code, name))
    other_codes = {
        code for m in view.neighbours if m.snapshot is not None for code in placed.get(m.snapshot.framework_id, {})
    }
    measures = [(code, name) for code, name in order if code in other_codes]

    # The figures: each member's home-area total, the latest quarter in its latest published snapshot.
    figures: dict[tuple[int, int], SnapshotObservation] = {}
    pairs = Q()
    for m in view.members:
        if m.snapshot is not None:
            pairs |= Q(snapshot_id=m.snapshot.pk, area_id=m.snapshot.framework.home_area_id)
    metric_ids = {
        placed[m.snapshot.framework_id][code][0]
        for m in view.members
        if m.snapshot is not None
        for code, _ in measures
        if code in placed[m.snapshot.framework_id]
    }
    if pairs and metric_ids:
        newest = (
            SnapshotObservation.objects.filter(
                snapshot_id=OuterRef("snapshot_id"),
                metric_id=OuterRef("metric_id"),
                area_id=OuterRef("area_id"),
                category__isnull=True,
            )
            .order_by("-period")
            .values("period")[:1]
        )
        rows = SnapshotObservation.objects.filter(pairs, metric_id__in=metric_ids, category__isnull=True).filter(
            period=Subquery(newest)
        )
        for obs in rows.only(
            "snapshot_id", "metric_id", "period", "value", "missing", "illustrative", "unit", "area_id"
        ):
            figures[(obs.snapshot_id, obs.metric_id)] = obs

    for code, name in measures:
        cells = [_cell(m, placed, code, figures) for m in view.members]
        if all(c.period is None for c in cells):  # no partnership has a figure for its area (national only)
            view.without_area_figures.append((code, name))
            continue
        view.rows.append(Row(code=code, name=name, cells=cells))
    return view


def _notes(members: list[Member]) -> None:
    """A plain note for a partnership with nothing published, or whose latest snapshot is behind the newest."""
    periods = [m.snapshot.period for m in members if m.snapshot is not None]
    newest = max(periods) if periods else None
    for m in members:
        who = "You have" if m.own else f"{m.partnership.name} has"
        if m.snapshot is None:
            m.note = f"{who} not published a snapshot yet: no figures to show."
        elif newest is not None and m.snapshot.period < newest:
            behind = Quarter.from_end_date(m.snapshot.period).quarters_between(Quarter.from_end_date(newest))
            m.note = (
                f"The latest published snapshot is for {m.snapshot.label}, {behind} quarter{'s' if behind != 1 else ''} "
                f"behind the newest here ({period_label(newest)})."
            )


def _cell(
    member: Member,
    placed: dict[int, dict[str, tuple[int, str, str, int | None]]],
    code: str,
    figures: dict[tuple[int, int], SnapshotObservation],
) -> Cell:
    snapshot = member.snapshot
    if snapshot is None:
        return Cell("", None, None, "nothing published")
    metric = placed.get(snapshot.framework_id, {}).get(code)
    if metric is None:
        return Cell("", None, None, "not in its framework")
    metric_id, _, unit, decimals = metric
    obs = figures.get((snapshot.pk, metric_id))
    area = member.area.name if member.area is not None else "its area"
    if obs is None:
        return Cell("[x]", None, None, f"no figure for {area}")
    notes = []
    if obs.value is None:
        text = missing_symbol(obs.missing) or "[x]"
    else:
        text = format_value(obs.value, unit, decimals)
    if staleness(obs.period, snapshot.period, settings.PCC_PERF_STALE_QUARTERS).stale:
        notes.append(f"latest available (snapshot for {snapshot.label})")
    if obs.illustrative:
        notes.append("illustrative")
    return Cell(text, obs.value, obs.period, "; ".join(notes))

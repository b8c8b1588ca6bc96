"""Where figures come from: approved data now, or a snapshot's frozen copy; light rows to read them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from functools import cached_property
from typing import TYPE_CHECKING, Any, NamedTuple

from django.conf import settings
from django.db.models import Q, QuerySet

from accounts.scoping import ScopedQuerySet
from accounts.tenancy import in_a_scope, partnership_key
from frameworks.models import Priority
from metrics.models import Metric, Observation, visible_figures
from metrics.quarters import period_label
from metrics.stats.suppression import missing_symbol, status_symbol
from reports.models import Snapshot, SnapshotObservation

if TYPE_CHECKING:
    from reports.snapshots.frozen import FrozenDefinitions


# --- the partnership's rows ---------------------------------------------------------------------------------
def in_partnership(queryset: Any) -> Any:
    """``queryset.in_scope()``: the rows of the partnership of the work in hand (and the shared ones where the
    model has them). Outside any scope (a test's or a shell's direct call) the default partnership's, named by
    its code in the same query rather than looked up first, so a selector reads in the same number of
    queries in a request and out of one."""
    if in_a_scope():
        return queryset.in_scope()
    if queryset.model is Observation:
        return queryset.filter(visible_figures(partnership_code=settings.PCC_PERF_DEFAULT_PARTNERSHIP))
    model_qs: type[ScopedQuerySet] = type(queryset)
    q = Q(**{f"{model_qs.PATH}__code": settings.PCC_PERF_DEFAULT_PARTNERSHIP})
    if model_qs.SHARED:
        q |= Q(**{f"{model_qs.PATH}__isnull": True})
    return queryset.filter(q)


_LIVE_ROWS: dict[int | str, QuerySet[Any]] = {}


def _live_rows() -> QuerySet[Any]:
    """``in_partnership(Observation.objects.all())``, its filter built once per process and partnership and
    cloned for each read (the filter, an OR over the metric's and the batch's partnerships, took ~0.3 ms of
    Python to build, four times a page). The kept queryset is never evaluated, only cloned."""
    key = partnership_key()
    base = _LIVE_ROWS.get(key)
    if base is None:
        base = _LIVE_ROWS[key] = in_partnership(Observation.objects.all())
    return base.all()


def figure_rows(snapshot_id: int | None) -> QuerySet[Any]:
    """The rows figures are read from: snapshot ``snapshot_id``'s frozen copy, or (None) the approved figures
    the partnership reads, its own measures' and the shared ones'."""
    if snapshot_id is None:
        return _live_rows()
    return SnapshotObservation.objects.filter(snapshot_id=snapshot_id)


# --- where figures come from ------------------------------------------------------------------------------
class FigureSource:
    """Approved data as it stands now, or a snapshot's copy with what it froze: SPC settings, metric
    definitions, priority names and annotations as published."""

    def __init__(self, snapshot: Snapshot | None = None) -> None:
        self.snapshot = snapshot

    @property
    def rows(self) -> QuerySet[Any]:
        return figure_rows(self.snapshot_id)

    @property
    def snapshot_id(self) -> int | None:
        return None if self.snapshot is None else int(self.snapshot.pk)

    def latest_period(self) -> dt.date | None:
        """The newest quarter with figures: the snapshot's, or the newest of any measure in scope."""
        if self.snapshot is not None:
            return self.snapshot.period
        from reports.evidence.reads import newest_by_metric

        return max((when for when in newest_by_metric.read() if when is not None), default=None)

    @cached_property
    def frozen(self) -> FrozenDefinitions | None:
        """What the snapshot froze (None: live data, read from the live rows)."""
        if self.snapshot is None:
            return None
        from reports.snapshots.frozen import FrozenDefinitions

        return FrozenDefinitions.of(self.snapshot)

    @cached_property
    def spc_settings(self) -> dict[str, dict[str, Any]] | None:
        """Each metric's SPC settings and rebases by code, as the snapshot published them (None: live)."""
        return self.frozen.spc_settings() if self.frozen is not None else None

    def definition(self, metric: Metric) -> Metric:
        """``metric`` as the source defines it: as published in the snapshot, or the live row."""
        return self.frozen.metric(metric) if self.frozen is not None else metric

    def priority_name(self, priority: Priority) -> str:
        return self.frozen.priority_name(priority.code, priority.name) if self.frozen is not None else priority.name

    def spc_settings_for(self, metric: Metric) -> dict[str, Any] | None:
        return self.spc_settings.get(metric.code) if self.spc_settings is not None else None

    @property
    def caption(self) -> str:
        if self.snapshot is None:
            return ""
        when = self.snapshot.published_at.strftime("%d %B %Y")
        return f"As published in snapshot {self.snapshot.number} of {period_label(self.snapshot.period)} on {when}."


LIVE = FigureSource()


class ObsRow(NamedTuple):
    """A light observation (or snapshot observation) row, without the cost of model instances: a named
    tuple, made straight from the database's row (a national overview reads 4,800; a frozen dataclass took
    ~1.5 us each to make, a fifth of the page's own Python)."""

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
    illustrative: bool = False

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
    "illustrative",
)


def _obs_rows(queryset: QuerySet[Any]) -> Iterable[ObsRow]:
    return map(ObsRow._make, queryset.values_list(*OBS_FIELDS))

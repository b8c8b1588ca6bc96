"""A series's statistics with its metric's settings (the evidence builder and the unusual-figure check use it)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from .models import Basis, Metric
from .stats.spc import SpcResult, xmr_of


def observation_values(observations: Sequence[Any]) -> pd.Series:
    """The values of observations (missing ones left out) indexed by quarter end date."""
    return pd.Series(observation_dict(observations), dtype=float).sort_index()


def observation_dict(observations: Sequence[Any]) -> dict[Any, float]:
    """The values of observations (missing ones left out) by quarter end date, as a plain dict (in the
    observations' order; a period given twice keeps its last value): what the statistics read, no pandas."""
    return {o.period: float(o.value) for o in observations if o.value is not None}


def metric_spc(
    metric: Metric,
    observations: Sequence[Any],
    spc_settings: dict[str, Any] | None = None,
    *,
    values: dict[Any, float] | None = None,
) -> SpcResult:
    """SPC of a series with the metric's settings and the current partnership's rebases (``metric.rebases``
    should be prefetched with ``Rebase.objects.in_scope()``: a shared statistic is rebased by each partnership
    for itself), or with ``spc_settings`` (a snapshot's, as published) when given. ``values``: the series's
    ``observation_dict`` when the caller has it already."""
    if spc_settings is None:
        if "rebases" in getattr(metric, "_prefetched_objects_cache", {}):
            recorded = list(metric.rebases.all())
        else:
            from .models import Rebase

            recorded = list(Rebase.objects.in_scope().filter(metric=metric))
        rebases = [(r.period, r.reason) for r in sorted(recorded, key=lambda r: r.period)]
        spc_settings = {
            "screen_outliers": metric.spc_screen_outliers,
            "run_length": metric.spc_run_length,
            "trend_length": metric.spc_trend_length,
            "rebases": rebases,
        }
    rebases = sorted(spc_settings["rebases"])
    return xmr_of(
        (observation_dict(observations) if values is None else values).items(),
        direction=metric.direction,
        screen_outliers=spc_settings["screen_outliers"],
        run_length=spc_settings["run_length"],
        trend_length=spc_settings["trend_length"],
        rebases=[period for period, _ in rebases],
        rebase_reasons=[reason for _, reason in rebases],
        step=quarters_between_points(metric),
    )


def quarters_between_points(metric: Metric) -> int:
    """4 for a metric published once a year (``basis: annual``), else 1."""
    return 4 if metric.basis == Basis.ANNUAL else 1

"""A series's statistics with its metric's settings (the evidence builder and the unusual-figure check use it)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from .models import Basis, Metric
from .stats.spc import SpcResult, xmr


def observation_values(observations: Sequence[Any]) -> pd.Series:
    """The values of observations (missing ones left out) indexed by quarter end date."""
    data = {o.period: o.value for o in observations if o.value is not None}
    return pd.Series(data, dtype=float).sort_index()


def metric_spc(metric: Metric, observations: Sequence[Any], spc_settings: dict[str, Any] | None = None) -> SpcResult:
    """SPC of a series with the metric's settings and rebases (``metric.rebases`` should be prefetched),
    or with ``spc_settings`` (a snapshot's, as published) when given."""
    if spc_settings is None:
        rebases = [(r.period, r.reason) for r in sorted(metric.rebases.all(), key=lambda r: r.period)]
        spc_settings = {
            "screen_outliers": metric.spc_screen_outliers,
            "run_length": metric.spc_run_length,
            "trend_length": metric.spc_trend_length,
            "rebases": rebases,
        }
    rebases = sorted(spc_settings["rebases"])
    return xmr(
        observation_values(observations),
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

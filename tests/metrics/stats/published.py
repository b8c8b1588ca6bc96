"""Readers for the real published files in ``../shared/data/published`` (beside the project), for tests.

Tests that read them skip when the folder is absent (``needs_published``); each also keeps a small real
extract inline, so the statistics are always tested on real figures.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections import defaultdict
from pathlib import Path

import pandas as pd
import pytest

from metrics.quarters import Quarter

PUBLISHED = Path(__file__).resolve().parents[3] / ".." / "shared" / "data" / "published"
needs_published = pytest.mark.skipif(not PUBLISHED.exists(), reason="needs ../shared/data/published beside the project")

MONTHS = {
    m: i for i, m in enumerate(["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], 1)
}


def recorded_crime_total(force: str, first: dt.date = dt.date(2012, 6, 30)) -> pd.Series:
    """A force's police recorded crime, all offence groups but fraud (as the demo's OFF01), by quarter."""
    data = pd.read_csv(PUBLISHED / "prc-force-quarterly" / "combined_df FINAL 2023 Q4 added.converted.csv")
    data = data[(data["Force Name"] == force) & (data["Offence Group"] != "Fraud offences")]
    periods = [
        Quarter(int(fy[:4]), int(q)).end_date
        for fy, q in zip(data["Financial Year"], data["Financial Quarter"], strict=True)
    ]
    totals = data["Number of Offences"].groupby(periods).sum().astype(float).sort_index()
    return totals[totals.index >= first]


def stop_search_counts() -> pd.DataFrame:
    """Stop and searches by force, quarter (end date; whole quarters only) and ethnicity (5 groups + Unknown)."""
    data = pd.read_csv(PUBLISHED / "stop-search-ethnicity" / "master_sns_df.csv", parse_dates=["year_month"])
    data["period"] = [Quarter.containing(d.date()).end_date for d in data["year_month"]]
    months = data.groupby("period")["year_month"].nunique()
    data = data[data["period"].isin(months[months == 3].index)]
    return data.pivot_table(
        index=["police_force_name", "period"],
        columns="ethnicity_simple",
        values="sns_count",
        aggfunc="sum",
        fill_value=0,
    ).astype(float)


def census_population(force: str) -> dict[str, float]:
    census = pd.read_csv(PUBLISHED / "stop-search-ethnicity" / "master_census_df.csv")
    census = census[census["police_force_name"] == force]
    return {str(k).lower(): float(v) for k, v in census.groupby("ethnicity_simple")["census_pop"].sum().items()}


def cps_conviction_rate(area: str) -> pd.Series:
    """A CPS area's conviction rate (%) by quarter, all offence categories; quarters with a missing month left out."""
    monthly: dict[dt.date, tuple[float, float]] = {}
    for path in sorted((PUBLISHED / "cps-case-outcomes").glob("*/*.csv")):
        stem = path.stem.removeprefix("principal_offence_category_").split("_")[0].lower()
        month = dt.date(int(path.parent.name), MONTHS[stem[:3]], 1)
        with path.open(newline="", encoding="utf-8-sig") as fh:
            rows = list(csv.reader(fh))
        header = rows[0]
        for row in rows[1:]:
            if row and row[0].strip() == area:
                numbers = [(h, _int(v)) for h, v in zip(header, row, strict=True) if h.startswith("Number of")]
                convicted = sum(v for h, v in numbers if h.endswith("Convictions"))
                failed = sum(v for h, v in numbers if h.endswith("Unsuccessful") and "Admin" not in h)
                monthly[month] = (convicted, failed)
    by_quarter: dict[dt.date, list[tuple[float, float]]] = defaultdict(list)
    for month, figures in monthly.items():
        by_quarter[Quarter.containing(month).end_date].append(figures)
    rates = {
        period: sum(c for c, _ in months) / sum(c + f for c, f in months) * 100
        for period, months in by_quarter.items()
        if len(months) == 3
    }
    return pd.Series(rates, dtype=float).sort_index()


def _int(text: str) -> float:
    return float(text.replace(",", "")) if text.strip() not in ("", "-") else 0.0

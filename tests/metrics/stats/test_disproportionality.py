"""Relative rate index, checked against an independent implementation (SciPy's relative risk) on the
real stop and search data with Census 2021 denominators."""

import csv
import math
from collections import defaultdict

import pandas as pd
import pytest
from scipy.stats.contingency import relative_risk

from metrics.stats.disproportionality import relative_rates

from ...conftest import FIXTURES


def stop_search_tables():
    """(area, period) -> table of numerator and denominator per ethnic group, from the demo extract."""
    tables = defaultdict(list)
    with (FIXTURES / "demo" / "police.csv").open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            if row["metric"] == "FAIR01" and row["category"]:
                tables[(row["area"], row["period"])].append(
                    {
                        "category": row["category"],
                        "numerator": float(row["numerator"]),
                        "denominator": float(row["denominator"]),
                    }
                )
    return {key: pd.DataFrame(rows) for key, rows in tables.items()}


def test_matches_scipy_on_real_stop_and_search_data():
    tables = stop_search_tables()
    assert len(tables) > 400  # 42 forces x 11 quarters
    checked = 0
    for table in tables.values():
        white = table[table.category == "white"].iloc[0]
        for group in relative_rates(table, reference="white"):
            a, big_a = group.numerator, group.denominator
            if a == 0 or white.numerator == 0:
                assert group.ratio is None
                continue
            expected = relative_risk(int(a), int(big_a), int(white.numerator), int(white.denominator))
            ci = expected.confidence_interval(confidence_level=0.95)
            assert group.ratio == pytest.approx(expected.relative_risk, rel=1e-12)
            assert group.ci_lower == pytest.approx(ci.low, rel=1e-9)
            assert group.ci_upper == pytest.approx(ci.high, rel=1e-9)
            assert group.significant == (ci.low > 1 or ci.high < 1)
            assert group.rate == pytest.approx(a / big_a * 1000)
            checked += 1
    assert checked > 1000


def test_a_known_case_by_hand():
    # Metropolitan Police style figures: 120 of 15,000 against 300 of 150,000.
    table = pd.DataFrame(
        [
            {"category": "white", "numerator": 300, "denominator": 150_000},
            {"category": "black", "numerator": 120, "denominator": 15_000},
        ]
    )
    (black,) = relative_rates(table, reference="white")
    assert black.rate == pytest.approx(8.0)
    assert black.ratio == pytest.approx(4.0)
    se = math.sqrt(1 / 120 - 1 / 15_000 + 1 / 300 - 1 / 150_000)
    assert black.ci_lower == pytest.approx(4.0 * math.exp(-1.959963984540054 * se))
    assert black.ci_upper == pytest.approx(4.0 * math.exp(1.959963984540054 * se))
    assert black.significant


def test_zero_and_tiny_counts_get_no_ratio():
    table = pd.DataFrame(
        [
            {"category": "white", "numerator": 300, "denominator": 150_000},
            {"category": "black", "numerator": 0, "denominator": 15_000},
            {"category": "mixed", "numerator": 3, "denominator": 9_000},
            {"category": "asian", "numerator": 40, "denominator": 20_000},
        ]
    )
    groups = {g.category: g for g in relative_rates(table, reference="white", min_count=5)}
    assert groups["black"].ratio is None
    assert groups["black"].ci_lower is None
    assert groups["black"].rate == 0
    assert "zero" in groups["black"].note
    assert groups["mixed"].ratio is None
    assert "below 5" in groups["mixed"].note
    assert groups["asian"].ratio == pytest.approx(1.0)
    assert groups["asian"].significant is False


def test_reference_with_no_events_gives_no_ratios():
    table = pd.DataFrame(
        [
            {"category": "white", "numerator": 0, "denominator": 1000},
            {"category": "black", "numerator": 5, "denominator": 100},
        ]
    )
    assert relative_rates(table, reference="white")[0].ratio is None


def test_unknown_reference():
    with pytest.raises(ValueError, match="reference category"):
        relative_rates(pd.DataFrame([{"category": "a", "numerator": 1, "denominator": 2}]), reference="white")


def test_plain_rows_give_what_the_data_frame_gives_on_real_data():
    """Pages pass plain rows (no DataFrame per breakdown): the same groups, to the last digit, with a
    missing count or population (None, NaN in a DataFrame) treated alike."""
    tables = stop_search_tables()
    for table in list(tables.values())[:60]:
        rows = table.to_dict("records")
        rows[1] = {**rows[1], "numerator": None}
        assert relative_rates(rows, reference="white") == relative_rates(pd.DataFrame(rows), reference="white")

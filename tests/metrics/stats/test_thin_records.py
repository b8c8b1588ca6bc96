"""Thin records: recorded share, withheld ratios and small-number flags on real stop and search data.

Staffordshire (data.police.uk, Census 2021 populations): in 2023/24 Q4 ethnicity was recorded for 39 of
1,416 searches (2.8%) and the Black/White ratio computes to 19.5 on 7 and 27 searches; in 2022/23 Q1,
with 91.9% recorded, the same calculation gives 2.9.
"""

import datetime as dt

import pandas as pd
import pytest

from metrics.stats.disproportionality import recorded_share, relative_rates, withheld_reason, withhold

from .published import census_population, needs_published, stop_search_counts

POPULATION = {"white": 1035933, "black": 13780, "asian": 54494, "mixed": 21194, "other": 9100}
# (quarter end) -> searches by self-defined ethnicity; "unknown" = not recorded.
SEARCHES = {
    dt.date(2022, 6, 30): {"white": 652, "black": 25, "asian": 60, "mixed": 51, "other": 8, "unknown": 70},
    dt.date(2024, 3, 31): {"white": 27, "black": 7, "asian": 2, "mixed": 2, "other": 1, "unknown": 1377},
}


def table(period):
    counts = SEARCHES[period]
    return pd.DataFrame(
        [{"category": c, "numerator": counts[c], "denominator": POPULATION[c]} for c in POPULATION],
    )


def assess(period):
    counts = SEARCHES[period]
    share = recorded_share(counts, sum(counts.values()), "unknown")
    groups = relative_rates(table(period), reference="white")
    reason = withheld_reason(share, 0.8, records="searches")
    return share, reason, {g.category: g for g in withhold(groups, reason)}, {g.category: g for g in groups}


def test_the_thin_quarter_is_withheld_with_its_reason():
    share, reason, shown, computed = assess(dt.date(2024, 3, 31))
    assert sum(SEARCHES[dt.date(2024, 3, 31)].values()) == 1416
    assert share == pytest.approx(39 / 1416)
    assert round(computed["black"].ratio, 1) == 19.5  # the figure, on 7 and 27 searches
    assert computed["black"].significant
    assert reason == "ethnicity recorded for 3% of searches; 80% needed"
    assert all(g.ratio is None and g.ci_lower is None and g.significant is None for g in shown.values())
    assert shown["black"].note == reason
    assert shown["black"].rate == computed["black"].rate  # rates stay


def test_the_well_recorded_quarter_is_not():
    share, reason, shown, _ = assess(dt.date(2022, 6, 30))
    assert round(share * 100, 1) == 91.9
    assert reason is None
    assert round(shown["black"].ratio, 1) == 2.9
    assert shown["black"].significant


def test_small_numbers_are_flagged_but_keep_their_ratio():
    _, _, _, computed = assess(dt.date(2024, 3, 31))
    assert {c for c, g in computed.items() if g.small_numbers} == {"asian", "mixed", "other"}  # 2, 2, 1
    assert computed["other"].ratio is not None
    assert not computed["black"].small_numbers  # 7
    _, _, _, well = assess(dt.date(2022, 6, 30))
    assert not any(g.small_numbers for g in well.values())
    zero = relative_rates(
        pd.DataFrame(
            [
                {"category": "white", "numerator": 6, "denominator": 100},
                {"category": "x", "numerator": 0, "denominator": 9},
            ]
        ),
        reference="white",
    )
    assert not zero[0].small_numbers  # zero is not disclosive


def test_recorded_share_edges():
    assert recorded_share({"white": 5, "unknown": 5}, 10, None) is None  # no not_recorded category declared
    assert recorded_share({"white": 5}, None, "unknown") is None
    assert recorded_share({"white": 5}, 0, "unknown") is None
    assert recorded_share({"white": 5, "black": None}, 10, "unknown") == 0.5  # the category left out of the counts
    assert withheld_reason(None, 0.8) is None
    assert withheld_reason(0.5, None) is None
    assert withheld_reason(0.8, 0.8) is None
    assert withheld_reason(0.796, 0.8, records="searches") == "ethnicity recorded for 79.6% of searches; 80% needed"
    assert withheld_reason(0.004, 0.8).startswith("ethnicity recorded for under 1% of records")
    assert withhold([], None) == []


@needs_published
def test_from_the_published_files():
    counts = stop_search_counts().loc["Staffordshire"]
    assert census_population("Staffordshire") == POPULATION
    for period, expected in SEARCHES.items():
        row = counts.loc[period]
        assert {k.lower(): int(v) for k, v in row.items()} == expected
    # Every Staffordshire quarter from 2022/23 Q4 (55.5% recorded) to 2024/25 Q3 is withheld; none before.
    withheld = []
    for period, row in counts.iterrows():
        share = recorded_share({k.lower(): v for k, v in row.items()}, row.sum(), "unknown")
        if withheld_reason(share, 0.8):
            withheld.append(period)
    assert withheld == [p for p in counts.index if p >= dt.date(2023, 3, 31)]

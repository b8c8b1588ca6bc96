"""Data currency and fair peer comparisons, on real figures."""

import datetime as dt

import pytest

from metrics.stats.compare import default_comparable, peer_comparison, rank_meaning
from metrics.stats.currency import staleness

from .published import cps_conviction_rate, needs_published, stop_search_counts

REPORT_QUARTER = dt.date(2025, 3, 31)  # 2024/25 Q4
CPS_LATEST = dt.date(2018, 3, 31)  # CPS case outcomes end in March 2018 (2017/18 Q4)


def test_an_old_figure_is_stale():
    old = staleness(CPS_LATEST, REPORT_QUARTER)
    assert (old.latest, old.quarters_old, old.stale) == (CPS_LATEST, 28, True)
    assert old.label == "latest available: 2017/18 Q4"


@pytest.mark.parametrize(("latest", "old", "stale"), [("2024-03-31", 4, False), ("2023-12-31", 5, True)])
def test_the_setting_is_inclusive(latest, old, stale):
    result = staleness(dt.date.fromisoformat(latest), REPORT_QUARTER)
    assert (result.quarters_old, result.stale) == (old, stale)
    assert result.label == ("latest available: 2023/24 Q3" if stale else "")
    assert staleness(dt.date.fromisoformat(latest), REPORT_QUARTER, max_quarters=8).stale is False


def test_no_figure_and_later_figures():
    assert staleness(None, REPORT_QUARTER) == staleness(None, REPORT_QUARTER, 0)
    assert staleness(None, REPORT_QUARTER).stale is False
    later = staleness(dt.date(2025, 6, 30), REPORT_QUARTER)
    assert (later.quarters_old, later.stale) == (-1, False)
    assert staleness(dt.date(2025, 2, 14), REPORT_QUARTER).latest == REPORT_QUARTER  # any date in the quarter
    with pytest.raises(ValueError):
        staleness(CPS_LATEST, REPORT_QUARTER, -1)


@needs_published
def test_the_cps_files_end_in_2017_18_q4():
    assert max(cps_conviction_rate("Staffordshire").index) == CPS_LATEST


def test_default_comparability_by_unit():
    assert [default_comparable(u) for u in ("percentage", "rate_per_1000", "rate_per_100000", "days", "ratio")] == [
        True
    ] * 5
    assert default_comparable("score")
    assert not default_comparable("count")
    assert not default_comparable("something new")


# Stop and searches in 2023/24 Q4 (data.police.uk) for four West Midlands region forces.
SEARCH_COUNTS = {"staffordshire": 1416, "west-mercia": 795, "warwickshire": 22, "west-midlands": 6212}


def test_a_count_is_not_ranked():
    result = peer_comparison(
        SEARCH_COUNTS,
        area="staffordshire",
        direction="neutral",
        period=dt.date(2024, 3, 31),
        comparable=default_comparable("count"),
    )
    assert result.rank is None
    assert not result.comparable
    assert (result.peer_min, result.peer_max, result.of) == (22, 6212, 4)  # still shown for context
    ranked = peer_comparison(SEARCH_COUNTS, area="staffordshire", direction="neutral", period=dt.date(2024, 3, 31))
    assert ranked.rank == 2
    assert ranked.rank_meaning == "1 is the highest"  # neutral: highest, never best
    assert ranked.ranked_from == "highest"


def test_rank_meaning_follows_the_direction():
    assert rank_meaning("lower_is_better") == "1 is the lowest, which is best"
    assert rank_meaning("higher_is_better") == "1 is the highest, which is best"
    low = peer_comparison(SEARCH_COUNTS, area="warwickshire", direction="lower_is_better", period=REPORT_QUARTER)
    assert (low.rank, low.ranked_from) == (1, "lowest")


@needs_published
def test_the_search_counts_are_the_published_ones():
    counts = stop_search_counts().sum(axis=1)
    names = {"staffordshire": "Staffordshire", "west-mercia": "West Mercia", "warwickshire": "Warwickshire"}
    names["west-midlands"] = "West Midlands"
    assert {code: int(counts.loc[(name, dt.date(2024, 3, 31))]) for code, name in names.items()} == SEARCH_COUNTS

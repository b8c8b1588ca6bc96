"""Gaps and suggested rebases on real published series (inline extracts, checked against the files)."""

import datetime as dt
import itertools

import pandas as pd
import pytest

from metrics.quarters import Quarter
from metrics.stats.rebase import suggest_rebases
from metrics.stats.spc import OUTSIDE_LIMITS, SHIFT, TREND, xmr

from .published import census_population, cps_conviction_rate, needs_published, recorded_crime_total, stop_search_counts
from .test_spc import REFERENCE, series

Q = Quarter.parse

# Police recorded crime (Home Office open data), all offence groups but fraud, 2012/13 Q1 - 2023/24 Q4.
STAFFORDSHIRE_CRIME = [
    14704, 15519, 14352, 13549, 14508, 15816, 15037, 14044, 14633, 15603, 15123, 15413, 16170, 17180, 17272, 17507,
    18672, 19496, 19431, 19962, 21179, 22277, 20273, 20056, 21716, 22009, 20948, 20221, 20552, 18555, 16571, 23728,
    16289, 17948, 16143, 15881, 17380, 17066, 19491, 15833, 25842, 25352, 22420, 23675, 23285, 21595, 20329, 21212,
]  # fmt: skip
KENT_CRIME = [
    23198, 25155, 25809, 24243, 25612, 28633, 27492, 27172, 28712, 28503, 26991, 26095, 27363, 28129, 29146, 28033,
    30452, 32488, 32419, 33040, 40947, 45335, 46154, 43649, 52967, 53688, 47102, 46699, 50250, 49245, 47002, 44207,
    39599, 48224, 40648, 38655, 45856, 46779, 45325, 42919, 45862, 45886, 42594, 40876, 43783, 44288, 40064, 38436,
]  # fmt: skip
# Warwickshire criminal damage and arson, 2014/15 Q1 - 2019/20 Q3: common cause throughout.
WARWICKSHIRE_DAMAGE = [
    1054, 1006, 1071, 989, 1148, 1132, 1116, 1079, 1022, 1035, 1153, 1032, 1155, 1210, 1238, 1022, 1188, 1238, 1108,
    1154, 1047, 1017, 1064,
]  # fmt: skip
# data.police.uk stop and search in Staffordshire, 2022/23 Q1 - 2024/25 Q3: (all searches, ethnicity unknown).
STAFFORDSHIRE_SEARCHES = [
    (866, 70), (1186, 148), (908, 98), (1119, 498), (1250, 1231), (1267, 1241), (1229, 1212), (1416, 1377),
    (1368, 1324), (1505, 1497), (1455, 1424),
]  # fmt: skip
# CPS case outcomes, Staffordshire, conviction rate (%) of all prosecutions by quarter; quarters missing a
# month are not published whole: 2015/16 Q3 and Q4 and 2017/18 Q1 are gaps.
STAFFORDSHIRE_CPS = {
    "2014-03-31": 86.99, "2014-06-30": 80.85, "2014-09-30": 82.05, "2014-12-31": 82.29, "2015-03-31": 82.38,
    "2015-06-30": 82.47, "2015-09-30": 84.19, "2016-06-30": 85.08, "2016-09-30": 84.20, "2016-12-31": 85.20,
    "2017-03-31": 86.02, "2017-09-30": 85.69, "2017-12-31": 86.15, "2018-03-31": 85.95,
}  # fmt: skip


def quarterly(values, first):
    return series(values, start=Q(first))


def recorded_share_series():
    return quarterly([(total - unknown) / total * 100 for total, unknown in STAFFORDSHIRE_SEARCHES], "2022/23 Q1")


def cps():
    return pd.Series({dt.date.fromisoformat(k): v for k, v in STAFFORDSHIRE_CPS.items()})


# --- gaps ---------------------------------------------------------------------------------------------------


def test_real_missing_quarters_break_the_moving_range():
    result = xmr(cps(), direction="higher_is_better")
    assert result.missing_quarters == [dt.date(2015, 12, 31), dt.date(2016, 3, 31), dt.date(2017, 6, 30)]
    after = [p.period for p in result.points if p.after_gap]
    assert after == [dt.date(2016, 6, 30), dt.date(2017, 9, 30)]
    for point in result.points:
        assert (point.moving_range is None) == (point.after_gap or point is result.points[0])
    # The mean moving range is over the 11 moving ranges between consecutive quarters only.
    values = list(STAFFORDSHIRE_CPS.values())
    ranges = [abs(b - a) for a, b in itertools.pairwise(values)]
    ranges = [r for i, r in enumerate(ranges) if i not in (6, 10)]  # across the two gaps
    assert len(ranges) == 11
    unscreened = xmr(cps(), screen_outliers=False).last_segment
    assert unscreened.mean_moving_range == pytest.approx(sum(ranges) / 11)


def test_a_value_of_x_is_a_gap_like_an_absent_quarter():
    data = cps()
    with_x = data.reindex(sorted([*data.index, dt.date(2017, 6, 30)]))  # 2017/18 Q1 as NaN ([x])
    assert with_x.isna().sum() == 1
    assert xmr(with_x) == xmr(data)


def test_runs_and_trends_count_the_points_present_in_order():
    # Take a real run (Staffordshire's eight quarters above the mean) and drop a quarter from inside it:
    # the seven points left still make a run of seven (a gap neither breaks nor extends a run).
    crime = quarterly(STAFFORDSHIRE_CRIME, "2012/13 Q1")
    gappy = crime.drop(Q("2023/24 Q1").end_date)
    result = xmr(gappy, direction="lower_is_better")
    assert result.missing_quarters == [Q("2023/24 Q1").end_date]
    tail = result.points[-7:]
    assert all(SHIFT in p.rules for p in tail)
    assert tail[4].after_gap and tail[4].moving_range is None
    # A trend too: seven rising points with a missing quarter among them are a trend of seven.
    rising = series([1, 2, 3, float("nan"), 4, 5, 6, 7])
    assert [TREND in p.rules for p in xmr(rising).points] == [True] * 7


def test_a_series_without_gaps_is_unchanged():
    result = xmr(series(REFERENCE))
    assert result.missing_quarters == []
    assert not any(p.after_gap for p in result.points)


# --- suggested rebases --------------------------------------------------------------------------------------


def test_the_issue_figures_42_of_48_special_cause_and_a_step_in_2022_23_q1():
    crime = quarterly(STAFFORDSHIRE_CRIME, "2012/13 Q1")
    result = xmr(crime, direction="lower_is_better")
    assert sum(1 for p in result.points if p.special_cause) == 42
    (suggestion,) = suggest_rebases(result)
    assert suggestion.period == dt.date(2022, 6, 30)
    assert suggestion.reason == (
        "the last 8 quarters are all above the mean: the process seems to have changed in 2022/23 Q1"
    )


def test_a_recorded_rebase_at_or_after_the_change_silences_the_suggestion():
    crime = quarterly(STAFFORDSHIRE_CRIME, "2012/13 Q1")
    for recorded in ("2022/23 Q1", "2023/24 Q1"):
        assert suggest_rebases(crime, recorded=[Q(recorded).end_date]) == []
        assert suggest_rebases(xmr(crime, rebases=[Q(recorded).end_date])) == []


def test_after_the_2014_recording_changes_kent_settles_at_a_new_level():
    # Kent's recorded crime doubled after the 2014 inspection of crime recording; it settled from 2017/18 Q1.
    (suggestion,) = suggest_rebases(quarterly(KENT_CRIME, "2012/13 Q1"))
    assert suggestion.period == Q("2017/18 Q1").end_date
    assert suggestion.reason.startswith("the last 28 quarters are all above the mean")


def test_a_recording_collapse_gets_a_suggestion():
    share = recorded_share_series()
    assert round(share[Q("2022/23 Q4").end_date], 1) == 55.5
    assert round(share[Q("2023/24 Q1").end_date], 1) == 1.5
    (suggestion,) = suggest_rebases(share, direction="higher_is_better")
    assert suggestion.period == Q("2023/24 Q1").end_date
    assert "the last 7 quarters are all below the mean" in suggestion.reason


def test_no_suggestion_on_stable_or_reference_series():
    damage = quarterly(WARWICKSHIRE_DAMAGE, "2014/15 Q1")
    assert all(p.special_cause is None for p in xmr(damage).points)
    assert suggest_rebases(damage) == []
    assert suggest_rebases(series(REFERENCE)) == []
    with_outlier = list(REFERENCE)
    with_outlier[14] = 10
    assert xmr(series(with_outlier)).points[14].rules[0] == OUTSIDE_LIMITS
    assert suggest_rebases(series(with_outlier)) == []
    assert suggest_rebases(cps()) == []


def test_kent_across_the_2014_15_recording_changes():
    # Kent to 2016/17 Q4, as a board would have seen it then: the change shows from 2015/16 Q2.
    (suggestion,) = suggest_rebases(quarterly(KENT_CRIME[:20], "2012/13 Q1"))
    assert suggestion.period == Q("2015/16 Q2").end_date
    assert suggestion.reason.startswith("the last 7 quarters are all above the mean")


def test_a_trend_still_under_way_is_not_a_new_level():
    flat = [10, 11, 9, 10, 12, 10, 11, 9, 10, 11]
    assert suggest_rebases(series([*flat, 12, 13, 14, 15, 16, 17, 18, 19])) == []
    assert suggest_rebases(series([*flat, 16, 15, 17, 16, 18, 16, 17, 16]))  # settled: suggested


def test_a_step_the_source_flags():
    crime = quarterly(STAFFORDSHIRE_CRIME, "2012/13 Q1")
    step = Q("2022/23 Q1").end_date
    (suggestion,) = suggest_rebases(crime, steps={step: "the source notes a step change"})
    assert suggestion.period == step
    assert suggestion.reason.startswith("the source notes a change in 2022/23 Q1 (the source notes a step change)")
    damage = quarterly(WARWICKSHIRE_DAMAGE, "2014/15 Q1")
    assert suggest_rebases(damage, steps={Q("2017/18 Q1").end_date: "new system"}) == []


# --- the same, from the published files ---------------------------------------------------------------------


@needs_published
def test_the_extracts_are_the_published_figures():
    assert list(recorded_crime_total("Staffordshire")) == STAFFORDSHIRE_CRIME
    assert list(recorded_crime_total("Kent")) == KENT_CRIME
    staffordshire = stop_search_counts().loc["Staffordshire"]
    assert [(row.sum(), row["Unknown"]) for _, row in staffordshire.iterrows()] == STAFFORDSHIRE_SEARCHES
    assert cps_conviction_rate("Staffordshire").round(2).to_dict() == {
        dt.date.fromisoformat(k): v for k, v in STAFFORDSHIRE_CPS.items()
    }
    assert census_population("Staffordshire")["black"] == 13780


@needs_published
def test_recorded_share_suggestions_are_rare_across_all_forces():
    counts = stop_search_counts()
    suggested = {}
    for force, table in counts.groupby(level=0):
        table = table.droplevel(0)
        share = (1 - table["Unknown"] / table.sum(axis=1)) * 100
        if found := suggest_rebases(share, direction="higher_is_better"):
            suggested[force] = [s.period for s in found]
    assert suggested == {
        "Staffordshire": [Q("2023/24 Q1").end_date],  # ~90% -> ~2%
        "Greater Manchester": [Q("2023/24 Q1").end_date],  # ~72% -> ~90%
    }

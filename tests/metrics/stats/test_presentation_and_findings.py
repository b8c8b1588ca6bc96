"""Presentation helpers and plain findings, on real figures."""

import datetime as dt

import pytest

from metrics.quarters import Quarter
from metrics.stats.compare import Change, peer_comparison
from metrics.stats.currency import staleness
from metrics.stats.findings import Signal, latest_signal, plain_finding
from metrics.stats.presentation import display_decimals, format_change, format_value, log_ticks, quarter_tick_labels
from metrics.stats.spc import OUTSIDE_LIMITS, SHIFT, TREND, TWO_OF_THREE, xmr

from .test_gaps_and_rebases import (
    KENT_CRIME,
    STAFFORDSHIRE_CRIME,
    WARWICKSHIRE_DAMAGE,
    cps,
    quarterly,
    recorded_share_series,
)
from .test_spc import series

Q = Quarter.parse


def test_quarter_labels_not_months():
    assert quarter_tick_labels([dt.date(2024, 3, 31), dt.date(2024, 6, 30)]) == ["2023/24 Q4", "2024/25 Q1"]
    # A date axis puts "Apr 2024" at 2024-04-01, beside the quarter that ended the day before.
    assert quarter_tick_labels([dt.datetime(2024, 1, 1), dt.date(2024, 2, 15)]) == ["2023/24 Q4", "2023/24 Q4"]


def test_log_ticks_are_readable():
    assert log_ticks(20, 50) == ([20, 30, 40, 50], ["20", "30", "40", "50"])
    values, labels = log_ticks(0.3, 7)
    assert labels == ["0.2", "0.5", "1", "2", "5", "10"]
    values, labels = log_ticks(360, 1_265_000)  # peer counts with England and Wales on the axis
    assert labels[0] == "200" and labels[-1] == "2,000,000"
    assert "1,000" in labels and "1.265e+06" not in labels
    assert values == sorted(values)
    with pytest.raises(ValueError):
        log_ticks(0, 10)


@pytest.mark.parametrize(
    ("unit", "default"),
    [
        ("count", 0),
        ("percentage", 1),
        ("rate_per_1000", 2),
        ("rate_per_100000", 1),
        ("days", 0),
        ("ratio", 2),
        ("score", 1),
    ],
)
def test_display_decimals(unit, default):
    assert display_decimals(unit, None) == default
    assert display_decimals(unit, 3) == 3


def test_format_value():
    assert format_value(1.2869093989339806, "ratio") == "1.29"
    assert format_value(1416.0, "count") == "1,416"
    assert format_value(2.754237288, "percentage") == "2.8%"
    assert format_value(2.754237288, "percentage", 0) == "3%"
    assert format_value(-0.01, "count") == "0"
    assert format_value(None, "count") == "[x]"


def test_changes_say_which_kind():
    # Staffordshire, 2023/24 Q4 on 2022/23 Q4.
    share = recorded_share_series()
    change = Change(share[Q("2023/24 Q4").end_date], share[Q("2022/23 Q4").end_date], Q("2022/23 Q4").end_date)
    assert format_change(change, "percentage") == "down 52.7 percentage points on a year before"
    crime = Change(STAFFORDSHIRE_CRIME[-1], STAFFORDSHIRE_CRIME[-5], Q("2022/23 Q4").end_date)
    assert format_change(crime, "count") == "down 2,463 (−10.4%) on a year before"
    assert format_change(Change(5, 0, REPORT), "count") == "up 5 on a year before"
    assert format_change(Change(1.0, 1.001, REPORT), "ratio") == "no change on a year before"


REPORT = dt.date(2024, 3, 31)


def finding(result, name, unit, **extra):
    return plain_finding(name=name, unit=unit, variation=result.variation, signal=latest_signal(result), **extra)


def test_a_run_is_named_once_in_plain_words():
    # Kent to 2022/23 Q4: the last 16 quarters above the mean, and no other rule on the latest point.
    kent = xmr(quarterly(KENT_CRIME[:44], "2012/13 Q1"), direction="lower_is_better")
    assert kent.points[-1].rules == (SHIFT,)
    change = Change(KENT_CRIME[43], KENT_CRIME[39], Q("2021/22 Q4").end_date)
    assert finding(kent, "Recorded crime", "count", year_change=change) == (
        "Recorded crime has been above average for 24 quarters in a row, a concern. "
        "It is down 2,043 (−4.8%) on a year before."
    )


def test_the_deciding_rule_only():
    # Staffordshire 2023/24 Q4 fires two of three and the run: the finding names two of three only.
    crime = xmr(quarterly(STAFFORDSHIRE_CRIME, "2012/13 Q1"), direction="lower_is_better")
    assert crime.points[-1].rules == (TWO_OF_THREE, SHIFT)
    change = Change(STAFFORDSHIRE_CRIME[-1], STAFFORDSHIRE_CRIME[-5], Q("2022/23 Q4").end_date)
    assert finding(crime, "Recorded crime", "count", year_change=change) == (
        "Recorded crime has been at or above the top of its usual range in two of the last three quarters, a concern. "
        "It is down 2,463 (−10.4%) on a year before."
    )
    conviction = xmr(cps(), direction="higher_is_better")
    assert finding(conviction, "Conviction rate", "percentage") == (
        "Conviction rate has been at or above the top of its usual range in each of the last three quarters, "
        "an improvement."
    )


def test_outside_the_usual_range_with_a_peer_position():
    share = recorded_share_series()
    result = xmr(share, direction="higher_is_better")
    assert latest_signal(result) == Signal(OUTSIDE_LIMITS, -1, 1)
    peers = {"staffordshire": 2.1, "west-mercia": 99.3, "warwickshire": 97.0, "west-midlands": 95.5}
    peer = peer_comparison(peers, area="staffordshire", direction="higher_is_better", period=REPORT)
    assert finding(result, "Searches with ethnicity recorded", "percentage", peer=peer) == (
        "Searches with ethnicity recorded is below its usual range, a concern. It is the 4th highest of 4 peers."
    )
    neutral = peer_comparison(peers, area="west-mercia", direction="neutral", period=REPORT)
    assert finding(result, "X", "percentage", peer=neutral).endswith("It is the highest of 4 peers.")


def test_a_trend_and_common_cause():
    result = xmr(series([10, 12, 9, 13, 10, 12, 9, 13, 10, 12, 8, 9, 10, 11, 12, 13, 14]), direction="neutral")
    assert latest_signal(result) == Signal(TREND, 1, 7)
    assert finding(result, "Stop and searches", "count") == "Stop and searches has risen for seven quarters in a row."
    damage = xmr(quarterly(WARWICKSHIRE_DAMAGE, "2014/15 Q1"), direction="lower_is_better")
    assert latest_signal(damage) is None
    change = Change(WARWICKSHIRE_DAMAGE[-1], WARWICKSHIRE_DAMAGE[-5], REPORT)
    assert finding(damage, "Criminal damage and arson", "count", year_change=change) == (
        "Criminal damage and arson is within its usual range. It is down 44 (−4.0%) on a year before."
    )


def test_stale_and_withheld():
    old = staleness(dt.date(2018, 3, 31), dt.date(2025, 3, 31))
    text = plain_finding(name="Conviction rate", unit="percentage", variation="common_cause", staleness=old)
    assert text == (
        "The latest figure for Conviction rate is from 2017/18 Q4, seven years old: "
        "it is shown for reference, not judged or ranked."
    )
    text = plain_finding(
        name="Stop and search rate",
        unit="rate_per_1000",
        variation="common_cause",
        withheld="ethnicity recorded for 3% of searches; 80% needed",
    )
    assert text.endswith("Ratios between groups are withheld: ethnicity recorded for 3% of searches; 80% needed.")
    assert plain_finding(name="X", unit="count", variation=None) == "No figures for X."


def test_findings_never_stack_rule_names():
    crime = xmr(quarterly(STAFFORDSHIRE_CRIME, "2012/13 Q1"), direction="lower_is_better")
    for end in range(14, len(STAFFORDSHIRE_CRIME) + 1):
        sub = xmr(quarterly(STAFFORDSHIRE_CRIME[:end], "2012/13 Q1"), direction="lower_is_better")
        text = finding(sub, "Recorded crime", "count")
        assert text.count(" and ") == 0
        assert "process limit" not in text and "two of three" not in text.replace("two of the last three", "")
        assert text.count(".") <= 2
    assert crime.points

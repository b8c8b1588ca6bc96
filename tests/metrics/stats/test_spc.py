"""SPC against the reference values of NHSRplotthedots (R) and its Python port, and its properties."""

import datetime as dt

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from metrics.quarters import Quarter
from metrics.stats.spc import OUTSIDE_LIMITS, SHIFT, TREND, TWO_OF_THREE, xmr

REFERENCE = [
    -0.56047565, -0.23017749, 1.55870831, 0.07050839, 0.12928774, 1.71506499, 0.46091621, -1.26506123,
    -0.68685285, -0.44566197, 1.22408180, 0.35981383, 0.40077145, 0.11068272, -0.55584113, 1.78691314,
    0.49785048, -1.96661716, 0.70135590, -0.47279141,
]  # fmt: skip


FIRST = Quarter(2015, 1)


def quarters(n, start=FIRST):
    return [start.shift(i).end_date for i in range(n)]


def series(values, start=FIRST):
    return pd.Series(values, index=quarters(len(values), start), dtype=float)


def sig6(reference):
    """Equal to ``reference`` to 6 significant figures (half a unit in the 6th figure)."""
    from math import floor, log10

    return pytest.approx(reference, rel=0, abs=0.5 * 10 ** (floor(log10(abs(reference))) - 5))


def test_reference_common_cause():
    result = xmr(series(REFERENCE))
    seg = result.last_segment
    assert seg.mean == sig6(0.1416238)
    assert seg.lower_limit == sig6(-3.01138)
    assert seg.upper_limit == sig6(3.294627)
    assert all(p.special_cause is None and p.rules == () for p in result.points)
    assert result.variation == "common_cause"
    assert not seg.trial_limits


@pytest.mark.parametrize(("screen", "lower", "upper"), [(True, -2.383666, 3.722497), (False, -4.596625, 5.935457)])
def test_reference_with_an_outlier(screen, lower, upper):
    values = list(REFERENCE)
    values[14] = 10
    result = xmr(series(values), screen_outliers=screen)
    seg = result.last_segment
    assert seg.mean == sig6(0.6694159)
    assert seg.lower_limit == sig6(lower)
    assert seg.upper_limit == sig6(upper)
    assert result.points[14].rules[0] == OUTSIDE_LIMITS


def test_one_to_ten():
    result = xmr(series(range(1, 11)))
    seg = result.last_segment
    assert seg.mean == sig6(5.5)
    assert (seg.lower_limit, seg.upper_limit) == (sig6(2.84), sig6(8.16))
    assert (seg.lower_two_sigma, seg.upper_two_sigma) == (sig6(3.72667), sig6(7.27333))
    assert seg.trial_limits  # 10 points


def test_two_of_three_needs_the_same_side():
    values = [1, -1] * 8
    values[14], values[15] = 5.5, -5.5
    result = xmr(series(values))
    assert [p.special_cause for p in result.points[-2:]] == [None, None]


def test_two_of_three_flags_only_the_points_beyond_the_line():
    # Points 16 and 18 lie beyond the upper 2σ line; point 17, between them, does not.
    values = [0.5, -0.5] * 8 + [3, 0.3, 3, -0.5, 0.5, -0.5]
    result = xmr(series(values), direction="higher_is_better")
    seg = result.last_segment
    assert seg.upper_limit > 3 > seg.upper_two_sigma > 0.3
    flagged = [i for i, p in enumerate(result.points) if p.rules]
    assert flagged == [16, 18]
    assert result.points[16].rules == (TWO_OF_THREE,)
    assert result.points[16].special_cause == "improvement"


def test_a_point_beyond_the_limit_counts_towards_two_of_three():
    values = [0.5, -0.5] * 10 + [2.5, 9, -0.5, 0.5]
    result = xmr(series(values))
    seg = result.last_segment
    assert seg.upper_limit > 2.5 > seg.upper_two_sigma
    assert seg.upper_limit < 9
    assert result.points[20].rules == (TWO_OF_THREE,)
    assert result.points[21].rules == (OUTSIDE_LIMITS, TWO_OF_THREE)


def test_trend_flags_every_point_of_it():
    result = xmr(series([2, 1, 2, 3, 4, 5, 6, 7, 3]), direction="higher_is_better")
    assert [TREND in p.rules for p in result.points] == [False] + [True] * 7 + [False]
    assert {result.points[i].special_cause for i in range(1, 8)} == {"improvement"}


def test_a_tie_breaks_a_trend():
    result = xmr(series([1, 2, 3, 3, 4, 5, 6]))
    assert not any(TREND in p.rules for p in result.points)


def test_falling_trend_below_the_mean_when_lower_is_better():
    values = [12, 8, 12, 8, 12, 11, 10, 9, 8, 7, 6, 8, 12, 8]
    result = xmr(series(values), direction="lower_is_better")
    mean = result.last_segment.mean
    assert [i for i, p in enumerate(result.points) if TREND in p.rules] == list(range(4, 11))
    # The label follows the trend's direction, even for the points of it above the mean.
    assert values[4] > mean
    assert {result.points[i].special_cause for i in range(4, 11)} == {"improvement"}


def test_shift_flags_the_whole_run():
    result = xmr(series([5, 5, 5, 5, 5, 5, 5, 5, 1]))
    assert [SHIFT in p.rules for p in result.points] == [True] * 8 + [False]


def test_points_on_the_mean_break_a_run():
    # Mean 2: four 3s, a 2 on the mean, three 3s (7 above if the 2 were skipped), then seven 1s.
    values = [3, 3, 3, 3, 2, 3, 3, 3] + [1] * 7
    result = xmr(series(values))
    assert result.last_segment.mean == 2
    assert [SHIFT in p.rules for p in result.points] == [False] * 8 + [True] * 7


def test_run_and_trend_lengths_are_settings():
    values = [5, 5, 5, 5, 5, 5, 1, 1, 1, 1, 2, 3, 4, 5, 6, 7]
    assert not any(SHIFT in p.rules for p in xmr(series(values), run_length=7).points[:6])
    assert all(SHIFT in p.rules for p in xmr(series(values), run_length=6).points[:6])
    assert not any(TREND in p.rules for p in xmr(series([1, 2, 3, 4, 5, 6]), trend_length=7).points)
    assert all(TREND in p.rules for p in xmr(series([1, 2, 3, 4, 5, 6]), trend_length=6).points)


def test_label_precedence_and_the_rules_list():
    values = [5] * 8 + [40]
    result = xmr(series(values), direction="higher_is_better")
    last = result.points[-1]
    assert last.rules[0] == OUTSIDE_LIMITS
    assert last.special_cause == "improvement"
    assert result.points[0].special_cause == "concern"  # part of a run below the mean
    assert result.variation == "special_cause_improvement"
    neutral = xmr(series(values), direction="neutral")
    assert neutral.variation == "special_cause_neutral"


def test_a_constant_series_has_no_limits_and_no_special_cause():
    result = xmr(series([7] * 15))
    seg = result.last_segment
    assert seg.mean == 7
    assert seg.lower_limit is None
    assert seg.upper_limit is None
    assert all(p.special_cause is None for p in result.points)


def test_screening_that_would_leave_zero_uses_the_unscreened_range():
    result = xmr(series([5] * 12 + [50]))
    seg = result.last_segment
    assert seg.mean_moving_range == pytest.approx(45 / 12)
    assert result.points[-1].rules[0] == OUTSIDE_LIMITS


def test_missing_quarters_are_gaps_not_zeros():
    full = series([10, 12, 11, 13, 12, 11, 10, 12])
    gappy = full.drop(full.index[3])
    result = xmr(gappy)
    assert len(result.points) == 7
    assert result.last_segment.mean == pytest.approx(sum(gappy) / 7)
    # No moving range spans the gap.
    after_gap = next(p for p in result.points if p.period == full.index[4])
    assert after_gap.moving_range is None
    nan_series = full.copy()
    nan_series.iloc[3] = float("nan")
    assert xmr(nan_series).last_segment == result.last_segment


def test_rebases_make_segments_with_their_own_limits():
    before = [10, 11, 9, 10, 12, 10, 11, 9, 10, 11, 10, 12, 11, 10]
    after = [30, 31, 29, 30, 32, 30, 31, 29, 30, 31]
    values = series(before + after)
    rebase = values.index[len(before)]
    result = xmr(values, rebases=[rebase], rebase_reasons=["New counting rules"])
    assert len(result.segments) == 2
    first, second = result.segments
    assert first.mean == pytest.approx(sum(before) / len(before))
    assert second.mean == pytest.approx(sum(after) / len(after))
    assert second.start == rebase
    assert second.reason == "New counting rules"
    assert second.trial_limits
    assert not first.trial_limits
    assert all(p.special_cause is None for p in result.points)
    # The first point of a segment has no moving range.
    assert result.points[len(before)].moving_range is None
    unrebased = xmr(values)
    assert any(p.special_cause for p in unrebased.points)


def test_a_rebase_before_the_data_or_on_its_first_point_is_one_segment():
    values = series(range(10))
    assert len(xmr(values, rebases=[dt.date(2000, 3, 31)]).segments) == 1
    assert len(xmr(values, rebases=[values.index[0]]).segments) == 1


def test_empty_series():
    result = xmr(pd.Series([], dtype=float))
    assert result.points == []
    assert result.variation is None


def test_bad_settings():
    with pytest.raises(ValueError, match="direction"):
        xmr(series([1, 2]), direction="up")
    with pytest.raises(ValueError, match="at least 2"):
        xmr(series([1, 2]), run_length=1)


values_strategy = st.lists(st.integers(-1000, 1000), min_size=2, max_size=30)
directions = st.sampled_from(["higher_is_better", "lower_is_better", "neutral"])


def summary(result):
    return [(p.special_cause, p.rules) for p in result.points]


@settings(max_examples=150, deadline=None)
@given(values_strategy, st.integers(1, 1000), directions)
def test_scaling_scales_mean_and_limits(values, factor, direction):
    base = xmr(series(values), direction=direction)
    scaled = xmr(series([v * factor for v in values]), direction=direction)
    for a, b in zip(base.segments, scaled.segments, strict=True):
        assert b.mean == pytest.approx(a.mean * factor, rel=1e-9, abs=1e-9)
        if a.upper_limit is None:
            assert b.upper_limit is None
        else:
            assert b.upper_limit == pytest.approx(a.upper_limit * factor, rel=1e-9, abs=1e-9)
            assert b.lower_limit == pytest.approx(a.lower_limit * factor, rel=1e-9, abs=1e-9)
    assert summary(scaled) == summary(base)


@settings(max_examples=150, deadline=None)
@given(values_strategy, st.integers(-10_000, 10_000), directions)
def test_adding_a_constant_shifts_mean_and_limits(values, shift, direction):
    base = xmr(series(values), direction=direction)
    moved = xmr(series([v + shift for v in values]), direction=direction)
    for a, b in zip(base.segments, moved.segments, strict=True):
        assert b.mean == pytest.approx(a.mean + shift, rel=1e-9, abs=1e-6)
        if a.upper_limit is not None:
            assert b.upper_limit == pytest.approx(a.upper_limit + shift, rel=1e-9, abs=1e-6)
    assert summary(moved) == summary(base)


SWAP = {"improvement": "concern", "concern": "improvement", "neutral": "neutral", None: None}


@settings(max_examples=150, deadline=None)
@given(values_strategy)
def test_reversing_the_direction_swaps_improvement_and_concern(values):
    up = xmr(series(values), direction="higher_is_better")
    down = xmr(series(values), direction="lower_is_better")
    assert [SWAP[p.special_cause] for p in up.points] == [p.special_cause for p in down.points]
    assert [p.rules for p in up.points] == [p.rules for p in down.points]


@settings(max_examples=100, deadline=None)
@given(values_strategy, st.randoms(use_true_random=False))
def test_row_order_does_not_matter(values, rnd):
    ordered = series(values)
    shuffled_index = list(ordered.index)
    rnd.shuffle(shuffled_index)
    shuffled = ordered.loc[shuffled_index]
    assert xmr(shuffled) == xmr(ordered)

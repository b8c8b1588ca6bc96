import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from metrics.quarters import Quarter, QuarterError, is_quarter_end, parse_period, period_label

quarters = st.builds(Quarter, st.integers(1990, 2100), st.integers(1, 4))
days = st.dates(dt.date(1990, 4, 1), dt.date(2100, 3, 31))


@pytest.mark.parametrize(
    ("text", "end"),
    [
        ("2024/25 Q1", dt.date(2024, 6, 30)),
        ("2024/25 Q2", dt.date(2024, 9, 30)),
        ("2024/25 Q3", dt.date(2024, 12, 31)),
        ("2024/25 Q4", dt.date(2025, 3, 31)),
        ("2024-25 Q1", dt.date(2024, 6, 30)),
        (" 2024/25 q4 ", dt.date(2025, 3, 31)),
        ("1999/00 Q4", dt.date(2000, 3, 31)),
        ("2024-06-30", dt.date(2024, 6, 30)),
        ("2025-03-31", dt.date(2025, 3, 31)),
        ("2023-12-31", dt.date(2023, 12, 31)),
    ],
)
def test_parse_known_texts(text, end):
    assert parse_period(text) == end


@pytest.mark.parametrize(
    ("end", "label"),
    [
        (dt.date(2024, 6, 30), "2024/25 Q1"),
        (dt.date(2025, 3, 31), "2024/25 Q4"),
        (dt.date(2000, 3, 31), "1999/00 Q4"),
        (dt.date(2023, 12, 31), "2023/24 Q3"),
    ],
)
def test_label(end, label):
    assert period_label(end) == label


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2024/26 Q1", "not a financial year"),
        ("2024/25 Q5", "not a quarter end date"),
        ("2024-06-29", "not a quarter end date"),
        ("2024-05-31", "not a quarter end date"),
        ("2024-02-30", "not a date"),
        ("Q1 2024", "not a quarter end date"),
        ("", "not a quarter end date"),
    ],
)
def test_bad_texts_are_rejected_with_a_reason(text, message):
    with pytest.raises(QuarterError, match=message):
        Quarter.parse(text)


def test_quarter_number_out_of_range():
    with pytest.raises(QuarterError):
        Quarter(2024, 0)


def test_navigation():
    q = Quarter.parse("2024/25 Q1")
    assert q.previous().label == "2023/24 Q4"
    assert q.same_quarter_last_year().label == "2023/24 Q1"
    assert q.shift(3).label == "2024/25 Q4"
    assert q.start_date == dt.date(2024, 4, 1)
    assert Quarter.parse("2024/25 Q4").start_date == dt.date(2025, 1, 1)
    assert q.quarters_between(Quarter.parse("2025/26 Q1")) == 4


@given(quarters)
def test_label_round_trip(q):
    assert Quarter.parse(q.label) == q
    assert Quarter.parse(q.label.replace("/", "-")) == q


@given(quarters)
def test_end_date_round_trip(q):
    assert Quarter.parse(q.end_date.isoformat()) == q
    assert Quarter.from_end_date(q.end_date) == q
    assert is_quarter_end(q.end_date)


@given(days)
def test_every_day_is_in_exactly_one_quarter(day):
    q = Quarter.containing(day)
    assert q.start_date <= day <= q.end_date
    assert q.previous().end_date < q.start_date
    assert is_quarter_end(day) == (day == q.end_date)


@given(quarters, st.integers(-200, 200))
def test_shift_is_consistent_with_ordering(q, n):
    moved = q.shift(n)
    assert q.quarters_between(moved) == n
    assert (moved > q) == (n > 0)
    assert (moved.end_date > q.end_date) == (n > 0)
    assert moved.shift(-n) == q

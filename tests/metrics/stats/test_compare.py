import datetime as dt

import pandas as pd
import pytest

from metrics.stats.compare import (
    change_on_previous_quarter,
    change_on_same_quarter_last_year,
    peer_comparison,
    rate,
    rolling_12_months,
    rolling_12_months_series,
)

# Staffordshire police recorded crime excluding fraud (Home Office), 2022/23 Q4 – 2023/24 Q4.
CRIME = pd.Series(
    {
        dt.date(2023, 3, 31): 23675.0,
        dt.date(2023, 6, 30): 23285.0,
        dt.date(2023, 9, 30): 21595.0,
        dt.date(2023, 12, 31): 20329.0,
        dt.date(2024, 3, 31): 21212.0,
    }
)


def test_change_on_previous_quarter():
    change = change_on_previous_quarter(CRIME, dt.date(2024, 3, 31))
    assert change.earlier_period == dt.date(2023, 12, 31)
    assert change.absolute == 883
    assert change.percent == pytest.approx(883 / 20329 * 100)


def test_change_on_same_quarter_last_year():
    change = change_on_same_quarter_last_year(CRIME, dt.date(2024, 3, 31))
    assert change.earlier_period == dt.date(2023, 3, 31)
    assert change.absolute == 21212 - 23675
    assert change.percent == pytest.approx(-10.4034, abs=1e-4)


def test_no_change_without_both_values():
    assert change_on_same_quarter_last_year(CRIME, dt.date(2023, 6, 30)) is None
    assert change_on_previous_quarter(CRIME, dt.date(2023, 3, 31)) is None
    with_gap = CRIME.drop(dt.date(2023, 12, 31))
    assert change_on_previous_quarter(with_gap, dt.date(2024, 3, 31)) is None


def test_percent_change_from_zero_is_none():
    change = change_on_previous_quarter(
        pd.Series({dt.date(2024, 3, 31): 5.0, dt.date(2023, 12, 31): 0.0}), dt.date(2024, 3, 31)
    )
    assert change.absolute == 5
    assert change.percent is None


def test_rolling_12_months():
    assert rolling_12_months(CRIME, dt.date(2024, 3, 31)) == 23285 + 21595 + 20329 + 21212
    assert rolling_12_months(CRIME, dt.date(2023, 12, 31)) == 23675 + 23285 + 21595 + 20329
    assert rolling_12_months(CRIME, dt.date(2023, 9, 30)) is None
    rolled = rolling_12_months_series(CRIME)
    assert list(rolled.index) == [dt.date(2023, 12, 31), dt.date(2024, 3, 31)]


def test_rates():
    # 2023/24 Q4 Staffordshire: 21,212 offences, Census 2021 population 1,134,501 -> 18.70 per 1,000.
    assert rate(21212, 1134501) == pytest.approx(18.6972, abs=1e-4)
    assert rate(21212, 1134501, per=100_000) == pytest.approx(1869.72, abs=1e-2)
    assert rate(None, 5) is None
    assert rate(5, 0) is None


PEERS = {"staffordshire": 18.7, "derbyshire": 17.2, "nottinghamshire": 22.5, "kent": 20.1, "essex": None}


@pytest.mark.parametrize(
    ("direction", "rank"),
    [("lower_is_better", 2), ("higher_is_better", 3), ("neutral", 3)],
)
def test_peer_rank_follows_the_direction(direction, rank):
    result = peer_comparison(
        PEERS, area="staffordshire", direction=direction, period=dt.date(2024, 3, 31), national=19.5
    )
    assert result.rank == rank
    assert result.of == 4
    assert result.peer_mean == pytest.approx((18.7 + 17.2 + 22.5 + 20.1) / 4)
    assert (result.peer_min, result.peer_max, result.national) == (17.2, 22.5, 19.5)


def test_ties_share_the_better_rank():
    result = peer_comparison(
        {"a": 5, "b": 5, "c": 3}, area="b", direction="higher_is_better", period=dt.date(2024, 3, 31)
    )
    assert result.rank == 1


def test_area_without_a_value_has_no_rank():
    assert peer_comparison(PEERS, area="essex", direction="neutral", period=dt.date(2024, 3, 31)).rank is None
    assert peer_comparison({"a": None}, area="a", direction="neutral", period=dt.date(2024, 3, 31)) is None

"""Suppression never leaves a hidden cell that the published figures give away.

The check is independent of the method: for every hidden cell, linear programming finds the smallest
and largest value it could take given every published cell and total (counts are non-negative). If the
two are equal, the cell was recoverable.
"""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from metrics.stats.suppression import (
    CONFIDENTIAL,
    BreakdownMask,
    breakdown_mask,
    extended,
    suppress_dependent,
    suppress_series,
    suppress_table,
    suppression_mask,
)


def recoverable_entries(counts, mask, row_totals=True, column_totals=True):
    """Hidden entries (cells or totals) whose value is pinned down by what is published."""
    table = extended(counts, row_totals=row_totals, column_totals=column_totals).to_numpy(dtype=float)
    hidden = mask.to_numpy()
    unknown = [(i, j) for i in range(table.shape[0]) for j in range(table.shape[1]) if hidden[i, j]]
    if not unknown:
        return []
    index = {cell: k for k, cell in enumerate(unknown)}
    n_rows, n_cols = counts.shape
    lines = []
    if row_totals:
        lines += [([(i, j) for j in range(n_cols)], (i, n_cols)) for i in range(table.shape[0])]
    if column_totals:
        lines += [([(i, j) for i in range(n_rows)], (n_rows, j)) for j in range(table.shape[1])]
    a_eq, b_eq = [], []
    for parts, total in lines:
        coeffs = np.zeros(len(unknown))
        rhs = 0.0
        for cell, sign in [(c, 1) for c in parts] + [(total, -1)]:
            if cell in index:
                coeffs[index[cell]] += sign
            else:
                rhs -= sign * table[cell]
        a_eq.append(coeffs)
        b_eq.append(rhs)
    if not a_eq:
        return []  # no totals published: nothing constrains a hidden cell
    pinned = []
    for cell, k in index.items():
        objective = np.zeros(len(unknown))
        objective[k] = 1
        low = linprog(objective, A_eq=a_eq, b_eq=b_eq, bounds=[(0, None)] * len(unknown), method="highs")
        assert low.status == 0
        high = linprog(-objective, A_eq=a_eq, b_eq=b_eq, bounds=[(0, None)] * len(unknown), method="highs")
        if high.status == 3:  # unbounded above: not pinned
            continue
        if abs(low.fun + high.fun) < 1e-6 and table[cell] > 0:
            pinned.append(cell)
    return pinned


def check(counts, threshold=4, **kwargs):
    mask = suppression_mask(counts, threshold=threshold, **kwargs)
    table = extended(counts, **kwargs).to_numpy()
    primary = (table >= 1) & (table <= threshold)
    assert (mask.to_numpy() | ~primary).all(), "every count or total from 1 to the threshold is hidden"
    assert recoverable_entries(counts, mask, **kwargs) == []
    return mask


def test_a_row_with_exactly_one_suppressed_cell_gets_a_second():
    # Real scale: stop and searches by ethnicity, Staffordshire, 2024/25 Q3 (white, black, asian, mixed, other).
    counts = pd.DataFrame(
        [[25, 2, 3, 1, 0], [60, 14, 9, 6, 5]], index=["Q3", "Q2"], columns=["white", "black", "asian", "mixed", "other"]
    )
    mask = check(counts)
    assert mask.loc["Q2"].sum() != 1
    table = suppress_table(counts)
    assert table.loc["Q3", "black"] == CONFIDENTIAL
    assert table.loc["Q3", "white"] == 25
    assert table.loc["Total", "Total"] == counts.to_numpy().sum()


def test_one_suppressed_cell_in_a_row_is_never_left_alone():
    counts = pd.DataFrame([[120, 3, 40, 55]], columns=list("abcd"))
    mask = check(counts, column_totals=False)
    assert mask.iloc[0].sum() == 2
    assert mask.iloc[0]["c"]  # the smallest other non-zero cell
    assert not mask.iloc[0]["Total"]


def test_zeros_are_not_suppressed_but_can_protect():
    counts = pd.DataFrame([[0, 2, 0, 9]], columns=list("abcd"))
    mask = check(counts, column_totals=False)
    assert list(mask.iloc[0]) == [False, True, False, True, False]


def test_a_single_cell_row_hides_its_total():
    counts = pd.DataFrame([[3], [10], [12]], index=list("xyz"), columns=["only"])
    mask = check(counts)
    assert mask.loc["x", "Total"]
    assert mask["Total"].sum() >= 2


def test_threshold_is_a_setting():
    counts = pd.DataFrame([[6, 30, 40]], columns=list("abc"))
    assert not suppression_mask(counts, threshold=4, column_totals=False).to_numpy().any()
    assert suppression_mask(counts, threshold=9, column_totals=False).iloc[0]["a"]


def test_series_with_total():
    counts = pd.Series({"white": 120, "black": 2, "asian": 30, "mixed": 0})
    out = suppress_series(counts)
    assert out["black"] == CONFIDENTIAL
    assert out["asian"] == CONFIDENTIAL
    assert out["white"] == 120
    assert out["mixed"] == 0
    assert out["Total"] == 152


def test_dependent_rates_are_hidden():
    counts = pd.Series({"white": 120, "black": 2})
    rates = pd.Series({"white": 1.5, "black": 0.4})
    hidden = suppress_series(counts, total=False) == CONFIDENTIAL
    out = suppress_dependent(rates, hidden)
    assert out["black"] == CONFIDENTIAL
    assert out["white"] == 1.5


tables = st.integers(1, 5).flatmap(
    lambda r: st.integers(1, 5).flatmap(
        lambda c: st.lists(st.lists(st.integers(0, 30), min_size=c, max_size=c), min_size=r, max_size=r)
    )
)


@settings(max_examples=200, deadline=None)
@given(tables, st.booleans(), st.booleans())
def test_no_suppressed_cell_can_be_recovered(rows, row_totals, column_totals):
    counts = pd.DataFrame(rows)
    check(counts, row_totals=row_totals, column_totals=column_totals)


@pytest.mark.parametrize(
    "rows",
    [
        [[1, 10], [10, 10]],
        [[1, 1], [1, 1]],
        [[2, 50, 60], [70, 3, 80], [90, 100, 4]],
        [[0, 0, 1], [0, 0, 0]],
        [[5, 5, 5], [5, 5, 2]],
    ],
)
def test_crafted_tables(rows):
    check(pd.DataFrame(rows))


# --- a figure with its breakdowns (the public edition's totals, ethnicity, sex, offence group …) --------------
def recoverable_in_breakdowns(total, breakdowns, mask):
    """Hidden non-zero entries (the total or a category) that the published entries pin down."""
    entries = [("total", None)] + [(b, i) for b, cats in enumerate(breakdowns) for i in range(len(cats))]
    value = {("total", None): total}
    value.update({(b, i): breakdowns[b][i] or 0 for b, cats in enumerate(breakdowns) for i in range(len(cats))})
    hidden = {("total", None): mask.total or total is None}
    hidden.update({(b, i): mask.cells[b][i] for b, cats in enumerate(breakdowns) for i in range(len(cats))})
    unknown = [e for e in entries if hidden[e]]
    index = {e: k for k, e in enumerate(unknown)}
    a_eq, b_eq = [], []
    for b, cats in enumerate(breakdowns):
        coeffs, rhs = np.zeros(len(unknown)), 0.0
        for e, sign in [((b, i), 1) for i in range(len(cats))] + [(("total", None), -1)]:
            if e in index:
                coeffs[index[e]] += sign
            else:
                rhs -= sign * value[e]
        a_eq.append(coeffs)
        b_eq.append(rhs)
    pinned = []
    for e, k in index.items():
        if not value[e]:
            continue
        objective = np.zeros(len(unknown))
        objective[k] = 1
        bounds = [(0, None)] * len(unknown)
        low = linprog(objective, A_eq=a_eq, b_eq=b_eq, bounds=bounds, method="highs")
        high = linprog(-objective, A_eq=a_eq, b_eq=b_eq, bounds=bounds, method="highs")
        if low.status == 0 and high.status == 0 and abs(low.fun + high.fun) < 1e-6:
            pinned.append(e)
    return pinned


def check_breakdowns(total, breakdowns, threshold=4):
    mask = breakdown_mask(total, breakdowns, threshold=threshold)
    for b, cats in enumerate(breakdowns):
        for i, v in enumerate(cats):
            if v is not None and 1 <= v <= threshold:
                assert mask.cells[b][i], "every count from 1 to the threshold is hidden"
    if total is not None and 1 <= total <= threshold:
        assert mask.total
    assert recoverable_in_breakdowns(total, breakdowns, mask) == []
    return mask


def test_a_lone_small_category_of_a_published_total_gets_a_second():
    # Offence groups of a quarter's recorded crime: 43 is below a threshold of 50; 250 − 150 − 57 would give it.
    mask = check_breakdowns(250, [[150, 57, 43]], threshold=50)
    assert mask.cells == [[False, True, True]]
    assert not mask.total


def test_several_breakdowns_of_one_total_protect_each_other():
    # Without a published total, the sex breakdown (30 + 30) still tells the reader the total is 60, so
    # 60 − 57 would give the 3 away: one more category has to go (check_breakdowns proves none is recoverable).
    mask = check_breakdowns(None, [[57, 3], [30, 30]])
    assert mask.cells[0][1]
    assert sum(mask.cells[0]) + sum(mask.cells[1]) == 2
    assert not mask.total
    # The same with the total published: the ethnicity breakdown alone needs its second hidden category.
    assert check_breakdowns(60, [[57, 3], [30, 30]]).cells == [[True, True], [False, False]]


def test_a_small_total_is_hidden_and_so_are_its_categories():
    mask = check_breakdowns(3, [[2, 1, 0]])
    assert mask.total
    assert mask.cells == [[True, True, False]]


def test_a_missing_category_is_read_as_zero_and_nothing_small_means_nothing_hidden():
    assert check_breakdowns(250, [[150, None, 100]]) == BreakdownMask(total=False, cells=[[False, False, False]])
    assert check_breakdowns(250, [[247, None, 3]]).cells == [[True, False, True]]


@settings(max_examples=200, deadline=None)
@given(tables, st.booleans(), st.integers(1, 6))
def test_no_hidden_category_or_total_can_be_recovered(rows, total_published, threshold):
    # A table's row sums and column sums are two breakdowns of the same total (e.g. by sex and by age band).
    counts = np.array(rows)
    breakdowns = [counts.sum(axis=1).tolist(), counts.sum(axis=0).tolist()]
    check_breakdowns(int(counts.sum()) if total_published else None, breakdowns, threshold=threshold)

"""Small-number suppression and the Government Statistical Service symbols, for public outputs.

Primary suppression: a count from 1 to ``threshold`` (zero is not disclosive) becomes ``[c]``.
A total from 1 to ``threshold`` is hidden too. Secondary suppression: a line (a row or a column with
its total) with exactly one hidden entry would give it away, so one more entry of the line is hidden —
the smallest non-zero cell left, else the total, else a zero cell — until no line has a single hidden
entry.
Rates and ratios built on a hidden count are hidden too (``suppress_dependent``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

CONFIDENTIAL = "[c]"
NOT_AVAILABLE = "[x]"
NOT_APPLICABLE = "[z]"
REVISED = "[r]"
PROVISIONAL = "[p]"

SUPPRESSED = "c"  # the ``missing`` code of a figure a public output hides (shown as ``[c]``)

SYMBOLS = {
    CONFIDENTIAL: "confidential: suppressed to protect small numbers",
    NOT_AVAILABLE: "not available",
    NOT_APPLICABLE: "not applicable",
    REVISED: "revised since it was first published",
    PROVISIONAL: "provisional: may be revised",
}


def is_primary(value: object, threshold: int) -> bool:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False
    return not np.isnan(number) and 0 < number <= threshold


def extended(counts: pd.DataFrame, *, row_totals: bool = True, column_totals: bool = True) -> pd.DataFrame:
    """``counts`` with a ``Total`` column (row totals) and a ``Total`` row (column totals) added."""
    out = counts.astype(float).copy()
    if row_totals:
        out[TOTAL] = out.sum(axis=1)
    if column_totals:
        out.loc[TOTAL] = out.sum(axis=0)
    return out


TOTAL = "Total"


def suppression_mask(
    counts: pd.DataFrame,
    *,
    threshold: int = 4,
    row_totals: bool = True,
    column_totals: bool = True,
) -> pd.DataFrame:
    """Which entries of the table with its totals (see ``extended``) to hide.

    A total from 1 to ``threshold`` is itself disclosive and is hidden first, like a cell. Then every
    line — a row with its total, a column with its total — that has exactly one hidden entry gets a
    second: the smallest non-zero inner cell left, else the line's total, else a zero cell.
    """
    table = extended(counts, row_totals=row_totals, column_totals=column_totals)
    values = table.to_numpy(dtype=float)
    hidden = (
        np.vectorize(lambda v: is_primary(v, threshold), otypes=[bool])(values)
        if values.size
        else np.zeros(values.shape, bool)
    )
    n_rows, n_cols = counts.shape
    lines: list[list[tuple[int, int]]] = []
    if row_totals:
        for i in range(values.shape[0]):
            lines.append([(i, j) for j in range(n_cols)] + [(i, n_cols)])
    if column_totals:
        for j in range(values.shape[1]):
            lines.append([(i, j) for i in range(n_rows)] + [(n_rows, j)])
    _protect(values, hidden, lines)
    return pd.DataFrame(hidden, index=table.index, columns=table.columns)


def _protect(values: np.ndarray, hidden: np.ndarray, lines: list[list[tuple[int, int]]]) -> None:
    """Secondary suppression in place: hide more entries until no line (its parts, then its total) has a
    single hidden entry and no hidden non-zero entry is pinned down by the published ones."""
    while True:
        changed = True
        while changed:
            changed = False
            for line in lines:
                if sum(hidden[c] for c in line) != 1:
                    continue
                pick = _second_entry(values, hidden, line)
                if pick is not None:
                    hidden[pick] = True
                    changed = True
        # Two hidden entries a line is not always enough: zeros cannot go lower, so a sparse table can
        # still pin a hidden count down. Audit with linear programming and widen until nothing is pinned.
        pinned = _pinned_entries(values, hidden, lines)
        if not pinned:
            break
        target = pinned[0]
        pick = _widen(values, hidden, [line for line in lines if target in line])
        if pick is None:
            break
        hidden[pick] = True


def _pinned_entries(
    values: np.ndarray, hidden: np.ndarray, lines: list[list[tuple[int, int]]]
) -> list[tuple[int, int]]:
    """Hidden non-zero entries whose value the published entries determine exactly."""
    from scipy.optimize import linprog

    unknown = [(int(i), int(j)) for i, j in zip(*np.nonzero(hidden), strict=True)]
    if not unknown or not lines:
        return []
    index = {cell: k for k, cell in enumerate(unknown)}
    a_eq: list[np.ndarray] = []
    b_eq: list[float] = []
    for line in lines:
        coeffs = np.zeros(len(unknown))
        rhs = 0.0
        for position, cell in enumerate(line):
            sign = -1.0 if position == len(line) - 1 else 1.0
            if cell in index:
                coeffs[index[cell]] += sign
            else:
                rhs -= sign * values[cell]
        if coeffs.any():
            a_eq.append(coeffs)
            b_eq.append(rhs)
    if not a_eq:
        return []
    bounds = [(0.0, None)] * len(unknown)
    pinned = []
    for cell, k in index.items():
        if values[cell] <= 0:
            continue
        objective = np.zeros(len(unknown))
        objective[k] = 1.0
        low = linprog(objective, A_eq=a_eq, b_eq=b_eq, bounds=bounds, method="highs")
        high = linprog(-objective, A_eq=a_eq, b_eq=b_eq, bounds=bounds, method="highs")
        if low.status == 0 and high.status == 0 and abs(low.fun + high.fun) < 1e-6:
            pinned.append(cell)
    return pinned


def _widen(values: np.ndarray, hidden: np.ndarray, lines: list[list[tuple[int, int]]]) -> tuple[int, int] | None:
    """One more entry to hide on the lines through a pinned entry: the smallest non-zero one left."""
    open_entries = {c for line in lines for c in line if not hidden[c]}
    if not open_entries:
        return None
    nonzero = [c for c in open_entries if values[c] > 0]
    return min(nonzero or open_entries, key=lambda c: (values[c], c))


def _second_entry(values: np.ndarray, hidden: np.ndarray, line: list[tuple[int, int]]) -> tuple[int, int] | None:
    inner, total = line[:-1], line[-1]
    open_inner = [c for c in inner if not hidden[c]]
    nonzero = [c for c in open_inner if values[c] > 0]
    if nonzero:
        return min(nonzero, key=lambda c: (values[c], c))
    if not hidden[total]:
        return total
    return min(open_inner, key=lambda c: c) if open_inner else None


def suppress_table(
    counts: pd.DataFrame,
    *,
    threshold: int = 4,
    row_totals: bool = True,
    column_totals: bool = True,
) -> pd.DataFrame:
    """``counts`` with its totals, suppressed entries shown as ``[c]`` (an object DataFrame)."""
    table = extended(counts, row_totals=row_totals, column_totals=column_totals)
    mask = suppression_mask(counts, threshold=threshold, row_totals=row_totals, column_totals=column_totals)
    shown = table.map(lambda v: int(v) if float(v).is_integer() else v).astype(object)
    return shown.where(~mask, CONFIDENTIAL)


def suppress_series(counts: pd.Series, *, threshold: int = 4, total: bool = True) -> pd.Series:
    """Categories of one breakdown (with a published total when ``total``): a one-row table."""
    table = suppress_table(counts.to_frame().T, threshold=threshold, row_totals=total, column_totals=False)
    return table.iloc[0]


def suppress_dependent(values: pd.Series, hidden_counts: pd.Series | Iterable[bool]) -> pd.Series:
    """Hide rates or ratios whose underlying count is hidden."""
    mask = (
        pd.Series(list(hidden_counts), index=values.index)
        if not isinstance(hidden_counts, pd.Series)
        else hidden_counts
    )
    return values.astype(object).where(~mask.reindex(values.index, fill_value=False).astype(bool), CONFIDENTIAL)


@dataclass(frozen=True)
class BreakdownMask:
    """Which entries of a figure and its breakdowns to hide: the total, and per breakdown per category."""

    total: bool
    cells: list[list[bool]]


def breakdown_mask(
    total: float | None, breakdowns: Sequence[Sequence[float | None]], *, threshold: int = 4
) -> BreakdownMask:
    """Suppression of one figure (a quarter's total count) published with its breakdowns — by ethnicity, by
    sex, by offence group — each a list of category counts that add up to the total.

    Primary: a count from 1 to ``threshold``, the total's too. Secondary: every breakdown that, with the
    total, has exactly one hidden entry gets a second (the smallest non-zero category left, else the total,
    else a zero category), then linear programming checks that no hidden count is pinned down by what is
    published — several breakdowns share the total, so hiding it for one opens the others — and widens
    until none is. A missing category (None) is taken as a published zero, the reading that protects most;
    a missing total as unpublished (it constrains nothing a reader can use).
    """
    sizes = [len(b) for b in breakdowns]
    known = [[0.0 if v is None or np.isnan(float(v)) else float(v) for v in b] for b in breakdowns]
    no_total = total is None or np.isnan(float(total))
    total_value = max([sum(b) for b in known] + [0.0]) if no_total else float(total)  # type: ignore[arg-type]
    values = np.array([[total_value] + [v for b in known for v in b]], dtype=float)
    hidden = np.array(
        [[bool(no_total) or is_primary(total_value, threshold)] + [is_primary(v, threshold) for b in known for v in b]]
    )
    lines: list[list[tuple[int, int]]] = []
    start = 1
    for size in sizes:
        lines.append([(0, j) for j in range(start, start + size)] + [(0, 0)])
        start += size
    _protect(values, hidden, lines)
    flat = hidden[0].tolist()
    cells, start = [], 1
    for size in sizes:
        cells.append([bool(h) for h in flat[start : start + size]])
        start += size
    return BreakdownMask(total=bool(flat[0]) and not no_total, cells=cells)


def status_symbol(status: str) -> str:
    """The GSS symbol shown beside a value of this observation status."""
    return {"provisional": PROVISIONAL, "revised": REVISED}.get(status, "")


def missing_symbol(missing: str) -> str:
    """The symbol of a missing value: ``x`` not available, ``z`` not applicable, ``c`` suppressed."""
    return {"x": NOT_AVAILABLE, "z": NOT_APPLICABLE, SUPPRESSED: CONFIDENTIAL}.get(missing, "")

"""The row checks: map codes to catalogue rows once per file, then check every row's cells."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

from django.db.models import Exists, OuterRef

from accounts.models import Agency
from accounts.tenancy import current_partnership_id
from frameworks.models import Area, BreakdownCategory
from metrics.models import SIGNED_UNITS, UNIT_SCALE, FrameworkMetric, Metric, ObservationStatus, Unit
from metrics.plausible import (
    PART_RANGE,
    SMALLEST,
    implausible_part,
    implausible_value,
    plausible_bounds,
    plausible_fast,
)
from metrics.quarters import QuarterError

from .parse import MISSING_TOKENS, parse_number, parse_period
from .summary import ImportSummary, Issue


@dataclass
class Row:
    """One checked row, ready to write."""

    row: int
    metric: Metric
    area_id: int
    period: dt.date
    category_id: int | None
    value: float | None
    numerator: float | None
    denominator: float | None
    missing: str
    status: str
    note: str
    illustrative: bool = False

    @property
    def key(self) -> tuple[int, int, dt.date, int | None]:
        return (self.metric.pk, self.area_id, self.period, self.category_id)

    def figures(self) -> dict[str, Any]:
        """The row's figures as model fields (for Observation and ReturnValue alike)."""
        return {
            "metric": self.metric,
            "area_id": self.area_id,
            "category_id": self.category_id,
            "unit": self.metric.unit,
            "value": self.value,
            "numerator": self.numerator,
            "denominator": self.denominator,
            "missing": self.missing,
            "status": self.status,
            "note": self.note,
            "illustrative": self.illustrative,
        }


class _Lookups:
    """Everything the row checks need, fetched once per file in a fixed number of queries. Metric codes are
    those of the partnership of the work in hand and the shared official statistics; with ``guard_shared``,
    each shared metric knows whether another partnership's framework places it (``used_elsewhere``)."""

    def __init__(self, *, guard_shared: bool = False) -> None:
        pid = current_partnership_id()
        metrics = Metric.objects.in_scope(pid).prefetch_related("breakdowns")
        if guard_shared:
            metrics = metrics.annotate(
                used_elsewhere=Exists(
                    FrameworkMetric.objects.filter(metric=OuterRef("pk"), metric__partnership__isnull=True).exclude(
                        framework__partnership_id=pid
                    )
                )
            )
        # By lower-cased code: the metric and what its values' checks need (``_MetricCheck``).
        self.metrics: dict[str, _MetricCheck] = {m.code.lower(): _MetricCheck(m) for m in metrics}
        self.areas = {code.lower(): pk for code, pk in Area.objects.values_list("code", "id")}
        self.periods: dict[str, dt.date] = {}  # each period text of a file read once
        self.categories = {
            (bd.lower(), code.lower()): pk
            for bd, code, pk in BreakdownCategory.objects.values_list("breakdown__code", "code", "id")
        }


def check_rows(
    *,
    positions: dict[str, int],
    raw_rows: list[tuple[int, list[Any]]],
    agency: Agency,
    summary: ImportSummary,
    progress: Any = None,
    guard_shared: bool = False,
) -> list[Row]:
    """The row checks: every problem goes into ``summary``; the rows that passed are returned.

    Metric codes are looked up in the partnership of the work in hand (its own metrics and the shared
    official statistics). ``guard_shared``: a row of a shared metric that another partnership's framework
    places is an error (only the host writes its figures: ``metrics.shared``). ``progress``, when given, is
    called now and then with the number of rows checked.
    """
    summary.rows_read = len(raw_rows)
    lookups = _Lookups(guard_shared=guard_shared)
    columns = _Columns(positions)
    rows: list[Row] = []
    seen: dict[tuple[int, int, dt.date, int | None], int] = {}
    for index, (number, cells) in enumerate(raw_rows):
        if progress is not None and index and index % 5000 == 0:
            progress(index)
        row = _check_row(number, cells, columns, lookups, agency, summary)
        if row is None:
            continue
        key = row.key
        first = seen.get(key)
        if first is not None:
            summary.errors.append(Issue(number, "", "duplicate", f"the same observation as row {first}"))
            continue
        seen[key] = number
        rows.append(row)
    return rows


class _Columns:
    """Where each column's cell is in a row (``positions``), for reading a row's cells all at once: a row's
    cells stripped (``cells``), with a column the file does not have, or a short row, read as empty."""

    NAMES = (
        "metric",
        "area",
        "period",
        "breakdown",
        "category",
        "value",
        "numerator",
        "denominator",
        "status",
        "note",
        "illustrative",
    )

    def __init__(self, positions: dict[str, int]) -> None:
        known = [positions[name] for name in self.NAMES if positions.get(name) is not None]
        self.width = max(known) + 1 if known else 0
        # A column the file does not have reads the None put after the row's cells (index -1).
        self.at = tuple(-1 if positions.get(name) is None else positions[name] for name in self.NAMES)

    def cells(self, cells: list[Any]) -> list[Any]:
        """The row's cells, text stripped and empty text as None, padded with None to
        every known column, then one None more for the columns the file does not have."""
        out = [(c.strip() or None) if isinstance(c, str) else c for c in cells]
        short = self.width - len(out)
        if short > 0:
            out.extend([None] * short)
        out.append(None)
        return out


class _MetricCheck:
    """A metric and what the row checks need of it, worked out once per file."""

    __slots__ = ("allow_percent", "bounds", "breakdowns", "high", "low", "metric", "scale", "signed", "unit")

    def __init__(self, metric: Metric) -> None:
        self.metric = metric
        self.breakdowns = {b.code.lower() for b in metric.breakdowns.all()}
        self.unit = metric.unit
        self.allow_percent = metric.unit == Unit.PERCENTAGE
        self.signed = metric.unit in SIGNED_UNITS
        self.scale = UNIT_SCALE.get(metric.unit)  # type: ignore[call-overload]
        self.low, self.high = metric.plausible_min, metric.plausible_max
        self.bounds = plausible_bounds(metric.unit, metric.plausible_min, metric.plausible_max)


def _figure(raw: Any, column: str, check: _MetricCheck | None, number: int, errors: list[Issue]) -> float | None:
    """A number cell's figure: None when empty, a missing symbol or wrong (its problem put in ``errors``)."""
    is_value = column == "value"
    if type(raw) is str and len(raw) < 16 and raw.isascii() and raw.isdigit():
        value = float(raw)  # the common case (a whole number), as ``parse_number`` reads it
    elif raw is None or (isinstance(raw, str) and raw.lower() in MISSING_TOKENS):
        return None
    else:
        try:
            value = parse_number(raw, allow_percent=is_value and check is not None and check.allow_percent)
        except ValueError as exc:
            errors.append(Issue(number, column, "bad_number", str(exc)))
            return None
    if value < 0 and not (is_value and check is not None and check.signed):
        errors.append(Issue(number, column, "negative", f"{column} {raw} is negative"))
        return None
    problem = None
    if not is_value:
        if not (value == 0 or SMALLEST <= value <= PART_RANGE[1]):
            problem = implausible_part(value, column=column)
    elif check is not None and not plausible_fast(value, check.bounds):
        problem = implausible_value(value, unit=check.unit, low=check.low, high=check.high)
    if problem is not None:
        errors.append(Issue(number, column, "out_of_range", problem))
        return None
    return value


def _check_row(
    number: int, cells: list[Any], columns: _Columns, lookups: _Lookups, agency: Agency, summary: ImportSummary
) -> Row | None:
    errors = summary.errors
    before = len(errors)

    def err(column: str, kind: str, message: str) -> None:
        errors.append(Issue(number, column, kind, message))

    values = columns.cells(cells)
    at = columns.at
    code = values[at[0]]
    check = lookups.metrics.get(str(code).lower()) if code is not None else None
    metric = check.metric if check is not None else None
    if code is None:
        err("metric", "unknown_metric", "the metric code is empty")
    elif metric is None:
        err("metric", "unknown_metric", f"unknown metric '{code}'")
    elif metric.agency_id != agency.pk:
        err("metric", "not_owned", f"metric '{metric.code}' belongs to another agency, not {agency.code}")
    elif getattr(metric, "used_elsewhere", False):
        err(
            "metric",
            "shared_metric",
            f"metric '{metric.code}' is a shared official statistic another partnership's framework uses: "
            "only the host loads its figures",
        )

    area_code = values[at[1]]
    area_id = lookups.areas.get(str(area_code).lower()) if area_code is not None else None
    if area_id is None:
        err(
            "area", "unknown_area", f"unknown area '{area_code}'" if area_code is not None else "the area code is empty"
        )

    raw_period = values[at[2]]
    # A period text read before in this file is not parsed again.
    period: dt.date | None = lookups.periods.get(raw_period) if type(raw_period) is str else None
    if period is None:
        if raw_period is None:
            err("period", "bad_period", "the period is empty")
        else:
            try:
                period = parse_period(raw_period)
            except QuarterError as exc:
                err("period", "bad_period", str(exc))
            else:
                if type(raw_period) is str:
                    lookups.periods[raw_period] = period

    breakdown = values[at[3]]
    category = values[at[4]]
    category_id: int | None = None
    if breakdown is not None or category is not None:
        if breakdown is None or category is None:
            err(
                "breakdown" if breakdown is None else "category",
                "bad_category",
                "breakdown and category must both be set, or both empty",
            )
        else:
            bd, cat = str(breakdown).lower(), str(category).lower()
            category_id = lookups.categories.get((bd, cat))
            if check is not None and bd not in check.breakdowns:
                err("breakdown", "bad_category", f"metric '{check.metric.code}' is not broken down by '{breakdown}'")
            elif category_id is None:
                err("category", "bad_category", f"unknown category '{category}' of breakdown '{breakdown}'")

    raw_value = values[at[5]]
    missing = ""
    if isinstance(raw_value, str) and not raw_value.isdigit() and raw_value.lower() in MISSING_TOKENS:
        missing = MISSING_TOKENS[raw_value.lower()].value
    value = None if missing else _figure(raw_value, "value", check, number, errors)
    raw_numerator, raw_denominator = values[at[6]], values[at[7]]
    numerator = None if raw_numerator is None else _figure(raw_numerator, "numerator", check, number, errors)
    denominator = None if raw_denominator is None else _figure(raw_denominator, "denominator", check, number, errors)
    if denominator is not None and denominator == 0:
        err("denominator", "out_of_range", "the denominator is 0")
        denominator = None
    scale = check.scale if check is not None else None
    if numerator is not None and denominator is not None and scale is not None and numerator > denominator:
        err("numerator", "numerator_above_denominator", f"numerator {numerator:g} is above denominator {denominator:g}")
    if raw_value is None and not missing:
        if scale is not None and numerator is not None and denominator is not None:
            if numerator <= denominator:
                value = numerator / denominator * scale
        elif metric is not None:
            needs = " (or numerator and denominator)" if scale is not None else ""
            err("value", "missing_value", f"the value is empty; give a number{needs}, [x] or [z]")
    elif (
        value is not None
        and scale is not None
        and numerator is not None
        and denominator is not None
        and numerator <= denominator
    ):
        computed = numerator / denominator * scale
        if abs(computed - value) > max(0.05, abs(computed) * 0.0005) + 1e-9:
            summary.warnings.append(
                Issue(
                    number,
                    "value",
                    "inconsistent",
                    f"value {value:g} differs from numerator / denominator = {computed:.2f}",
                )
            )
    if value is not None and raw_value is None and check is not None:  # worked out from numerator / denominator
        problem = implausible_value(value, unit=check.unit, low=check.low, high=check.high)
        if problem is not None:
            err("value", "out_of_range", problem)

    raw_status = values[at[8]]
    status = _PROVISIONAL
    if raw_status is not None:
        status = str(raw_status).lower()
        if status not in _STATUSES:
            err("status", "bad_status", f"status '{raw_status}' is not provisional or final")
    note = values[at[9]]
    raw_illustrative = values[at[10]]
    illustrative = False
    if raw_illustrative is not None:
        flag = str(raw_illustrative).strip().lower()
        if flag not in ILLUSTRATIVE_FLAGS:
            err("illustrative", "bad_flag", f"illustrative '{raw_illustrative}' is not yes or no")
        illustrative = ILLUSTRATIVE_FLAGS.get(flag, False)

    if len(errors) > before or metric is None or area_id is None or period is None:
        return None
    return Row(
        number,
        metric,
        area_id,
        period,
        category_id,
        value if not missing else None,
        numerator,
        denominator,
        missing,
        status,
        str(note) if note is not None else "",
        illustrative,
    )


_PROVISIONAL = ObservationStatus.PROVISIONAL.value
_STATUSES = frozenset({_PROVISIONAL, ObservationStatus.FINAL.value})


def same_number(a: float | None, b: float | None) -> bool:
    """Equal as figures: within one part in a billion, so a value shown to 10 significant digits and saved
    back (a grid after a reopen, a spreadsheet round trip) is the same figure, not a revision ([r])."""
    if a is None or b is None:
        return a is b
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)


def numbers_of(figure: Any) -> dict[str, Any]:
    """A figure's numbers and missing symbol (a row, an observation or a return value), as audited."""
    return {name: getattr(figure, name) for name in ("value", "numerator", "denominator", "missing")}


ILLUSTRATIVE_FLAGS = {"yes": True, "true": True, "1": True, "no": False, "false": False, "0": False, "": False}


def same_numbers(a: Any, b: Any) -> bool:
    """Whether two figures (rows, observations or return values) have the same numbers and missing symbol."""
    return (
        same_number(a.value, b.value)
        and same_number(a.numerator, b.numerator)
        and same_number(a.denominator, b.denominator)
        and a.missing == b.missing
        and bool(getattr(a, "illustrative", False)) == bool(getattr(b, "illustrative", False))
    )

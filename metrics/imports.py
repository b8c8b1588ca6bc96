"""The data-file import pipeline (CONTRACT §2), shared by the command line and the web upload.

parse → map codes → whole-file checks (abort) → row checks → summary → commit in one transaction, or
write nothing. ``import_plan`` does everything but the write, so a page can preview a file;
``import_commit`` writes a plan; ``import_file`` does both.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import hashlib
import io
import math
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any

from django.db import transaction
from django.utils import timezone

from frameworks.models import Agency, Area, AuditEvent, BreakdownCategory

from .models import SIGNED_UNITS, UNIT_SCALE, ImportBatch, Metric, Missing, Observation, ObservationStatus, Unit
from .quarters import Quarter, QuarterError

REQUIRED_COLUMNS = ("metric", "area", "period", "value")
OPTIONAL_COLUMNS = ("breakdown", "category", "numerator", "denominator", "status", "note")
# The columns in the order the templates and the grid use.
COLUMNS = ["metric", "area", "period", "breakdown", "category", "value", "numerator", "denominator", "status", "note"]
MISSING_TOKENS = {
    "[x]": Missing.NOT_AVAILABLE,
    "-": Missing.NOT_AVAILABLE,
    "..": Missing.NOT_AVAILABLE,
    "[z]": Missing.NOT_APPLICABLE,
}
_NUMBER_RE = re.compile(r"^[+-]?(\d{1,3}(,\d{3})+|\d+)(\.\d+)?$|^[+-]?\.\d+$")
MAX_ROWS = 200_000


class FileRejected(Exception):
    """A whole-file problem: nothing is read further and nothing is written."""


@dataclass(frozen=True)
class Issue:
    row: int | None  # file row number (the header is row 1); None for the whole file
    column: str
    kind: str
    message: str

    def __str__(self) -> str:
        where = f"row {self.row}" if self.row is not None else "file"
        if self.column:
            where += f", column {self.column}"
        return f"{where}: {self.message}"


# Kinds of problem, in the order a summary lists them, with a heading for people.
ISSUE_KINDS = {
    "file": "Problems with the whole file",
    "unknown_metric": "Unknown metric codes",
    "not_owned": "Metrics this agency does not own",
    "unknown_area": "Unknown area codes",
    "bad_period": "Periods that are not quarters",
    "bad_category": "Breakdown or category problems",
    "bad_number": "Numbers that do not parse",
    "missing_value": "Missing values",
    "negative": "Negative values",
    "out_of_range": "Values out of range",
    "numerator_above_denominator": "Numerators above their denominators",
    "bad_status": "Unknown statuses",
    "duplicate": "The same observation twice",
    "inconsistent": "Values that disagree with their numerator and denominator",
}


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
        }


@dataclass
class ImportSummary:
    filename: str
    rows_read: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[Issue] = field(default_factory=list)
    warnings: list[Issue] = field(default_factory=list)
    dry_run: bool = False
    written: bool = False
    batch_id: int | None = None

    @property
    def accepted(self) -> bool:
        return not self.errors

    def by_kind(self, issues: list[Issue]) -> list[tuple[str, str, list[Issue]]]:
        groups: dict[str, list[Issue]] = defaultdict(list)
        for issue in issues:
            groups[issue.kind].append(issue)
        order = list(ISSUE_KINDS)
        kinds = sorted(groups, key=lambda k: order.index(k) if k in order else len(order))
        return [(kind, ISSUE_KINDS.get(kind, kind.replace("_", " ").capitalize()), groups[kind]) for kind in kinds]

    def errors_by_kind(self) -> list[tuple[str, str, list[Issue]]]:
        return self.by_kind(self.errors)

    def warnings_by_kind(self) -> list[tuple[str, str, list[Issue]]]:
        return self.by_kind(self.warnings)

    def as_text(self) -> str:
        lines = [f"File: {self.filename}", f"Rows read: {self.rows_read}"]
        lines.append(f"Values created: {self.created}, updated: {self.updated}, unchanged: {self.unchanged}")
        lines.append(f"Warnings: {len(self.warnings)}")
        for _, heading, issues in self.warnings_by_kind():
            lines.append(f"  {heading} ({len(issues)}):")
            lines.extend(f"    {issue}" for issue in issues)
        lines.append(f"Errors: {len(self.errors)}")
        for _, heading, issues in self.errors_by_kind():
            lines.append(f"  {heading} ({len(issues)}):")
            lines.extend(f"    {issue}" for issue in issues)
        if self.errors:
            lines.append("Rejected: nothing was written.")
        elif self.dry_run:
            lines.append("Dry run: the file is valid; nothing was written.")
        else:
            lines.append("Accepted: written." if self.written else "Accepted: nothing to write.")
        return "\n".join(lines)


@dataclass
class ImportPlan:
    summary: ImportSummary
    agency: Agency
    sha256: str
    source_return: Any = None  # the approved Return these values come from
    to_create: list[Row] = field(default_factory=list)
    to_update: list[tuple[Row, Observation]] = field(default_factory=list)


# --- parse -------------------------------------------------------------------------------------------
def read_table(content: bytes, filename: str) -> tuple[list[str], list[tuple[int, list[Any]]]]:
    """The header (lower-cased, stripped) and the data rows with their file row numbers."""
    suffix = PurePath(filename).suffix.lower()
    if suffix in {".xlsx", ".xlsm"} or content[:4] == b"PK\x03\x04":
        return _read_xlsx(content)
    if suffix not in {".csv", ".txt", ""}:
        raise FileRejected(f"'{filename}' is neither a CSV nor an XLSX file")
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FileRejected(f"the file is not UTF-8 text (byte {exc.start}); save it as CSV UTF-8") from None
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    reader = csv.reader(io.StringIO(text))
    try:
        raw = list(reader)
    except csv.Error as exc:
        raise FileRejected(f"the CSV cannot be read: {exc}") from None
    if not raw:
        raise FileRejected("the file is empty")
    header = [h.strip().lower() for h in raw[0]]
    rows = [(number, cells) for number, cells in enumerate(raw[1:], start=2) if any(c.strip() for c in cells)]
    return header, rows


def _read_xlsx(content: bytes) -> tuple[list[str], list[tuple[int, list[Any]]]]:
    import zipfile

    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise FileRejected(f"the XLSX file cannot be opened: {exc}") from None
    try:
        names = {name.lower(): name for name in workbook.sheetnames}
        sheet = workbook[names["data"]] if "data" in names else workbook.worksheets[0]
        raw = [list(r) for r in sheet.iter_rows(values_only=True)]
    finally:
        workbook.close()
    if not raw:
        raise FileRejected("the sheet is empty")
    header = [str(h).strip().lower() if h is not None else "" for h in raw[0]]
    while header and header[-1] == "":
        header.pop()
    rows = [
        (number, list(cells))
        for number, cells in enumerate(raw[1:], start=2)
        if any(c is not None and str(c).strip() for c in cells)
    ]
    return header, rows


def check_header(header: list[str]) -> dict[str, int]:
    """Column name -> index. Raises ``FileRejected`` for missing, unknown or repeated columns."""
    positions: dict[str, int] = {}
    problems: list[str] = []
    for index, name in enumerate(header):
        if name.startswith("_"):
            continue
        if name == "":
            problems.append(f"column {index + 1} has no name")
        elif name not in REQUIRED_COLUMNS and name not in OPTIONAL_COLUMNS:
            problems.append(f"unknown column '{name}' (start its name with _ to have it ignored)")
        elif name in positions:
            problems.append(f"column '{name}' appears twice")
        else:
            positions[name] = index
    missing = [c for c in REQUIRED_COLUMNS if c not in positions]
    if missing:
        problems.insert(0, "missing required column" + ("s" if len(missing) > 1 else "") + ": " + ", ".join(missing))
    if ("breakdown" in positions) != ("category" in positions):
        problems.append("columns 'breakdown' and 'category' go together")
    if problems:
        raise FileRejected("; ".join(problems))
    return positions


# --- row checks --------------------------------------------------------------------------------------
def _cell(cells: list[Any], positions: dict[str, int], name: str) -> Any:
    index = positions.get(name)
    if index is None or index >= len(cells):
        return None
    value = cells[index]
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


def parse_number(raw: Any, *, allow_percent: bool) -> float:
    """A number from a cell: ``1,149``, ``84.3%`` (when allowed), ``12.5``. Raises ``ValueError``."""
    if isinstance(raw, bool):
        raise ValueError(f"'{raw}' is not a number")
    if isinstance(raw, (int, float)):
        number = float(raw)
    else:
        text = str(raw).strip().replace("\u00a0", "").replace(" ", "")
        if text.endswith("%"):
            if not allow_percent:
                raise ValueError(f"'{raw}' has a % sign but the metric is not a percentage")
            text = text[:-1]
        if not _NUMBER_RE.match(text):
            raise ValueError(f"'{raw}' is not a number")
        number = float(text.replace(",", ""))
    if not math.isfinite(number):
        raise ValueError(f"'{raw}' is not a finite number")
    return number


def _period(raw: Any) -> dt.date:
    if isinstance(raw, dt.datetime):
        raw = raw.date()
    if isinstance(raw, dt.date):
        return Quarter.from_end_date(raw).end_date
    return _period_text(str(raw))


@functools.lru_cache(maxsize=4096)
def _period_text(text: str) -> dt.date:
    # A file repeats a handful of period texts thousands of times.
    return Quarter.parse(text).end_date


class _Lookups:
    """Everything the row checks need, fetched once per file in a fixed number of queries."""

    def __init__(self) -> None:
        self.metrics = {m.code.lower(): m for m in Metric.objects.prefetch_related("breakdowns")}
        self.metric_breakdowns = {m.pk: {b.code.lower() for b in m.breakdowns.all()} for m in self.metrics.values()}
        self.areas = {code.lower(): pk for code, pk in Area.objects.values_list("code", "id")}
        self.categories = {
            (bd.lower(), code.lower()): pk
            for bd, code, pk in BreakdownCategory.objects.values_list("breakdown__code", "code", "id")
        }


def parse_file(*, content: bytes, filename: str) -> tuple[dict[str, int], list[tuple[int, list[Any]]]]:
    """Read a file and check its header (the whole-file checks). Raises ``FileRejected``."""
    header, raw_rows = read_table(content, filename)
    positions = check_header(header)
    if len(raw_rows) > MAX_ROWS:
        raise FileRejected(f"the file has {len(raw_rows):,} rows; split it into files of at most {MAX_ROWS:,}")
    return positions, raw_rows


def check_rows(
    *,
    positions: dict[str, int],
    raw_rows: list[tuple[int, list[Any]]],
    agency: Agency,
    summary: ImportSummary,
    progress: Any = None,
) -> list[Row]:
    """The row checks: every problem goes into ``summary``; the rows that passed are returned.

    ``progress``, when given, is called now and then with the number of rows checked.
    """
    summary.rows_read = len(raw_rows)
    lookups = _Lookups()
    rows: list[Row] = []
    seen: dict[tuple[int, int, dt.date, int | None], int] = {}
    for index, (number, cells) in enumerate(raw_rows):
        if progress is not None and index and index % 5000 == 0:
            progress(index)
        row = _check_row(number, cells, positions, lookups, agency, summary)
        if row is None:
            continue
        first = seen.get(row.key)
        if first is not None:
            summary.errors.append(Issue(number, "", "duplicate", f"the same observation as row {first}"))
            continue
        seen[row.key] = number
        rows.append(row)
    return rows


def import_plan(*, content: bytes, filename: str, agency: Agency, dry_run: bool = False) -> ImportPlan:
    """Read and check a file; work out what it would create and update. Writes nothing."""
    summary = ImportSummary(filename=filename, dry_run=dry_run)
    plan = ImportPlan(summary=summary, agency=agency, sha256=hashlib.sha256(content).hexdigest())
    try:
        positions, raw_rows = parse_file(content=content, filename=filename)
    except FileRejected as exc:
        summary.errors.append(Issue(None, "", "file", str(exc)))
        return plan
    rows = check_rows(positions=positions, raw_rows=raw_rows, agency=agency, summary=summary)
    if summary.errors:
        return plan
    plan_diff(plan, rows)
    return plan


def _check_row(
    number: int, cells: list[Any], positions: dict[str, int], lookups: _Lookups, agency: Agency, summary: ImportSummary
) -> Row | None:
    errors = summary.errors
    before = len(errors)

    def err(column: str, kind: str, message: str) -> None:
        errors.append(Issue(number, column, kind, message))

    code = _cell(cells, positions, "metric")
    metric = lookups.metrics.get(str(code).lower()) if code is not None else None
    if code is None:
        err("metric", "unknown_metric", "the metric code is empty")
    elif metric is None:
        err("metric", "unknown_metric", f"unknown metric '{code}'")
    elif metric.agency_id != agency.pk:
        err("metric", "not_owned", f"metric '{metric.code}' belongs to another agency, not {agency.code}")

    area_code = _cell(cells, positions, "area")
    area_id = lookups.areas.get(str(area_code).lower()) if area_code is not None else None
    if area_id is None:
        err(
            "area", "unknown_area", f"unknown area '{area_code}'" if area_code is not None else "the area code is empty"
        )

    raw_period = _cell(cells, positions, "period")
    period: dt.date | None = None
    if raw_period is None:
        err("period", "bad_period", "the period is empty")
    else:
        try:
            period = _period(raw_period)
        except QuarterError as exc:
            err("period", "bad_period", str(exc))

    breakdown = _cell(cells, positions, "breakdown")
    category = _cell(cells, positions, "category")
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
            if metric is not None and bd not in lookups.metric_breakdowns[metric.pk]:
                err("breakdown", "bad_category", f"metric '{metric.code}' is not broken down by '{breakdown}'")
            elif category_id is None:
                err("category", "bad_category", f"unknown category '{category}' of breakdown '{breakdown}'")

    unit = metric.unit if metric is not None else None
    allow_percent = unit == Unit.PERCENTAGE

    def number_of(column: str) -> float | None:
        raw = _cell(cells, positions, column)
        if raw is None or (isinstance(raw, str) and raw.lower() in MISSING_TOKENS):
            return None
        try:
            value = parse_number(raw, allow_percent=allow_percent and column == "value")
        except ValueError as exc:
            err(column, "bad_number", str(exc))
            return None
        if value < 0 and not (column == "value" and unit in SIGNED_UNITS):
            err(column, "negative", f"{column} {raw} is negative")
            return None
        return value

    raw_value = _cell(cells, positions, "value")
    missing = ""
    if isinstance(raw_value, str) and raw_value.lower() in MISSING_TOKENS:
        missing = MISSING_TOKENS[raw_value.lower()].value
    value = number_of("value")
    numerator = number_of("numerator")
    denominator = number_of("denominator")
    if denominator is not None and denominator == 0:
        err("denominator", "out_of_range", "the denominator is 0")
        denominator = None
    scale = UNIT_SCALE.get(unit) if unit else None  # type: ignore[call-overload]
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
    if unit == Unit.PERCENTAGE and value is not None and value > 100:
        err("value", "out_of_range", f"percentage {value:g} is above 100")

    raw_status = _cell(cells, positions, "status")
    status = ObservationStatus.PROVISIONAL.value
    if raw_status is not None:
        status = str(raw_status).lower()
        if status not in (ObservationStatus.PROVISIONAL, ObservationStatus.FINAL):
            err("status", "bad_status", f"status '{raw_status}' is not provisional or final")
    note = _cell(cells, positions, "note")

    if len(errors) > before or metric is None or area_id is None or period is None:
        return None
    return Row(
        row=number,
        metric=metric,
        area_id=area_id,
        period=period,
        category_id=category_id,
        value=value if not missing else None,
        numerator=numerator,
        denominator=denominator,
        missing=missing,
        status=status,
        note=str(note) if note is not None else "",
    )


def same_number(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is b
    return math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-12)


def plan_diff(plan: ImportPlan, rows: list[Row]) -> None:
    """Sort checked rows into new, changed and unchanged approved observations."""
    if not rows:
        return
    existing: dict[tuple[int, int, dt.date, int | None], Observation] = {}
    query = Observation.objects.filter(
        metric_id__in={r.metric.pk for r in rows},
        area_id__in={r.area_id for r in rows},
        period__in={r.period for r in rows},
    )
    for found in query:
        existing[(found.metric_id, found.area_id, found.period, found.category_id)] = found
    summary = plan.summary
    for row in rows:
        obs = existing.get(row.key)
        if obs is None:
            plan.to_create.append(row)
            continue
        stored_status = ObservationStatus.FINAL if obs.status == ObservationStatus.REVISED else obs.status
        same_figures = (
            same_number(obs.value, row.value)
            and same_number(obs.numerator, row.numerator)
            and same_number(obs.denominator, row.denominator)
            and obs.missing == row.missing
        )
        if same_figures and stored_status == row.status and obs.note == row.note:
            summary.unchanged += 1
        else:
            plan.to_update.append((row, obs))
    summary.created = len(plan.to_create)
    summary.updated = len(plan.to_update)


# --- write -------------------------------------------------------------------------------------------
def _figures(obs: Observation) -> dict[str, Any]:
    return {
        "value": obs.value,
        "numerator": obs.numerator,
        "denominator": obs.denominator,
        "missing": obs.missing,
        "status": obs.status,
        "note": obs.note,
        "source": obs.source_id,
        "source_row": obs.source_row,
    }


def import_commit(*, plan: ImportPlan, actor: Any = None) -> ImportSummary:
    """Write an accepted plan in one transaction; a changed value keeps its old value in the audit trail."""
    summary = plan.summary
    if summary.errors or summary.dry_run:
        return summary
    if not plan.to_create and not plan.to_update:
        return summary
    actor_id = actor.pk if getattr(actor, "pk", None) else None
    with transaction.atomic():
        batch = ImportBatch.objects.create(
            agency=plan.agency,
            source_return=plan.source_return,
            filename=summary.filename[:300],
            sha256=plan.sha256,
            uploaded_by_id=actor_id,
            rows_read=summary.rows_read,
            created=summary.created,
            updated=summary.updated,
            unchanged=summary.unchanged,
        )
        Observation.objects.bulk_create(
            [
                Observation(**row.figures(), period=row.period, source=batch, source_row=row.row)
                for row in plan.to_create
            ],
            batch_size=2000,
        )
        events: list[AuditEvent] = []
        changed: list[Observation] = []
        now = timezone.now()
        for row, obs in plan.to_update:
            old = _figures(obs)
            figures_changed = not (
                same_number(obs.value, row.value)
                and same_number(obs.numerator, row.numerator)
                and same_number(obs.denominator, row.denominator)
                and obs.missing == row.missing
            )
            obs.value, obs.numerator, obs.denominator = row.value, row.numerator, row.denominator
            obs.missing, obs.note, obs.unit = row.missing, row.note, row.metric.unit
            # Any change to an approved figure is a revision ([r]); the old figure is in the audit trail.
            obs.status = ObservationStatus.REVISED if figures_changed else row.status
            obs.source, obs.source_row, obs.updated_at = batch, row.row, now
            changed.append(obs)
            events.append(
                AuditEvent(
                    actor_id=actor_id,
                    action="observation.revised" if figures_changed else "observation.updated",
                    object_type="metrics.observation",
                    object_id=str(obs.pk),
                    summary=f"{row.metric.code} area {row.area_id} {row.period} row {row.row} of {summary.filename}"[
                        :500
                    ],
                    old=old,
                    new=_figures(obs),
                    metric_code=row.metric.code,
                    return_id=plan.source_return.pk if plan.source_return is not None else None,
                )
            )
        Observation.objects.bulk_update(
            changed,
            [
                "value",
                "numerator",
                "denominator",
                "missing",
                "note",
                "unit",
                "status",
                "source",
                "source_row",
                "updated_at",
            ],
            batch_size=1000,
        )
        events.append(
            AuditEvent(
                actor_id=actor_id,
                action="import.accepted",
                object_type="metrics.importbatch",
                object_id=str(batch.pk),
                summary=f"{summary.filename}: {summary.created} created, {summary.updated} updated, {summary.unchanged} unchanged",
                new={"agency": plan.agency.code, "sha256": plan.sha256, "rows": summary.rows_read},
                return_id=plan.source_return.pk if plan.source_return is not None else None,
            )
        )
        AuditEvent.objects.bulk_create(events, batch_size=2000)
    summary.written = True
    summary.batch_id = batch.pk
    return summary


def import_file(
    *, content: bytes, filename: str, agency: Agency, actor: Any = None, dry_run: bool = False
) -> ImportSummary:
    """Check a data file and, when it has no errors and this is no dry run, write it."""
    plan = import_plan(content=content, filename=filename, agency=agency, dry_run=dry_run)
    return import_commit(plan=plan, actor=actor)

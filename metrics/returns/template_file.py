"""A return's template file: every owed line with its codes, to fill in and upload (CSV or XLSX).

The XLSX is the data file of docs/CONTRACT.md §2 (sheet ``data``) dressed for a person: an instructions
sheet, drop-down lists for the codes and the status, the key columns locked (the sheet is protected without a
password, the figure columns left open), sensible widths, and for reference, in columns whose names start
with ``_`` (which the import ignores), the metric's name and unit and the approved figures of the quarter
before and of the same quarter last year. Uploaded unchanged it is accepted and changes nothing: a line whose
value, numerator, denominator and note are all empty is a line not yet filled in (``unfilled_dropped``).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

from accounts.downloads import safe_cell
from frameworks.models import Area, Framework
from metrics.imports.parse import COLUMNS
from metrics.models import Observation, Return, ReturnValue

from . import selectors
from .selectors import OwedLine

REFERENCE = ["_metric_name", "_unit", "_last_quarter", "_last_year"]
HEADER = [*COLUMNS, *REFERENCE]
KEY_COLUMNS = ("metric", "area", "period", "breakdown", "category")
FILLED_COLUMNS = ("value", "numerator", "denominator", "status", "note")
STATUSES = ("provisional", "final")
WIDTHS = {
    "metric": 10,
    "area": 16,
    "period": 12,
    "breakdown": 16,
    "category": 26,
    "value": 12,
    "numerator": 12,
    "denominator": 13,
    "status": 12,
    "note": 30,
    "_metric_name": 40,
    "_unit": 16,
    "_last_quarter": 14,
    "_last_year": 14,
}


def _figure(found: Observation | ReturnValue | None) -> Any:
    if found is None:
        return ""
    if found.missing:
        return f"[{found.missing}]"
    return "" if found.value is None else found.value


def template_rows(*, return_obj: Return, framework: Framework) -> tuple[list[OwedLine], list[list[Any]]]:
    """The owed lines and one row per line: codes, what the return already holds (else status provisional), and
    the reference columns (the approved figure of the quarter before and of the same quarter last year)."""
    lines = selectors.owed_lines(framework=framework, agency=return_obj.agency)
    history = selectors.history_for(lines=lines, period=return_obj.round.period, quarters=4)
    values = {v.key: v for v in return_obj.values.all()}
    rows = []
    for line in lines:
        saved = values.get(line.key)
        earlier = history[line.key]
        rows.append(
            [
                line.metric.code,
                line.area.code,
                return_obj.round.period.isoformat(),
                line.category.breakdown.code if line.category else "",
                line.category.code if line.category else "",
                _figure(saved),
                saved.numerator if saved and saved.numerator is not None else "",
                saved.denominator if saved and saved.denominator is not None else "",
                saved.status if saved else "provisional",
                saved.note if saved else "",
                line.metric.name,
                line.metric.get_unit_display(),
                _figure(earlier[-1]),
                _figure(earlier[0]),
            ]
        )
    return lines, rows


def unfilled_dropped(positions: dict[str, int], raw_rows: list[tuple[int, list[Any]]]) -> list[tuple[int, list[Any]]]:
    """A return file's rows without the lines not filled in: no value, numerator, denominator or note (only the
    codes and status the template prefilled). Such a line adds nothing, as an empty line of the grid."""
    names = ("value", "numerator", "denominator", "note")
    indexes = [positions[name] for name in names if positions.get(name) is not None]

    def filled(cells: list[Any]) -> bool:
        for index in indexes:
            if index < len(cells):
                value = cells[index]
                if value is not None and str(value).strip():
                    return True
        return False

    return [(number, cells) for number, cells in raw_rows if filled(cells)]


# --- the workbook -----------------------------------------------------------------------------------------------
def _instructions(return_obj: Return, lines: list[OwedLine]) -> list[list[Any]]:
    r = return_obj
    metrics: dict[str, OwedLine] = {}
    for line in lines:
        metrics.setdefault(line.metric.code, line)
    out: list[list[Any]] = [
        [f"{r.agency.name}: data return for {r.round.label}"],
        [f"Due by {r.round.due_date:%A %d %B %Y}. Upload this file on the return's page, or type the figures there."],
        [],
        ["What to fill in"],
        ["On the sheet 'data', one line per figure the agency owes: give each a value in the 'value' column."],
        ["Percentages and rates: give the numerator and denominator too (the value may then be left empty)."],
        ["'status': provisional (the default) or final. 'note': anything the office should know about the figure."],
        ["A figure you cannot give: [x] in 'value' when it is not available, [z] when it does not apply."],
        ["A line left empty is not sent; the return cannot be submitted until every line has a value, [x] or [z]."],
        [],
        ["What not to change"],
        ["The codes (metric, area, period, breakdown, category) are locked: they say what each figure is."],
        ["The sheet is protected without a password only to keep the codes safe (Review > Unprotect Sheet)."],
        ["Columns starting with _ are for reference only and are ignored when the file is read:"],
        ["_last_quarter: the approved figure for the quarter before; _last_year: for the same quarter last year."],
        [],
        ["The measures"],
        ["code", "name", "unit", "breakdowns", "definition"],
    ]
    for code, line in metrics.items():
        metric = line.metric
        breakdowns = ", ".join(b.name for b in metric.breakdowns.all())
        out.append([code, metric.name, metric.get_unit_display(), breakdowns or "total only", metric.description])
    out += [
        [],
        ["Symbols"],
        ["[x]", "not available"],
        ["[z]", "not applicable"],
    ]
    return out


def _cell(value: Any) -> Any:
    """Numbers stay numbers; text that a spreadsheet would run as a formula is defused (``safe_cell``)."""
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else safe_cell(value)


def _column_list(sheet: Any, column: int, title: str, items: Sequence[str]) -> str:
    """Write ``items`` down a column of the hidden lists sheet; the range a drop-down reads."""
    from openpyxl.utils import get_column_letter, quote_sheetname

    sheet.cell(row=1, column=column, value=title)
    for row, item in enumerate(items, start=2):
        sheet.cell(row=row, column=column, value=item)
    letter = get_column_letter(column)
    return f"{quote_sheetname(sheet.title)}!${letter}$2:${letter}${max(len(items) + 1, 2)}"


def template_xlsx(*, return_obj: Return, framework: Framework) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill, Protection
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    lines, rows = template_rows(return_obj=return_obj, framework=framework)
    workbook = Workbook()
    data = workbook.active
    assert data is not None
    data.title = "data"
    data.append(HEADER)
    for row in rows:
        data.append([_cell(v) for v in row])
    last = max(len(rows) + 1, 2)
    position = {name: index + 1 for index, name in enumerate(HEADER)}
    reference_fill = PatternFill("solid", fgColor="EEEEEE")
    for cell in data[1]:
        cell.font = Font(bold=True)
    for name, index in position.items():
        letter = get_column_letter(index)
        data.column_dimensions[letter].width = WIDTHS.get(name, 12)
        if name in FILLED_COLUMNS:
            for (cell,) in data.iter_rows(min_row=2, max_row=last, min_col=index, max_col=index):
                cell.protection = Protection(locked=False)
        elif name in REFERENCE:
            for (cell,) in data.iter_rows(min_row=1, max_row=last, min_col=index, max_col=index):
                cell.fill = reference_fill
    data.freeze_panes = "F2"
    data.auto_filter.ref = f"A1:{get_column_letter(len(HEADER))}{last}"

    # Drop-down lists, read from a hidden sheet (a list longer than 255 characters cannot be inline).
    lists = workbook.create_sheet("lists")
    areas = list(Area.objects.filter(pk__in={line.area.pk for line in lines}).order_by("code"))
    categories = sorted({(line.category.breakdown.code, line.category.code) for line in lines if line.category})
    sources = {
        "metric": _column_list(lists, 1, "metric", sorted({line.metric.code for line in lines})),
        "area": _column_list(lists, 2, "area", [a.code for a in areas]),
        "breakdown": _column_list(lists, 3, "breakdown", sorted({b for b, _ in categories})),
        "category": _column_list(lists, 4, "category", sorted({c for _, c in categories})),
        "status": _column_list(lists, 5, "status", list(STATUSES)),
    }
    lists.sheet_state = "hidden"
    lists.protection.sheet = True
    for name, source in sources.items():
        check = DataValidation(
            type="list",
            formula1=source,
            allow_blank=name in {"breakdown", "category", "status"},
            showErrorMessage=True,
            errorTitle=f"Not a {name} code",
            error=f"Choose a {name} from the list.",
        )
        letter = get_column_letter(position[name])
        check.add(f"{letter}2:{letter}{last}")
        data.add_data_validation(check)
    value_letter = get_column_letter(position["value"])
    hint = DataValidation(
        type=None,
        allow_blank=True,
        showInputMessage=True,
        promptTitle="The figure",
        prompt="A number, or [x] not available, [z] not applicable.",
    )
    hint.add(f"{value_letter}2:{value_letter}{last}")
    data.add_data_validation(hint)
    # The codes are locked; the figure columns stay open. No password: a guard against slips, not a secret.
    data.protection.sheet = True
    data.protection.autoFilter = False
    data.protection.sort = False
    data.protection.formatColumns = False

    notes = workbook.create_sheet("instructions", index=1)
    for row in _instructions(return_obj, lines):
        notes.append([_cell(v) for v in row])
    for row_number in (1, 4, 11, 17, 18):
        notes.cell(row=row_number, column=1).font = Font(bold=True, size=14 if row_number == 1 else 12)
    notes.column_dimensions["A"].width = 14
    notes.column_dimensions["B"].width = 44
    notes.column_dimensions["C"].width = 18
    notes.column_dimensions["D"].width = 24
    notes.column_dimensions["E"].width = 60
    for row in notes.iter_rows(min_row=19):
        row[-1].alignment = Alignment(wrap_text=True, vertical="top")
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()

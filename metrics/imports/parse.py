"""Reading a data file: what kind of file it is, its table of cells, and the whole-file checks."""

from __future__ import annotations

import csv
import datetime as dt
import functools
import io
import math
import re
import zipfile
from pathlib import PurePath
from typing import Any

from django.conf import settings

from metrics.models import Missing
from metrics.quarters import Quarter

REQUIRED_COLUMNS = ("metric", "area", "period", "value")
OPTIONAL_COLUMNS = ("breakdown", "category", "numerator", "denominator", "status", "note")
# The columns in the order the templates and the grid use.
COLUMNS = ["metric", "area", "period", "breakdown", "category", "value", "numerator", "denominator", "status", "note"]
MAX_ROWS = 200_000
MACRO_MARKERS = (b"xl/vbaProject.bin", b"macroEnabled")
MISSING_TOKENS = {
    "[x]": Missing.NOT_AVAILABLE,
    "-": Missing.NOT_AVAILABLE,
    "..": Missing.NOT_AVAILABLE,
    "[z]": Missing.NOT_APPLICABLE,
}
NUMBER_RE = re.compile(r"^[+-]?(\d{1,3}(,\d{3})+|\d+)(\.\d+)?$|^[+-]?\.\d+$")


class FileRejected(Exception):
    """A whole-file problem: nothing is read further and nothing is written."""


def sniff_upload(*, content: bytes, filename: str) -> str:
    """'csv' or 'xlsx' by what the file is, not what it is called. Raises ``FileRejected``."""
    limit = settings.PCC_PERF_MAX_UPLOAD_MB
    if len(content) > limit * 1024 * 1024:
        raise FileRejected(f"the file is {len(content) / 1024 / 1024:.1f} MB; the limit is {limit:g} MB")
    if not content.strip():
        raise FileRejected("the file is empty")
    if content[:4] == b"PK\x03\x04":
        try:
            with zipfile.ZipFile(io.BytesIO(content)) as archive:
                names = archive.namelist()
                types = archive.read("[Content_Types].xml") if "[Content_Types].xml" in names else b""
        except zipfile.BadZipFile:
            raise FileRejected("the file looks like a spreadsheet but is damaged") from None
        if "xl/vbaProject.bin" in names or any(marker in types for marker in MACRO_MARKERS):
            raise FileRejected("macro-enabled workbooks are refused; save it as a plain .xlsx or as CSV")
        if "xl/workbook.xml" not in names:
            raise FileRejected("the file is a ZIP archive, not an XLSX workbook")
        return "xlsx"
    if content[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise FileRejected("old .xls workbooks are not read; save it as .xlsx or CSV")
    head = content[:65536]
    if b"\x00" in head:
        raise FileRejected("the file is not text: upload a CSV (UTF-8) or an XLSX workbook")
    try:
        head.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        cut_at_the_end = len(content) > len(head) and exc.start >= len(head) - 4  # a character cut by the sample
        if not cut_at_the_end:
            raise FileRejected("the file is not UTF-8 text; save it as CSV UTF-8") from None
    return "csv"


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
    unnamed: list[str] = []
    unknown: list[str] = []
    for index, name in enumerate(header):
        if name.startswith("_"):
            continue
        if name == "":
            unnamed.append(str(index + 1))
        elif name not in REQUIRED_COLUMNS and name not in OPTIONAL_COLUMNS:
            unknown.append(f"'{name[:40]}'")
        elif name in positions:
            problems.append(f"column '{name}' appears twice")
        else:
            positions[name] = index
    if unnamed:
        problems.append(_some("column", unnamed) + (" has" if len(unnamed) == 1 else " have") + " no name")
    if unknown:
        problems.append("unknown " + _some("column", unknown) + " (start a name with _ to have the column ignored)")
    missing = [c for c in REQUIRED_COLUMNS if c not in positions]
    if missing:
        problems.insert(0, "missing required column" + ("s" if len(missing) > 1 else "") + ": " + ", ".join(missing))
    if ("breakdown" in positions) != ("category" in positions):
        problems.append("columns 'breakdown' and 'category' go together")
    if problems:
        raise FileRejected("; ".join(problems))
    return positions


def _some(noun: str, names: list[str], listed: int = 10) -> str:
    """ "column 'a'", "columns 'a', 'b'" or "columns 'a', … and 9,990 more": a long list stays short."""
    if len(names) == 1:
        return f"{noun} {names[0]}"
    shown = ", ".join(names[:listed])
    rest = f" and {len(names) - listed:,} more" if len(names) > listed else ""
    return f"{len(names):,} {noun}s: {shown}{rest}"


def parse_file(*, content: bytes, filename: str) -> tuple[dict[str, int], list[tuple[int, list[Any]]]]:
    """Read a file and check its header (the whole-file checks). Raises ``FileRejected``."""
    header, raw_rows = read_table(content, filename)
    positions = check_header(header)
    if len(raw_rows) > MAX_ROWS:
        raise FileRejected(f"the file has {len(raw_rows):,} rows; split it into files of at most {MAX_ROWS:,}")
    return positions, raw_rows


# --- cells -------------------------------------------------------------------------------------------
def cell(cells: list[Any], positions: dict[str, int], name: str) -> Any:
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
        if not NUMBER_RE.match(text):
            raise ValueError(f"'{raw}' is not a number")
        number = float(text.replace(",", ""))
    if not math.isfinite(number):
        raise ValueError(f"'{raw}' is not a finite number")
    return number


def parse_period(raw: Any) -> dt.date:
    if isinstance(raw, dt.datetime):
        raw = raw.date()
    if isinstance(raw, dt.date):
        return Quarter.from_end_date(raw).end_date
    return _period_text(str(raw))


@functools.lru_cache(maxsize=4096)
def _period_text(text: str) -> dt.date:
    # A file repeats a handful of period texts thousands of times.
    return Quarter.parse(text).end_date

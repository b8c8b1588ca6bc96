"""Reading a data file: what kind of file it is, its table of cells, and the whole-file checks."""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import functools
import io
import math
import re
import zipfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import PurePath
from typing import Any

from django.conf import settings

from metrics.models import Missing
from metrics.quarters import Quarter

REQUIRED_COLUMNS = ("metric", "area", "period", "value")
OPTIONAL_COLUMNS = ("breakdown", "category", "numerator", "denominator", "status", "note", "illustrative")
# The columns in the order the templates and the grid use.
COLUMNS = ["metric", "area", "period", "breakdown", "category", "value", "numerator", "denominator", "status", "note"]
MAX_ROWS = 200_000
# Rows read at most, blank ones included: a file of a million empty rows is refused, not read to its end.
MAX_LINES = 1_000_000
MACRO_MARKERS = (b"xl/vbaProject.bin", b"macroEnabled")
MISSING_TOKENS = {
    "[x]": Missing.NOT_AVAILABLE,
    "-": Missing.NOT_AVAILABLE,
    "..": Missing.NOT_AVAILABLE,
    "[z]": Missing.NOT_APPLICABLE,
}
NUMBER_RE = re.compile(r"^[+-]?(\d{1,3}(,\d{3})+|\d+)(\.\d+)?$|^[+-]?\.\d+$")

# An XLSX file is a ZIP archive of XML parts. Its directory says how large each part inflates to (the ZIP
# reader stops at that size and fails the part's checksum beyond it), so these limits are checked before
# anything is inflated. Worksheets are read as a stream; the shared strings and every other part are held in
# memory whole by the reader, hence their smaller limits.
MB = 1024 * 1024
XLSX_MAX_PARTS = 1_000
XLSX_MAX_SHEET_BYTES = 200 * MB
XLSX_MAX_STRINGS_BYTES = 16 * MB
XLSX_MAX_PART_BYTES = 8 * MB
XLSX_MAX_TOTAL_BYTES = 256 * MB
# Inflated size / compressed size of a part larger than XLSX_RATIO_FROM: real workbooks stay well below;
# a ZIP bomb is near 1,000.
XLSX_MAX_RATIO = 100
XLSX_RATIO_FROM = 1 * MB
SHEET_PREFIX = "xl/worksheets/"
SHARED_STRINGS = "xl/sharedStrings.xml"


class FileRejected(Exception):
    """A whole-file problem: nothing is read further and nothing is written."""


def xlsx_parts(content: bytes) -> list[zipfile.ZipInfo]:
    """The parts of an XLSX archive, checked against the size, count and compression-ratio limits from its
    directory alone (nothing is inflated). Raises ``FileRejected``."""
    if content.count(b"PK\x01\x02") > XLSX_MAX_PARTS:  # directory entries, counted before they are parsed
        raise FileRejected(f"the workbook has more than {XLSX_MAX_PARTS:,} parts; it is not a data file")
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            parts = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError, OSError):
        raise FileRejected(
            "the file looks like a spreadsheet but is damaged: it cannot be opened as a ZIP archive"
        ) from None
    total = 0
    for part in parts:
        name = part.filename
        limit = (
            XLSX_MAX_SHEET_BYTES
            if name.startswith(SHEET_PREFIX)
            else XLSX_MAX_STRINGS_BYTES
            if name == SHARED_STRINGS
            else XLSX_MAX_PART_BYTES
        )
        if part.file_size > limit:
            raise FileRejected(
                f"part {name[:80]} of the workbook inflates to {part.file_size / MB:,.0f} MB; "
                f"the limit is {limit / MB:,.0f} MB"
            )
        if part.file_size > XLSX_RATIO_FROM and part.file_size > XLSX_MAX_RATIO * max(part.compress_size, 1):
            raise FileRejected(
                f"part {name[:80]} of the workbook is compressed {part.file_size / max(part.compress_size, 1):,.0f} "
                f"times (more than {XLSX_MAX_RATIO}): refused as a possible ZIP bomb"
            )
        total += part.file_size
    if total > XLSX_MAX_TOTAL_BYTES:
        raise FileRejected(
            f"the workbook inflates to {total / MB:,.0f} MB; the limit is {XLSX_MAX_TOTAL_BYTES / MB:,.0f} MB"
        )
    return parts


def xlsx_sheet_bytes(content: bytes) -> int:
    """How large the worksheets of a (checked) XLSX file are once inflated: a measure of its rows."""
    return sum(p.file_size for p in xlsx_parts(content) if p.filename.startswith(SHEET_PREFIX))


def sniff_upload(*, content: bytes, filename: str) -> str:
    """'csv' or 'xlsx' by what the file is, not what it is called. Raises ``FileRejected``.

    Reads no more than the ZIP directory and the (size-checked) content types of a workbook, and the first
    64 KB of a text file: it runs inside the web request."""
    limit = settings.PCC_PERF_MAX_UPLOAD_MB
    if len(content) > limit * 1024 * 1024:
        raise FileRejected(f"the file is {len(content) / 1024 / 1024:.1f} MB; the limit is {limit:g} MB")
    if not content.strip():
        raise FileRejected("the file is empty")
    if content[:4] == b"PK\x03\x04":
        names = {part.filename for part in xlsx_parts(content)}
        try:
            with zipfile.ZipFile(io.BytesIO(content)) as archive:
                types = archive.read("[Content_Types].xml") if "[Content_Types].xml" in names else b""
        except Exception:  # any failure to inflate a hostile part: a damaged file
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


Rows = Iterator[tuple[int, Sequence[Any]]]


def _is_xlsx(content: bytes, filename: str) -> bool:
    suffix = PurePath(filename).suffix.lower()
    if suffix in {".xlsx", ".xlsm"} or content[:4] == b"PK\x03\x04":
        return True
    if suffix not in {".csv", ".txt", ""}:
        raise FileRejected(f"'{filename}' is neither a CSV nor an XLSX file")
    return False


@contextlib.contextmanager
def _table(content: bytes, filename: str) -> Iterator[tuple[list[str], Callable[[int], Rows]]]:
    """The header (lower-cased, stripped) and a function giving the data rows, as a stream, with their file
    row numbers; ``rows(width)`` keeps the first ``width`` cells of each. Every failure of the underlying
    reader (a damaged archive, broken XML, a bad byte) is a ``FileRejected``, raised as the rows are read."""
    if _is_xlsx(content, filename):
        with _xlsx_table(content) as table:
            yield table
    else:
        yield _csv_table(content)


def _csv_table(content: bytes) -> tuple[list[str], Callable[[int], Rows]]:
    stream = io.TextIOWrapper(io.BytesIO(content), encoding="utf-8-sig", newline="")
    reader = csv.reader(stream)

    def unreadable(exc: Exception) -> FileRejected:
        if isinstance(exc, UnicodeDecodeError):
            return FileRejected(f"the file is not UTF-8 text (row {reader.line_num + 1}); save it as CSV UTF-8")
        return FileRejected(f"the CSV cannot be read at row {reader.line_num}: {exc}")

    try:
        first = next(reader, None)
    except (UnicodeDecodeError, csv.Error) as exc:
        raise unreadable(exc) from None
    if first is None:
        raise FileRejected("the file is empty")
    header = [h.strip().lower() for h in first]

    def rows(width: int) -> Rows:
        number = 1  # records, as a spreadsheet numbers them (a quoted note may span several lines)
        try:
            for cells in reader:  # read in one loop: a large file's rows cost no call each
                number += 1
                yield number, cells[:width]
        except (UnicodeDecodeError, csv.Error) as exc:
            raise unreadable(exc) from None

    return header, rows


@contextlib.contextmanager
def _xlsx_table(content: bytes) -> Iterator[tuple[list[str], Callable[[int], Rows]]]:
    xlsx_parts(content)  # the limits first, from the archive's directory

    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except FileRejected:
        raise
    except Exception as exc:  # a hostile workbook can fail anywhere inside the reader
        raise FileRejected(f"the XLSX file cannot be opened: {_reason(exc)}") from None
    try:
        try:
            if not workbook.worksheets:
                raise FileRejected("the workbook has no sheet to read")
            names = {name.lower(): name for name in workbook.sheetnames}
            sheet = workbook[names["data"]] if "data" in names else workbook.worksheets[0]
            # The sheet's own <dimension> may claim a million rows and 16,384 columns: ignored, so rows are
            # only as long as their cells and only the rows present are read.
            sheet.reset_dimensions()
            first = next(sheet.iter_rows(max_row=1, values_only=True), None)
        except FileRejected:
            raise
        except Exception as exc:  # (likewise)
            raise FileRejected(f"the XLSX file cannot be read: {_reason(exc)}") from None
        if first is None:
            raise FileRejected("the sheet is empty")
        header = [str(h).strip().lower() if h is not None else "" for h in first]
        while header and header[-1] == "":
            header.pop()

        def rows(width: int) -> Rows:
            cells = sheet.iter_rows(min_row=2, max_col=max(width, 1), values_only=True)
            number = 1
            while True:
                try:
                    row = next(cells, None)
                except Exception as exc:  # (likewise)
                    raise FileRejected(f"the XLSX file cannot be read after row {number}: {_reason(exc)}") from None
                if row is None:
                    return
                number += 1
                yield number, row

        yield header, rows
    finally:
        workbook.close()


def _reason(exc: BaseException) -> str:
    """What went wrong, in a line: an XML entity or DTD refused by openpyxl's defusedxml parser (what an
    entity bomb meets; openpyxl wraps it in "could not read worksheets … see the exception") said as such."""
    seen: BaseException | None = exc
    while seen is not None:
        if type(seen).__module__.startswith("defusedxml"):
            return "it declares XML entities or a document type, which are refused (they can expand without limit)"
        seen = seen.__cause__ or seen.__context__
    text = str(exc).strip() or exc.__class__.__name__
    return text if len(text) <= 200 else text[:200] + "…"


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
    """Read a file and check its header (the whole-file checks): the position of each known column in the
    rows and the non-blank data rows with their file row numbers. Raises ``FileRejected``.

    The rows are read as a stream and reading stops at the row limits, so a file of a million rows costs
    no more than one of the limit. Each row keeps the file's cells up to the last known column."""
    with _table(content, filename) as (header, rows):
        positions = check_header(header)
        width = max(positions.values()) + 1
        raw_rows: list[tuple[int, list[Any]]] = []
        lines = 0
        for number, cells in rows(width):
            lines += 1
            if lines > MAX_LINES:
                raise FileRejected(f"the file has more than {MAX_LINES:,} rows (blank ones included)")
            if _blank(cells):
                continue
            if len(raw_rows) == MAX_ROWS:
                raise FileRejected(
                    f"the file has more than {MAX_ROWS:,} rows; split it into files of at most {MAX_ROWS:,}"
                )
            raw_rows.append((number, cells if type(cells) is list else list(cells)))
    return positions, raw_rows


def _blank(cells: Sequence[Any]) -> bool:
    """Whether a row has nothing in it but empty cells and spaces."""
    try:
        return not "".join(cells).strip()  # a CSV row: text only
    except TypeError:  # a workbook's row: numbers, dates and None too
        return not any(c is not None and str(c).strip() for c in cells)


# --- cells -------------------------------------------------------------------------------------------
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

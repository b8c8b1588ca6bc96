"""Benchmark: hostile and oversized data files are refused in bounded memory (``make bench``).

Makes each file here, nothing committed: a zip bomb whose ``[Content_Types].xml`` inflates to 1 GB; a 200 KB
workbook of 700,000 rows (the issue's was 450 KB) and one of varied values that passes the ratio check; a
sheet that claims a million rows and 16,384 columns; shared strings just under their limit; broken XML; an XML
entity bomb; a damaged checksum; a 20 MB CSV of 800,000 rows; a 200,000-row CSV with an error on every row.
Each is read in a fresh process as an upload is read: ``sniff_upload`` (the web request), then
``parse_file`` and the row checks (the worker). Prints the outcome, seconds and the process's peak memory
(max RSS, ``resource.getrusage``), and that of a process that only starts Django, for reference.

The file makers are used by the tests as well (``tests/metrics/test_hostile_files.py``).
"""

from __future__ import annotations

import io
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

MB = 1024 * 1024
LIMIT_MB = 300  # the peak memory any rejected file may cost (issue 15)

CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/sharedStrings.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
    "</Types>"
)
ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
    'Target="xl/workbook.xml"/></Relationships>'
)
WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="data" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
    'Target="worksheets/sheet1.xml"/>'
    '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" '
    'Target="sharedStrings.xml"/></Relationships>'
)
SHEET_OPEN = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
# Shared strings 0-6: the header and a row's codes.
STRINGS = ["metric", "area", "period", "value", "B000", "area-00", "2024-06-30"]
HEADER_ROW = '<row r="1"><c t="s"><v>0</v></c><c t="s"><v>1</v></c><c t="s"><v>2</v></c><c t="s"><v>3</v></c></row>'

Chunks = Callable[[], Iterator[bytes]]


def _strings_xml(strings: list[str]) -> bytes:
    items = "".join(f"<si><t>{s}</t></si>" for s in strings)
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="{len(strings)}" '
        f'uniqueCount="{len(strings)}">{items}</sst>'
    ).encode()


def workbook(
    sheet: Chunks | bytes, *, strings: Chunks | bytes | None = None, content_types: Chunks | bytes | None = None
) -> bytes:
    """A minimal XLSX file whose parts may be streams of chunks (written without holding them whole)."""
    parts: dict[str, Chunks | bytes] = {
        "[Content_Types].xml": content_types if content_types is not None else CONTENT_TYPES.encode(),
        "_rels/.rels": ROOT_RELS.encode(),
        "xl/workbook.xml": WORKBOOK.encode(),
        "xl/_rels/workbook.xml.rels": WORKBOOK_RELS.encode(),
        "xl/worksheets/sheet1.xml": sheet,
        "xl/sharedStrings.xml": strings if strings is not None else _strings_xml(STRINGS),
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name, part in parts.items():
            if isinstance(part, bytes):
                archive.writestr(name, part)
                continue
            with archive.open(name, "w", force_zip64=True) as out:
                for chunk in part():
                    out.write(chunk)
    return buffer.getvalue()


def _rows_sheet(rows: int, *, varied: bool, dimension: str = "") -> Chunks:
    def chunks() -> Iterator[bytes]:
        yield (SHEET_OPEN + dimension + "<sheetData>" + HEADER_ROW).encode()
        batch = []
        for i in range(rows):
            value = (i * 7919) % 100_003 if varied else 5
            batch.append(
                f'<row><c t="s"><v>4</v></c><c t="s"><v>5</v></c><c t="s"><v>6</v></c><c><v>{value}</v></c></row>'
            )
            if len(batch) == 10_000:
                yield "".join(batch).encode()
                batch = []
        yield ("".join(batch) + "</sheetData></worksheet>").encode()

    return chunks


def zip_bomb(inflated_mb: int = 1024) -> bytes:
    """An XLSX of about 1 MB whose ``[Content_Types].xml`` inflates to ``inflated_mb`` MB (trailing spaces)."""

    def chunks() -> Iterator[bytes]:
        yield CONTENT_TYPES.encode()
        block = b" " * MB
        for _ in range(inflated_mb):
            yield block

    return workbook(_rows_sheet(1, varied=False), content_types=chunks)


def many_rows(rows: int = 700_000, *, varied: bool = False) -> bytes:
    """A workbook of ``rows`` data rows: the same row (about 450 KB for 700,000) or varied values."""
    return workbook(_rows_sheet(rows, varied=varied))


def claimed_dimension(rows: int = 1_048_576, columns: str = "XFD", data_rows: int = 3) -> bytes:
    """A sheet whose ``<dimension>`` claims ``rows`` rows and columns up to ``columns``, with a few real rows,
    one of them with a cell in the last column."""

    def chunks() -> Iterator[bytes]:
        yield (SHEET_OPEN + f'<dimension ref="A1:{columns}{rows}"/><sheetData>' + HEADER_ROW).encode()
        for i in range(data_rows):
            far = f'<c r="{columns}{i + 2}"><v>1</v></c>' if i == 0 else ""
            yield (
                f'<row r="{i + 2}"><c r="A{i + 2}" t="s"><v>4</v></c><c r="B{i + 2}" t="s"><v>5</v></c>'
                f'<c r="C{i + 2}" t="s"><v>6</v></c><c r="D{i + 2}"><v>{i + 1}</v></c>{far}</row>'
            ).encode()
        yield b"</sheetData></worksheet>"

    return workbook(chunks)


def shared_strings(megabytes: int = 15) -> bytes:
    """A workbook whose shared strings (held in memory whole by the reader) are ``megabytes`` MB of distinct
    short strings: the most the limits let in."""
    count = megabytes * MB // 26  # <si><t>n000000001</t></si>

    def chunks() -> Iterator[bytes]:
        yield b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        yield b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        yield "".join(f"<si><t>{s}</t></si>" for s in STRINGS).encode()
        for start in range(0, count, 10_000):
            yield "".join(f"<si><t>n{i:09d}</t></si>" for i in range(start, min(start + 10_000, count))).encode()
        yield b"</sst>"

    return workbook(_rows_sheet(10, varied=True), strings=chunks)


def broken_xml() -> bytes:
    """A sheet whose XML stops in the middle of a row (an XML ``ParseError`` inside the reader)."""
    return workbook((SHEET_OPEN + "<sheetData>" + HEADER_ROW + '<row><c t="s"><v>4</v></c><c t=').encode())


def entity_bomb() -> bytes:
    """A sheet with a "billion laughs" XML entity (nine levels of ten)."""
    levels = ['<!ENTITY l0 "ha">'] + [f'<!ENTITY l{i} "{("&l" + str(i - 1) + ";") * 10}">' for i in range(1, 10)]
    sheet = (
        '<?xml version="1.0"?>\n<!DOCTYPE worksheet [' + "".join(levels) + "]>"
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
        + HEADER_ROW
        + '<row><c t="inlineStr"><is><t>&l9;</t></is></c></row></sheetData></worksheet>'
    )
    return workbook(sheet.encode())


def bad_checksum() -> bytes:
    """A workbook one byte of whose compressed worksheet was changed (the ZIP reader's CRC check fails)."""
    content = bytearray(many_rows(2_000, varied=True))
    with zipfile.ZipFile(io.BytesIO(bytes(content))) as archive:
        info = archive.getinfo("xl/worksheets/sheet1.xml")
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra) + 40
    content[start] ^= 0xFF
    return bytes(content)


def csv_rows(rows: int, *, error: bool = False) -> bytes:
    """A CSV of ``rows`` short rows (an unknown metric on every row with ``error``)."""
    code = "NOPE" if error else "B000"
    line = f"{code},area-00,2024-06-30,5\n".encode()
    return b"metric,area,period,value\n" + line * rows


CASES: dict[str, tuple[str, Callable[[], bytes], str]] = {
    "zip-bomb": ("zip bomb: [Content_Types].xml inflates to 1 GB", lambda: zip_bomb(1024), "xlsx"),
    "rows-700k": ("700,000-row workbook", lambda: many_rows(700_000), "xlsx"),
    "rows-700k-varied": ("700,000-row workbook, varied values", lambda: many_rows(700_000, varied=True), "xlsx"),
    "dimension": ("sheet claiming A1:XFD1048576", claimed_dimension, "xlsx"),
    "strings": ("15 MB of shared strings (under the 16 MB limit)", shared_strings, "xlsx"),
    "broken-xml": ("broken XML", broken_xml, "xlsx"),
    "entity-bomb": ("XML entity bomb", entity_bomb, "xlsx"),
    "bad-crc": ("damaged ZIP checksum", bad_checksum, "xlsx"),
    "csv-800k": ("CSV of 800,000 rows (20 MB, the upload limit)", lambda: csv_rows(800_000), "csv"),
    "csv-errors": ("CSV of 200,000 rows, an error on each", lambda: csv_rows(200_000, error=True), "csv"),
}


def measure(path: Path, filename: str, agency_code: str) -> dict[str, Any]:
    """Read ``path`` as an upload is read (in this process) and say what happened."""
    from accounts.models import Agency
    from metrics.imports.commit import import_plan
    from metrics.imports.parse import FileRejected, sniff_upload

    content = path.read_bytes()
    start = time.perf_counter()
    try:
        sniff_upload(content=content, filename=filename)
    except FileRejected as exc:
        outcome = f"refused in the request: {exc}"
    else:
        agency = Agency.objects.get(code=agency_code)
        plan = import_plan(content=content, filename=filename, agency=agency, dry_run=True)
        errors = plan.summary.errors
        outcome = (
            f"rejected: {errors.total:,} error(s), first: {errors[0]}"
            if errors
            else f"accepted ({plan.summary.rows_read:,} rows)"
        )
    return {
        "outcome": outcome,
        "seconds": time.perf_counter() - start,
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


class Command(BaseCommand):
    help = "Peak memory and time of refusing hostile and oversized data files, each read in a fresh process."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--case", choices=sorted(CASES), action="append", help="only these cases")
        parser.add_argument("--measure", nargs=2, metavar=("PATH", "FILENAME"), help=argparse_hidden())
        parser.add_argument("--agency", default="bench-police", help=argparse_hidden())

    def handle(self, *args: Any, **options: Any) -> None:
        if options["measure"]:
            path, filename = options["measure"]
            self.stdout.write(json.dumps(measure(Path(path), filename, options["agency"])))
            return
        self._ensure_framework()
        python = sys.executable
        manage = str(Path(__file__).resolve().parents[3] / "manage.py")
        idle = subprocess.run(  # noqa: S603 - this Python, fixed arguments
            [python, "-c", _IDLE], capture_output=True, text=True, check=True, env=os.environ.copy()
        ).stdout
        self.stdout.write(f"a process that only starts Django: {float(idle):,.0f} MB (max RSS)")
        worst = 0.0
        with tempfile.TemporaryDirectory() as folder:
            for key in options["case"] or list(CASES):
                label, make, kind = CASES[key]
                content = make()
                path = Path(folder) / f"{key}.{kind}"
                path.write_bytes(content)
                del content
                done = subprocess.run(  # noqa: S603 - this Python and manage.py, a file we made
                    [python, manage, "bench_files", "--measure", str(path), path.name],
                    capture_output=True,
                    text=True,
                    env=os.environ.copy(),
                )
                if done.returncode != 0:
                    self.stdout.write(f"{label}: the reading process failed ({done.returncode}): {done.stderr[-500:]}")
                    worst = float("inf")
                    continue
                result = json.loads(done.stdout.strip().splitlines()[-1])
                worst = max(worst, result["peak_mb"])
                outcome = result["outcome"] if len(result["outcome"]) <= 110 else result["outcome"][:110] + "…"
                self.stdout.write(
                    f"{label:48} {path.stat().st_size / MB:7.2f} MB file: peak {result['peak_mb']:6,.0f} MB, "
                    f"{result['seconds']:6.2f} s — {outcome}"
                )
                path.unlink()
        verdict = "within" if worst < LIMIT_MB else "OVER"
        self.stdout.write(f"highest peak: {worst:,.0f} MB ({verdict} the {LIMIT_MB} MB limit)")

    def _ensure_framework(self) -> None:
        from accounts.models import Agency
        from metrics.catalogue.load import framework_load

        from .bench_returns import synthetic_framework

        if not Agency.objects.filter(code="bench-police").exists():
            framework_load(text=synthetic_framework(2, 2, 2))


_IDLE = (
    "import django, os, resource; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'pcc_perf.settings'); "
    "django.setup(); import metrics.imports.commit, openpyxl; "
    "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)"
)


def argparse_hidden() -> str:
    import argparse

    return argparse.SUPPRESS

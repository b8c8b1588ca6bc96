"""Hostile files are checked before they are read: zip bombs, huge sheets, broken XML; nothing is written."""

import csv
import io
import time
import tracemalloc
import zipfile

import openpyxl  # noqa: F401 - imported before memory is measured
import pytest

from metrics.imports import parse
from metrics.imports.commit import import_file
from metrics.imports.parse import FileRejected, parse_file
from metrics.management.commands.bench_files import (
    bad_checksum,
    broken_xml,
    claimed_dimension,
    entity_bomb,
    many_rows,
    workbook,
    zip_bomb,
)
from metrics.models import Observation, ReturnUpload, ReturnValue, UploadState
from metrics.returns.uploads import UploadRejected, upload_create

from .returns_setup import police_return

MB = 1024 * 1024


def peak_memory(call):
    """Run ``call``; what it returned (or raised) and the most memory it had allocated at once."""
    tracemalloc.start()
    try:
        try:
            result = call()
        except Exception as exc:
            result = exc
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def nothing_written():
    return not (ReturnUpload.objects.exists() or ReturnValue.objects.exists() or Observation.objects.exists())


def test_a_zip_bomb_is_refused_from_the_archive_directory_before_anything_is_inflated(setup):
    bomb = zip_bomb(inflated_mb=64)
    assert len(bomb) < MB
    r = police_return(setup)
    refused, peak = peak_memory(
        lambda: upload_create(actor=setup["analyst"], return_obj=r, filename="bomb.xlsx", content=bomb)
    )
    assert isinstance(refused, FileRejected)
    assert "[Content_Types].xml of the workbook inflates to 64 MB; the limit is 8 MB" in str(refused)
    assert peak < 8 * MB
    summary, peak = peak_memory(lambda: import_file(content=bomb, filename="bomb.xlsx", agency=setup["police"]))
    assert [e.kind for e in summary.errors] == ["file"] and "inflates to 64 MB" in summary.errors[0].message
    assert peak < 8 * MB
    assert nothing_written()


def test_a_highly_compressed_part_is_refused():
    refused, _ = peak_memory(lambda: parse_file(content=many_rows(700_000), filename="rows.xlsx"))
    assert isinstance(refused, FileRejected)
    assert "compressed 294 times (more than 100): refused as a possible ZIP bomb" in str(refused)


def test_too_many_parts_or_too_much_in_all_are_refused(monkeypatch):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for i in range(1_001):
            archive.writestr(f"xl/part{i}.xml", "")
    with pytest.raises(FileRejected, match="more than 1,000 parts"):
        parse.sniff_upload(content=buffer.getvalue(), filename="parts.xlsx")
    monkeypatch.setattr(parse, "XLSX_MAX_TOTAL_BYTES", MB)
    with pytest.raises(FileRejected, match="the workbook inflates to 2 MB; the limit is 1 MB"):
        parse_file(content=many_rows(20_000, varied=True), filename="f.xlsx")


def test_a_workbook_of_many_rows_is_never_parsed_in_the_web_request(
    setup, monkeypatch, django_capture_on_commit_callbacks
):
    content = many_rows(30_000, varied=True)  # 110 KB: small, but 30,000 rows
    assert len(content) < 512 * 1024
    r = police_return(setup)

    def not_here(**kwargs):
        raise AssertionError("a large file was parsed inside the request")

    monkeypatch.setattr("metrics.returns.uploads.parse_file", not_here)
    with django_capture_on_commit_callbacks(execute=False) as queued:
        up = upload_create(actor=setup["analyst"], return_obj=r, filename="rows.xlsx", content=content)
    assert up.state == UploadState.CHECKING and len(queued) == 1
    monkeypatch.setattr("metrics.returns.uploads.parse_file", parse_file)
    with django_capture_on_commit_callbacks(execute=True):
        queued[0]()  # the worker checks it
    up.refresh_from_db()
    assert up.state == UploadState.REJECTED  # the test framework has no metric B000
    assert up.summary["errors_omitted"]["unknown_metric"] == 30_000 - 100


REAL_CSV_READER = csv.reader


class CountingReader:
    """``csv.reader`` that counts the rows taken from it."""

    taken = 0

    def __init__(self, *args, **kwargs):
        self._reader = REAL_CSV_READER(*args, **kwargs)

    def __iter__(self):
        return self

    def __next__(self):
        row = next(self._reader)
        CountingReader.taken += 1
        return row

    @property
    def line_num(self):
        return self._reader.line_num


def test_reading_stops_at_the_row_limit(monkeypatch):
    from openpyxl.worksheet._read_only import ReadOnlyWorksheet

    monkeypatch.setattr(parse, "MAX_ROWS", 1_000)
    seen = []
    real_get_row = ReadOnlyWorksheet._get_row

    def counting_get_row(self, *args, **kwargs):
        seen.append(1)
        return real_get_row(self, *args, **kwargs)

    monkeypatch.setattr(ReadOnlyWorksheet, "_get_row", counting_get_row)
    with pytest.raises(FileRejected, match="more than 1,000 rows; split it"):
        parse_file(content=many_rows(5_000, varied=True), filename="rows.xlsx")
    assert len(seen) <= 1_002  # the header, the limit and one more: not the 5,000 rows

    monkeypatch.setattr(parse.csv, "reader", CountingReader)
    text = b"metric,area,period,value\n" + b"B000,area-00,2024-06-30,5\n" * 5_000
    with pytest.raises(FileRejected, match="more than 1,000 rows; split it"):
        parse_file(content=text, filename="rows.csv")
    assert CountingReader.taken <= 1_002


def test_a_sheet_claiming_many_rows_and_columns_reads_only_the_cells_it_has():
    content = claimed_dimension(rows=5_000, columns="ZZ", data_rows=3)
    start = time.perf_counter()
    (positions, rows), peak = peak_memory(lambda: parse_file(content=content, filename="wide.xlsx"))
    assert time.perf_counter() - start < 5
    assert [(number, cells) for number, cells in rows] == [
        (2, ["B000", "area-00", "2024-06-30", 1]),
        (3, ["B000", "area-00", "2024-06-30", 2]),
        (4, ["B000", "area-00", "2024-06-30", 3]),
    ]
    assert positions == {"metric": 0, "area": 1, "period": 2, "value": 3}
    assert peak < 4 * MB


def test_a_csv_is_read_as_a_stream():
    text = b"metric,area,period,value\n" + b"B000,area-00,2024-06-30,5\n" * 100_000
    (_, rows), peak = peak_memory(lambda: parse_file(content=text, filename="f.csv"))
    assert len(rows) == 100_000
    assert peak < 3 * len(text) + 30 * MB  # the rows kept, not a copy of the text and every row on top


def missing_sheet():
    content = workbook(b"<worksheet/>")
    buffer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(content)) as source, zipfile.ZipFile(buffer, "w") as out:
        for item in source.infolist():
            if item.filename != "xl/worksheets/sheet1.xml":
                out.writestr(item, source.read(item))
    return buffer.getvalue()


HOSTILE = {
    "broken XML": (broken_xml, "cannot be opened: unclosed token"),
    # openpyxl reads XML through defusedxml (installed with cairosvg): entities are refused outright.
    "entity bomb": (entity_bomb, "cannot be opened: it declares XML entities or a document type, which are refused"),
    "damaged checksum": (bad_checksum, "cannot be"),
    "missing sheet": (missing_sheet, "the workbook has no sheet to read"),
    "not XML at all": (lambda: workbook(b"\x00\x01 not xml"), "cannot be opened"),
}


@pytest.mark.parametrize("case", list(HOSTILE))
def test_every_parser_error_is_a_clear_file_error_with_nothing_written(setup, case):
    make, message = HOSTILE[case]
    content = make()
    summary = import_file(content=content, filename="hostile.xlsx", agency=setup["police"])
    assert [(e.row, e.kind) for e in summary.errors] == [(None, "file")]
    assert message in summary.errors[0].message
    r = police_return(setup)
    with pytest.raises((UploadRejected, FileRejected)) as caught:
        upload_create(actor=setup["analyst"], return_obj=r, filename="hostile.xlsx", content=content)
    if isinstance(caught.value, UploadRejected):
        assert [e["kind"] for e in caught.value.summary["errors"]] == ["file"]
    assert nothing_written()


def test_a_parser_error_in_the_background_rejects_the_upload(setup, settings, django_capture_on_commit_callbacks):
    settings.PCC_PERF_BACKGROUND_ROWS = 0  # every file checked by the worker
    r = police_return(setup)
    with django_capture_on_commit_callbacks(execute=True):
        up = upload_create(actor=setup["analyst"], return_obj=r, filename="broken.xlsx", content=broken_xml())
    up.refresh_from_db()
    assert up.state == UploadState.REJECTED
    assert "unclosed token" in up.summary["errors"][0]["message"]
    assert not ReturnValue.objects.exists()


def test_a_few_rows_among_many_blank_ones_are_written_by_the_worker_too(
    setup, monkeypatch, django_capture_on_commit_callbacks
):
    from metrics.returns.uploads import upload_confirm

    def cell(text):
        return f'<c t="inlineStr"><is><t>{text}</t></is></c>'

    header = "<row>" + "".join(cell(c) for c in ("metric", "area", "period", "value")) + "</row>"
    data = "<row>" + "".join(cell(c) for c in ("OFF05", "england-wales", "2024-06-30")) + "<c><v>5</v></c></row>"
    sheet = (
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
        + header
        + "<row/>" * 100_000
        + data
        + "</sheetData></worksheet>"
    )
    content = workbook(sheet.encode())
    setup["analyst"].agency = setup["hmpps"]
    setup["analyst"].save()
    r = police_return(setup).round.returns.get(agency=setup["hmpps"])
    with django_capture_on_commit_callbacks(execute=True):
        up = upload_create(actor=setup["analyst"], return_obj=r, filename="blank.xlsx", content=content)
    up.refresh_from_db()
    assert up.state == UploadState.READY and up.rows_total == 1

    def not_here(**kwargs):
        raise AssertionError("a large file was parsed inside the request")

    monkeypatch.setattr("metrics.returns.uploads.parse_file", not_here)
    with django_capture_on_commit_callbacks(execute=False) as queued:
        up = upload_confirm(actor=setup["analyst"], upload=up)
    assert up.state == UploadState.WRITING and len(queued) == 1

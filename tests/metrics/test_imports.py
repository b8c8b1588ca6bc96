"""The import pipeline on files with the real published files' traps."""

import datetime as dt
import io

import pytest
from openpyxl import Workbook

from accounts.models import AuditEvent
from metrics.imports.commit import import_file
from metrics.models import ImportBatch, Observation

# Real figures: Staffordshire police recorded crime (Home Office) and CPS case outcomes (April 2016).
CRIME = (
    "metric,area,period,breakdown,category,value,status\n"
    'OFF01,staffordshire,2023-03-31,,,"23,675",final\n'
    'OFF01,staffordshire,2023/24 Q1,,,"23,285",final\n'
    "OFF01,staffordshire,2023-24 Q2,,,21595,final\n"
    "OFF01,staffordshire,2023-12-31,offence-group,robbery,83,provisional\n"
)


def run(content, agency, filename="data.csv", **kwargs):
    if isinstance(content, str):
        content = content.encode("utf-8")
    return import_file(content=content, filename=filename, agency=agency, **kwargs)


def xlsx(rows, sheet_title="Sheet1", extra_first_sheet=False):
    wb = Workbook()
    ws = wb.active
    if extra_first_sheet:
        ws.title = "notes"
        ws.append(["This sheet is not data"])
        ws = wb.create_sheet(sheet_title)
    else:
        ws.title = sheet_title
    for row in rows:
        ws.append(row)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def db_state():
    return (
        list(Observation.objects.order_by("pk").values_list("pk", "value", "status", "note")),
        ImportBatch.objects.count(),
        AuditEvent.objects.count(),
    )


@pytest.mark.django_db
def test_accepted_file_is_written_with_provenance(police_agency):
    summary = run(CRIME, police_agency)
    assert summary.accepted and summary.written, summary.as_text()
    assert (summary.rows_read, summary.created, summary.updated, summary.unchanged) == (4, 4, 0, 0)
    obs = Observation.objects.get(period=dt.date(2023, 6, 30), category=None)
    assert obs.value == 23285 and obs.status == "final"
    assert obs.source.filename == "data.csv" and obs.source_row == 3
    robbery = Observation.objects.get(category__code="robbery")
    assert robbery.value == 83 and robbery.status == "provisional"
    assert AuditEvent.objects.filter(action="import.accepted").count() == 1


@pytest.mark.django_db
def test_importing_the_same_file_twice_creates_nothing(police_agency):
    run(CRIME, police_agency)
    before = db_state()
    summary = run(CRIME, police_agency)
    assert (summary.created, summary.updated, summary.unchanged) == (0, 0, 4)
    assert not summary.written
    assert db_state() == before


@pytest.mark.django_db
def test_a_changed_value_is_a_revision_with_the_old_value_audited(police_agency):
    run(CRIME, police_agency)
    summary = run(CRIME.replace('"23,285"', '"23,300"'), police_agency, filename="resubmitted.csv")
    assert (summary.created, summary.updated, summary.unchanged) == (0, 1, 3)
    obs = Observation.objects.get(period=dt.date(2023, 6, 30), category=None)
    assert obs.value == 23300 and obs.status == "revised"
    assert obs.source.filename == "resubmitted.csv"
    event = AuditEvent.objects.get(action="observation.revised")
    assert event.object_id == str(obs.pk)
    assert event.old["value"] == 23285 and event.new["value"] == 23300
    # The same revised file again changes nothing.
    assert run(CRIME.replace('"23,285"', '"23,300"'), police_agency).unchanged == 4


@pytest.mark.django_db
def test_bom_crlf_and_header_case(police_agency):
    content = "\ufeff" + CRIME.replace("metric,area,period", "Metric,AREA, Period ").replace("\n", "\r\n")
    summary = run(content, police_agency)
    assert summary.accepted, summary.as_text()
    assert summary.created == 4


@pytest.mark.django_db
def test_old_mac_cr_only_line_endings(police_agency):
    summary = run(CRIME.replace("\n", "\r"), police_agency)
    assert summary.accepted, summary.as_text()
    assert summary.created == 4


@pytest.mark.django_db
def test_percentages_with_signs_and_symbols(cps_agency):
    content = (
        "metric,area,period,value,numerator,denominator,note\n"
        "EFF05,staffordshire,2016-06-30,80.0%,4,5,homicide only\n"
        "EFF05,derbyshire,2016-06-30,-,,,0 out of 0\n"
        "EFF05,staffordshire,2016-09-30,[x],,,\n"
        "EFF05,derbyshire,2016-09-30,[z],,,\n"
        "EFF05,staffordshire,2016-12-31,..,,,\n"
        'EFF05,derbyshire,2016-12-31,,"1,149","1,596",\n'
    )
    summary = run(content, cps_agency)
    assert summary.accepted, summary.as_text()
    values = {
        (o.area.code, o.period.isoformat()): (o.value, o.missing) for o in Observation.objects.select_related("area")
    }
    assert values[("staffordshire", "2016-06-30")] == (80.0, "")
    assert values[("derbyshire", "2016-06-30")] == (None, "x")
    assert values[("staffordshire", "2016-09-30")] == (None, "x")
    assert values[("derbyshire", "2016-09-30")] == (None, "z")
    assert values[("staffordshire", "2016-12-31")] == (None, "x")
    computed, _ = values[("derbyshire", "2016-12-31")]
    assert computed == pytest.approx(1149 / 1596 * 100)
    obs = Observation.objects.get(area__code="derbyshire", period=dt.date(2016, 12, 31))
    assert (obs.numerator, obs.denominator) == (1149, 1596)


@pytest.mark.django_db
def test_value_that_disagrees_with_its_numerator_is_a_warning(cps_agency):
    summary = run(
        "metric,area,period,value,numerator,denominator\nEFF05,staffordshire,2016-06-30,90%,4,5\n", cps_agency
    )
    assert summary.accepted
    assert [(w.row, w.column, w.kind) for w in summary.warnings] == [(2, "value", "inconsistent")]


@pytest.mark.django_db
def test_xlsx_first_sheet_with_numbers_and_dates(police_agency):
    content = xlsx(
        [
            ["metric", "area", "period", "value", "_comment"],
            ["OFF01", "staffordshire", dt.datetime(2023, 3, 31), 23675, "typed as a date"],
            ["OFF01", "staffordshire", "2023/24 Q1", "23,285", None],
            [None, None, None, None, None],
        ]
    )
    summary = run(content, police_agency, filename="return.xlsx")
    assert summary.accepted, summary.as_text()
    assert summary.created == 2 and summary.rows_read == 2
    assert sorted(Observation.objects.values_list("value", flat=True)) == [23285, 23675]


@pytest.mark.django_db
def test_xlsx_sheet_named_data_wins(police_agency):
    content = xlsx(
        [["metric", "area", "period", "value"], ["OFF01", "staffordshire", "2023-03-31", 1]],
        "Data",
        extra_first_sheet=True,
    )
    summary = run(content, police_agency, filename="return.xlsx")
    assert summary.accepted and summary.created == 1, summary.as_text()


@pytest.mark.django_db
def test_dry_run_writes_nothing(police_agency):
    before = db_state()
    summary = run(CRIME, police_agency, dry_run=True)
    assert summary.accepted and summary.created == 4 and not summary.written
    assert "Dry run" in summary.as_text()
    assert db_state() == before


@pytest.mark.django_db
def test_a_file_whose_last_row_is_bad_writes_nothing(police_agency):
    run(CRIME, police_agency)
    before = db_state()
    content = CRIME.replace('"23,285"', '"24,000"') + "OFF01,staffordshire,2024-03-31,,,lots,final\n"
    summary = run(content, police_agency)
    assert not summary.accepted and not summary.written
    assert [str(e) for e in summary.errors] == ["row 6, column value: 'lots' is not a number"]
    assert "Rejected: nothing was written." in summary.as_text()
    assert db_state() == before


ROW_ERRORS = [
    ("OFF99,staffordshire,2023-03-31,,,1,", "metric", "unknown_metric", "unknown metric 'OFF99'"),
    ("EFF05,staffordshire,2023-03-31,,,1,", "metric", "not_owned", "metric 'EFF05' belongs to another agency"),
    ("OFF01,stafford,2023-03-31,,,1,", "area", "unknown_area", "unknown area 'stafford'"),
    ("OFF01,staffordshire,2023-04-30,,,1,", "period", "bad_period", "2023-04-30 is not a quarter end date"),
    ("OFF01,staffordshire,2023/25 Q1,,,1,", "period", "bad_period", "is not a financial year"),
    (
        "OFF01,staffordshire,2023-03-31,offence-group,burglary,1,",
        "category",
        "bad_category",
        "unknown category 'burglary'",
    ),
    (
        "OFF01,staffordshire,2023-03-31,ethnicity,white,1,",
        "breakdown",
        "bad_category",
        "is not broken down by 'ethnicity'",
    ),
    ("OFF01,staffordshire,2023-03-31,offence-group,,1,", "category", "bad_category", "must both be set"),
    ("OFF01,staffordshire,2023-03-31,,,1.2.3,", "value", "bad_number", "'1.2.3' is not a number"),
    ("OFF01,staffordshire,2023-03-31,,,12%,", "value", "bad_number", "has a % sign but the metric is not a percentage"),
    ("OFF01,staffordshire,2023-03-31,,,-5,", "value", "negative", "value -5 is negative"),
    ("OFF01,staffordshire,2023-03-31,,,,", "value", "missing_value", "the value is empty"),
    ("OFF01,staffordshire,2023-03-31,,,5,maybe", "status", "bad_status", "status 'maybe' is not provisional or final"),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("line", "column", "kind", "message"), ROW_ERRORS)
def test_row_errors_name_row_and_column(police_agency, line, column, kind, message):
    content = "metric,area,period,breakdown,category,value,status\nOFF01,derbyshire,2023-03-31,,,7,\n" + line + "\n"
    summary = run(content, police_agency)
    assert not summary.accepted
    assert len(summary.errors) == 1, summary.errors
    error = summary.errors[0]
    assert (error.row, error.column, error.kind) == (3, column, kind)
    assert message in error.message
    assert not Observation.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("line", "column", "kind", "message"),
    [
        ("EFF05,staffordshire,2016-06-30,101.5%,,", "value", "out_of_range", "percentage 101.5 is above 100"),
        (
            "EFF05,staffordshire,2016-06-30,,6,5",
            "numerator",
            "numerator_above_denominator",
            "numerator 6 is above denominator 5",
        ),
        ("EFF05,staffordshire,2016-06-30,,0,0", "denominator", "out_of_range", "the denominator is 0"),
    ],
)
def test_percentage_row_errors(cps_agency, line, column, kind, message):
    summary = run("metric,area,period,value,numerator,denominator\n" + line + "\n", cps_agency)
    assert [(e.row, e.column, e.kind) for e in summary.errors][:1] == [(2, column, kind)]
    assert message in summary.errors[0].message
    assert not Observation.objects.exists()


@pytest.mark.django_db
def test_the_same_observation_twice(police_agency):
    content = "metric,area,period,value\nOFF01,staffordshire,2023-03-31,1\noff01,STAFFORDSHIRE,2022/23 Q4,2\n"
    summary = run(content, police_agency)
    assert [str(e) for e in summary.errors] == ["row 3: the same observation as row 2"]


@pytest.mark.django_db
def test_every_row_error_is_collected_and_grouped(police_agency):
    content = "metric,area,period,value\nOFF99,staffordshire,2023-03-31,1\nOFF01,nowhere,2023-03-31,x\nOFF98,staffordshire,2023-03-31,1\n"
    summary = run(content, police_agency)
    assert len(summary.errors) == 4
    groups = {kind: [e.row for e in issues] for kind, _, issues in summary.errors_by_kind()}
    assert groups == {"unknown_metric": [2, 4], "unknown_area": [3], "bad_number": [3]}
    text = summary.as_text()
    assert "Unknown metric codes (2):" in text and "row 3, column area: unknown area 'nowhere'" in text


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("content", "filename", "message"),
    [
        (b"metric,area,value\nOFF01,staffordshire,1\n", "a.csv", "missing required column: period"),
        (b"metric,area,period,value,colour\n", "a.csv", "unknown column 'colour'"),
        (b"metric,area,period,value,value\n", "a.csv", "column 'value' appears twice"),
        (b"metric,area,period,value,breakdown\n", "a.csv", "columns 'breakdown' and 'category' go together"),
        (b"", "a.csv", "the file is empty"),
        (b"\xff\xfe m\x00e\x00t\x00", "a.csv", "not UTF-8"),
        (b"PK\x03\x04 not really a zip", "a.xlsx", "cannot be opened"),
        (b"%PDF-1.4", "a.pdf", "neither a CSV nor an XLSX"),
    ],
)
def test_whole_file_problems_abort(police_agency, content, filename, message):
    summary = run(content, police_agency, filename=filename)
    assert not summary.accepted
    assert len(summary.errors) == 1 and summary.errors[0].row is None
    assert message in summary.errors[0].message
    assert not Observation.objects.exists() and not ImportBatch.objects.exists()


@pytest.mark.django_db
def test_underscore_columns_are_ignored(police_agency):
    summary = run("metric,area,period,value,_source\nOFF01,staffordshire,2023-03-31,5,PRC table 1\n", police_agency)
    assert summary.accepted and summary.created == 1

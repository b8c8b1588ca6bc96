"""Implausible numbers are refused where figures come in: files (CSV and XLSX), uploads and the web grid."""

import io

import pytest
from openpyxl import Workbook

from metrics.catalogue.export import framework_export
from metrics.catalogue.load import framework_load
from metrics.catalogue.schema import FrameworkFileError
from metrics.imports.commit import import_file
from metrics.models import Metric, Observation, ReturnValue
from metrics.plausible import implausible_value
from metrics.returns.uploads import UploadRejected, upload_create
from metrics.returns.values import return_save_grid

from .returns_setup import FRAMEWORK, police_return


def workbook(rows):
    wb = Workbook()
    ws = wb.active
    ws.append(["metric", "area", "period", "value", "numerator", "denominator"])
    for row in rows:
        ws.append(row)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def test_xlsx_cells_of_1_7e308_and_1e_320_are_not_counts(setup):
    content = workbook(
        [
            ["OFF01", "staffordshire", "2024-06-30", 1.7e308, None, None],
            ["OFF01", "england-wales", "2024-06-30", 1e-320, None, None],
        ]
    )
    summary = import_file(content=content, filename="crime.xlsx", agency=setup["police"])
    assert not summary.accepted
    assert [(e.row, e.column, e.kind) for e in summary.errors] == [
        (2, "value", "out_of_range"),
        (3, "value", "out_of_range"),
    ]
    assert "outside the plausible range of this count (0 to 1,000,000,000)" in summary.errors[0].message
    assert "too close to zero" in summary.errors[1].message
    assert not Observation.objects.exists()


def test_the_same_cells_in_an_upload_are_rejected_with_nothing_written(setup):
    r = police_return(setup)
    content = workbook([["OFF01", "staffordshire", "2024-06-30", 1.7e308, None, None]])
    with pytest.raises(UploadRejected) as caught:
        upload_create(actor=setup["analyst"], return_obj=r, filename="return.xlsx", content=content)
    assert [(e["row"], e["column"], e["kind"]) for e in caught.value.summary["errors"]] == [
        (2, "value", "out_of_range")
    ]
    assert not ReturnValue.objects.exists()


@pytest.mark.parametrize(
    ("value", "numerator", "denominator", "column", "message"),
    [
        (12.5, None, None, "value", "a count is a whole number, not 12.5"),
        (2e9, None, None, "value", "outside the plausible range of this count"),
        (None, 5, 1e15, "denominator", "denominator 1e+15 is outside the plausible range"),
    ],
)
def test_counts_are_whole_numbers_up_to_a_billion(setup, value, numerator, denominator, column, message):
    metric = "OFF01" if numerator is None else "FAIR03"
    content = workbook([[metric, "staffordshire", "2024-06-30", value, numerator, denominator]])
    summary = import_file(content=content, filename="f.xlsx", agency=setup["police"])
    assert (summary.errors[0].row, summary.errors[0].column) == (2, column)
    assert message in summary.errors[0].message
    assert not Observation.objects.exists()


def test_the_web_grid_refuses_them_too(setup):
    r = police_return(setup)
    entry = {"metric": "OFF01", "area": "staffordshire", "period": "2024-06-30", "value": "1000000000000"}
    check = return_save_grid(actor=setup["analyst"], return_obj=r, version=0, entries=[entry])
    assert [(e.row, e.column, e.kind) for e in check.summary.errors] == [(1, "value", "out_of_range")]
    assert not ReturnValue.objects.exists()


def test_units_have_plausible_ranges():
    assert implausible_value(100, unit="percentage") is None
    assert "above 100" in implausible_value(100.5, unit="percentage")
    assert implausible_value(36_525, unit="days") is None
    assert "outside" in implausible_value(40_000, unit="days")
    assert implausible_value(-50, unit="score") is None
    assert implausible_value(0.5, unit="rate_per_1000") is None
    assert implausible_value(float("inf"), unit="ratio") == "inf is not a finite number"


def test_a_framework_can_tighten_a_metrics_range_and_exports_it(setup):
    text = FRAMEWORK.replace(
        "unit: count, direction: lower_is_better, source_type: official_statistics, breakdowns: [offence-group]}",
        "unit: count, direction: lower_is_better, source_type: official_statistics, breakdowns: [offence-group], "
        "plausible: {min: 1000, max: 9000}}",
    )
    framework_load(text=text)
    off01 = Metric.objects.get(code="OFF01")
    assert (off01.plausible_min, off01.plausible_max) == (1000, 9000)
    content = workbook([["OFF01", "staffordshire", "2024-06-30", 9500, None, None]])
    summary = import_file(content=content, filename="f.xlsx", agency=setup["police"])
    assert [(e.column, e.kind) for e in summary.errors] == [("value", "out_of_range")]
    assert "(1,000 to 9,000)" in summary.errors[0].message
    exported = framework_export(code="returns")
    assert "plausible:\n" in exported and "min: 1000\n" in exported and "max: 9000\n" in exported
    assert framework_load(text=exported).changes == []  # the exported file loads back to the same framework


def test_a_framework_cannot_widen_a_units_range():
    text = FRAMEWORK.replace(
        "unit: percentage, direction: higher_is_better,",
        "unit: percentage, plausible: {max: 150}, direction: higher_is_better,",
    )
    with pytest.raises(FrameworkFileError, match=r"plausible\.max: 150 is outside the range of the unit \(0 to 100\)"):
        framework_load(text=text)

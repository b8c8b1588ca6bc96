"""The XLSX template: instructions, drop-downs, locked codes, widths and last year's figures; it uploads
unchanged without errors and without creating anything, and a filled one imports the values typed."""

import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from metrics.models import ReturnUpload, ReturnValue
from metrics.returns.uploads import upload_confirm

from .returns_setup import GOOD, approved_history, police_return, upload


@pytest.fixture
def ready(setup, client):
    approved_history(setup)  # Staffordshire's approved OFF01 to 2023/24 Q4 (5020 in 2023/24 Q1)
    setup["return"] = police_return(setup)
    client.force_login(setup["analyst"])
    return setup


def template(client, ret):
    response = client.get(reverse("return-template", args=[ret.pk, "xlsx"]))
    assert response.status_code == 200
    return load_workbook(io.BytesIO(response.content))


def post(client, ret, workbook, name="filled.xlsx"):
    buffer = io.BytesIO()
    workbook.save(buffer)
    data = {"file": io.BytesIO(buffer.getvalue())}
    data["file"].name = name
    response = client.post(reverse("return-upload", args=[ret.pk]), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    return ReturnUpload.objects.latest("created_at")


def columns(sheet):
    return {cell.value: cell.column_letter for cell in sheet[1]}


def test_the_workbook_has_data_instructions_and_hidden_lists(client, ready):
    workbook = template(client, ready["return"])
    assert workbook.sheetnames == ["data", "instructions", "lists"]
    assert workbook["lists"].sheet_state == "hidden"
    notes = "\n".join(str(c.value) for row in workbook["instructions"].iter_rows() for c in row if c.value)
    assert "Staffordshire Police: data return for 2024/25 Q1" in notes
    assert "Due by Wednesday 31 July 2024" in notes
    assert "[x] in 'value' when it is not available, [z] when it does not apply" in notes
    assert "Columns starting with _ are for reference only" in notes
    assert "OFF01" in notes and "Police recorded crime" in notes and "Offence group" in notes


def test_codes_and_status_have_dropdowns_from_the_lists(client, ready):
    workbook = template(client, ready["return"])
    sheet, lists = workbook["data"], workbook["lists"]
    at = columns(sheet)
    found = {str(v.sqref): v for v in sheet.data_validations.dataValidation}
    assert found[f"{at['metric']}2:{at['metric']}5"].formula1 == "'lists'!$A$2:$A$3"
    assert [lists.cell(row=r, column=1).value for r in (2, 3)] == ["FAIR03", "OFF01"]
    assert found[f"{at['area']}2:{at['area']}5"].formula1 == "'lists'!$B$2:$B$2"
    assert lists["B2"].value == "staffordshire"
    assert found[f"{at['breakdown']}2:{at['breakdown']}5"].formula1 == "'lists'!$C$2:$C$2"
    assert [lists.cell(row=r, column=4).value for r in (2, 3)] == ["robbery", "violence-against-the-person"]
    status = found[f"{at['status']}2:{at['status']}5"]
    assert status.type == "list" and status.formula1 == "'lists'!$E$2:$E$3" and status.showErrorMessage
    assert [lists["E2"].value, lists["E3"].value] == ["provisional", "final"]
    value = found[f"{at['value']}2:{at['value']}5"]
    assert value.showInputMessage and "[x] not available, [z] not applicable" in value.prompt


def test_the_codes_are_locked_and_the_figures_open(client, ready):
    workbook = template(client, ready["return"])
    sheet = workbook["data"]
    at = columns(sheet)
    assert sheet.protection.sheet is True
    assert not sheet.protection.password  # a guard against slips, not a secret
    for name in ("metric", "area", "period", "breakdown", "category", "_last_year"):
        assert sheet[f"{at[name]}2"].protection.locked, name
    for name in ("value", "numerator", "denominator", "status", "note"):
        assert not sheet[f"{at[name]}2"].protection.locked, name
        assert not sheet[f"{at[name]}5"].protection.locked, name
    assert sheet.column_dimensions[at["_metric_name"]].width == 40
    assert sheet.column_dimensions[at["category"]].width == 26
    assert sheet.freeze_panes == "F2"


def test_last_quarter_and_the_same_quarter_last_year_are_there_for_reference(client, ready):
    sheet = template(client, ready["return"])["data"]
    at = columns(sheet)
    assert sheet[f"{at['metric']}2"].value == "OFF01" and sheet[f"{at['category']}2"].value in (None, "")
    assert sheet[f"{at['_last_quarter']}2"].value == 5000  # 2023/24 Q4
    assert sheet[f"{at['_last_year']}2"].value == 5020  # 2023/24 Q1
    assert sheet[f"{at['_last_year']}5"].value in (None, "")  # FAIR03 has no approved history


def test_an_unedited_template_uploads_cleanly_and_creates_nothing(client, ready):
    upload_obj = post(client, ready["return"], template(client, ready["return"]), "unedited.xlsx")
    assert upload_obj.summary["errors"] == []
    assert upload_obj.summary["created"] == 0 and upload_obj.summary["updated"] == 0
    upload_confirm(actor=ready["analyst"], upload=upload_obj)
    assert not ReturnValue.objects.exists()


def test_a_template_holding_saved_values_uploads_them_unchanged(client, ready):
    upload_confirm(actor=ready["analyst"], upload=upload(ready, ready["return"], GOOD))
    upload_obj = post(client, ready["return"], template(client, ready["return"]), "again.xlsx")
    assert upload_obj.summary["errors"] == []
    assert (upload_obj.summary["created"], upload_obj.summary["updated"], upload_obj.summary["unchanged"]) == (0, 0, 4)


def test_a_filled_template_imports_the_values_typed(client, ready):
    workbook = template(client, ready["return"])
    sheet = workbook["data"]
    at = columns(sheet)
    sheet[f"{at['value']}2"] = 5300
    sheet[f"{at['value']}3"] = 5100
    sheet[f"{at['value']}4"] = "[x]"
    sheet[f"{at['numerator']}5"] = 1400
    sheet[f"{at['denominator']}5"] = 1455
    sheet[f"{at['status']}5"] = "final"
    sheet[f"{at['note']}2"] = "From the March extract"
    upload_obj = post(client, ready["return"], workbook)
    assert upload_obj.summary["errors"] == []
    assert upload_obj.summary["created"] == 4
    upload_confirm(actor=ready["analyst"], upload=upload_obj)
    got = {
        (v.metric.code, v.category.code if v.category else None): (v.value, v.missing, v.status, v.note)
        for v in ReturnValue.objects.select_related("metric", "category")
    }
    assert got[("OFF01", None)] == (5300, "", "provisional", "From the March extract")
    assert got[("OFF01", "violence-against-the-person")][0] == 5100
    assert got[("OFF01", "robbery")][:2] == (None, "x")
    assert got[("FAIR03", None)][2] == "final"
    assert got[("FAIR03", None)][0] == pytest.approx(1400 / 1455 * 100)


def test_the_csv_template_carries_last_year_too(client, ready):
    text = client.get(reverse("return-template", args=[ready["return"].pk, "csv"])).content.decode("utf-8-sig")
    header, first = text.splitlines()[:2]
    assert header.endswith(",_last_quarter,_last_year")
    assert first.endswith(",5000.0,5020.0")

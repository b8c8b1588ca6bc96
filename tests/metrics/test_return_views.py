"""Every return view for every role; the pages' own behaviour (conflicts, downloads, previews)."""

import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from metrics.models import ReturnUpload, ReturnValue
from metrics.returns.uploads import upload_confirm, upload_create

from ..factories import UserFactory
from .returns_setup import GOOD, police_return, upload

ROLES = ["anonymous", "analyst", "other_analyst", "board", "manager", "no_role"]


@pytest.fixture
def world(setup):
    r = police_return(setup)
    up = upload(setup, r, GOOD)
    people = {
        "analyst": setup["analyst"],
        "other_analyst": setup["hmpps_analyst"],
        "board": setup["board"],
        "manager": setup["manager"],
        "no_role": UserFactory(username="nobody", role=""),
    }
    return {"return": r, "upload": up, "people": people, **setup}


def login(client, world, role):
    if role != "anonymous":
        client.force_login(world["people"][role])


LOGIN = "login"
GET_MATRIX = {
    # name: (args, {role: expected})
    "returns": (
        lambda w: [],
        {"anonymous": LOGIN, "analyst": 200, "other_analyst": 200, "board": 403, "manager": 200, "no_role": 403},
    ),
    "return-detail": (
        lambda w: [w["return"].pk],
        {"anonymous": LOGIN, "analyst": 200, "other_analyst": 403, "board": 403, "manager": 200, "no_role": 403},
    ),
    "return-template": (
        lambda w: [w["return"].pk, "csv"],
        {"anonymous": 403, "analyst": 200, "other_analyst": 403, "board": 403, "manager": 200, "no_role": 403},
    ),
    "upload-detail": (
        lambda w: [w["upload"].pk],
        {"anonymous": LOGIN, "analyst": 200, "other_analyst": 403, "board": 403, "manager": 200, "no_role": 403},
    ),
    "upload-progress": (
        lambda w: [w["upload"].pk],
        {"anonymous": 401, "analyst": 200, "other_analyst": 403, "board": 403, "manager": 200, "no_role": 403},
    ),
    "audit": (
        lambda w: [],
        {"anonymous": LOGIN, "analyst": 200, "other_analyst": 200, "board": 403, "manager": 200, "no_role": 403},
    ),
}


def check(response, expected):
    if expected == LOGIN:
        assert response.status_code == 302
        assert response.url.startswith(reverse("login"))
    else:
        assert response.status_code == expected


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", sorted(GET_MATRIX))
def test_get_views_for_every_role(client, world, role, name):
    args, expected = GET_MATRIX[name]
    login(client, world, role)
    check(client.get(reverse(name, args=args(world))), expected[role])


POST_MATRIX = {
    "round-open": (
        lambda w: [],
        {"period": "2024/25 Q2", "due_date": "2024-10-31"},
        {"anonymous": LOGIN, "analyst": 403, "other_analyst": 403, "board": 403, "manager": 302, "no_role": 403},
    ),
    "return-upload": (
        lambda w: [w["return"].pk],
        None,
        {"anonymous": 403, "analyst": 302, "other_analyst": 403, "board": 403, "manager": 302, "no_role": 403},
    ),
    "return-detail": (
        lambda w: [w["return"].pk],
        {"action": "save", "version": "0"},
        {"anonymous": LOGIN, "analyst": 302, "other_analyst": 403, "board": 403, "manager": 302, "no_role": 403},
    ),
    "upload-detail": (
        lambda w: [w["upload"].pk],
        {},
        {"anonymous": LOGIN, "analyst": 302, "other_analyst": 403, "board": 403, "manager": 302, "no_role": 403},
    ),
    "upload-retry": (  # the upload is not stopped: a message, not an error page
        lambda w: [w["upload"].pk],
        {},
        {"anonymous": 403, "analyst": 302, "other_analyst": 403, "board": 403, "manager": 302, "no_role": 403},
    ),
    "return-action-submit": (
        lambda w: [w["return"].pk, "submit"],
        {"version": "0"},
        {"anonymous": 403, "analyst": 302, "other_analyst": 403, "board": 403, "manager": 302, "no_role": 403},
    ),
    "return-action-approve": (
        lambda w: [w["return"].pk, "approve"],
        {},
        {"anonymous": 403, "analyst": 403, "other_analyst": 403, "board": 403, "manager": 302, "no_role": 403},
    ),
    "return-action-send-back": (
        lambda w: [w["return"].pk, "send-back"],
        {"reason": "x"},
        {"anonymous": 403, "analyst": 403, "other_analyst": 403, "board": 403, "manager": 302, "no_role": 403},
    ),
    "return-action-reopen": (
        lambda w: [w["return"].pk, "reopen"],
        {"reason": "x"},
        {"anonymous": 403, "analyst": 403, "other_analyst": 403, "board": 403, "manager": 302, "no_role": 403},
    ),
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", sorted(POST_MATRIX))
def test_post_views_for_every_role(client, world, role, name):
    args, data, expected = POST_MATRIX[name]
    login(client, world, role)
    url_name = "return-action" if name.startswith("return-action") else name
    if data is None:
        data = {"file": io.BytesIO(GOOD.encode())}
        data["file"].name = "return.csv"
    check(client.post(reverse(url_name, args=args(world)), data), expected[role])


def test_analysts_see_only_their_agency_in_the_tracker_and_audit(client, world):
    client.force_login(world["people"]["other_analyst"])
    html = client.get(reverse("returns")).content.decode()
    assert "HM Prison and Probation Service" in html
    assert "Staffordshire Police" not in html
    assert client.get(reverse("audit"), {"return": world["return"].pk}).status_code == 403
    csv_text = client.get(reverse("audit"), {"format": "csv"}).content.decode()
    assert "upload.received" not in csv_text  # the police upload is not theirs


def test_tracker_csv(client, world):
    client.force_login(world["manager"])
    response = client.get(reverse("returns"), {"format": "csv"})
    assert response["Content-Type"].startswith("text/csv")
    text = response.content.decode("utf-8-sig")
    assert text.splitlines()[0].startswith("quarter,agency,state,late,values supplied,values owed")
    assert "2024/25 Q1,Staffordshire Police,Not started" in text
    xlsx = client.get(reverse("returns"), {"format": "xlsx"})
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet["B2"].value in {"HM Prison and Probation Service", "Staffordshire Police"}


def test_template_downloads_are_prefilled_and_formula_safe(client, world):
    upload_confirm(actor=world["analyst"], upload=world["upload"])
    value = ReturnValue.objects.get(metric__code="OFF01", category=None)
    value.note = '=HYPERLINK("http://evil","click")'
    value.save()
    client.force_login(world["analyst"])
    text = client.get(reverse("return-template", args=[world["return"].pk, "csv"])).content.decode("utf-8-sig")
    lines = text.splitlines()
    assert (
        lines[0]
        == "metric,area,period,breakdown,category,value,numerator,denominator,status,note,_metric_name,_unit,_last_quarter,_last_year"
    )
    assert len(lines) == 5
    assert "'=HYPERLINK" in text
    assert lines[1].startswith("OFF01,staffordshire,2024-06-30,,,5300.0,")
    workbook = load_workbook(
        io.BytesIO(client.get(reverse("return-template", args=[world["return"].pk, "xlsx"])).content)
    )
    sheet = workbook["data"]
    assert sheet["A2"].value == "OFF01"
    assert sheet["J2"].value.startswith("'=")
    # The template imports as it is.
    returned = upload_create(
        actor=world["analyst"], return_obj=world["return"], filename="t.csv", content=text.encode()
    )
    assert returned.summary["errors"] == []


def test_the_template_round_trips_as_xlsx(client, world):
    client.force_login(world["analyst"])
    content = client.get(reverse("return-template", args=[world["return"].pk, "xlsx"])).content
    workbook = load_workbook(io.BytesIO(content))
    sheet = workbook["data"]
    for row, value in zip(range(2, 6), [5300, 5100, 200, None], strict=True):
        sheet.cell(row=row, column=6, value=value)
    sheet.cell(row=5, column=7, value=1400)
    sheet.cell(row=5, column=8, value=1455)
    buffer = io.BytesIO()
    workbook.save(buffer)
    data = {"file": io.BytesIO(buffer.getvalue())}
    data["file"].name = "filled.xlsx"
    response = client.post(reverse("return-upload", args=[world["return"].pk]), data)
    assert response.status_code == 302
    upload_obj = ReturnUpload.objects.latest("created_at")
    assert upload_obj.summary["errors"] == []
    assert upload_obj.summary["created"] == 4


def test_rejected_upload_page_shows_rows_and_columns_and_writes_nothing(client, world):
    client.force_login(world["analyst"])
    before = ReturnUpload.objects.count()
    bad = GOOD + "OFF01,staffordshire,2024-06-30,,,lots,,,,\nOFF01,nowhere,2024-06-30,,,5,,,,\n"
    data = {"file": io.BytesIO(bad.encode())}
    data["file"].name = "bad.csv"
    response = client.post(reverse("return-upload", args=[world["return"].pk]), data)
    assert response.status_code == 400
    html = response.content.decode()
    assert "Nothing was written" in html
    assert "&#x27;lots&#x27; is not a number" in html
    assert "unknown area &#x27;nowhere&#x27;" in html
    assert ReturnUpload.objects.count() == before


def test_grid_conflict_keeps_the_input(client, world):
    client.force_login(world["analyst"])
    url = reverse("return-detail", args=[world["return"].pk])
    client.post(url, {"action": "save", "version": "0", "l0-value": "5300"})
    response = client.post(url, {"action": "save", "version": "0", "l0-value": "7777"})
    assert response.status_code == 409
    html = response.content.decode()
    assert "Someone else saved this return" in html
    assert 'value="7777"' in html
    assert ReturnValue.objects.get(metric__code="OFF01", category=None).value == 5300


def test_grid_errors_keep_the_input(client, world):
    client.force_login(world["analyst"])
    url = reverse("return-detail", args=[world["return"].pk])
    response = client.post(url, {"action": "save", "version": "0", "l0-value": "five thousand"})
    assert response.status_code == 400
    assert "OFF01 total, value: &#x27;five thousand&#x27; is not a number" in response.content.decode()
    assert 'value="five thousand"' in response.content.decode()


def test_return_page_query_count_is_fixed(client, world, django_assert_max_num_queries):
    upload_confirm(actor=world["analyst"], upload=world["upload"])
    client.force_login(world["analyst"])
    with django_assert_max_num_queries(40):
        assert client.get(reverse("return-detail", args=[world["return"].pk])).status_code == 200

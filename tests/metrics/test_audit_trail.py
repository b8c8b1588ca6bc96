"""The audit trail in words: metric, area, quarter and old → new with units, never raw dicts or internal ids;
filters that say when they are wrong; pages; and a CSV of exactly what the filters select."""

import csv
import datetime as dt
import io

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.audit import AuditAction, event
from accounts.models import AuditEvent
from metrics.audit_trail import change_words, figure_text
from metrics.models import ReturnValue
from metrics.returns.uploads import upload_confirm

from .returns_setup import GOOD, police_return, upload


@pytest.fixture
def trail(setup):
    """The police return written from a file, then corrected by a second file: robbery 200 → 230, the total
    5,300 → 5,330 and the recorded share 1,400 of 1,455 → 1,420 of 1,455."""
    r = police_return(setup)
    upload_confirm(actor=setup["analyst"], upload=upload(setup, r, GOOD))
    corrected = (
        GOOD.replace(",,,5300,", ",,,5330,")
        .replace("robbery,200,", "robbery,230,")
        .replace(",,,,1400,1455,", ",,,,1420,1455,")
    )
    upload_confirm(actor=setup["analyst"], upload=upload(setup, r.__class__.objects.get(pk=r.pk), corrected, "v2.csv"))
    return {"return": r, **setup}


def page_text(client, **params):
    response = client.get(reverse("audit"), params)
    assert response.status_code == 200, response.content.decode()[:2000]
    return response.content.decode()


def csv_rows(client, **params):
    response = client.get(reverse("audit"), {**params, "format": "csv"})
    assert response.status_code == 200
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))


def test_a_changed_value_names_its_metric_area_quarter_and_category_with_units(client, trail):
    client.force_login(trail["manager"])
    html = page_text(client)
    assert "Police recorded crime (OFF01) · Staffordshire · 2024/25 Q1 · Offence group: Robbery" in html
    assert '<td data-label="Before">200</td>' in html and '<td data-label="After">230</td>' in html
    assert "5,300" in html and "5,330" in html
    # A percentage with its numerator and denominator, at the metric's precision (one decimal place).
    assert "96.2% (1,400 of 1,455)" in html and "97.6% (1,420 of 1,455)" in html
    assert "Staffordshire Police return for 2024/25 Q1" in html
    assert "{&#x27;" not in html and "{'value'" not in html  # no Python dicts
    assert " area " not in html  # no "OFF01 area 45"


def test_the_old_code_showed_dicts_and_ids(trail):
    """Guards the fix: the stored event itself is as raw as before (the page does the naming)."""
    stored = AuditEvent.objects.filter(action=AuditAction.RETURN_VALUE_CHANGED).first()
    assert stored is not None and " area " in stored.summary and isinstance(stored.old, dict)


def test_figures_read_in_units_at_the_metrics_precision():
    assert figure_text(12.5, "rate_per_1000", None) == "12.50 per 1,000"
    assert figure_text(12.6, "rate_per_100000", 0) == "13 per 100,000"
    assert figure_text(96.2199, "percentage", None) == "96.2%"
    assert figure_text(120, "days", None) == "120 days"
    assert figure_text(1234.0, "count", None) == "1,234"
    old, new = change_words(
        {"value": 1.2869093989339806, "numerator": None, "denominator": None, "missing": ""},
        {"value": 1.2869, "numerator": None, "denominator": None, "missing": ""},
        unit="ratio",
        decimals=None,
        figure=True,
    )
    assert (old, new) == ("1.28691", "1.28690")  # different figures never read the same
    assert change_words({"state": "submitted"}, {"state": "approved"}, unit="", decimals=None, figure=False) == (
        "Submitted",
        "Approved",
    )
    assert change_words(None, {"period": "2024-06-30", "missing_returns": []}, unit="", decimals=None, figure=False)[
        1
    ] == ("period: 2024/25 Q1; missing returns: none")
    assert change_words({"value": None, "missing": "x"}, None, unit="count", decimals=None, figure=True)[0] == (
        "[x] not available"
    )


def test_filters_by_who_action_dates_agency_and_metric(client, trail):
    client.force_login(trail["manager"])
    everything = csv_rows(client)
    assert {r["who"] for r in everything} >= {"manager", "analyst"}
    by_analyst = csv_rows(client, actor="analyst")
    assert by_analyst and {r["who"] for r in by_analyst} == {"analyst"}
    changed = csv_rows(client, action="return_value.changed")
    assert len(changed) == 3 and {r["action"] for r in changed} == {"Return value changed"}
    robbery = csv_rows(client, action="return_value.changed", metric="FAIR03")
    assert [r["what"] for r in robbery] == ["Ethnicity recorded (FAIR03) · Staffordshire · 2024/25 Q1"]
    today = timezone.now().date()
    assert len(csv_rows(client, date_from=today.isoformat(), date_to=today.isoformat())) == len(everything)
    assert csv_rows(client, date_to=(today - dt.timedelta(days=1)).isoformat()) == []
    nothing = page_text(client, date_to=(today - dt.timedelta(days=1)).isoformat())
    assert "No events match the filters." in nothing and "Download these events as CSV" in nothing
    # Each person is offered once in the "Who" list, however many events they have.
    assert page_text(client).count('<option value="analyst">analyst</option>') == 1
    hmpps = csv_rows(client, agency="hmpps")
    assert all("Police" not in r["what"] for r in hmpps)
    police = csv_rows(client, agency="police")
    assert len([r for r in police if r["action code"] == "return_value.changed"]) == 3


def test_bad_filters_are_named_not_ignored(client, trail):
    client.force_login(trail["manager"])
    response = client.get(reverse("audit"), {"date_from": "banana"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "There is a problem with the filters" in html and "Enter a valid date" in html
    assert 'href="#id_date_from"' in html
    response = client.get(reverse("audit"), {"date_from": "2024-07-02", "date_to": "2024-07-01"})
    assert (
        response.status_code == 400 and "The end date must be on or after the start date." in response.content.decode()
    )
    response = client.get(reverse("audit"), {"action": "nonsense"})
    assert response.status_code == 400 and "Select a valid choice" in response.content.decode()
    assert client.get(reverse("audit"), {"return": "x"}).status_code == 400


def test_pages_of_fifty_and_the_csv_holds_every_filtered_event(client, trail):
    value = ReturnValue.objects.get(metric__code="OFF01", category=None)
    AuditEvent.objects.bulk_create(
        [
            event(
                AuditAction.RETURN_VALUE_COMMENTED,
                actor_id=trail["analyst"].pk,
                obj=value,
                summary="",
                old={"comment": ""},
                new={"comment": f"Explained {i}"},
                return_id=trail["return"].pk,
                metric_code="OFF01",
            )
            for i in range(70)
        ]
    )
    client.force_login(trail["manager"])
    first = page_text(client, action="return_value.commented")
    assert "70 events match the filters; showing 1–50." in first and "Page 1 of 2" in first
    assert "Police recorded crime (OFF01) · Staffordshire · 2024/25 Q1" in first
    second = page_text(client, action="return_value.commented", page=2)
    assert "showing 51–70" in second and "Explained 0" in second
    rows = csv_rows(client, action="return_value.commented")
    assert len(rows) == 70 and rows[-1]["new"] == "Explained 0" and rows[0]["what"].startswith("Police recorded crime")


def test_a_removed_value_still_names_its_metric(client, trail):
    from metrics.returns.values import return_save_grid

    r = trail["return"].__class__.objects.get(pk=trail["return"].pk)
    return_save_grid(
        actor=trail["analyst"],
        return_obj=r,
        version=r.version,
        entries=[
            {
                "metric": "FAIR03",
                "area": "staffordshire",
                "period": "2024-06-30",
                "value": "",
                "numerator": "",
                "denominator": "",
            }
        ],
    )
    client.force_login(trail["manager"])
    rows = csv_rows(client, action="return_value.removed")
    assert rows[0]["what"] == (
        "Ethnicity recorded (FAIR03): a value since removed in the Staffordshire Police return for 2024/25 Q1"
    )
    assert rows[0]["old"] == "97.6%"


def test_analysts_filter_only_their_own_agencys_trail(client, trail):
    client.force_login(trail["hmpps_analyst"])
    html = page_text(client)
    assert 'name="agency"' not in html
    assert "Police recorded crime" not in html
    assert "OFF05 Prison population" in html  # their own metrics to filter by
    assert "OFF01 Police recorded crime" not in html
    assert '<option value="analyst">' not in html  # the police analyst acted only on police returns


def test_the_page_and_its_csv_take_the_same_number_of_queries_for_few_and_many_events(client, trail):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(trail["manager"])

    def count(**params):
        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse("audit"), params).status_code == 200
        return len(captured)

    few = (count(), count(format="csv"), count(agency="police", metric="OFF01"), count(page=2))
    # Four times the trail, the same mix on every page: each event copied, oldest first, three times.
    originals = list(AuditEvent.objects.order_by("at", "id"))
    fields = ["actor_id", "actor_username", "action", "object_type", "object_id", "summary", "old", "new"]
    fields += ["reason", "return_id", "metric_code"]
    for _ in range(3):
        AuditEvent.objects.bulk_create([AuditEvent(**{f: getattr(e, f) for f in fields}) for e in originals])
    many = (count(), count(format="csv"), count(agency="police", metric="OFF01"), count(page=2))
    assert AuditEvent.objects.count() == 4 * len(originals) > 50
    assert few == many

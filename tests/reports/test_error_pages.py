"""Filters that cannot be read answer 400 with a clear message; 403, 404 and 500 are the site's own pages; a
refusal is one line in the log, not a traceback; the fairness page picks a quarter that has counts by group."""

import datetime as dt
import logging

import pytest
from django.template import loader
from django.urls import reverse

from metrics.models import Unit

from ..factories import MetricFactory, ObservationFactory, PlacementFactory
from .test_dashboards import add_fairness, build

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("name", ["dashboard", "dashboard-fairness", "dashboard-priority", "dashboard-metric"])
def test_an_unknown_quarter_answers_400_with_what_to_type(client, users, name):
    build(1)
    args = {"dashboard-priority": ["p0"], "dashboard-metric": ["M000"]}.get(name, [])
    client.force_login(users["analyst"])
    response = client.get(reverse(name, args=args), {"quarter": "banana"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "Unknown quarter &#x27;banana&#x27;: use a label like 2023/24 Q4" in html
    assert 'href="/returns/"' in html or "Log out" in html  # the navigation is kept


def test_a_known_quarter_label_or_date_is_read(client, users):
    build(1)
    client.force_login(users["analyst"])
    assert client.get(reverse("dashboard"), {"quarter": "2023/24 Q4"}).status_code == 200
    assert client.get(reverse("dashboard"), {"quarter": "2024-03-31"}).status_code == 200
    assert client.get(reverse("dashboard"), {"quarter": ""}).status_code == 200


def test_fairness_defaults_to_the_latest_quarter_with_counts_by_group_and_offers_those_quarters(client, users):
    framework, area, _ = build(2)  # totals up to the last quarter built
    add_fairness(framework, area, 1, "A")  # counts by group for 2024/25 Q3 only
    rate = MetricFactory(code="FAIR09", name="Arrest rate", unit=Unit.RATE_PER_1000)
    rate.breakdowns.add(*framework.placements.get(metric__code="AF00").metric.breakdowns.all())
    PlacementFactory(priority=framework.priorities.first(), framework=framework, metric=rate, order=200)
    # A later quarter with a total only (no counts by group): not a fairness quarter.
    ObservationFactory(metric=rate, area=area, period=dt.date(2025, 3, 31), value=3.2)
    client.force_login(users["analyst"])
    html = client.get(reverse("dashboard-fairness")).content.decode()
    assert "Rate 0 by ethnicity, 2024/25 Q3" in html
    assert "by ethnicity, 2024/25 Q4" not in html  # no empty axis for a quarter with totals only
    picker = html.split('id="f-quarter"')[1].split("</select>")[0]
    assert '<option value="2024-12-31" selected>2024/25 Q3</option>' in picker
    assert "2024/25 Q4" not in picker
    assert client.get(reverse("dashboard-fairness"), {"quarter": "2024/25 Q3"}).status_code == 200


def test_403_is_the_sites_page_with_navigation(client, users):
    client.force_login(users["no_role"])
    response = client.get(reverse("home"))
    assert response.status_code == 403
    html = response.content.decode()
    assert "You cannot open this page" in html and 'aria-label="Main"' in html
    assert "ask the performance manager" in html


def test_404_is_the_sites_page(client, users):
    client.force_login(users["analyst"])
    response = client.get("/no/such/page/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "Page not found" in html and 'aria-label="Main"' in html and 'href="/dashboard/"' in html


def test_404_for_a_visitor_offers_the_public_pages(client, db):
    html = client.get("/no/such/page/").content.decode()
    assert "Page not found" in html and reverse("public-reports") in html


def test_500_renders_without_a_request_context_or_database(django_assert_num_queries):
    with django_assert_num_queries(0):
        html = loader.get_template("500.html").render()
    assert "Sorry, there is a problem with the service" in html


def test_a_403_is_logged_as_one_line_without_a_traceback(client, users, caplog):
    client.force_login(users["board_member"])
    with caplog.at_level(logging.WARNING, logger="django.request"):
        assert client.get(reverse("returns")).status_code == 403
    records = [r for r in caplog.records if r.name == "django.request"]
    assert len(records) == 1 and records[0].getMessage().startswith("Forbidden (Permission denied): /returns/")
    assert records[0].exc_info is None
    assert "Traceback" not in caplog.text

"""Dashboard pages: roles, fixed query counts, content, filters, downloads, charts and their text."""

import csv
import datetime as dt
import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from frameworks.models import AreaType, Breakdown, BreakdownCategory, PeerGroup, PeerGroupMembership
from metrics.models import Direction, Metric, Rebase, Unit
from metrics.quarters import Quarter
from metrics.stats.spc import xmr
from reports import charts
from reports.dashboards.selectors import overview

from ..factories import (
    AreaFactory,
    FrameworkFactory,
    MetricFactory,
    ObservationFactory,
    PlacementFactory,
    PriorityFactory,
)

START = Quarter(2021, 1)


def build(n_metrics, quarters=8, with_peers=True, prefix="M"):
    area = AreaFactory(code="staffordshire", name="Staffordshire")
    national = AreaFactory(code="england-wales", name="England and Wales", type=AreaType.NATIONAL)
    derby = AreaFactory(code="derbyshire", name="Derbyshire")
    group, created = PeerGroup.objects.get_or_create(code="peers", defaults={"name": "Peers"})
    if created:
        for a in (area, derby):
            PeerGroupMembership.objects.create(peer_group=group, area=a)
    framework = FrameworkFactory(code=f"fw-{prefix}", home_area=area, peer_group=group if with_peers else None)
    priorities = [PriorityFactory(framework=framework, code=f"p{i}", name=f"Priority {i}", order=i) for i in range(3)]
    metrics = []
    for m in range(n_metrics):
        metric = MetricFactory(
            code=f"{prefix}{m:03d}", name=f"Metric {m}", unit=Unit.COUNT, direction=Direction.LOWER_IS_BETTER
        )
        PlacementFactory(priority=priorities[m % 3], framework=framework, metric=metric, order=m)
        for q in range(quarters):
            period = START.shift(q).end_date
            ObservationFactory(metric=metric, area=area, period=period, value=100 + q * (m % 5))
            ObservationFactory(metric=metric, area=derby, period=period, value=90 + q)
            ObservationFactory(metric=metric, area=national, period=period, value=5000 + q)
        metrics.append(metric)
    return framework, area, metrics


@pytest.mark.django_db
def test_overview_query_count_does_not_grow_with_metrics(django_assert_num_queries):
    framework, area, _ = build(10)
    with django_assert_num_queries(9) as small:
        data = overview(framework=framework, area=area)
        assert sum(len(t) for _, t in data.priorities) == 10
    framework2, area2, _ = build(60, prefix="N")
    with django_assert_num_queries(len(small)):
        data = overview(framework=framework2, area=area2)
        assert sum(len(t) for _, t in data.priorities) == 60


@pytest.mark.django_db
def test_overview_page_query_count_is_pinned(client, users, django_assert_max_num_queries):
    build(60)
    client.force_login(users["board_member"])
    with django_assert_max_num_queries(15):
        assert client.get(reverse("dashboard")).status_code == 200


@pytest.mark.django_db
def test_tiles_changes_ranks_and_summary(client, users):
    framework, area, _metrics = build(3)
    Metric.objects.filter(code="M001").update(comparable=True)  # a count the framework marks comparable
    data = overview(framework=framework, area=area)
    tile = data.priorities[1][1][0]  # M001: 100, 101, … rising by 1 a quarter; lower is better
    unmarked = data.priorities[0][1][0]  # M000: a count the framework does not mark comparable
    assert unmarked.comparison is not None and unmarked.comparison.rank is None
    assert tile.latest.value == 107
    assert tile.change_previous.absolute == 1
    assert tile.change_year.absolute == 4
    assert tile.comparison.rank == 2
    assert tile.comparison.of == 2
    assert tile.variation == "special_cause_concern"  # a rising trend of 8 when lower is better
    assert data.summary["concern"] >= 1
    client.force_login(users["board_member"])
    html = client.get(reverse("dashboard")).content.decode()
    assert "Up 1 (+0.9%) on the previous quarter" in html
    assert "Rank 2 of 2 peers" in html
    assert 'class="tile v-concern"' in html


@pytest.mark.django_db
def test_filters_live_in_the_url(client, users):
    build(3)
    client.force_login(users["board_member"])
    earlier = START.shift(3).end_date.isoformat()
    html = client.get(
        reverse("dashboard"), {"quarter": earlier, "priority": "p1", "area": "derbyshire"}
    ).content.decode()
    assert "Derbyshire, figures to 2021/22 Q4" in html
    assert "Metric 1" in html
    assert "Metric 0" not in html
    assert f'<option value="{earlier}" selected>' in html


@pytest.mark.django_db
def test_downloads_hold_what_the_page_shows(client, users):
    _framework, _area, _metrics = build(3)
    client.force_login(users["board_member"])
    page = client.get(reverse("dashboard")).content.decode()
    text = client.get(reverse("dashboard"), {"format": "csv"}).content.decode("utf-8-sig")
    assert "Framework,Test framework (version 1)" in text
    assert "[p],provisional: may be revised" in text
    rows = list(csv.reader(io.StringIO(text.split("\r\n\r\n", 1)[1] if "\r\n\r\n" in text else text)))
    data_rows = [r for r in rows if r and r[0].startswith("Priority")]
    assert len(data_rows) == 3
    for row in data_rows:
        assert row[2] in page
    metric_csv = client.get(reverse("dashboard-metric", args=["M001"]), {"format": "csv"}).content.decode("utf-8-sig")
    assert "Definition," in metric_csv
    assert metric_csv.count("2021/22 Q") + metric_csv.count("2022/23 Q") + metric_csv.count("2023/24 Q") == 8
    xlsx = client.get(reverse("dashboard-metric", args=["M001"]), {"format": "xlsx"})
    workbook = load_workbook(io.BytesIO(xlsx.content))
    assert workbook["data"].max_row == 9
    assert workbook["about"]["A2"].value == "Metric"


@pytest.mark.django_db
def test_metric_page_has_charts_text_and_table(client, users):
    _framework, _area, metrics = build(2)
    Rebase.objects.create(metric=metrics[1], period=START.shift(4).end_date, reason="New counting rules")
    client.force_login(users["board_member"])
    response = client.get(reverse("dashboard-metric", args=["M001"]))
    html = response.content.decode()
    assert 'id="xmr-data" type="application/json"' in html
    assert "Metric 1 is within its usual range. It is up 4 (+3.9%) on a year before." in html
    assert "Limits recalculated from 2022/23 Q1: New counting rules." in html
    assert "Peers" in html
    assert 'id="data-table"' in html
    nonce_policy = response["Content-Security-Policy"]
    assert "script-src 'self' 'nonce-" in nonce_policy
    assert "style-src 'self' 'unsafe-inline'" in nonce_policy
    nonce = nonce_policy.split("'nonce-")[1].split("'")[0]
    # The two chart scripts and the two of the base page (GOV.UK Frontend's js-enabled class and its module).
    assert html.count(f'nonce="{nonce}"') == 4


@pytest.mark.django_db
def test_fairness_page(client, users):
    framework, area, _metrics = build(1)
    ethnicity = Breakdown.objects.create(code="ethnicity", name="Ethnicity")
    cats = {
        code: BreakdownCategory.objects.create(breakdown=ethnicity, code=code, name=code.title(), order=i)
        for i, code in enumerate(["white", "black", "asian", "mixed"])
    }
    ethnicity.reference = cats["white"]
    ethnicity.save()
    rate = MetricFactory(code="FAIR01", name="Stop and search rate per 1,000 population", unit=Unit.RATE_PER_1000)
    rate.breakdowns.add(ethnicity)
    PlacementFactory(priority=framework.priorities.first(), framework=framework, metric=rate)
    period = dt.date(2024, 12, 31)
    for code, n, pop in [("white", 25, 1004000), ("black", 20, 17000), ("asian", 30, 45000), ("mixed", 0, 25000)]:
        ObservationFactory(
            metric=rate,
            area=area,
            period=period,
            category=cats[code],
            numerator=n,
            denominator=pop,
            value=n / pop * 1000,
        )
    client.force_login(users["analyst"])
    html = client.get(reverse("dashboard-fairness")).content.decode()
    assert "does not show why" in html
    assert "The rate for Black people was 47.2 times the rate for White people" in html
    assert "significantly higher" in html
    assert "Mixed: no ratio (no ratio for a zero count)." in html
    text = client.get(reverse("dashboard-fairness"), {"format": "csv"}).content.decode("utf-8-sig")
    assert "FAIR01,ethnicity,2024/25 Q3,Black,20.0,17000.0" in text


ROLE_EXPECTED = {"anonymous": "login", "analyst": 200, "board_member": 200, "performance_manager": 200, "no_role": 403}


@pytest.mark.django_db
@pytest.mark.parametrize("role", sorted(ROLE_EXPECTED))
@pytest.mark.parametrize(
    ("name", "args"),
    [("dashboard", []), ("dashboard-priority", ["p0"]), ("dashboard-metric", ["M000"]), ("dashboard-fairness", [])],
)
def test_roles(client, users, role, name, args):
    build(1)
    if role != "anonymous":
        client.force_login(users[role])
    response = client.get(reverse(name, args=args))
    expected = ROLE_EXPECTED[role]
    if expected == "login":
        assert response.status_code == 302
        assert response.url.startswith(reverse("login"))
    else:
        assert response.status_code == expected


def test_xmr_chart_draws_segments_limits_and_rebases():
    import pandas as pd

    values = [10, 11, 9, 10, 30, 31, 29, 30]
    periods = [START.shift(i).end_date for i in range(8)]
    spc = xmr(pd.Series(values, index=periods), rebases=[periods[4]], rebase_reasons=["Rebased"])
    fig = charts.xmr_figure(title="T", unit_label="Count", observations=[], spc=spc)
    names = [t.name for t in fig.data]
    assert names.count("Mean") == 2
    assert names.count("Process limits (trial)") == 4
    assert any("Rebased" in a.text for a in fig.layout.annotations)
    colours = fig.data[0].marker.color
    assert len(colours) == 8
    assert charts.figure_json(fig)["data"][0]["type"] == "scatter"


def add_fairness(framework, area, n, prefix):
    ethnicity, _ = Breakdown.objects.get_or_create(code="ethnicity", defaults={"name": "Ethnicity"})
    cats = [
        BreakdownCategory.objects.get_or_create(breakdown=ethnicity, code=c, defaults={"name": c.title(), "order": i})[
            0
        ]
        for i, c in enumerate(["white", "black", "asian"])
    ]
    ethnicity.reference = cats[0]
    ethnicity.save()
    for m in range(n):
        metric = MetricFactory(code=f"{prefix}F{m:02d}", name=f"Rate {m}", unit=Unit.RATE_PER_1000)
        metric.breakdowns.add(ethnicity)
        PlacementFactory(priority=framework.priorities.first(), framework=framework, metric=metric, order=100 + m)
        for c in cats:
            ObservationFactory(
                metric=metric,
                area=area,
                period=dt.date(2024, 12, 31),
                category=c,
                numerator=50,
                denominator=100000,
                value=0.5,
            )


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "args"), [("dashboard-priority", ["p0"]), ("dashboard-fairness", [])])
def test_priority_and_fairness_query_counts_do_not_grow(client, users, django_assert_num_queries, name, args):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from frameworks.models import Framework

    small_fw, area, _ = build(6, prefix="A")
    add_fairness(small_fw, area, 2, "A")
    client.force_login(users["board_member"])
    with CaptureQueriesContext(connection) as small:
        assert client.get(reverse(name, args=args)).status_code == 200
    big_fw, area, _ = build(30, prefix="B")
    add_fairness(big_fw, area, 10, "B")
    Framework.objects.filter(pk=small_fw.pk).update(is_current=False)
    with django_assert_num_queries(len(small)):
        response = client.get(reverse(name, args=args))
        assert response.status_code == 200
    assert ("Metric 27" if name == "dashboard-priority" else "Rate 9") in response.content.decode()


@pytest.mark.django_db
def test_annotations_appear_on_the_charts(client, users):
    from reports.models import Annotation

    _, area, metrics = build(2)
    Annotation.objects.create(
        metric=metrics[1], area=area, period=START.shift(2).end_date, text="New charging unit", kind="context"
    )
    Annotation.objects.create(
        metric=metrics[1], area=None, period=START.shift(3).end_date, text="Force system outage", kind="data_issue"
    )
    client.force_login(users["board_member"])
    html = client.get(reverse("dashboard-metric", args=["M001"])).content.decode()
    assert "New charging unit" in html
    assert "Data issue: Force system outage" in html
    priority_html = client.get(reverse("dashboard-priority", args=["p1"])).content.decode()
    assert "Data issue: Force system outage" in priority_html


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "expected"),
    [("anonymous", 302), ("analyst", 403), ("board_member", 403), ("no_role", 403), ("performance_manager", 302)],
)
def test_only_the_performance_manager_records_a_rebase(client, users, role, expected):
    build(1)
    if role != "anonymous":
        client.force_login(users[role])
    response = client.post(
        reverse("metric-rebase", args=["M000"]), {"period": START.shift(4).end_date.isoformat(), "reason": "Recount"}
    )
    assert response.status_code == expected
    assert Rebase.objects.filter(metric__code="M000").exists() is (role == "performance_manager")
    if role == "anonymous":
        assert "/accounts/login/" in response.url
    refused = client.get(reverse("metric-rebase", args=["M000"]))
    assert refused.status_code in (302, 403, 405)


@pytest.mark.django_db
def test_an_illustrative_measure_is_tagged_on_its_tile_and_in_the_table(client, users):
    from metrics.models import Observation

    build(3)
    Observation.objects.filter(metric__code="M001").update(illustrative=True)
    client.force_login(users["board_member"])
    html = client.get(reverse("dashboard")).content.decode()
    tag = '<span class="tag illustrative">Illustrative</span>'
    assert html.count(tag) == 2  # M001's tile and its row of the table
    tile = html.split('<li class="tile', 3)[2]  # priority 1's first tile: M001
    assert "Metric 1</a></h3>" in tile and tag in tile

"""The public dashboard by local area (issue 14): local areas and measures reported by local area in the
framework file, owed lines per local area, public pages read only the latest published snapshot with small
numbers suppressed (a local secondary suppression included), never management information, and a measure
reads the same on a local page, in the API and on the board's dashboard filtered to the area.

The fixture: Staffordshire with a county (three districts) and Stoke-on-Trent under it; a count and a rate by
local area with a small count (37, threshold 50) in one district's latest quarter: the districts and Stoke add
up to the force area (37 + 143 + 420 + 610 = 1,210), so 143 must be hidden too or 1,210 − 420 − 610 − 143
gives 37 back.
"""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import Agency, Role
from frameworks.models import Area, Framework
from frameworks.selectors import local_areas
from metrics.catalogue.export import framework_export
from metrics.catalogue.load import framework_load
from metrics.catalogue.schema import FrameworkFileError, parse_framework_text
from metrics.imports.commit import import_file
from metrics.models import Observation
from metrics.quarters import Quarter
from metrics.returns.selectors import owed_lines
from reports.local.selectors import local_page
from reports.snapshots.services import snapshot_publish

from ..factories import UserFactory
from .test_public_edition import numbers_in

PERIOD = dt.date(2024, 3, 31)  # 2023/24 Q4
QUARTERS = [Quarter.from_end_date(PERIOD).shift(-11 + i).end_date for i in range(12)]
DISTRICTS = ["north-district", "mid-district", "south-district"]
POPULATION = {"north-district": 25000, "mid-district": 100000, "south-district": 150000, "stoke-on-trent": 250000}
LATEST = {"north-district": 37, "mid-district": 143, "south-district": 420, "stoke-on-trent": 610}
EARLIER = {"north-district": 260, "mid-district": 990, "south-district": 1480, "stoke-on-trent": 2450}
# Numbers no public output may show: the small count, the secondary one, and their rates per 1,000.
HIDDEN = {37.0, 143.0, 1.48, 1.43}
UNPUBLISHED = 7777.0  # approved after the snapshot: never on a public page
MI_NAME = "Internal tasking figure"


def framework_text(extra_districts: int = 0, extra_metrics: int = 0) -> str:
    districts = DISTRICTS + [f"extra-{i}" for i in range(extra_districts)]
    areas = [
        f"  - {{code: {d}, name: {d.replace('-', ' ').title()}, type: local_authority, parent: county, "
        f"population: {POPULATION.get(d, 50000)}}}"
        for d in districts
    ]
    extra = [
        f"      - {{code: X{i:02d}, name: Extra {i}, agency: police, unit: rate_per_1000, direction: lower_is_better, "
        "source_type: official_statistics, local_areas: true}"
        for i in range(extra_metrics)
    ]
    return "\n".join(
        [
            "framework: {code: loc, name: Local dashboards, home_area: staffordshire}",
            "agencies:",
            "  - {code: police, name: Staffordshire Police}",
            "areas:",
            "  - {code: england-wales, name: England and Wales, type: national}",
            "  - {code: staffordshire, name: Staffordshire, type: police_force_area, population: 1100000}",
            "  - {code: county, name: County Council area, type: local_authority, ons_code: E10000028, "
            "parent: staffordshire, population: 275000}",
            "  - {code: stoke-on-trent, name: Stoke-on-Trent, type: local_authority, ons_code: E06000021, "
            "parent: staffordshire, population: 250000}",
            *areas,
            "breakdowns:",
            "  - {code: group, name: Offence group, categories: [violence, theft]}",
            "priorities:",
            "  - code: crime",
            "    name: Crime",
            "    metrics:",
            "      - {code: CRM01, name: Recorded crime, agency: police, unit: count, direction: lower_is_better, "
            "source_type: official_statistics, local_areas: true, breakdowns: [group], source: {publisher: Home "
            'Office, title: Recorded crime tables, period: "2021/22 Q1 to 2023/24 Q4"}}',
            "      - {code: CRM02, name: Recorded crime per 1000 residents, agency: police, unit: rate_per_1000, "
            "direction: lower_is_better, source_type: official_statistics, local_areas: true}",
            f"      - {{code: MI01, name: {MI_NAME}, agency: police, unit: count, direction: neutral, "
            "source_type: management_information, local_areas: true}",
            "      - {code: NAT01, name: Prison population, agency: police, unit: count, direction: neutral, "
            "source_type: official_statistics}",
            *extra,
            "",
        ]
    )


def load(lines: list[str]) -> None:
    header = "metric,area,period,breakdown,category,value,numerator,denominator,status,note\n"
    summary = import_file(
        content=(header + "\n".join(lines) + "\n").encode(), filename="d.csv", agency=Agency.objects.get(code="police")
    )
    assert summary.accepted, summary.as_text()


def build_world(extra_districts: int = 0, extra_metrics: int = 0) -> dict:
    framework = framework_load(text=framework_text(extra_districts, extra_metrics)).framework
    lines = []
    for i, q in enumerate(QUARTERS):
        counts = {a: (LATEST[a] if q == PERIOD else EARLIER[a] + 7 * (i % 3)) for a in LATEST}
        for area, n in counts.items():
            lines.append(f"CRM01,{area},{q},,,{n},,,final,")
            lines.append(f"CRM02,{area},{q},,,,{n},{POPULATION[area]},final,")
            lines.append(f"MI01,{area},{q},,,9876,,,final,")
        total = sum(counts.values())
        lines.append(f"CRM01,staffordshire,{q},,,{total},,,final,")
        lines.append(f"CRM01,staffordshire,{q},group,violence,{total - 600},,,final,")
        lines.append(f"CRM01,staffordshire,{q},group,theft,600,,,final,")
        lines.append(f"CRM02,staffordshire,{q},,,,{total},1100000,final,")
        lines.append(f"NAT01,staffordshire,{q},,,{800 + i},,,final,")
        for k in range(extra_metrics):
            lines.append(f"X{k:02d},north-district,{q},,,,{300 + i},25000,final,")
    load(lines)
    manager = UserFactory(username="pm", role=Role.PERFORMANCE_MANAGER)
    snapshot = snapshot_publish(actor=manager, framework=framework, period=PERIOD, reason="tests")
    # Approved after publishing: a later quarter, and a figure no snapshot holds.
    load([f"CRM01,mid-district,{Quarter.from_end_date(PERIOD).shift(1).end_date},,,{int(UNPUBLISHED)},,,final,"])
    return {"framework": framework, "snapshot": snapshot, "manager": manager}


@pytest.fixture
def world(db, settings):
    settings.PCC_PERF_SUPPRESSION_THRESHOLD = 50
    return build_world()


# --- the framework file ---------------------------------------------------------------------------------
def test_areas_carry_populations_and_metrics_say_they_are_reported_by_local_area(world):
    county = Area.objects.get(code="county")
    assert county.population == 275000 and county.parent.code == "staffordshire"
    exported = framework_export(code="loc")
    assert "population: 275000" in exported and "local_areas: true" in exported
    spec = parse_framework_text(exported)  # the exported file reads back the same
    assert {m.code for p in spec.priorities for m in p.metrics if m.local_areas} == {"CRM01", "CRM02", "MI01"}
    assert next(a for a in spec.areas if a["code"] == "county")["population"] == 275000


def test_a_file_without_the_new_keys_still_loads_and_bad_values_are_named(db):
    spec = parse_framework_text(framework_text().replace(", population: 275000", "").replace(", local_areas: true", ""))
    assert all(not m.local_areas for p in spec.priorities for m in p.metrics)
    with pytest.raises(FrameworkFileError) as bad:
        parse_framework_text(framework_text().replace("population: 275000", "population: many"))
    assert any(e.startswith("areas[2].population:") for e in bad.value.errors)
    with pytest.raises(FrameworkFileError) as bad:
        parse_framework_text(framework_text().replace("local_areas: true", "local_areas: maybe", 1))
    assert any(".local_areas:" in e for e in bad.value.errors)


def test_local_areas_are_the_areas_under_the_home_area_in_tree_order(world):
    tree = local_areas(world["framework"])
    assert [(a.code, a.depth) for a in tree] == [
        ("county", 1),
        ("mid-district", 2),
        ("north-district", 2),
        ("south-district", 2),
        ("stoke-on-trent", 1),
    ]


# --- returns owe one value per local area -----------------------------------------------------------------
def test_a_metric_reported_by_local_area_owes_one_total_per_lowest_local_area(world):
    lines = owed_lines(framework=world["framework"])
    crm01 = [
        (line.area.code, line.category.code if line.category else None) for line in lines if line.metric.code == "CRM01"
    ]
    # the force area's total and categories, then one total for each district and Stoke-on-Trent (not the
    # county: its districts cover it)
    assert crm01[:3] == [("staffordshire", None), ("staffordshire", "violence"), ("staffordshire", "theft")]
    assert sorted(crm01[3:]) == [(a, None) for a in sorted([*DISTRICTS, "stoke-on-trent"])]
    nat01 = [line.area.code for line in lines if line.metric.code == "NAT01"]
    assert nat01 == ["staffordshire"]


def _queries(fn) -> int:
    with CaptureQueriesContext(connection) as ctx:
        fn()
    return len(ctx.captured_queries)


@pytest.mark.django_db
def test_owed_lines_and_the_local_page_fetch_in_fixed_queries(settings):
    settings.PCC_PERF_SUPPRESSION_THRESHOLD = 50
    world = build_world()
    north = Area.objects.get(code="north-district")

    def counts(snapshot):
        framework = Framework.objects.select_related("home_area").get(code="loc")
        return (
            _queries(lambda: owed_lines(framework=framework)),
            _queries(lambda: local_page(framework=framework, area=north, snapshot=snapshot)),
        )

    small = counts(world["snapshot"])
    # The same framework with six more districts and five more measures reported by local area, figures for
    # all of them, and a new snapshot of the quarter.
    framework_load(text=framework_text(extra_districts=6, extra_metrics=5))
    lines = []
    for i, q in enumerate(QUARTERS):
        for area in [f"extra-{k}" for k in range(6)]:
            lines.append(f"CRM01,{area},{q},,,{300 + i},,,final,")
            lines.extend(f"X{k:02d},{area},{q},,,,{300 + i},50000,final," for k in range(5))
    load(lines)
    snapshot = snapshot_publish(actor=world["manager"], framework=world["framework"], period=PERIOD, reason="more")
    big = counts(snapshot)
    assert small == big
    assert small[0] <= 6 and small[1] <= 16


# --- the public pages ------------------------------------------------------------------------------------
def test_the_index_lists_the_local_areas_without_login(client, world):
    response = client.get(reverse("public-local-index"))
    assert response.status_code == 200
    html = response.content.decode()
    for code in ["county", "stoke-on-trent", *DISTRICTS]:
        assert reverse("public-local-area", args=[code]) in html
    assert "275,000 residents" in html


def test_a_local_page_hides_small_numbers_everywhere_and_shows_no_management_information(client, world):
    response = client.get(reverse("public-local-area", args=["north-district"]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "[c]" in html
    shown = numbers_in(html)
    assert not shown & HIDDEN, shown & HIDDEN
    assert MI_NAME not in html and "9876" not in html and "9,876" not in html
    assert "Prison population" in html  # named among the measures with no local figures
    assert UNPUBLISHED not in shown and "7,777" not in html
    csv = client.get(reverse("public-local-area", args=["north-district"]), {"format": "csv"}).content.decode()
    assert "[c]" in csv and not numbers_in(csv) & HIDDEN and MI_NAME not in csv and "7,777" not in csv
    # the secondary cell is hidden on its own page too, and so on every other local page
    for code in ["mid-district", "south-district", "stoke-on-trent", "county"]:
        page = client.get(reverse("public-local-area", args=[code])).content.decode()
        assert not numbers_in(page) & HIDDEN, (code, numbers_in(page) & HIDDEN)
        assert MI_NAME not in page


def test_a_small_local_count_withholds_every_local_figure_of_its_quarter(world):
    """Local figures add up two ways (districts to the county; county and Stoke to the force area, published
    everywhere): a second hidden district alone could be given back through the county, or the county through
    the force area less Stoke. So the quarter's local figures are all withheld; the force area's stays."""
    page = local_page(
        framework=world["framework"], area=Area.objects.get(code="south-district"), snapshot=world["snapshot"]
    )
    crm02 = next(m for m in page.measures if m.metric.code == "CRM02")
    shown = {c.area.code: c.text for c in crm02.compared}
    assert set(shown.values()) == {"[c]"}, shown
    assert "county" not in shown  # a county overlaps its districts: not compared with them
    county = local_page(framework=world["framework"], area=Area.objects.get(code="county"), snapshot=world["snapshot"])
    for measure in county.measures:
        latest = measure.evidence.latest
        assert latest is None or latest.period != PERIOD or latest.value is None, measure.metric.code
    assert any(m.force is not None and m.force.latest is not None and m.force.latest.value for m in page.measures)
    crm01 = next(m for m in page.measures if m.metric.code == "CRM01")
    assert crm01.compared == []  # counts are not compared between areas


def test_a_local_page_reads_only_the_published_snapshot(client, world):
    # a figure changed in live data after publishing is not shown: the page reads the snapshot
    earlier = QUARTERS[-2]
    published = EARLIER["south-district"] + 7 * ((len(QUARTERS) - 2) % 3)
    Observation.objects.filter(metric__code="CRM01", area__code="south-district", period=earlier).update(value=555)
    html = client.get(reverse("public-local-area", args=["south-district"])).content.decode()
    assert float(published) in numbers_in(html) and 555.0 not in numbers_in(html)


def test_a_local_measure_reads_the_same_on_the_page_in_the_api_and_on_the_board_dashboard(client, world, settings):
    # Suppression aside (the public page withholds small numbers on purpose), one evidence builder: the same
    # series, variation and finding everywhere.
    settings.PCC_PERF_SUPPRESSION_THRESHOLD = 0
    page = local_page(
        framework=world["framework"], area=Area.objects.get(code="south-district"), snapshot=world["snapshot"]
    )
    crm02 = next(m for m in page.measures if m.metric.code == "CRM02")
    board = UserFactory(username="board", role=Role.BOARD_MEMBER)
    client.force_login(board)
    api = client.get(
        reverse("api-series"), {"metric": "CRM02", "area": "south-district", "snapshot": world["snapshot"].pk}
    ).json()
    assert [(p["period"], p["value"]) for p in api["points"]] == [
        (o.period.isoformat(), o.value) for o in crm02.evidence.series
    ]
    assert api["spc"]["variation"] == crm02.evidence.spc.variation
    dashboard = client.get(
        reverse("dashboard-metric", args=["CRM02"]), {"area": "south-district", "snapshot": world["snapshot"].pk}
    ).content.decode()
    assert crm02.evidence.latest_text in dashboard and crm02.evidence.finding in dashboard.replace("&#x27;", "'")


def test_an_unknown_or_non_local_area_is_not_found(client, world):
    assert client.get(reverse("public-local-area", args=["staffordshire"])).status_code == 404
    assert client.get(reverse("public-local-area", args=["nowhere"])).status_code == 404


# --- the demo ----------------------------------------------------------------------------------------------
@pytest.mark.slow
@pytest.mark.django_db
def test_the_demo_local_pages_have_content(client):
    import io

    from django.core.management import call_command

    call_command("seed_demo", stdout=io.StringIO())
    index = client.get(reverse("public-local-index")).content.decode()
    expected = {
        "cannock-chase": {"OFF01", "OFF02", "CSS01"},
        "east-staffordshire": {"OFF01", "OFF02", "CSS01"},
        "lichfield": {"OFF01", "OFF02", "CSS01"},
        "newcastle-under-lyme": {"OFF01", "OFF02", "CSS01"},
        "south-staffordshire": {"OFF01", "OFF02", "CSS01"},
        "stafford": {"OFF01", "OFF02", "CSS01"},
        "staffordshire-moorlands": {"OFF01", "OFF02", "CSS01"},
        "tamworth": {"OFF01", "OFF02", "CSS01"},
        "stoke-on-trent": {"OFF01", "OFF02", "CSS01", "OFF04", "OFF10"},
        "staffordshire-county": {"OFF04", "OFF10"},
    }
    framework = Framework.objects.in_scope().get()
    from reports.local.selectors import published_snapshot

    snapshot = published_snapshot(framework)
    for code, measures in expected.items():
        assert reverse("public-local-area", args=[code]) in index
        response = client.get(reverse("public-local-area", args=[code]))
        assert response.status_code == 200
        page = local_page(framework=framework, area=Area.objects.get(code=code), snapshot=snapshot)
        assert {m.metric.code for m in page.measures} == measures, code
        html = response.content.decode()
        if "OFF01" in measures:  # the illustrative local recorded crime says so
            assert "Illustrative figures, made up for the demonstration" in html
        assert "Confidence that the criminal justice system is fair" in html  # named: no local figures
        # management information (not marked public) appears nowhere, not even by name
        for name in ["Stop and search rate per 1,000 population", "CPS conviction rate", "Administratively"]:
            assert name not in html, (code, name)
    cannock = client.get(reverse("public-local-area", args=["cannock-chase"])).content.decode()
    assert "13.18" in cannock and "cannot be compared with" in cannock
    assert "Published for Staffordshire County Council area, which includes Cannock Chase" in cannock

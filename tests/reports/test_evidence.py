"""The one evidence builder: tested directly, and a measure reads the same on the metric page, in both
report editions, in the board pack's text and in the API — one test per measure kind (local count, local
rate, national-only, breakdown), on the demo's real published figures."""

import csv
import datetime as dt
import html
import io

import pytest
from django.urls import reverse

from accounts.models import Agency
from frameworks.models import Area, Framework, PeerGroupMembership
from metrics.catalogue.load import framework_load
from metrics.imports.commit import import_file
from metrics.models import Metric
from reports.evidence.build import build_evidence, metric_evidence
from reports.evidence.items import Part
from reports.evidence.sources import LIVE, FigureSource
from reports.models import Report, ReportFinding
from reports.narrative.editions import edition
from reports.narrative.services import report_create, report_transition
from reports.packs.build import build_pack_html
from reports.snapshots.services import snapshot_publish

from ..conftest import FIXTURES
from ..factories import UserFactory

QUARTER = dt.date(2024, 3, 31)  # 2023/24 Q4: the latest quarter of the demo's police recorded crime
FROM = "2018-06-30"  # six years: enough for limits, trends and a year-on-year change
METRICS = {"OFF01", "OFF02", "OFF05", "FAIR01"}


def _demo_rows(name: str, areas: set[str]) -> bytes:
    """The demo fixture's rows for our metrics and areas, up to the quarter (real published figures)."""
    with (FIXTURES / "demo" / name).open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=reader.fieldnames or [])
        writer.writeheader()
        for row in reader:
            if row["metric"] in METRICS and row["area"] in areas and FROM <= row["period"] <= QUARTER.isoformat():
                writer.writerow(row)
    return out.getvalue().encode()


@pytest.fixture
def world(db):
    framework_load(text=(FIXTURES / "demo_framework.yaml").read_text(encoding="utf-8"))
    framework = Framework.objects.get(code="lcjb-demo")
    peers = set(
        PeerGroupMembership.objects.filter(peer_group=framework.peer_group).values_list("area__code", flat=True)
    )
    areas = peers | {"england-wales"}
    for agency, name in [("police", "police.csv"), ("hmpps", "hmpps.csv")]:
        summary = import_file(content=_demo_rows(name, areas), filename=name, agency=Agency.objects.get(code=agency))
        assert summary.accepted, summary.as_text()
    manager = UserFactory(username="manager", role="performance_manager")
    snapshot = snapshot_publish(actor=manager, framework=framework, period=QUARTER, reason="Test: no round")
    report = report_create(actor=manager, snapshot=snapshot)
    offending = framework.priorities.get(code="offending")
    Report.objects.filter(pk=report.pk).update(deep_dive=offending)
    report.refresh_from_db()
    report_transition(actor=manager, report=report, to="in_review")
    report = report_transition(actor=manager, report=report, to="published")
    return {
        "framework": framework,
        "home": framework.home_area,
        "snapshot": snapshot,
        "report": report,
        "manager": manager,
        "board": UserFactory(username="board", role="board_member"),
    }


def _evidence(world, code):
    return metric_evidence(
        framework=world["framework"],
        metric=Metric.objects.prefetch_related("rebases").get(code=code),
        area=world["home"],
        period=world["snapshot"].period,
        source=FigureSource(world["snapshot"]),
    )


def _line(sections, code):
    return next(line for s in sections for line in s.lines if line.metric.code == code)


def _reads_the_same_everywhere(world, client, code, *, public: bool):
    """The finding, the latest value and the variation agree on every surface."""
    evidence = _evidence(world, code)
    snapshot, report = world["snapshot"], world["report"]
    finding = evidence.finding
    assert evidence.has_figures

    # The report's generated finding is the evidence's.
    assert ReportFinding.objects.get(section__report=report, metric__code=code).generated == finding

    client.force_login(world["board"])
    page = client.get(reverse("dashboard-metric", args=[code]), {"snapshot": snapshot.pk}).content.decode()
    assert html.escape(finding) in page
    assert evidence.latest_text in page

    board = client.get(reverse("report-detail", args=[report.pk])).content.decode()
    assert html.escape(finding) in board
    line = _line(edition(report=report, public=False), code)
    assert line.value.startswith(evidence.latest_text)
    assert line.variation == evidence.variation_short
    assert line.quarter == evidence.quarter_label

    client.logout()
    public_page = client.get(reverse("public-report", args=[report.pk])).content.decode()
    public_lines = [line for s in edition(report=report, public=True) for line in s.lines if line.metric.code == code]
    if public:
        assert html.escape(finding) in public_page
        assert public_lines and public_lines[0].variation == evidence.variation_short
    else:  # management information stays out of the public edition
        assert not public_lines
        assert html.escape(finding) not in public_page

    pack = build_pack_html(report=report, public=False, use_browser=False)
    assert html.escape(finding) in pack
    assert evidence.latest_text in pack

    client.force_login(world["board"])
    api = client.get(
        reverse("api-series"), {"metric": code, "area": world["home"].code, "snapshot": snapshot.pk}
    ).json()
    last = next(p for p in reversed(api["points"]) if p["value"] is not None)
    assert last["value"] == evidence.latest.value
    assert last["period"] == evidence.latest.period.isoformat()
    assert api["spc"]["variation"] == evidence.spc.variation
    assert api["national_fallback"] is evidence.national_fallback
    assert api["figures_area"] == evidence.area.code
    if evidence.comparison is None or not evidence.comparison.comparable:
        assert api["comparison"] is None
    else:
        assert api["comparison"]["rank"] == evidence.comparison.rank
        assert api["comparison"]["peer_mean"] == pytest.approx(evidence.comparison.peer_mean)
    return evidence


@pytest.mark.slow  # loads the demo framework and six years of real figures, builds the pack
def test_a_local_count_reads_the_same_everywhere(world, client):
    evidence = _reads_the_same_everywhere(world, client, "OFF01", public=True)
    assert evidence.metric.unit == "count"
    assert evidence.area == world["home"] and not evidence.national_fallback
    assert evidence.latest.period == QUARTER
    assert evidence.comparison is not None and evidence.comparison.of > 1
    assert evidence.comparison.rank is None  # a raw count is not ranked among areas of different sizes
    assert evidence.national_value is not None


@pytest.mark.slow  # loads the demo framework and six years of real figures, builds the pack
def test_a_local_rate_reads_the_same_everywhere(world, client):
    evidence = _reads_the_same_everywhere(world, client, "OFF02", public=True)
    assert evidence.metric.unit == "rate_per_1000"
    assert not evidence.national_fallback
    assert evidence.comparison is not None and evidence.comparison.rank is not None  # rates are ranked


@pytest.mark.slow  # loads the demo framework and six years of real figures, builds the pack
def test_a_national_only_measure_reads_the_same_everywhere(world, client):
    """Prison population is published for England and Wales only: every view shows the national figure,
    labelled, and none says "No figures … in Staffordshire"."""
    evidence = _reads_the_same_everywhere(world, client, "OFF05", public=True)
    assert evidence.national_fallback
    assert evidence.area.code == "england-wales"
    assert evidence.comparison is None
    assert "No figures" not in evidence.finding
    line = _line(edition(report=world["report"], public=False), "OFF05")
    assert "No figures" not in line.finding


@pytest.mark.slow  # loads the demo framework and six years of real figures, builds the pack
def test_a_breakdown_reads_the_same_everywhere(world, client):
    evidence = _reads_the_same_everywhere(world, client, "FAIR01", public=False)
    (fair,) = evidence.fairness
    assert fair.breakdown.code == "ethnicity" and fair.reference.code == "white"
    client.force_login(world["board"])
    api = client.get(
        reverse("api-disproportionality"),
        {
            "metric": "FAIR01",
            "area": world["home"].code,
            "period": fair.period.isoformat(),
            "breakdown": "ethnicity",
            "snapshot": world["snapshot"].pk,
        },
    ).json()
    assert {g["category"]: g["ratio"] for g in api["groups"]} == {g.category: g.ratio for g in fair.groups}
    page = client.get(reverse("dashboard-fairness"), {"snapshot": world["snapshot"].pk}).content.decode()
    if fair.withheld:  # 2023/24 Q4: ethnicity recorded for 3% of searches
        assert html.escape(fair.withheld) in page
    for sentence in [] if fair.withheld else fair.sentences:
        assert html.escape(sentence) in page
    # The metric page's breakdown table shows the evidence's cells.
    metric_page = client.get(
        reverse("dashboard-metric", args=["FAIR01"]), {"snapshot": world["snapshot"].pk}
    ).content.decode()
    for item in evidence.breakdowns:
        for category, obs in item.cells:
            if obs is not None and obs.value is not None:
                assert (
                    f'<th scope="row">{category.name}</th><td class="num">{evidence.format(obs.value)}' in metric_page
                )


def test_deep_dive_categories_come_from_the_evidence(world):
    evidence = _evidence(world, "OFF01")
    line = _line(edition(report=world["report"], public=False), "OFF01")
    (offences,) = evidence.breakdowns
    shown = dict(line.categories)
    for category, obs in offences.cells:
        if obs is not None:
            assert shown[category.name].startswith(evidence.format(obs.value))


# --- the builder itself -----------------------------------------------------------------------------------
def test_the_builder_answers_as_at_a_quarter_and_source(world):
    """Live and snapshot sources agree on the snapshot's quarter; asking for an earlier quarter cuts the
    series there and moves the latest figure, the changes and the comparison with it."""
    framework, home = world["framework"], world["home"]
    live = {e.metric.code: e for e in build_evidence(framework=framework, area=home, period=QUARTER, source=LIVE)}
    frozen = {
        e.metric.code: e
        for e in build_evidence(framework=framework, area=home, period=QUARTER, source=FigureSource(world["snapshot"]))
    }
    assert live["OFF01"].latest.value == frozen["OFF01"].latest.value
    assert live["OFF01"].finding == frozen["OFF01"].finding
    earlier = dt.date(2023, 3, 31)
    (before,) = build_evidence(framework=framework, area=home, metrics=[live["OFF01"].metric], period=earlier)
    assert before.latest.period == earlier
    assert all(o.period <= earlier for o in before.series)
    assert before.change_year is not None and before.change_year.earlier_period == dt.date(2022, 3, 31)
    assert before.comparison is not None and before.comparison.period == earlier


def test_a_metric_with_no_figures_says_so_and_has_no_variation(world):
    framework = world["framework"]
    (empty,) = build_evidence(
        framework=framework, area=world["home"], metrics=[Metric.objects.get(code="VW01")], parts=Part.ALL
    )
    assert not empty.has_figures and empty.variation is None
    assert empty.finding == f"No figures for {empty.metric.name} in {world['home'].name}."
    assert empty.comparison is None and empty.breakdowns == [] and empty.fairness == []


@pytest.mark.parametrize("parts", [Part.NONE, Part.PEERS, Part.ALL])
def test_the_builder_runs_in_fixed_queries_whatever_the_number_of_metrics(world, django_assert_num_queries, parts):
    framework, home = world["framework"], world["home"]
    few = list(Metric.objects.filter(code__in=["OFF01", "FAIR01"]).prefetch_related("rebases"))
    many = list(Metric.objects.prefetch_related("rebases"))
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from accounts.partnerships import default_partnership
    from accounts.tenancy import partnership_scope

    # In a partnership's scope, as every page, command and task runs (outside one, the default partnership is
    # looked up once when a measure has rebases to keep: a query more for ``many`` than for ``few``).
    with partnership_scope(default_partnership()):
        with CaptureQueriesContext(connection) as small:
            build_evidence(framework=framework, area=home, metrics=few, parts=parts)
        with django_assert_num_queries(len(small)):
            build_evidence(framework=framework, area=home, metrics=many, parts=parts)
    assert Area.objects.exists()

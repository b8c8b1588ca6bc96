"""Statistics a board can act on, through the evidence builder and the pages, on the demo's real published
figures and their traps: a recording collapse withholds ratios, a gap breaks the moving range, a long series
with a step gets a suggested rebase, an old measure is greyed and not counted, a count is not ranked."""

import csv
import datetime as dt
import io

import pytest
from django.urls import reverse

from accounts.models import Agency
from frameworks.models import Area, Breakdown, Framework
from metrics.catalogue.load import framework_load
from metrics.imports.commit import import_file
from metrics.models import Metric
from reports.dashboards.selectors import overview
from reports.evidence.build import metric_evidence

from ..conftest import FIXTURES
from ..factories import UserFactory

pytestmark = pytest.mark.slow  # loads the demo framework and twelve years of real figures

METRICS = {"OFF01", "OFF02", "FAIR01", "EFF05"}


def _rows(name: str, areas: set[str]) -> bytes:
    with (FIXTURES / "demo" / name).open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=reader.fieldnames or [])
        writer.writeheader()
        for row in reader:
            if row["metric"] in METRICS and row["area"] in areas and row["period"] <= "2024-03-31":
                writer.writerow(row)
    return out.getvalue().encode()


@pytest.fixture
def world(db):
    framework_load(text=(FIXTURES / "demo_framework.yaml").read_text(encoding="utf-8"))
    framework = Framework.objects.get(code="lcjb-demo")
    areas = {"staffordshire", "derbyshire", "nottinghamshire", "west-mercia", "warwickshire", "england-wales"}
    for agency, name in [("police", "police.csv"), ("cps", "cps.csv")]:
        summary = import_file(content=_rows(name, areas), filename=name, agency=Agency.objects.get(code=agency))
        assert summary.accepted, summary.as_text()
    # The demo's framework file declares ethnicity's "not stated" category (CONTRACT: not_recorded): the stop
    # and search total counts every search, recorded or not, so the recorded share can be worked out.
    assert Breakdown.objects.get(code="ethnicity").not_recorded.code == "not-stated"
    return {"framework": framework, "home": Area.objects.get(code="staffordshire")}


def _evidence(world, code, period):
    return metric_evidence(
        framework=world["framework"],
        metric=Metric.objects.prefetch_related("rebases").get(code=code),
        area=world["home"],
        period=period,
    )


def test_a_recording_collapse_withholds_ratios(world, client):
    """Staffordshire 2023/24 Q4: ethnicity recorded for 39 of 1,416 searches (2.8%). The 7 and 27 searches
    would give Black people 19.5 times the rate of White people; the tool withholds it and says why. In
    2022/23 Q1 (92% recorded) the same calculation gives 2.9, and it is shown."""
    collapsed = _evidence(world, "FAIR01", dt.date(2024, 3, 31))
    (fair,) = collapsed.fairness
    assert fair.period == dt.date(2024, 3, 31)
    assert fair.recorded_share == pytest.approx(39 / 1416)
    assert fair.withheld == "ethnicity recorded for 3% of records; 80% needed"
    assert all(g.ratio is None for g in fair.groups)
    assert "withheld" in collapsed.finding
    recorded = _evidence(world, "FAIR01", dt.date(2022, 6, 30))
    (fair,) = recorded.fairness
    assert fair.recorded_share == pytest.approx(796 / 866)
    assert fair.withheld is None
    black = next(g for g in fair.groups if g.category == "black")
    assert black.ratio == pytest.approx((25 / 13780) / (652 / 1035933))
    assert round(black.ratio, 1) == 2.9
    # The trend shows the collapse: eight quarters of recorded share beside the ratios.
    (collapsed_fair,) = collapsed.fairness
    trend = collapsed_fair.trend_rows()
    assert [label for label, *_ in trend] == [
        "2022/23 Q1", "2022/23 Q2", "2022/23 Q3", "2022/23 Q4", "2023/24 Q1", "2023/24 Q2", "2023/24 Q3", "2023/24 Q4",
    ]  # fmt: skip
    assert trend[0][1] == pytest.approx(796 / 866) and trend[0][2] is None
    assert trend[-1][2] == "ethnicity recorded for 3% of records; 80% needed"
    client.force_login(UserFactory(username="board", role="board_member"))
    page = client.get(reverse("dashboard-fairness"), {"quarter": "2024-03-31"}).content.decode()
    assert "Ratios withheld:" in page and "ethnicity recorded for 3% of records; 80% needed" in page
    assert "The last 8 quarters" in page and '<td class="num">92%</td>' in page
    api = client.get(
        reverse("api-disproportionality"),
        {"metric": "FAIR01", "area": "staffordshire", "period": "2024-03-31", "breakdown": "ethnicity"},
    ).json()
    assert api["withheld"] == "ethnicity recorded for 3% of records; 80% needed"
    assert api["recorded_share"] == pytest.approx(39 / 1416)
    assert api["min_recorded"] == 0.8
    assert all(g["ratio"] is None for g in api["groups"])


def test_a_gap_breaks_the_moving_range(world, client):
    """CPS conviction rates for Staffordshire have no figure for 2015/16 Q3–Q4 (a month missing from the
    source): the point after the gap has no moving range, the chart's line breaks, and the text says so."""
    evidence = _evidence(world, "EFF05", dt.date(2018, 3, 31))
    assert dt.date(2015, 12, 31) in evidence.missing_quarters
    after = next(p for p in evidence.spc.points if p.period > dt.date(2016, 3, 31))
    assert after.after_gap
    figure = evidence.xmr_figure()
    trace = figure.data[0]
    gap_index = [str(x)[:10] for x in trace.x].index("2015-12-31")  # dates, or their ISO text in a plain figure
    assert trace.y[gap_index] is None
    # One "missing" label per run of missing quarters (2015/16 Q3–Q4 together, 2017/18 Q1 alone): side by side
    # they overlapped on a phone.
    assert evidence.missing_quarters == [dt.date(2015, 12, 31), dt.date(2016, 3, 31), dt.date(2017, 6, 30)]
    assert sum(1 for a in figure.layout.annotations if a.text == "missing") == 2
    assert "missing" in evidence.finding and "2015/16 Q3" in evidence.chart_text
    client.force_login(UserFactory(username="board", role="board_member"))
    api = client.get(reverse("api-series"), {"metric": "EFF05", "area": "staffordshire"}).json()
    flagged = [p["period"] for p in api["points"] if p["after_gap"]]
    assert after.period.isoformat() in flagged


def test_a_step_gets_a_suggested_rebase_on_the_metric_page(world, client):
    """Staffordshire's recorded crime rose to a new level from 2022/23 Q1: one set of limits over twelve
    years flags most quarters; the tool proposes a rebase there and leaves the decision to the manager."""
    evidence = _evidence(world, "OFF01", dt.date(2024, 3, 31))
    assert [s.period for s in evidence.suggested_rebases] == [dt.date(2022, 6, 30)]
    manager = UserFactory(username="manager", role="performance_manager")
    client.force_login(manager)
    page = client.get(reverse("dashboard-metric", args=["OFF01"])).content.decode()
    assert "The process seems to have changed in 2022/23 Q1 — rebase?" in page
    # Every figure names its source: publisher, publication and the period it covers.
    assert "Home Office, <cite>Police recorded crime open data tables" in page and "2012/13 Q1 to 2023/24 Q4" in page
    api = client.get(reverse("api-series"), {"metric": "OFF01", "area": "staffordshire"}).json()
    assert api["suggested_rebases"][0]["period"] == "2022-06-30"
    # The manager records it from the page, with a reason: audited, written back to the framework file.
    version = world["framework"].version
    response = client.post(
        reverse("metric-rebase", args=["OFF01"]),
        {"period": "2022-06-30", "reason": "Crime recording review from April 2022", "area": "staffordshire"},
    )
    assert response.status_code == 302
    from accounts.models import AuditEvent
    from metrics.catalogue.export import framework_export

    assert AuditEvent.objects.filter(action="rebase.recorded", metric_code="OFF01").count() == 1
    world["framework"].refresh_from_db()
    assert world["framework"].version == version + 1
    assert "Crime recording review from April 2022" in framework_export(code="lcjb-demo")
    after = _evidence(world, "OFF01", dt.date(2024, 3, 31))
    assert after.suggested_rebases == [] and len(after.spc.segments) == 2
    board = UserFactory(username="board", role="board_member")
    client.force_login(board)
    refused = client.post(reverse("metric-rebase", args=["OFF01"]), {"period": "2023-06-30", "reason": "x"})
    assert refused.status_code == 403


def test_an_old_measure_is_greyed_and_not_counted(world, client):
    """CPS outcomes end in 2017/18 Q4: at 2023/24 Q4 the figure is six years old. It is shown as "latest
    available", not judged, not ranked and not counted among improvements or concerns."""
    data = overview(framework=world["framework"], area=world["home"], period=dt.date(2024, 3, 31))
    cps = next(t for t in data.tiles if t.metric.code == "EFF05")
    assert cps.stale and cps.verdict == "stale"
    assert cps.stale_text == "latest available: 2017/18 Q4"
    assert cps.comparison is None or cps.comparison.rank is None
    assert "2017/18 Q4" in cps.finding and "not judged or ranked" in cps.finding
    counted = sum(data.summary[k] for k in ("improvement", "concern", "neutral", "common_cause"))
    assert data.summary["stale"] >= 1
    assert counted + data.summary["stale"] + data.summary["no_data"] == len(data.tiles)
    client.force_login(UserFactory(username="board", role="board_member"))
    page = client.get(reverse("dashboard"), {"quarter": "2024-03-31"}).content.decode()
    assert "latest available: 2017/18 Q4" in page and 'class="tile v-stale"' in page
    metric_page = client.get(reverse("dashboard-metric", args=["EFF05"]), {"quarter": "2024-03-31"}).content.decode()
    assert cps.stale_notice == (
        "Latest available: 2017/18 Q4, 24 quarters before 2023/24 Q4. It is shown for reference and is not judged "
        "or ranked."
    )
    assert cps.stale_notice in metric_page


def test_a_count_is_not_ranked_but_a_rate_is(world):
    count = _evidence(world, "OFF01", dt.date(2024, 3, 31))
    rate = _evidence(world, "OFF02", dt.date(2024, 3, 31))
    assert count.comparison is not None and count.comparison.rank is None
    assert "not ranked" in count.peer_text
    assert rate.comparison is not None and rate.comparison.rank is not None
    assert "of 5 in its peer group" in rate.peer_text or "in its peer group" in rate.peer_text

"""The demo: real published figures, loaded through the same pipeline as everyone's data."""

import csv
import io
import subprocess
import sys

import pytest
from django.core.management import call_command
from django.urls import reverse
from openpyxl import load_workbook

from accounts.models import User
from frameworks.models import Framework
from metrics.models import Metric, Observation

from ..conftest import FIXTURES

SHARED = FIXTURES.parent.parent / "shared" / "data" / "published"


@pytest.mark.slow
@pytest.mark.django_db
def test_seed_demo_loads_real_figures_and_is_idempotent(client):
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    count = Observation.objects.count()
    assert count >= 10_000, out.getvalue()
    assert Observation.objects.filter(area__code="staffordshire").count() > 900
    # Real values: Staffordshire police recorded crime (excluding fraud), 2023/24 Q1 and Q3.
    assert (
        Observation.objects.get(
            metric__code="OFF01", area__code="staffordshire", period="2023-06-30", category=None
        ).value
        == 23285
    )
    assert (
        Observation.objects.get(
            metric__code="OFF01", area__code="staffordshire", period="2023-12-31", category=None
        ).value
        == 20329
    )
    # Measures no public source publishes by area are filled with illustrative figures, flagged as such.
    vw01 = Metric.objects.get(code="VW01").observations.all()
    assert vw01.exists() and all(o.illustrative for o in vw01)
    assert not Observation.objects.filter(metric__code="OFF01", area__code="staffordshire", illustrative=True).exists()
    # ... and the local recorded crime series, which no public source publishes by district over time
    local = Observation.objects.filter(metric__code="OFF01", area__parent__parent__code="staffordshire")
    assert local.exists() and all(o.illustrative for o in local)
    assert {u.username: u.role for u in User.objects.all() if u.is_active} == {
        "manager": "performance_manager",
        "board": "board_member",
        "analyst": "analyst",
        "cps-analyst": "analyst",
        "courts-analyst": "analyst",
        "probation-analyst": "analyst",
        "victims-analyst": "analyst",
        "regional": "board_member",
    }
    assert all(u.email.endswith("@demo.pcc-perf.example") for u in User.objects.filter(is_active=True))

    region_before = _region_state()

    again = io.StringIO()
    call_command("seed_demo", stdout=again)
    assert _region_state() == region_before  # the second partnership is idempotent too
    assert "lcjb-west-mercia-demo: 0 created, 0 updated" in again.getvalue()
    assert Observation.objects.count() == count
    assert "Observations created: 0" in again.getvalue()
    assert "0 created, 0 updated" in again.getvalue()
    assert Framework.objects.in_scope().get().version == 1

    assert client.login(username="board", password="demo-pass-2024")
    html = client.get(reverse("home")).content.decode()
    assert "Staffordshire" in html and "Police recorded crime (excluding fraud)" in html
    assert "21,212" in html and "2023/24 Q4" in html  # OFF01, the latest quarter in the source
    assert "(England and Wales)" in html  # national-only metrics show the national figure, labelled
    _the_region_side_by_side(client)


def _region_state():
    from accounts.models import AuditEvent, Membership, Partnership
    from reports.models import Snapshot

    return (
        sorted(Partnership.objects.values_list("code", "name", "region", "shares_published_with_region")),
        sorted(Framework.objects.values_list("partnership__code", "code", "version")),
        sorted(Snapshot.objects.values_list("framework__code", "period", "number", "observation_count")),
        sorted(Membership.objects.values_list("partnership__code", "user__username", "role")),
        AuditEvent.objects.filter(action="partnership.sharing_changed").count(),
    )


def _the_region_side_by_side(client):
    """Two partnerships of the West Midlands on the same shared published data: Staffordshire (the default
    partnership, the demo as it always was) and West Mercia, both sharing; ``regional`` is a board member of both."""
    from accounts.models import Membership, Partnership
    from accounts.partnerships import default_partnership
    from reports.models import Snapshot

    ours, theirs = default_partnership(), Partnership.objects.get(code="west-mercia")
    assert (ours.name, ours.region, ours.shares_published_with_region) == (
        "Staffordshire LCJB (demo)",
        "West Midlands",
        True,
    )
    assert (theirs.region, theirs.shares_published_with_region) == ("West Midlands", True)
    neighbour = Framework.objects.in_scope(theirs).get()
    assert neighbour.home_area.code == "west-mercia"
    codes = set(neighbour.placements.values_list("metric__code", flat=True))
    assert {"OFF01", "OFF02", "VW06"} <= codes and "VW01" not in codes  # shared official statistics only
    assert Snapshot.objects.in_scope(theirs).exists()
    assert sorted(Membership.objects.filter(user__username="regional").values_list("partnership__code", "role")) == [
        ("default", "board_member"),
        ("west-mercia", "board_member"),
    ]
    assert client.login(username="regional", password="demo-pass-2024")
    html = client.get(reverse("regional")).content.decode()
    assert "Staffordshire LCJB (demo) (yours)" in html and "West Mercia LCJB (demo)" in html
    assert "21,212" in html and "19,545" in html  # OFF01, 2023/24 Q4: Staffordshire and West Mercia
    assert '<option value="west-mercia">West Mercia LCJB (demo)</option>' in html  # the switcher
    html = client.get(reverse("regional"), {"partnership": "west-mercia"}).content.decode()
    assert "West Mercia LCJB (demo) (yours)" in html and "21,212" in html


def _rows(path):
    if path.suffix == ".xlsx":
        wb = load_workbook(path, read_only=True)
        rows = [["" if c is None else str(c) for c in row] for row in wb["data"].iter_rows(values_only=True)]
        wb.close()
        return rows
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.reader(fh))


@pytest.mark.slow
@pytest.mark.skipif(not SHARED.exists(), reason="needs ../shared/data/published beside the project")
def test_fixtures_are_what_the_extract_script_makes(tmp_path):
    subprocess.run(
        [sys.executable, "scripts/extract_demo_data.py", "--published", str(SHARED), "--out", str(tmp_path)],
        check=True,
        cwd=FIXTURES.parent,
        capture_output=True,
    )
    for committed in sorted((FIXTURES / "demo").iterdir()):
        assert _rows(tmp_path / committed.name) == _rows(committed), committed.name
        # byte for byte: `make demo-data` on a clean clone changes nothing to commit
        assert (tmp_path / committed.name).read_bytes() == committed.read_bytes(), committed.name


@pytest.mark.slow
@pytest.mark.django_db
def test_the_demo_is_read_as_at_one_quarter_with_every_priority_filled(client):
    """The issue's promise to a newcomer: one coherent quarter, at least three current measures in every
    priority, at most two measures without figures, every figure sourced or labelled illustrative, and a
    quarter's work in progress (snapshot, draft report, an open round due in the future)."""
    import datetime as dt

    from django.utils import timezone

    from metrics.models import CollectionRound, Return
    from reports.dashboards.selectors import overview
    from reports.evidence.sources import LIVE
    from reports.management.commands.seed_demo import DEMO_QUARTER
    from reports.models import Report, Snapshot

    call_command("seed_demo", stdout=io.StringIO())
    framework = Framework.objects.in_scope().get()  # the default partnership's (the neighbour has its own)
    # Approved data stops at the demo's quarter: the pages default to it.
    assert Observation.objects.order_by("-period").values_list("period", flat=True).first() == DEMO_QUARTER.end_date
    data = overview(framework=framework, area=framework.home_area, source=LIVE)
    assert data.period == DEMO_QUARTER.end_date

    no_figures = []
    for priority, tiles in data.priorities:
        current = [t for t in tiles if t.has_figures and not t.stale]
        assert len(current) >= 3, (priority.name, [t.metric.code for t in current])
        no_figures += [t.metric.code for t in tiles if not t.has_figures]
        for tile in [t for t in tiles if t.has_figures]:
            # every figure traces to a published source named in the framework, or is labelled illustrative
            assert tile.metric.source.get("publisher") and tile.metric.source.get("title"), tile.metric.code
            if tile.illustrative:
                assert "illustrative" in tile.metric.source.get("period", "").lower(), tile.metric.code
                assert tile.finding.startswith("Illustrative figures"), tile.metric.code
    assert len(no_figures) <= 2, no_figures

    snapshot = Snapshot.objects.in_scope().get(period=DEMO_QUARTER.end_date)
    assert Report.objects.get(snapshot=snapshot).state == "draft"
    round_ = CollectionRound.objects.in_scope().get()
    assert round_.period == DEMO_QUARTER.shift(1).end_date
    assert round_.due_date > timezone.localdate()
    states = dict(Return.objects.filter(round=round_).values_list("agency__code", "state"))
    assert states["victim-services"] == "submitted" and states["probation"] == "returned"
    assert Return.objects.get(round=round_, agency__code="police").values.filter(metric__code="FAIR02").exists()

    # The tracker suggests the quarter after the open round, due in the future.
    assert client.login(username="manager", password="demo-pass-2024")
    html = client.get(reverse("returns")).content.decode()
    assert DEMO_QUARTER.shift(2).label in html
    assert (timezone.localdate() + dt.timedelta(days=14)).isoformat() in html

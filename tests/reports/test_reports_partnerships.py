"""Snapshots, reports, board packs and their evidence, with two partnerships on one installation (issue 18):
each partnership lists and reads only its own; another partnership's id is a 404 on every page and action
(never its data); public pages under a partnership's path show only its published reports; a snapshot, a
report's evidence and a pack hold the partnership's own data, rebases and annotations only; publish_snapshot
and the pack task work inside the partnership."""

import datetime as dt

import pytest
from django.urls import reverse

from accounts.models import Membership, Partnership, Role
from accounts.tenancy import current_partnership, partnership_scope
from frameworks.models import Area, AreaType, Framework, Priority
from metrics.models import FrameworkMetric, Metric, Rebase
from reports.evidence.build import snapshot_evidence
from reports.evidence.items import Part
from reports.models import Annotation, BoardPack, PackState, Report, Snapshot, SnapshotObservation
from reports.narrative.services import report_create
from reports.packs.build import build_pack_html
from reports.snapshots.services import readiness, snapshot_publish

from ..factories import ObservationFactory, UserFactory
from ..metrics.returns_setup import PERIOD
from .test_partnership_option import call
from .test_reporting import publish_report, published  # noqa: F401

pytestmark = pytest.mark.django_db

WM_QUARTERS = [dt.date(2023, 9, 30), dt.date(2023, 12, 31), dt.date(2024, 3, 31), dt.date(2024, 6, 30)]


@pytest.fixture
def two(published):  # noqa: F811
    """The default partnership (the returns tests' framework, a published snapshot, report and pack) and West
    Mercia: its own framework, measure (WM01) and figures, the shared OFF01 placed too, its own rebase and
    note on OFF01, its snapshot, report and pack; a performance manager in each."""
    a = {**published}
    default = current_partnership()
    a["report"] = publish_report(a)
    a["pack"] = BoardPack.objects.create(report=a["report"], state=PackState.READY, pdf=b"%PDF-A", sha256="a")
    a["public_pack"] = BoardPack.objects.create(
        report=a["report"], public=True, state=PackState.READY, pdf=b"%PDF-A-public", sha256="ap"
    )
    # The default partnership's own measure (not shared), its rebase and note on the shared OFF01.
    own = Metric.objects.create(
        code="A01", name="Default-only measure", partnership=default, agency=a["police"], unit="count",
        direction="lower_is_better", source_type="management_information",
    )  # fmt: skip
    ObservationFactory(metric=own, area=a["framework"].home_area, period=PERIOD, value=11)
    off01 = Metric.objects.get(code="OFF01")
    Rebase.objects.create(metric=off01, period=dt.date(2023, 12, 31), reason="Default's rebase", partnership=default)
    Annotation.objects.create(metric=off01, period=PERIOD, text="Default's note", partnership=default)

    west = Partnership.objects.create(code="west-mercia", name="West Mercia LCJB")
    area = Area.objects.create(code="west-mercia", name="West Mercia", type=AreaType.POLICE_FORCE_AREA)
    framework = Framework.objects.create(code="wm", name="West Mercia framework", home_area=area, partnership=west)
    priority = Priority.objects.create(framework=framework, code="courts", name="Courts", order=1)
    wm01 = Metric.objects.create(
        code="WM01", name="West Mercia court timeliness", partnership=west, agency=a["police"], unit="count",
        direction="lower_is_better", source_type="management_information",
    )  # fmt: skip
    FrameworkMetric.objects.create(framework=framework, priority=priority, metric=wm01, order=1)
    FrameworkMetric.objects.create(framework=framework, priority=priority, metric=off01, order=2)
    for i, quarter in enumerate(WM_QUARTERS):
        ObservationFactory(metric=wm01, area=area, period=quarter, value=400 + i)
        ObservationFactory(metric=off01, area=area, period=quarter, value=9000 + i)
    manager = UserFactory(username="wm-manager", role="")
    Membership.objects.create(partnership=west, user=manager, role=Role.PERFORMANCE_MANAGER)
    with partnership_scope(west):
        Rebase.objects.create(metric=off01, period=dt.date(2024, 3, 31), reason="West Mercia's rebase")
        Annotation.objects.create(metric=off01, period=PERIOD, text="West Mercia's note")
        snapshot = snapshot_publish(actor=manager, framework=framework, period=PERIOD, reason="No round yet")
        report = report_create(actor=manager, snapshot=snapshot)
    b = {"partnership": west, "framework": framework, "manager": manager, "snapshot": snapshot, "report": report}
    b["pack"] = BoardPack.objects.create(report=report, state=PackState.READY, pdf=b"%PDF-B", sha256="b")
    return a, b


def logged_in(client, user):
    client.force_login(user)
    return client


def test_a_snapshot_holds_only_its_partnerships_data_and_is_numbered_within_its_framework(two):
    a, b = two
    assert a["snapshot"].number == b["snapshot"].number == 1  # the same quarter, each framework's first
    codes = set(SnapshotObservation.objects.filter(snapshot=b["snapshot"]).values_list("metric__code", flat=True))
    assert codes == {
        "WM01",
        "OFF01",
    }  # its own measure and the shared official statistic; not the default's A01 or FAIR03
    assert [n["text"] for n in b["snapshot"].annotations] == ["West Mercia's note"]
    assert "West Mercia's rebase" in b["snapshot"].framework_file
    # (Its framework file's rebases are framework_export's: metrics/catalogue, scoped there, not here.)
    again = snapshot_publish(actor=a["manager"], framework=a["framework"], period=PERIOD, reason="Again")
    assert again.number == 2
    codes = set(SnapshotObservation.objects.filter(snapshot=again).values_list("metric__code", flat=True))
    assert "A01" in codes and "WM01" not in codes
    assert [n["text"] for n in again.annotations] == ["Default's note"]


def test_readiness_counts_only_the_partnerships_returns(two):
    a, b = two
    from ..metrics.returns_setup import open_round

    open_round(a)
    assert len(readiness(period=PERIOD).returns) == 2
    with partnership_scope(b["partnership"]):
        assert readiness(period=PERIOD).returns == []


def test_live_and_published_evidence_use_the_partnerships_rebases_and_notes(two):
    a, b = two
    with partnership_scope(b["partnership"]):
        evidence = {e.metric.code: e for e in snapshot_evidence(snapshot=b["snapshot"], parts=Part.ALL)}
        assert set(evidence) == {"WM01", "OFF01"}
        assert [n.text for n in evidence["OFF01"].annotations] == ["West Mercia's note"]
        from reports.evidence.build import build_evidence

        live = {
            e.metric.code: e
            for e in build_evidence(framework=b["framework"], area=b["framework"].home_area, parts=Part.ALL)
        }
        assert [n.text for n in live["OFF01"].annotations] == ["West Mercia's note"]
        assert [s.start for s in live["OFF01"].spc.segments][1:] == [dt.date(2024, 3, 31)]
    evidence = {e.metric.code: e for e in snapshot_evidence(snapshot=a["snapshot"], parts=Part.ALL)}
    assert "WM01" not in evidence


def test_a_pack_built_for_a_partnership_holds_only_its_data(two):
    _a, b = two
    with partnership_scope(b["partnership"]):
        html = build_pack_html(report=b["report"], public=False, use_browser=False)
    html = html.replace("&#x27;", "'")
    assert "West Mercia court timeliness" in html and "West Mercia's note" in html
    assert "Default-only measure" not in html and "Default's note" not in html
    assert "Prison population" not in html  # the default framework's measures


def test_the_pack_task_builds_inside_the_packs_partnership(two, monkeypatch):
    _a, b = two
    seen = []

    def build_pack_files(*, report, public, progress=None):
        seen.append((current_partnership().code, report.pk))
        return b"%PDF-built", None, False

    monkeypatch.setattr("reports.packs.build.build_pack_files", build_pack_files)
    pack = BoardPack.objects.create(report=b["report"])
    from reports.tasks import build_pack_task

    build_pack_task.enqueue(pack.pk)
    assert seen == [("west-mercia", b["report"].pk)]
    pack.refresh_from_db()
    assert pack.state == PackState.READY


def test_each_partnership_lists_only_its_own(two, client):
    a, b = two
    c = logged_in(client, a["manager"])
    page = c.get(reverse("snapshots")).content.decode()
    assert reverse("snapshot-detail", args=[a["snapshot"].pk]) in page
    assert reverse("snapshot-detail", args=[b["snapshot"].pk]) not in page
    page = c.get(reverse("reports")).content.decode()
    assert a["report"].title in page and b["report"].title not in page
    c = logged_in(client, b["manager"])
    page = c.get(reverse("snapshots")).content.decode()
    assert reverse("snapshot-detail", args=[b["snapshot"].pk]) in page
    assert reverse("snapshot-detail", args=[a["snapshot"].pk]) not in page
    page = c.get(reverse("reports")).content.decode()
    assert b["report"].title in page and a["report"].title not in page


def other_urls(s):
    """Every snapshot, report and pack URL of ``s``'s rows, GET and POST."""
    report, pack, snapshot = s["report"].pk, s["pack"].pk, s["snapshot"].pk
    gets = [
        reverse("snapshot-detail", args=[snapshot]),
        reverse("report-detail", args=[report]),
        reverse("report-edit", args=[report]),
        reverse("report-public-preview", args=[report]),
        reverse("pack-detail", args=[pack]),
        reverse("pack-progress", args=[pack]),
        reverse("pack-download", args=[pack]),
        reverse("pack-download-docx", args=[pack]),
    ]
    posts = [
        (reverse("report-new"), {"snapshot": snapshot}),
        (reverse("report-edit", args=[report]), {"version": 0, "summary": "Overwritten"}),
        (reverse("report-action", args=[report, "review"]), {}),
        (reverse("report-action", args=[report, "publish"]), {}),
        (reverse("report-action", args=[report, "draft"]), {}),
        (reverse("pack-start", args=[report]), {"edition": "board"}),
        (reverse("pack-retry", args=[pack]), {}),
    ]
    return gets, posts


@pytest.mark.parametrize("side", ["default", "west-mercia"])
def test_the_other_partnerships_ids_are_not_found(two, client, side, django_capture_on_commit_callbacks):
    a, b = two
    me, them = (a, b) if side == "default" else (b, a)
    c = logged_in(client, me["manager"])
    gets, posts = other_urls(them)
    before = (them["report"].version, them["report"].state, Report.objects.count(), BoardPack.objects.count())
    for url in gets:
        assert c.get(url).status_code == 404, url
    with django_capture_on_commit_callbacks(execute=False) as queued:
        for url, data in posts:
            assert c.post(url, data).status_code == 404, url
    assert queued == []
    # Nothing changed: no report made or edited, no state moved, no pack asked for.
    them["report"].refresh_from_db()
    after = (them["report"].version, them["report"].state, Report.objects.count(), BoardPack.objects.count())
    assert after == before
    # Their own rows read as before.
    assert c.get(reverse("snapshot-detail", args=[me["snapshot"].pk])).status_code == 200
    assert c.get(reverse("report-detail", args=[me["report"].pk])).status_code == 200
    assert c.get(reverse("pack-download", args=[me["pack"].pk])).status_code == 200


def test_a_user_of_both_switches_between_them(two, client):
    a, b = two
    Membership.objects.create(partnership=b["partnership"], user=a["manager"], role=Role.PERFORMANCE_MANAGER)
    c = logged_in(client, a["manager"])
    assert c.get(reverse("report-detail", args=[b["report"].pk])).status_code == 404
    url = reverse("report-detail", args=[b["report"].pk]) + "?partnership=west-mercia"
    assert c.get(url).status_code == 200
    assert c.get(reverse("report-detail", args=[a["report"].pk])).status_code == 404  # remembered: West Mercia's
    assert c.get(reverse("report-detail", args=[a["report"].pk]) + "?partnership=default").status_code == 200


def test_snapshot_publishing_on_the_web_numbers_within_the_partnerships_framework(two, client):
    a, b = two
    c = logged_in(client, b["manager"])
    response = c.post(reverse("snapshot-create"), {"quarter": "2024-06-30", "reason": "Late data"})
    snapshot = Snapshot.objects.order_by("-pk").first()
    assert response.status_code == 302 and response.url == reverse("snapshot-detail", args=[snapshot.pk])
    assert snapshot.framework == b["framework"] and snapshot.number == 2
    assert Snapshot.objects.filter(framework=a["framework"]).count() == 1


def test_public_pages_under_each_partnerships_path_show_only_its_published_reports(two, client):
    a, b = two
    with partnership_scope(b["partnership"]):
        from reports.models import ReportState
        from reports.narrative.services import report_transition

        report_transition(actor=b["manager"], report=b["report"], to=ReportState.IN_REVIEW)
        report_transition(actor=b["manager"], report=b["report"], to=ReportState.PUBLISHED)
    b["public_pack"] = BoardPack.objects.create(
        report=b["report"], public=True, state=PackState.READY, pdf=b"%PDF-B-public", sha256="bp"
    )
    west = client.get(reverse("partnership-public-reports", args=["west-mercia"])).content.decode()
    assert b["report"].title in west and a["report"].title not in west
    assert reverse("partnership-public-report", args=["west-mercia", b["report"].pk]) in west
    assert "West Mercia LCJB" in west
    default = client.get(reverse("partnership-public-reports", args=["default"])).content.decode()
    assert a["report"].title in default and b["report"].title not in default
    old = client.get(reverse("public-reports")).content.decode()  # the first, unnamed path: the default's
    assert a["report"].title in old and b["report"].title not in old
    assert reverse("public-report", args=[a["report"].pk]) in old

    page = client.get(reverse("partnership-public-report", args=["west-mercia", b["report"].pk]))
    assert page.status_code == 200
    assert reverse("partnership-public-pack", args=["west-mercia", b["report"].pk]) in page.content.decode()
    pdf = client.get(reverse("partnership-public-pack", args=["west-mercia", b["report"].pk]))
    assert pdf.status_code == 200 and pdf.content == b"%PDF-B-public"
    assert client.get(reverse("public-report", args=[a["report"].pk])).status_code == 200
    assert client.get(reverse("public-pack", args=[a["report"].pk])).content == b"%PDF-A-public"
    # Another partnership's report under this path (or the unnamed one) is not found.
    for url in (
        reverse("partnership-public-report", args=["west-mercia", a["report"].pk]),
        reverse("partnership-public-pack", args=["west-mercia", a["report"].pk]),
        reverse("partnership-public-report", args=["default", b["report"].pk]),
        reverse("public-report", args=[b["report"].pk]),
        reverse("public-pack", args=[b["report"].pk]),
        reverse("partnership-public-reports", args=["nowhere"]),
    ):
        assert client.get(url).status_code == 404, url
    # A West Mercia user on the unnamed path still sees the default partnership's public reports.
    c = logged_in(client, b["manager"])
    old = c.get(reverse("public-reports")).content.decode()
    assert a["report"].title in old and b["report"].title not in old


def test_publish_snapshot_command_publishes_the_named_partnerships_only(two):
    a, b = two
    before = {
        p: Snapshot.objects.filter(framework=f).count() for p, f in (("a", a["framework"]), ("b", b["framework"]))
    }
    code, out, _ = call(
        "publish_snapshot", "--quarter", "2024-06-30", "--reason", "Late", "--partnership", "west-mercia"
    )
    assert code == 0
    snapshot = Snapshot.objects.get(pk=int(out.strip().splitlines()[-1]))
    assert snapshot.framework == b["framework"] and snapshot.number == 2
    assert "Police" not in out  # readiness: West Mercia has no round, so no returns listed (the default's not)
    assert Snapshot.objects.filter(framework=a["framework"]).count() == before["a"]
    codes = set(SnapshotObservation.objects.filter(snapshot=snapshot).values_list("metric__code", flat=True))
    assert codes == {"WM01", "OFF01"}
    from accounts.models import AuditEvent

    event = AuditEvent.objects.filter(action="snapshot.published").order_by("-pk").first()
    assert event.partnership_id == b["partnership"].pk


def test_build_board_pack_command_refuses_the_other_partnerships_snapshot(two, tmp_path):
    a, _b = two
    code, _, err = call(
        "build_board_pack", "--snapshot", str(a["snapshot"].pk), "--out", str(tmp_path / "x.pdf"),
        "--partnership", "west-mercia",
    )  # fmt: skip
    assert code != 0 and "unknown snapshot" in err


def test_publishing_needs_the_role_in_the_frameworks_partnership(two):
    from django.core.exceptions import PermissionDenied

    a, b = two
    with pytest.raises(PermissionDenied):  # the default's manager has no role in West Mercia
        snapshot_publish(actor=a["manager"], framework=b["framework"], period=PERIOD, reason="Not mine")
    assert Snapshot.objects.filter(framework=b["framework"]).count() == 1


def test_the_apis_metric_definitions_carry_the_partnerships_rebases_only(two):
    from reports.api.base import get_metric
    from reports.evidence.build import metric_rebases

    _a, b = two
    with partnership_scope(b["partnership"]):
        assert [r.reason for r in metric_rebases(get_metric("OFF01"))] == ["West Mercia's rebase"]
    assert [r.reason for r in metric_rebases(get_metric("OFF01"))] == ["Default's rebase"]  # outside: the default's

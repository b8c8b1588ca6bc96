"""The home page is each role's work queue: every item a link, counts in the navigation, fixed queries."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from metrics.models import ReturnState
from metrics.returns.selectors import analyst_queue
from metrics.returns.services import return_send_back, return_submit
from reports.models import BoardPack, PackState, ReportState
from reports.narrative.services import report_create, report_transition
from reports.snapshots.services import snapshot_publish

from ..clock import pin_today
from ..metrics.returns_setup import GOOD, HEADER, approved_history, open_round

TODAY = timezone.localdate()


@pytest.fixture(autouse=True)
def _clock_on_today(monkeypatch):
    pin_today(monkeypatch, TODAY)


P0, P1, P2 = dt.date(2024, 3, 31), dt.date(2024, 6, 30), dt.date(2024, 9, 30)
HMPPS = (
    HEADER
    + "OFF05,england-wales,2024-06-30,,,87000,,,provisional,\n"
    + "OFF06,england-wales,2024-06-30,,,16000,,,provisional,\n"
)
# 2024/25 Q2 with ethnicity recorded for 27% of records: under the framework's 50% warning.
LOW_RECORDED = HEADER + "FAIR03,staffordshire,2024-09-30,,,,400,1455,provisional,\n"


def upload(s, return_obj, text, who="analyst"):
    from metrics.returns.uploads import upload_confirm, upload_create

    actor = s[who]
    up = upload_create(actor=actor, return_obj=return_obj, filename="return.csv", content=text.encode())
    return upload_confirm(actor=actor, upload=up)


def world(s):
    """2023/24 Q4 overdue for everyone; 2024/25 Q1: police returned for correction, HMPPS awaiting approval;
    2024/25 Q2 due in 40 days, police's draft with a warning awaiting a comment."""
    late = open_round(s, period=P0, due=dt.date(2024, 5, 15))
    q1 = open_round(s, period=P1, due=TODAY + dt.timedelta(days=5))
    q2 = open_round(s, period=P2, due=TODAY + dt.timedelta(days=40))
    police_q1 = q1.returns.get(agency=s["police"])
    upload(s, police_q1, GOOD)
    return_submit(actor=s["analyst"], return_obj=police_q1)
    return_send_back(actor=s["manager"], return_obj=police_q1, reason="Robbery looks doubled: check the Q1 extract.")
    hmpps_q1 = q1.returns.get(agency=s["hmpps"])
    upload(s, hmpps_q1, HMPPS, who="hmpps_analyst")
    return_submit(actor=s["hmpps_analyst"], return_obj=hmpps_q1)
    upload(s, q2.returns.get(agency=s["police"]), LOW_RECORDED)
    return {"late": late, "q1": q1, "q2": q2, "police_q1": police_q1, "hmpps_q1": hmpps_q1}


def published_reports(s):
    """Two snapshots of 2023/24 Q4, one figure revised between them; a report on the second, published, with
    its board pack; and a draft report on the first."""
    approved_history(s)
    first = snapshot_publish(actor=s["manager"], framework=s["framework"], period=P0, reason="Back data")
    approved_history(s, values=(5000, 5100, 4900, 5050, 5000, 4950, 5020, 4980, 5010, 5111))
    second = snapshot_publish(actor=s["manager"], framework=s["framework"], period=P0, reason="Revised")
    draft = report_create(actor=s["manager"], snapshot=first)
    report = report_create(actor=s["manager"], snapshot=second)
    report = report_transition(actor=s["manager"], report=report, to=ReportState.IN_REVIEW)
    report = report_transition(actor=s["manager"], report=report, to=ReportState.PUBLISHED)
    pack = BoardPack.objects.create(report=report, state=PackState.READY, finished_at=timezone.now(), progress=100)
    return {"first": first, "second": second, "draft": draft, "report": report, "pack": pack}


def test_the_analysts_queue_lists_due_returned_and_warnings_with_links(client, setup):
    w = world(setup)
    client.force_login(setup["analyst"])
    html = client.get(reverse("home")).content.decode()
    q2 = w["q2"].returns.get(agency=setup["police"])
    late = w["late"].returns.get(agency=setup["police"])
    due = html.split('id="q-due"')[1].split("</section>")[0]
    assert f'href="{reverse("return-detail", args=[q2.pk])}"' in due and "due in 40 days" in due
    assert f'href="{reverse("return-detail", args=[late.pk])}"' in due and "days late" in due
    returned = html.split('id="q-returned"')[1].split("</section>")[0]
    assert f'href="{reverse("return-detail", args=[w["police_q1"].pk])}"' in returned
    assert "Robbery looks doubled: check the Q1 extract." in returned and "due in 5 days" in returned
    warnings = html.split('id="q-warnings"')[1].split("</section>")[0]
    assert f'href="{reverse("return-detail", args=[q2.pk])}#checks"' in warnings
    assert "1 warning needs a comment" in warnings
    # Each warning names what it is about (the metric's code and the area), not a bare figure.
    assert "<strong>FAIR03 Staffordshire</strong>: " in warnings
    # The latest-figures table links each metric to its page.
    assert f'<a href="{reverse("dashboard-metric", args=["FAIR03"])}">' in html
    # HMPPS's returns are not the police analyst's business.
    assert "HM Prison" not in html.split("<main")[1].split('id="q-warnings"')[0]
    # Navigation: three open returns (late draft, returned, Q2 draft).
    assert 'Returns <span class="count">(3<span' in html


def test_a_warning_leaves_the_queue_once_commented(setup):
    w = world(setup)
    q2 = w["q2"].returns.get(agency=setup["police"])
    assert len(analyst_queue(framework=setup["framework"], agency=setup["police"], today=TODAY).warnings) == 1
    q2.values.update(comment="A new recording system went live in August; the backlog is being keyed in.")
    assert analyst_queue(framework=setup["framework"], agency=setup["police"], today=TODAY).warnings == []


def test_the_managers_queue_lists_approvals_late_readiness_reports_and_packs(client, setup):
    w = world(setup)
    p = published_reports(setup)
    client.force_login(setup["manager"])
    html = client.get(reverse("home")).content.decode()
    awaiting = html.split('id="q-awaiting"')[1].split("</section>")[0]
    assert f'href="{reverse("return-detail", args=[w["hmpps_q1"].pk])}"' in awaiting
    assert "HM Prison and Probation Service: 2024/25 Q1" in awaiting
    assert "Staffordshire Police" not in awaiting
    late = html.split('id="q-late"')[1].split("</section>")[0]
    assert late.count("2023/24 Q4") == 2 and "Staffordshire Police" in late and "HM Prison" in late
    ready = html.split('id="q-ready"')[1].split("</section>")[0]
    assert "2024/25 Q2" in ready and "2 of 2 returns not yet approved" in ready
    assert f'href="{reverse("snapshots")}"' in ready
    reports = html.split('id="q-reports"')[1].split("</section>")[0]
    assert f'href="{reverse("report-detail", args=[p["draft"].pk])}"' in reports
    assert f'href="{reverse("report-detail", args=[p["report"].pk])}"' not in reports
    packs = html.split('id="q-packs"')[1].split("</section>")[0]
    assert f'href="{reverse("pack-detail", args=[p["pack"].pk])}"' in packs and "board edition" in packs
    assert 'Returns <span class="count">(1<span' in html  # one awaiting approval


def test_the_boards_queue_shows_the_latest_report_pack_and_revisions(client, setup):
    p = published_reports(setup)
    client.force_login(setup["board"])
    html = client.get(reverse("home")).content.decode()
    board = html.split('id="q-board"')[1].split("</section>")[0]
    assert f'href="{reverse("report-detail", args=[p["report"].pk])}"' in board
    assert f'href="{reverse("pack-download", args=[p["pack"].pk])}"' in board
    assert f'href="{reverse("snapshot-detail", args=[p["second"].pk])}"' in board
    assert "1 figure revised since the 2023/24 Q4 snapshot 1" in board
    assert 'id="q-awaiting"' not in html and 'id="q-due"' not in html


def test_the_board_sees_no_report_yet(client, setup):
    client.force_login(setup["board"])
    assert "No report has been published yet." in client.get(reverse("home")).content.decode()


def test_an_approved_return_leaves_the_managers_queue_and_the_count(client, setup):
    from metrics.returns.services import return_approve

    w = world(setup)
    return_approve(actor=setup["manager"], return_obj=w["hmpps_q1"])
    client.force_login(setup["manager"])
    html = client.get(reverse("home")).content.decode()
    assert "No returns awaiting approval." in html
    assert 'class="count"' not in html
    assert w["hmpps_q1"].__class__.objects.get(pk=w["hmpps_q1"].pk).state == ReturnState.APPROVED


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["analyst", "manager", "board"])
def test_the_home_page_reads_in_the_same_number_of_queries_at_two_sizes(client, role, django_db_blocker):
    """Each role's home page (queue, navigation count, latest figures) at 3 and 12 metrics."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from accounts.models import Agency, Role

    from ..factories import UserFactory
    from ..test_query_counts import build_world, with_return_values

    counts = []  # the same framework (code qc), loaded again with 12 metrics
    for n, shift in [(3, 1), (12, 2)]:
        w = build_world(n, round_quarter=shift)
        with_return_values(w)
        police = Agency.objects.get(code="police")
        user = {
            "analyst": UserFactory(username=f"a{n}", role=Role.ANALYST, agency=police),
            "manager": UserFactory(username=f"m{n}", role=Role.PERFORMANCE_MANAGER),
            "board": UserFactory(username=f"b{n}", role=Role.BOARD_MEMBER),
        }[role]
        client.force_login(user)
        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse("home")).status_code == 200
        counts.append(len(captured))
    assert counts[0] == counts[1], counts

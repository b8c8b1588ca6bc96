"""Quarterly reports: creation, versioned edits, states, the two editions, and every view for every role."""

import pytest
from django.urls import reverse

from accounts.models import Agency
from metrics.imports.commit import import_file
from metrics.models import Metric
from reports.models import Report, ReportEdit, ReportFinding, ReportState
from reports.narrative.editions import render_markdown
from reports.narrative.services import ReportError, next_deep_dive, report_create, report_edit, report_transition
from reports.snapshots.services import snapshot_publish

from ..factories import UserFactory
from ..metrics.returns_setup import HEADER, PERIOD


@pytest.fixture
def published(setup):
    police = Agency.objects.get(code="police")
    rows = HEADER + "".join(
        f"OFF01,staffordshire,{q},,,{v},,,final,\n"
        for q, v in [("2023-09-30", 21595), ("2023-12-31", 20329), ("2024-03-31", 21212), ("2024-06-30", 20800)]
    )
    rows += "OFF01,staffordshire,2024-06-30,offence-group,robbery,3,,,final,\n"
    rows += "OFF01,staffordshire,2024-06-30,offence-group,violence-against-the-person,20797,,,final,\n"
    rows += "FAIR03,staffordshire,2024-06-30,,,,1400,1455,final,\n"
    assert import_file(content=rows.encode(), filename="data.csv", agency=police).accepted
    snapshot = snapshot_publish(
        actor=setup["manager"], framework=setup["framework"], period=PERIOD, reason="Demo: no round"
    )
    return {**setup, "snapshot": snapshot}


def test_creating_a_report_generates_findings_and_proposes_a_deep_dive(published):
    report = report_create(actor=published["manager"], snapshot=published["snapshot"])
    assert report.state == ReportState.DRAFT
    assert report.deep_dive.code == "offending"
    finding = ReportFinding.objects.get(metric__code="OFF01")
    assert finding.text.startswith("Police recorded crime is within its usual range.")
    with pytest.raises(ReportError, match="already has a report"):
        report_create(actor=published["manager"], snapshot=published["snapshot"])
    assert next_deep_dive(framework_priorities=list(published["framework"].priorities.all())).code == "offending"


def test_edits_are_versioned_and_conflicts_refused(published):
    report = report_create(actor=published["manager"], snapshot=published["snapshot"])
    section = report.sections.get()
    finding = ReportFinding.objects.get(metric__code="OFF01")
    report = report_edit(
        actor=published["manager"],
        report=report,
        version=0,
        changes={
            "summary": "Crime **fell**.",
            f"narrative:{section.pk}": "Offending fell.",
            f"finding:{finding.pk}": "Edited finding.",
        },
    )
    assert report.version == 1
    assert ReportEdit.objects.filter(report=report).count() == 3
    finding.refresh_from_db()
    assert finding.edited
    assert finding.generated.startswith("Police recorded crime")
    with pytest.raises(ReportError, match="Someone else saved"):
        report_edit(actor=published["manager"], report=report, version=0, changes={"summary": "x"})
    with pytest.raises(Exception, match="permission"):
        report_edit(actor=published["board"], report=report, version=1, changes={"summary": "x"})


def test_states_and_publication_lock(published):
    report = report_create(actor=published["manager"], snapshot=published["snapshot"])
    with pytest.raises(ReportError, match="cannot be published"):
        report_transition(actor=published["manager"], report=report, to=ReportState.PUBLISHED)
    report = report_transition(actor=published["manager"], report=report, to=ReportState.IN_REVIEW)
    report = report_transition(actor=published["manager"], report=report, to=ReportState.PUBLISHED)
    assert report.published_at is not None
    with pytest.raises(ReportError, match="published report cannot be changed"):
        report_edit(
            actor=published["manager"], report=report, version=report.version, changes={"summary": "late change"}
        )


def test_markdown_is_sanitised():
    html = render_markdown("**bold** <script>alert(1)</script> [x](javascript:alert(1)) <img src=x onerror=alert(1)>")
    assert "<strong>bold</strong>" in html
    assert "<script" not in html
    assert "javascript:" not in html
    assert "onerror" not in html


def republished(s):
    """The quarter published again (a second snapshot, with what changed since the first)."""
    again = snapshot_publish(actor=s["manager"], framework=s["framework"], period=PERIOD, reason="Annotated")
    return {**s, "snapshot": again}


def publish_report(s, changes=None, narrative=None):
    report = report_create(actor=s["manager"], snapshot=s["snapshot"])
    changes = changes or {"summary": "Recorded crime fell.", "public_summary": "Recorded crime fell (public)."}
    if narrative is not None:
        changes |= {f"narrative:{section.pk}": narrative for section in report.sections.all()}
    report = report_edit(actor=s["manager"], report=report, version=0, changes=changes)
    report = report_transition(actor=s["manager"], report=report, to=ReportState.IN_REVIEW)
    return report_transition(actor=s["manager"], report=report, to=ReportState.PUBLISHED)


def test_public_edition_suppresses_small_numbers_and_leaves_out_management_information(published, client):
    report = publish_report(published)
    public = client.get(reverse("public-report", args=[report.pk])).content.decode()
    assert "Recorded crime fell (public)." in public
    assert "Recorded crime fell." not in public  # the board's summary
    assert "Police recorded crime" in public
    assert '<td class="num">[c]</td>' in public  # 3 robberies
    # …and the other group too, or 20,800 − 20,797 would give the 3 away.
    assert public.count('<td class="num">[c]</td>') == 2
    assert "20,797" not in public
    assert "Ethnicity recorded" not in public  # management information
    client.force_login(published["board"])
    board = client.get(reverse("report-detail", args=[report.pk])).content.decode()
    assert "Ethnicity recorded" in board
    assert '<td class="num">[c]</td>' not in board
    assert '<td class="num">3</td>' in board
    Metric.objects.filter(code="FAIR03").update(public=True)
    client.logout()
    # Marked public after publication: the published edition stays as it was; the next one shows it.
    assert "Ethnicity recorded" not in client.get(reverse("public-report", args=[report.pk])).content.decode()
    report = publish_report(republished(published))
    assert "Ethnicity recorded" in client.get(reverse("public-report", args=[report.pk])).content.decode()


def test_unpublished_reports_are_not_public(published, client):
    report = report_create(actor=published["manager"], snapshot=published["snapshot"])
    assert client.get(reverse("public-report", args=[report.pk])).status_code == 404
    assert "None yet" in client.get(reverse("public-reports")).content.decode()


ROLES = ["anonymous", "analyst", "board", "manager", "no_role"]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("state", ["draft", "published"])
def test_every_report_view_for_every_role(published, client, role, state):
    report = report_create(actor=published["manager"], snapshot=published["snapshot"])
    if state == "published":
        report = report_transition(actor=published["manager"], report=report, to=ReportState.IN_REVIEW)
        report = report_transition(actor=published["manager"], report=report, to=ReportState.PUBLISHED)
    people = {**published, "no_role": UserFactory(username="nobody", role="")}
    if role != "anonymous":
        client.force_login(people[role])
    readers = {"analyst", "board", "manager"}

    def status(url, method="get", data=None):
        response = getattr(client, method)(url, data or {})
        return "login" if response.status_code == 302 and reverse("login") in response.url else response.status_code

    login_or_403 = "login" if role == "anonymous" else 403
    assert status(reverse("reports")) == (200 if role in readers else login_or_403)
    can_read = role == "manager" or (state == "published" and role in readers)
    assert status(reverse("report-detail", args=[report.pk])) == (200 if can_read else login_or_403)
    assert status(reverse("report-edit", args=[report.pk])) == (200 if role == "manager" else login_or_403)
    assert status(reverse("report-public-preview", args=[report.pk])) == (200 if role == "manager" else login_or_403)
    assert status(reverse("report-action", args=[report.pk, "review"]), "post") in (
        (302,) if role == "manager" else (login_or_403,)
    )
    assert status(reverse("report-new"), "post", {"snapshot": published["snapshot"].pk}) in (
        (302,) if role == "manager" else (login_or_403,)
    )
    assert status(reverse("public-reports")) == 200
    assert status(reverse("public-report", args=[report.pk])) == (200 if state == "published" else 404)
    assert Report.objects.count() == 1


def test_report_shows_annotations_and_does_not_change_when_data_is_revised(published, client):
    from reports.models import Annotation

    Annotation.objects.create(
        metric=Metric.objects.get(code="OFF01"), area=None, period=PERIOD, text="New charging unit", kind="context"
    )
    report = publish_report(republished(published))  # annotations are frozen into the snapshot
    url = reverse("public-report", args=[report.pk])
    before = client.get(url).content.decode()
    assert "New charging unit" in before
    assert "20,800" in before
    police = Agency.objects.get(code="police")
    revised = HEADER + "OFF01,staffordshire,2024-06-30,,,20900,,,final,\n"
    assert import_file(content=revised.encode(), filename="rev.csv", agency=police).accepted
    after = client.get(url).content.decode()
    assert "20,800" in after
    assert "20,900" not in after


def test_board_edition_draws_the_deep_dive_with_annotations(published, client):
    from reports.models import Annotation

    Annotation.objects.create(
        metric=Metric.objects.get(code="OFF01"), area=None, period=PERIOD, text="New charging unit", kind="context"
    )
    report = publish_report(republished(published))  # annotations are frozen into the snapshot
    client.force_login(published["board"])
    board = client.get(reverse("report-detail", args=[report.pk])).content.decode()
    assert 'id="rc-OFF01-data"' in board
    chart_json = board.split('id="rc-OFF01-data" type="application/json">')[1].split("</script>")[0]
    assert "New charging unit" in chart_json
    client.logout()
    # The public edition draws the deep dive too, from its suppressed figures (none is small here).
    public = client.get(reverse("public-report", args=[report.pk])).content.decode()
    public_json = public.split('id="rc-OFF01-data" type="application/json">')[1].split("</script>")[0]
    assert "New charging unit" in public_json

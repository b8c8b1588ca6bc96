"""Snapshots: one version of the truth per quarter, immutable, with revisions since the previous one."""

import io

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from accounts.models import Agency, Role
from metrics.imports.commit import import_file
from metrics.returns.selectors import return_findings
from metrics.returns.services import return_approve, return_submit
from metrics.returns.uploads import upload_confirm
from metrics.returns.values import return_save_comments
from reports.models import ImmutableError, Snapshot
from reports.snapshots.services import SnapshotError, snapshot_publish

from ..factories import UserFactory
from ..metrics.returns_setup import DUE, GOOD, HEADER, PERIOD, open_round, upload

BACK = HEADER + "".join(
    f"OFF01,staffordshire,{q},,,{v},,,final,\n"
    for q, v in [("2023-06-30", 23285), ("2023-09-30", 21595), ("2023-12-31", 20329), ("2024-03-31", 21212)]
)


def approve_police(s):
    round_ = open_round(s)
    r = round_.returns.get(agency=s["police"])
    up = upload(s, r, GOOD)
    upload_confirm(actor=s["analyst"], upload=up)
    r.refresh_from_db()
    values = {v.key: v.pk for v in r.values.all()}
    comments = {values[f.key]: "Explained." for f in return_findings(return_obj=r) if not f.is_error}
    return_save_comments(actor=s["analyst"], return_obj=r, version=r.version, comments=comments)
    r.refresh_from_db()
    r = return_submit(actor=s["analyst"], return_obj=r, version=r.version)
    return return_approve(actor=s["manager"], return_obj=r), round_


def test_publishing_needs_a_reason_when_returns_are_missing(setup):
    approve_police(setup)
    with pytest.raises(SnapshotError, match="Returns not approved: HM Prison and Probation Service"):
        snapshot_publish(actor=setup["manager"], framework=setup["framework"], period=PERIOD)
    snapshot = snapshot_publish(
        actor=setup["manager"], framework=setup["framework"], period=PERIOD, reason="HMPPS figures come in August."
    )
    assert snapshot.missing_returns == ["hmpps"]
    assert snapshot.observation_count == 4
    assert "OFF01" in snapshot.framework_file
    with pytest.raises(Exception, match="permission"):
        snapshot_publish(actor=setup["analyst"], framework=setup["framework"], period=PERIOD, reason="x")


def test_snapshots_cannot_be_changed(setup, client):
    approve_police(setup)
    snapshot = snapshot_publish(actor=setup["manager"], framework=setup["framework"], period=PERIOD, reason="test")
    snapshot.reason = "rewritten"
    with pytest.raises(ImmutableError):
        snapshot.save()
    with pytest.raises(ImmutableError):
        snapshot.delete()
    client.force_login(setup["manager"])
    url = reverse("admin:reports_snapshot_change", args=[snapshot.pk])
    assert client.post(url, {"reason": "rewritten"}).status_code == 403
    assert Snapshot.objects.get().reason == "test"


def test_a_revision_after_publication_changes_nothing_published(setup, client):
    police = Agency.objects.get(code="police")
    assert import_file(content=BACK.encode(), filename="back.csv", agency=police).accepted
    approve_police(setup)
    first = snapshot_publish(actor=setup["manager"], framework=setup["framework"], period=PERIOD, reason="HMPPS late")
    client.force_login(setup["board"])
    url = reverse("api-series")
    before = client.get(url, {"metric": "OFF01", "area": "staffordshire", "snapshot": first.pk}).json()
    # The police revise 2023/24 Q3 after publication.
    revised = HEADER + "OFF01,staffordshire,2023-12-31,,,20400,,,final,\n"
    assert import_file(content=revised.encode(), filename="revision.csv", agency=police).accepted
    after = client.get(url, {"metric": "OFF01", "area": "staffordshire", "snapshot": first.pk}).json()
    assert after == before
    assert after["snapshot"]["id"] == first.pk
    values = {p["period"]: p["value"] for p in after["points"]}
    assert values["2023-12-31"] == 20329
    live = {
        p["period"]: (p["value"], p["status"])
        for p in client.get(url, {"metric": "OFF01", "area": "staffordshire"}).json()["points"]
    }
    assert live["2023-12-31"] == (20400, "revised")
    # The dashboards as at the snapshot show the published figure and say which snapshot it is.
    page = client.get(reverse("dashboard-metric", args=["OFF01"]), {"snapshot": first.pk}).content.decode()
    assert "As published in snapshot 1 of 2024/25 Q1" in page
    assert "20,329" in page
    assert "20,400" not in page
    assert "20,400 [r]" in client.get(reverse("dashboard-metric", args=["OFF01"])).content.decode()
    overview_page = client.get(reverse("dashboard"), {"snapshot": first.pk}).content.decode()
    assert f"snapshot={first.pk}" in overview_page
    assert client.get(reverse("dashboard"), {"snapshot": 999}).status_code == 404
    second = snapshot_publish(
        actor=setup["manager"], framework=setup["framework"], period=PERIOD, reason="HMPPS still late"
    )
    assert second.number == 2
    (revision,) = second.revisions.all()
    assert (revision.old_value, revision.new_value) == (20329, 20400)
    html = client.get(reverse("snapshot-detail", args=[second.pk])).content.decode()
    assert "20,329" in html
    assert "20,400 [r]" in html
    assert "Nothing revised." in client.get(reverse("snapshot-detail", args=[first.pk])).content.decode()


def test_publish_snapshot_command(setup):
    approve_police(setup)
    with pytest.raises(CommandError, match="Returns not approved"):
        call_command("publish_snapshot", "--quarter", "2024-06-30", stdout=io.StringIO())
    out = io.StringIO()
    call_command("publish_snapshot", "--quarter", "2024/25 Q1", "--reason", "HMPPS late", stdout=out)
    last = out.getvalue().strip().splitlines()[-1]
    assert last == str(Snapshot.objects.get().pk)
    assert "Staffordshire Police: Approved" in out.getvalue()


ROLES = {"anonymous": "login", "analyst": 200, "board": 200, "manager": 200, "no_role": 403}


@pytest.mark.parametrize("role", sorted(ROLES))
def test_snapshot_views_for_every_role(setup, client, role):
    approve_police(setup)
    snapshot = snapshot_publish(actor=setup["manager"], framework=setup["framework"], period=PERIOD, reason="late")
    people = {**setup, "no_role": UserFactory(username="x", role="")}
    if role != "anonymous":
        client.force_login(people[role])
    for url in (reverse("snapshots"), reverse("snapshot-detail", args=[snapshot.pk])):
        response = client.get(url)
        if ROLES[role] == "login":
            assert response.status_code == 302
        else:
            assert response.status_code == ROLES[role]
    response = client.post(reverse("snapshot-create"), {"quarter": "2024-06-30", "reason": "again"})
    expected = {"anonymous": 302, "manager": 302}.get(role, 403)
    assert response.status_code == expected
    assert Snapshot.objects.count() == (2 if role == "manager" else 1)


def test_publish_page_lists_returns_and_asks_for_a_reason(setup, client):
    approve_police(setup)
    client.force_login(setup["manager"])
    html = client.get(reverse("snapshots")).content.decode()
    assert "Staffordshire Police: Approved" in html
    assert "HM Prison and Probation Service: Draft" in html
    assert "Reason for publishing with 1 return not approved" in html
    response = client.post(reverse("snapshot-create"), {"quarter": "2024-06-30"}, follow=True)
    assert "Returns not approved" in response.content.decode()
    assert not Snapshot.objects.exists()
    assert DUE  # the round's due date is what the page's rounds come from


def test_unknown_snapshot_in_the_api(setup, client):
    client.force_login(setup["board"])
    response = client.get(reverse("api-series"), {"metric": "OFF01", "area": "staffordshire", "snapshot": "99"})
    assert response.status_code == 404
    assert Role.BOARD_MEMBER


def test_the_command_publishes_as_the_system_actor_and_writes_its_audit(db):
    """No flag skips the permission check: the command acts as the system user, who is audited."""
    import io

    from django.core.management import call_command

    from accounts.access import system_actor
    from accounts.models import AuditEvent
    from metrics.catalogue.load import framework_load
    from tests.metrics.returns_setup import FRAMEWORK

    framework_load(text=FRAMEWORK)
    out = io.StringIO()
    call_command("publish_snapshot", "--quarter", "2024-06-30", "--reason", "Back data", stdout=out)
    event = AuditEvent.objects.get(action="snapshot.published")
    assert event.actor == system_actor()
    assert out.getvalue().strip().splitlines()[-1] == event.object_id

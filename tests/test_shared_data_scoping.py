"""What the permission matrix cannot see, because no partnership owns it: the shared reference data and the
shared statistics' figures (found by a review of the scoping).

- A partnership's figure of a shared statistic (approved from its return, or its own import) stays its own
  until it publishes it: another partnership's pages, API and snapshots never read it; the host's figures of
  shared statistics are everyone's.
- Agencies, areas, peer groups and breakdowns are the host's once there are several partnerships.
- A shared statistic a partnership's framework does not place is not its to read through the API.
- One partnership's manager never gets a set-password link for an account that has roles elsewhere.
- A report's deep dive is one of its own priorities; an API key's creation is in its partnership's trail.
"""

import datetime as dt

import pytest
from django.core import mail
from django.test import Client

from accounts.audit import AuditAction
from accounts.models import AuditEvent, Membership, Role
from accounts.tenancy import partnership_scope
from accounts.tokens import api_token_create
from accounts.users import UserError, user_invite, user_invite_again
from metrics.catalogue.load import framework_load
from metrics.catalogue.schema import FrameworkFileError
from metrics.models import ImportBatch, Metric, Observation
from reports.models import SnapshotObservation
from reports.narrative.services import ReportError, report_edit
from reports.snapshots.services import snapshot_publish

from .factories import UserFactory
from .partnership_world import HOME, build_world

NEW_QUARTER = dt.date(2025, 3, 31)


@pytest.fixture
def world(db):
    return build_world()


def _figure(world, tag, value, *, partnership):
    """A figure of the shared OFF01 for ``tag``'s home area in a new quarter, from a batch of ``partnership``
    (None: the host's load)."""
    from frameworks.models import Area

    batch = ImportBatch.objects.create(agency=world.police, partnership=partnership, filename="x.csv", sha256="0" * 64)
    return Observation.objects.create(
        metric=world.shared, area=Area.objects.get(code=HOME[tag]), period=NEW_QUARTER, value=value, source=batch
    )


def test_a_partnerships_figure_of_a_shared_statistic_stays_its_own_until_published(world, client):
    wm, default = world["wm"].partnership, world["def"].partnership
    theirs = _figure(world, "wm", 123456, partnership=wm)
    hosts = _figure(world, "def", 654321, partnership=None)
    with partnership_scope(default):
        visible = set(Observation.objects.in_scope().filter(period=NEW_QUARTER).values_list("pk", flat=True))
    assert visible == {hosts.pk}
    with partnership_scope(wm):
        visible = set(Observation.objects.in_scope().filter(period=NEW_QUARTER).values_list("pk", flat=True))
    assert visible == {theirs.pk, hosts.pk}
    # Not in the other partnership's snapshot either, nor on its pages or API.
    manager = world["def"].users["manager"]
    with partnership_scope(default):
        snapshot = snapshot_publish(actor=manager, framework=world["def"].framework, period=NEW_QUARTER, reason="t")
    copied = set(
        SnapshotObservation.objects.filter(snapshot=snapshot, period=NEW_QUARTER).values_list("value", flat=True)
    )
    assert copied == {654321}
    client.force_login(manager)
    page = client.get(f"/dashboard/metric/{world.shared.code}/?area={HOME['wm']}").content.decode()
    assert "123,456" not in page and "123456" not in page
    api = Client(HTTP_AUTHORIZATION=f"Token {world['def'].token_key}")
    series = api.get(f"/api/v1/series/?metric={world.shared.code}&area={HOME['wm']}").content.decode()
    assert "123456" not in series


def test_the_host_alone_changes_shared_reference_data_once_there_are_several_partnerships(world):
    from frameworks.models import Area

    manager = world["wm"].users["manager"]
    area = Area.objects.get(code=HOME["def"])
    text = f"""
framework: {{code: wm-own, name: West Mercia own, home_area: {HOME["wm"]}, partnership: {world["wm"].partnership.code}}}
agencies:
  - {{code: police, name: {world.police.name}}}
areas:
  - {{code: {area.code}, name: Renamed by West Mercia, type: {area.type}}}
priorities:
  - code: p
    name: P
    metrics:
      - {{code: WMZ01, name: Own, agency: police, unit: count, direction: lower_is_better, source_type: management_information}}
"""
    with pytest.raises(FrameworkFileError, match="only the host may change them"):
        framework_load(text=text, actor=manager)
    area.refresh_from_db()
    assert area.name != "Renamed by West Mercia"
    framework_load(text=text, actor=None)  # the host (a command)
    area.refresh_from_db()
    assert area.name == "Renamed by West Mercia"


def test_the_api_reads_only_the_shared_statistics_the_partnerships_framework_places(world):
    unplaced = Metric.objects.create(
        code="OFF99", name="Placed by nobody here", partnership=None, agency=world.police, unit="count",
        direction="lower_is_better", source_type="official_statistics",
    )  # fmt: skip
    assert unplaced.partnership is None
    api = Client(HTTP_AUTHORIZATION=f"Token {world['def'].token_key}")
    assert api.get(f"/api/v1/series/?metric=OFF99&area={HOME['def']}").status_code == 404
    assert api.get(f"/api/v1/series/?metric={world.shared.code}&area={HOME['def']}").status_code == 200


def test_no_set_password_link_for_an_account_with_roles_elsewhere(world):
    wm, manager = world["wm"].partnership, world["wm"].users["manager"]
    existing = UserFactory(username="pending@example.org", email="pending@example.org", role=Role.BOARD_MEMBER)
    existing.set_unusable_password()
    existing.save()
    mail.outbox.clear()
    with partnership_scope(wm):
        invitation = user_invite(actor=manager, email="pending@example.org", name="", role=Role.BOARD_MEMBER)
        assert invitation.link == "" and not invitation.sent and mail.outbox == []
        assert Membership.objects.filter(partnership=wm, user=existing).exists()
        with pytest.raises(UserError, match="only the service's host"):
            user_invite_again(actor=manager, user_id=existing.pk)


def test_a_reports_deep_dive_is_one_of_its_own_priorities(world):
    side, other = world["def"], world["wm"]
    with partnership_scope(side.partnership), pytest.raises(ReportError, match="deep dive"):
        report_edit(
            actor=side.users["manager"],
            report=side.draft_report,
            version=side.draft_report.version,
            changes={"deep_dive": str(other.priority.pk)},
        )


def test_an_api_keys_creation_is_in_its_partnerships_trail(world):
    wm = world["wm"].partnership
    user = world["wm"].users["board"]
    token, _ = api_token_create(user=user, name="k", partnership=wm)
    event = AuditEvent.objects.get(action=AuditAction.API_TOKEN_CREATED, object_id=str(token.pk))
    assert event.partnership == wm

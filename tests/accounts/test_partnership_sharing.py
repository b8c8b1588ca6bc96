"""A partnership's data-sharing setting (issue 18): changed by a performance manager of that partnership only,
through the state-change kit, audited in its own trail; and the page for it."""

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from accounts.models import AuditEvent, DataVersion, Membership, Partnership, Role
from accounts.partnerships import default_partnership
from accounts.sharing import partnership_sharing_set
from accounts.versions import data_version
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def west_mercia(db):
    return Partnership.objects.create(code="west-mercia", name="West Mercia LCJB", region="West Midlands")


def number() -> int:
    data_version()
    return DataVersion.objects.get(pk=1).number


def test_a_manager_turns_sharing_on_and_off_audited_in_the_partnerships_trail(users):
    partnership = default_partnership()
    manager = users["performance_manager"]
    before = number()
    result = partnership_sharing_set(actor=manager, partnership=partnership, shares=True)
    assert result.shares_published_with_region and partnership.shares_published_with_region
    assert Partnership.objects.get(pk=partnership.pk).shares_published_with_region
    event = AuditEvent.objects.get(action="partnership.sharing_changed")
    assert (event.actor, event.partnership_id, event.object_id) == (manager, partnership.pk, str(partnership.pk))
    assert (event.old, event.new) == ({"shares_published_with_region": False}, {"shares_published_with_region": True})
    assert "shared with the region" in event.summary
    assert number() == before + 1  # cached pages of what is shared are out of date

    partnership_sharing_set(actor=manager, partnership=partnership, shares=True)  # already so: nothing recorded
    assert AuditEvent.objects.filter(action="partnership.sharing_changed").count() == 1
    assert number() == before + 1

    partnership_sharing_set(actor=manager, partnership=partnership, shares=False)
    assert not Partnership.objects.get(pk=partnership.pk).shares_published_with_region
    assert AuditEvent.objects.filter(action="partnership.sharing_changed").count() == 2


@pytest.mark.parametrize("who", ["board_member", "analyst", "no_role"])
def test_only_a_performance_manager_may_change_it(users, who):
    with pytest.raises(PermissionDenied):
        partnership_sharing_set(actor=users[who], partnership=default_partnership(), shares=True)
    assert not AuditEvent.objects.filter(action="partnership.sharing_changed").exists()


def test_a_manager_of_one_partnership_cannot_change_anothers(users, west_mercia):
    theirs = UserFactory(username="wm-manager", role="")
    Membership.objects.create(partnership=west_mercia, user=theirs, role=Role.PERFORMANCE_MANAGER)
    with pytest.raises(PermissionDenied):
        partnership_sharing_set(actor=theirs, partnership=default_partnership(), shares=True)
    with pytest.raises(PermissionDenied):  # and the default partnership's manager has no say in West Mercia
        partnership_sharing_set(actor=users["performance_manager"], partnership=west_mercia, shares=True)
    partnership_sharing_set(actor=theirs, partnership=west_mercia, shares=True)
    event = AuditEvent.objects.get(action="partnership.sharing_changed")
    assert event.partnership_id == west_mercia.pk  # in West Mercia's trail, whatever the scope of the call


def test_the_sharing_page(client, users, west_mercia):
    url = reverse("manage-sharing")
    client.force_login(users["board_member"])
    assert client.get(url).status_code == 403
    assert client.post(url, {"shares": "yes"}).status_code == 403
    client.force_login(users["performance_manager"])
    page = client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert (
        "Sharing with the region" in html
        and 'name="shares"' in html
        and 'value="no"' in html
        and 'checked="checked"' in html.split('value="no"')[1][:200]
    )
    assert reverse("manage-sharing") in client.get(reverse("manage")).content.decode()
    response = client.post(url, {"shares": "yes"})
    assert response.status_code == 302
    assert default_partnership().shares_published_with_region
    assert "now shares its published figures" in client.get(url).content.decode()
    bad = client.post(url, {})
    assert bad.status_code == 400 and "Choose whether to share your published figures" in bad.content.decode()


def test_the_page_changes_the_partnership_the_manager_is_in(client, west_mercia):
    both = UserFactory(username="both", role=Role.PERFORMANCE_MANAGER)
    Membership.objects.create(partnership=west_mercia, user=both, role=Role.PERFORMANCE_MANAGER)
    client.force_login(both)
    url = reverse("manage-sharing")
    assert "West Mercia LCJB" in client.get(url + "?partnership=west-mercia").content.decode()
    client.post(url, {"shares": "yes"})  # the session remembers West Mercia
    assert Partnership.objects.get(pk=west_mercia.pk).shares_published_with_region
    assert not default_partnership().shares_published_with_region

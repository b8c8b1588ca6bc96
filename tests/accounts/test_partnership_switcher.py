"""The partnership switcher in the header (issue 18): a user of several partnerships sees which one the pages
are in and switches; the choice is remembered; a partnership they have no role in is not found."""

import pytest
from django.urls import reverse

from accounts.models import Membership, Partnership, Role
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def two(db):
    west_mercia = Partnership.objects.create(code="west-mercia", name="West Mercia LCJB")
    Partnership.objects.create(code="derbyshire", name="Derbyshire LCJB")
    user = UserFactory(username="regional", role=Role.BOARD_MEMBER)  # board member of the default partnership
    Membership.objects.create(partnership=west_mercia, user=user, role=Role.BOARD_MEMBER)
    return user


def current(html: str) -> str:
    start = html.index("Partnership: <strong>") + len("Partnership: <strong>")
    return html[start : html.index("</strong>", start)]


def test_a_user_of_two_partnerships_switches_and_the_choice_is_remembered(client, two):
    client.force_login(two)
    url = reverse("snapshots")
    html = client.get(url).content.decode()
    assert current(html) == "Default partnership"
    assert '<label class="govuk-label govuk-!-font-size-16" for="partnership-switch">' in html
    assert '<option value="west-mercia">West Mercia LCJB</option>' in html
    assert '<option value="default" selected>Default partnership</option>' in html
    assert f'action="{url}"' in html  # the same page, in the other partnership

    html = client.get(url, {"partnership": "west-mercia"}).content.decode()
    assert current(html) == "West Mercia LCJB"
    assert '<option value="west-mercia" selected>' in html
    assert current(client.get(reverse("reports")).content.decode()) == "West Mercia LCJB"  # remembered

    client.get(url, {"partnership": "default"})
    assert current(client.get(reverse("reports")).content.decode()) == "Default partnership"


@pytest.mark.parametrize("code", ["derbyshire", "nowhere"])
def test_a_partnership_without_a_role_there_is_not_found(client, two, code):
    client.force_login(two)
    assert client.get(reverse("snapshots"), {"partnership": code}).status_code == 404
    assert current(client.get(reverse("snapshots")).content.decode()) == "Default partnership"


def test_a_user_of_one_partnership_sees_just_its_name(client, users):
    client.force_login(users["board_member"])
    html = client.get(reverse("snapshots")).content.decode()
    assert current(html) == "Default partnership"
    assert "partnership-switch" not in html


def test_no_switcher_for_visitors(client):
    assert "Partnership:" not in client.get(reverse("public-reports")).content.decode()

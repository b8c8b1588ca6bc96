"""``manage.py add_user EMAIL --partnership CODE --role ROLE [--agency CODE]`` (CONTRACT §4) and the
memberships behind it: a user belongs to one or more partnerships with a role in each."""

import io

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import Client

from accounts.models import AuditEvent, Membership, Partnership, Role, User
from accounts.partnerships import default_partnership
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def add_user(*args):
    out, err = io.StringIO(), io.StringIO()
    code = 0
    try:
        call_command("add_user", *args, stdout=out, stderr=err)
    except SystemExit as exc:
        code = exc.code
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def derbyshire(db):
    return Partnership.objects.create(code="derbyshire", name="Derbyshire LCJB")


def roles(user):
    return sorted(Membership.objects.filter(user=user).values_list("partnership__code", "role", "agency__code"))


def test_a_new_user_in_the_default_partnership_gets_the_role_there_and_a_one_time_link(police):
    code, out, _ = add_user("Ann@Example.org", "--partnership", "default", "--role", "analyst", "--agency", "police")
    assert code == 0
    user = User.objects.get(username="ann@example.org")
    assert (user.role, user.agency, user.has_usable_password()) == (Role.ANALYST, police, False)
    assert roles(user) == [("default", "analyst", "police")]
    assert "Created ann@example.org: agency analyst (Police) in Default partnership (default)." in out
    link = out.splitlines()[-1]
    assert link.startswith(settings.PCC_PERF_SITE_URL.rstrip("/") + "/")
    assert Client().get(link.removeprefix(settings.PCC_PERF_SITE_URL.rstrip("/")), follow=True).status_code == 200
    event = AuditEvent.objects.get(action="user.invited", object_id=str(user.pk))
    assert event.actor_username == "system"


def test_a_second_partnership_adds_a_role_without_touching_the_first(police, derbyshire):
    add_user("ann@example.org", "--partnership", "default", "--role", "analyst", "--agency", "police")
    code, out, _ = add_user("ann@example.org", "--partnership", "derbyshire", "--role", "board_member")
    assert code == 0
    user = User.objects.get(username="ann@example.org")
    assert roles(user) == [("default", "analyst", "police"), ("derbyshire", "board_member", None)]
    assert (user.role, user.agency) == (Role.ANALYST, police)  # the default partnership's role, as before
    assert "ann@example.org is now board member in Derbyshire LCJB (derbyshire)." in out
    assert AuditEvent.objects.filter(action="user.changed", object_id=str(user.pk)).count() == 1


def test_a_user_only_in_another_partnership_has_no_role_in_this_installation_yet(derbyshire):
    code, _, _ = add_user("bob@example.org", "--partnership", "derbyshire", "--role", "performance_manager")
    assert code == 0
    user = User.objects.get(username="bob@example.org")
    assert user.role == ""  # the permission helper reads User.role: nothing of the default partnership is shown
    assert roles(user) == [("derbyshire", "performance_manager", None)]


def test_adding_the_same_role_twice_changes_nothing(police, derbyshire):
    args = ("ann@example.org", "--partnership", "derbyshire", "--role", "analyst", "--agency", "police")
    add_user(*args)
    events = AuditEvent.objects.count()
    code, out, _ = add_user(*args)
    assert code == 0
    assert "nothing changed" in out
    assert AuditEvent.objects.count() == events
    assert Membership.objects.filter(partnership=derbyshire).count() == 1
    assert User.objects.filter(username="ann@example.org").count() == 1


def test_another_role_in_the_same_partnership_replaces_the_old_one(police):
    add_user("ann@example.org", "--partnership", "default", "--role", "board_member")
    code, out, _ = add_user("ann@example.org", "--partnership", "default", "--role", "performance_manager")
    assert code == 0
    user = User.objects.get(username="ann@example.org")
    assert user.role == Role.PERFORMANCE_MANAGER
    assert roles(user) == [("default", "performance_manager", None)]
    assert "role changed" in out


def test_a_user_with_a_password_gets_no_link(police):
    UserFactory(username="carol@example.org", email="carol@example.org", role=Role.BOARD_MEMBER)
    code, out, _ = add_user("carol@example.org", "--partnership", "default", "--role", "board_member")
    assert code == 0
    assert "has a password already" in out and "http" not in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--partnership", "nowhere", "--role", "board_member"), "unknown partnership 'nowhere'"),
        (("--partnership", "default", "--role", "chief"), "unknown role 'chief'"),
        (("--partnership", "default", "--role", "analyst"), "an analyst belongs to an agency"),
        (("--partnership", "default", "--role", "analyst", "--agency", "nope"), "unknown agency 'nope'"),
    ],
)
def test_bad_input_is_a_usage_error_and_writes_nothing(police, args, message):
    code, _, err = add_user("dan@example.org", *args)
    assert code == 2
    assert message in err
    assert not User.objects.filter(username="dan@example.org").exists()


def test_a_bad_email_address_is_a_usage_error(police):
    code, _, err = add_user("not-an-address", "--partnership", "default", "--role", "board_member")
    assert (code, "is not an e-mail address" in err) == (2, True)


def test_the_default_membership_follows_the_users_role_and_agency(police):
    user = UserFactory(username="eve", role=Role.BOARD_MEMBER)
    assert roles(user) == [("default", "board_member", None)]
    user.role, user.agency = Role.ANALYST, police
    user.save(update_fields=["role", "agency"])
    assert roles(user) == [("default", "analyst", "police")]
    user.role, user.agency = "", None
    user.save()
    assert roles(user) == []
    assert Membership.objects.filter(partnership=default_partnership()).count() == 0


def test_the_host_makes_a_partnership_and_sets_its_sharing_in_the_admin_audited(client, users):
    host = UserFactory(username="host", is_superuser=True, is_staff=True)
    client.force_login(host)
    response = client.post("/admin/accounts/partnership/add/", {"code": "derbyshire", "name": "Derbyshire LCJB"})
    assert response.status_code == 302
    partnership = Partnership.objects.get(code="derbyshire")
    assert AuditEvent.objects.filter(action="admin.created", object_id=str(partnership.pk)).exists()
    assert not partnership.shares_published_with_region  # nothing is shared unless the owner says so
    response = client.post(
        f"/admin/accounts/partnership/{partnership.pk}/change/",
        {"code": "derbyshire", "name": "Derbyshire LCJB", "shares_published_with_region": "on"},
    )
    assert response.status_code == 302
    changed = AuditEvent.objects.get(action="admin.changed", object_id=str(partnership.pk))
    assert changed.new == {"shares_published_with_region": "True"}
    client.force_login(users["board_member"])
    assert client.get("/admin/accounts/partnership/").status_code in (302, 403)
    # With two partnerships the admin (which spans them all) is the host's alone: a partnership's manager
    # works through the service's own pages, which are scoped to their partnership.
    client.force_login(users["performance_manager"])
    assert client.get("/admin/").status_code == 403


def test_the_system_account_gets_no_role(derbyshire):
    from accounts.access import system_actor

    system = system_actor()
    system.email = "system@example.org"
    system.save(update_fields=["email"])
    code, _, err = add_user("system@example.org", "--partnership", "derbyshire", "--role", "board_member")
    assert (code, "the system account cannot be given a role" in err) == (2, True)
    assert not Membership.objects.filter(partnership=derbyshire).exists()

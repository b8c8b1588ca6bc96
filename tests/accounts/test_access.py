import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied

from accounts.access import ROLE_PERMISSIONS, Perm, has_perm, require
from accounts.models import Role

from ..factories import AgencyFactory, UserFactory


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("who", "perm", "allowed"),
    [
        ("analyst", Perm.VIEW_APPROVED_DATA, True),
        ("analyst", Perm.SUBMIT_RETURN, True),
        ("analyst", Perm.APPROVE_RETURN, False),
        ("analyst", Perm.USE_ADMIN, False),
        ("analyst", Perm.IMPORT_DATA, False),
        ("board_member", Perm.VIEW_APPROVED_DATA, True),
        ("board_member", Perm.VIEW_REPORTS, True),
        ("board_member", Perm.SUBMIT_RETURN, False),
        ("board_member", Perm.VIEW_AGENCY_RETURNS, False),
        ("board_member", Perm.USE_ADMIN, False),
        ("performance_manager", Perm.APPROVE_RETURN, True),
        ("performance_manager", Perm.USE_ADMIN, True),
        ("performance_manager", Perm.PUBLISH_SNAPSHOT, True),
        ("no_role", Perm.VIEW_APPROVED_DATA, False),
    ],
)
def test_role_table(users, who, perm, allowed):
    assert has_perm(users[who], perm) is allowed


@pytest.mark.django_db
def test_agency_scoped_permissions(users, police):
    other = AgencyFactory(code="probation")
    assert has_perm(users["analyst"], Perm.SUBMIT_RETURN, agency=police)
    assert not has_perm(users["analyst"], Perm.SUBMIT_RETURN, agency=other)
    assert has_perm(users["analyst"], Perm.VIEW_AGENCY_RETURNS, agency=police.pk)
    assert not has_perm(users["other_analyst"], Perm.VIEW_AGENCY_RETURNS, agency=police)
    # The commissioner's office sees every agency.
    assert has_perm(users["performance_manager"], Perm.VIEW_AGENCY_RETURNS, agency=other)


@pytest.mark.django_db
def test_inactive_and_anonymous_users_may_do_nothing(users):
    user = users["performance_manager"]
    user.is_active = False
    for perm in Perm:
        assert not has_perm(user, perm)
        assert not has_perm(AnonymousUser(), perm)
    with pytest.raises(PermissionDenied):
        require(AnonymousUser(), Perm.VIEW_APPROVED_DATA)


@pytest.mark.django_db
def test_superuser_is_a_performance_manager(users):
    user = users["no_role"]
    user.is_superuser = True
    assert all(has_perm(user, perm) for perm in Perm)


def test_every_role_has_a_row():
    assert set(ROLE_PERMISSIONS) == set(Role.values)


@pytest.mark.django_db
def test_create_api_token_command_and_admin_revoke(client, users):
    import io

    from django.core.management import call_command
    from django.urls import reverse

    from accounts.models import ApiToken, AuditEvent

    out = io.StringIO()
    call_command("create_api_token", "board", "--name", "Power BI", stdout=out, stderr=io.StringIO())
    key = out.getvalue().strip()
    token = ApiToken.objects.get()
    assert key.startswith(token.prefix)
    assert token.key_hash != key
    client.force_login(users["performance_manager"])
    response = client.post(
        reverse("admin:accounts_apitoken_changelist"), {"action": "revoke", "_selected_action": [token.pk]}
    )
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert AuditEvent.objects.filter(action="api_token.revoked", actor=users["performance_manager"]).exists()


def test_the_system_actor_may_do_everything_but_can_never_log_in(db, client):
    from accounts.access import system_actor

    system = system_actor()
    assert system_actor() == system  # one row, made once
    assert (system.username, system.role, system.is_active, system.has_usable_password()) == (
        "system",
        Role.PERFORMANCE_MANAGER,
        False,
        False,
    )
    assert all(has_perm(system, perm) for perm in Perm)
    require(system, Perm.PUBLISH_SNAPSHOT)
    assert not client.login(username="system", password="")


def test_a_person_called_system_is_not_the_system_actor(db):
    from accounts.access import is_system_actor

    person = UserFactory(username="system", role=Role.BOARD_MEMBER)
    assert not is_system_actor(person)
    assert not has_perm(person, Perm.PUBLISH_SNAPSHOT)
    person.is_active = False
    assert not has_perm(person, Perm.VIEW_REPORTS)


def test_old_admin_links_to_moved_models_redirect(client, db):
    response = client.get("/admin/frameworks/auditevent/?action=return.approved")
    assert response.status_code == 301
    assert response["Location"] == "/admin/accounts/auditevent/?action=return.approved"

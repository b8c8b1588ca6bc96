"""The Users pages work in the current partnership: a manager of one partnership sees, changes, invites and
removes only its people; a role there is the user's ``Membership``; a person who also belongs elsewhere is
not deactivated by one partnership; the admin, which spans every partnership, is then the host's alone."""

import pytest
from django.contrib import admin
from django.test import RequestFactory

from accounts.access import user_role
from accounts.audit import AuditAction
from accounts.models import AuditEvent, Membership, Partnership, Role, User
from accounts.partnerships import default_partnership
from accounts.tenancy import partnership_scope
from accounts.users import UserError, user_set_active

from ..factories import UserFactory

admin_site = admin.site


@pytest.fixture
def west(db):
    return Partnership.objects.create(code="west-mercia", name="West Mercia LCJB")


@pytest.fixture
def people(users, police, west):
    """A manager of West Mercia only, a board member of West Mercia only, and the default partnership's users
    (``users``), one of whom (the police analyst) also supplies West Mercia."""
    wm_manager = UserFactory(username="wm-manager", role="")
    wm_board = UserFactory(username="wm-board", role="")
    Membership.objects.create(partnership=west, user=wm_manager, role=Role.PERFORMANCE_MANAGER)
    Membership.objects.create(partnership=west, user=wm_board, role=Role.BOARD_MEMBER)
    Membership.objects.create(partnership=west, user=users["analyst"], role=Role.ANALYST, agency=police)
    return {**users, "wm_manager": wm_manager, "wm_board": wm_board}


def test_each_manager_lists_only_their_partnerships_people(client, people):
    client.force_login(people["wm_manager"])
    page = client.get("/manage/users/?partnership=west-mercia").content.decode()
    assert "wm-board" in page and "analyst" in page
    assert '"row">manager</th>' not in page and '"row">board</th>' not in page  # the default partnership's people
    csv = client.get("/manage/users/?format=csv").content.decode()  # the choice is remembered
    assert "wm-board" in csv and "\nboard," not in csv
    client.force_login(people["performance_manager"])
    page = client.get("/manage/users/").content.decode()
    assert "wm-manager" not in page and "wm-board" not in page


def test_a_role_elsewhere_grants_nothing_here(client, people):
    """The West Mercia manager is nobody in the default partnership: its pages refuse them."""
    with partnership_scope(default_partnership()):
        assert user_role(people["wm_manager"]) is None
    client.force_login(people["wm_manager"])
    assert client.get("/manage/users/?partnership=default").status_code == 404  # no role there: not even named


def test_another_partnerships_user_is_not_found(client, people):
    client.force_login(people["wm_manager"])
    client.get("/manage/users/?partnership=west-mercia")
    board = people["board_member"]  # the default partnership's board member
    assert client.get(f"/manage/users/{board.pk}/").status_code == 404
    assert client.post(f"/manage/users/{board.pk}/deactivate/").status_code == 404
    assert client.post(f"/manage/users/{board.pk}/", {"role": Role.PERFORMANCE_MANAGER}).status_code == 404
    board.refresh_from_db()
    assert board.is_active and board.role == Role.BOARD_MEMBER


def test_changing_a_role_changes_the_membership_there_only(client, people, police):
    client.force_login(people["wm_manager"])
    client.get("/manage/users/?partnership=west-mercia")
    board = people["wm_board"]
    response = client.post(f"/manage/users/{board.pk}/", {"role": Role.ANALYST, "agency": police.pk})
    assert response.status_code == 302
    assert Membership.objects.get(user=board).role == Role.ANALYST
    board.refresh_from_db()
    assert board.role == ""  # nothing in the default partnership
    event = AuditEvent.objects.get(action=AuditAction.USER_CHANGED, object_id=str(board.pk))
    assert event.partnership.code == "west-mercia"


def test_inviting_in_a_partnership_gives_a_role_there(client, people, west):
    client.force_login(people["wm_manager"])
    client.get("/manage/users/?partnership=west-mercia")
    response = client.post(
        "/manage/users/invite/", {"email": "new@wm.example", "name": "New Person", "role": Role.BOARD_MEMBER}
    )
    assert response.status_code == 302
    user = User.objects.get(username="new@wm.example")
    assert user.role == "" and user.first_name == "New"
    assert Membership.objects.get(user=user).partnership == west


def test_someone_who_also_belongs_elsewhere_is_removed_not_deactivated(client, people, west):
    analyst = people["analyst"]
    with partnership_scope(west), pytest.raises(UserError, match="another partnership"):
        user_set_active(actor=people["wm_manager"], user_id=analyst.pk, active=False)
    client.force_login(people["wm_manager"])
    client.get("/manage/users/?partnership=west-mercia")
    assert client.post(f"/manage/users/{analyst.pk}/remove/").status_code == 302
    analyst.refresh_from_db()
    assert analyst.is_active and analyst.role == Role.ANALYST  # still the default partnership's analyst
    assert not Membership.objects.filter(partnership=west, user=analyst).exists()


def test_the_admin_is_the_hosts_once_there_are_several_partnerships(client, people):
    client.force_login(people["performance_manager"])
    assert client.get("/admin/").status_code == 403
    host = UserFactory(username="host", is_superuser=True, is_staff=True)
    request = RequestFactory().get("/admin/")
    request.user = host
    assert admin_site.has_permission(request)  # (the admin's pages for the host: test_add_user.py)
    request.user = people["performance_manager"]
    assert not admin_site.has_permission(request)

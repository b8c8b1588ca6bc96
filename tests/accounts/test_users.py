"""Users managed in the app: invite by e-mail with a one-time set-password link, change role and agency,
deactivate (never delete), each change audited; the invitee sets a password and signs in."""

import re

import pytest
from django.contrib.auth import authenticate
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from accounts import users as user_services
from accounts.audit import AuditAction
from accounts.models import AuditEvent, Role, User
from accounts.users import UserError, user_change, user_invite, user_password_set, user_set_active

LINK = re.compile(r"http://[^\s]+/accounts/set-password/[^\s]+/")


def _path(link):
    return "/" + link.split("/", 3)[3]


# --- services ---------------------------------------------------------------------------------------------
def test_an_invitation_creates_a_user_without_a_password_and_emails_a_one_time_link(users, police):
    manager = users["performance_manager"]
    invitation = user_invite(
        actor=manager, email=" Ann.Lee@Police.example ", name="Ann Lee", role=Role.ANALYST, agency=police
    )
    user = User.objects.get(username="ann.lee@police.example")
    assert (user.email, user.first_name, user.last_name) == ("ann.lee@police.example", "Ann", "Lee")
    assert (user.role, user.agency) == (Role.ANALYST, police)
    assert user.is_active and not user.has_usable_password()
    assert invitation.sent is True
    (message,) = mail.outbox
    assert message.to == ["ann.lee@police.example"]
    assert invitation.link in message.body
    assert LINK.search(message.body)
    event = AuditEvent.objects.get(action=AuditAction.USER_INVITED)
    assert (event.actor, event.object_id) == (manager, str(user.pk))
    assert event.new == {"role": "analyst", "agency": "police", "is_active": True}


def test_an_invitation_says_honestly_when_the_email_could_not_be_sent(users, monkeypatch):
    def broken(*args, **kwargs):
        raise OSError("mail server down")

    monkeypatch.setattr(user_services, "send_mail", broken)
    invitation = user_invite(
        actor=users["performance_manager"], email="b@example.org", name="B", role=Role.BOARD_MEMBER
    )
    assert invitation.sent is False
    assert invitation.link.startswith("http")
    assert User.objects.filter(username="b@example.org").exists()  # the account is made all the same


@pytest.mark.parametrize(
    ("email", "role", "agency", "message"),
    [
        ("not-an-address", Role.BOARD_MEMBER, False, "is not an e-mail address"),
        ("new@example.org", Role.ANALYST, False, "belongs to an agency"),
        ("manager@example.org", Role.BOARD_MEMBER, False, "already a user"),
        ("new@example.org", "king", False, "Unknown role"),
    ],
)
def test_invitations_that_cannot_be_made_say_why_and_write_nothing(users, email, role, agency, message):
    User.objects.filter(username="board").update(email="manager@example.org")
    before = User.objects.count()
    with pytest.raises(UserError, match=message):
        user_invite(actor=users["performance_manager"], email=email, name="X", role=role, agency=None)
    assert User.objects.count() == before
    assert not mail.outbox
    assert not AuditEvent.objects.exists()


@pytest.mark.parametrize("role", ["analyst", "board_member", "no_role"])
def test_only_the_performance_manager_manages_users(users, police, role):
    with pytest.raises(PermissionDenied):
        user_invite(actor=users[role], email="x@example.org", name="X", role=Role.BOARD_MEMBER)
    with pytest.raises(PermissionDenied):
        user_set_active(actor=users[role], user_id=users["board_member"].pk, active=False)
    with pytest.raises(PermissionDenied):
        user_change(actor=users[role], user_id=users["board_member"].pk, role=Role.ANALYST, agency=police)


def test_changing_role_and_agency_is_audited_with_old_and_new(users, police):
    board = users["board_member"]
    user_change(actor=users["performance_manager"], user_id=board.pk, role=Role.ANALYST, agency=police)
    board.refresh_from_db()
    assert (board.role, board.agency) == (Role.ANALYST, police)
    event = AuditEvent.objects.get(action=AuditAction.USER_CHANGED)
    assert event.old == {"role": "board_member", "agency": None}
    assert event.new == {"role": "analyst", "agency": "police"}
    # The same again changes nothing and writes nothing.
    user_change(actor=users["performance_manager"], user_id=board.pk, role=Role.ANALYST, agency=police)
    assert AuditEvent.objects.filter(action=AuditAction.USER_CHANGED).count() == 1
    with pytest.raises(UserError, match="belongs to an agency"):
        user_change(actor=users["performance_manager"], user_id=board.pk, role=Role.ANALYST, agency=None)


def test_users_are_deactivated_and_reactivated_never_deleted_and_not_themselves(users):
    manager, board = users["performance_manager"], users["board_member"]
    user_set_active(actor=manager, user_id=board.pk, active=False)
    board.refresh_from_db()
    assert not board.is_active
    assert authenticate(username="board", password="pass-word-123") is None
    user_set_active(actor=manager, user_id=board.pk, active=True)
    assert authenticate(username="board", password="pass-word-123") is not None
    actions = list(AuditEvent.objects.order_by("id").values_list("action", flat=True))
    assert actions == [AuditAction.USER_DEACTIVATED, AuditAction.USER_REACTIVATED]
    with pytest.raises(UserError, match="cannot change your own"):
        user_set_active(actor=manager, user_id=manager.pk, active=False)


def test_setting_the_password_ends_the_link_and_is_audited(users):
    invitation = user_invite(
        actor=users["performance_manager"], email="c@example.org", name="C", role=Role.BOARD_MEMBER
    )
    user_password_set(user=invitation.user, password="a-long-pass-phrase-7")
    assert authenticate(username="c@example.org", password="a-long-pass-phrase-7") is not None
    assert AuditEvent.objects.filter(action=AuditAction.USER_PASSWORD_SET, actor=invitation.user).exists()


# --- pages ------------------------------------------------------------------------------------------------
def test_the_users_page_lists_role_agency_and_status_with_a_csv(client, users):
    client.force_login(users["performance_manager"])
    html = client.get(reverse("manage-users")).content.decode()
    assert "other-analyst" in html and "CPS" in html and "Agency analyst" in html
    assert 'Deactivate<span class="visually-hidden"> board' in html
    assert "system" not in html
    csv_text = client.get(reverse("manage-users") + "?format=csv").content.decode("utf-8-sig")
    assert csv_text.splitlines()[0] == "username,name,e-mail,role,agency,active,password chosen,last sign-in"
    assert "analyst,,,Agency analyst,Police,yes,yes," in csv_text


def test_inviting_from_the_page_and_setting_the_password_then_signing_in(client, users, police):
    client.force_login(users["performance_manager"])
    response = client.post(
        reverse("manage-user-invite"),
        {"name": "Dee Ray", "email": "dee@police.example", "role": "analyst", "agency": police.pk},
        follow=True,
    )
    assert "Invited dee@police.example: the e-mail with the set-password link was sent." in response.content.decode()
    link = LINK.search(mail.outbox[0].body).group(0)
    client.logout()
    # The link puts the token in the session and redirects to a URL without it (Django's reset view).
    page = client.get(_path(link), follow=True)
    assert "Choose your password" in page.content.decode()
    form_url = page.redirect_chain[-1][0]
    weak = client.post(form_url, {"new_password1": "abc", "new_password2": "abc"})
    html = weak.content.decode()
    assert "govuk-error-summary" in html and "govuk-error-message" in html
    assert "<title>Error: Choose your password" in html
    done = client.post(
        form_url, {"new_password1": "a-long-pass-phrase-7", "new_password2": "a-long-pass-phrase-7"}, follow=True
    )
    assert "Your password is set" in done.content.decode()
    assert client.login(username="dee@police.example", password="a-long-pass-phrase-7")
    # The link works once.
    client.logout()
    assert "This link no longer works" in client.get(_path(link), follow=True).content.decode()


def test_the_invite_page_shows_errors_in_a_summary_linked_to_the_fields(client, users):
    client.force_login(users["performance_manager"])
    html = client.post(reverse("manage-user-invite"), {"name": "", "email": "nope", "role": "analyst"}).content.decode()
    assert "There is a problem" in html
    assert 'href="#id_email"' in html and 'href="#id_agency"' in html
    assert "Choose the analyst&#x27;s agency." in html
    assert not User.objects.filter(email="nope").exists()


def test_each_invite_error_names_its_field(client, users):
    """The summary lists every error: three times "This field is required." would not say which field."""
    client.force_login(users["performance_manager"])
    html = client.post(reverse("manage-user-invite"), {"name": ""}).content.decode()
    assert "This field is required." not in html
    for message in ("Enter the person&#x27;s full name", "Enter their e-mail address", "Choose a role"):
        assert message in html


def test_the_page_gives_the_link_when_the_email_fails(client, users, monkeypatch):
    monkeypatch.setattr(user_services, "send_mail", lambda *a, **k: (_ for _ in ()).throw(OSError("down")))
    client.force_login(users["performance_manager"])
    response = client.post(
        reverse("manage-user-invite"), {"name": "E", "email": "e@example.org", "role": "board_member"}, follow=True
    )
    html = response.content.decode()
    assert "the e-mail could not be sent" in html
    assert "/accounts/set-password/" in html


def test_role_change_and_deactivation_from_the_page(client, users, police):
    client.force_login(users["performance_manager"])
    board = users["board_member"]
    client.post(reverse("manage-user-edit", args=[board.pk]), {"role": "analyst", "agency": police.pk})
    board.refresh_from_db()
    assert board.role == Role.ANALYST
    client.post(reverse("manage-user-action", args=[board.pk, "deactivate"]))
    board.refresh_from_db()
    assert not board.is_active
    assert client.get(reverse("manage-user-action", args=[board.pk, "deactivate"])).status_code == 405
    own = client.post(reverse("manage-user-action", args=[users["performance_manager"].pk, "deactivate"]), follow=True)
    assert "cannot change your own" in own.content.decode()


def test_a_new_link_for_an_invitee_who_has_not_set_a_password(client, users):
    invitation = user_invite(
        actor=users["performance_manager"], email="f@example.org", name="F", role=Role.BOARD_MEMBER
    )
    client.force_login(users["performance_manager"])
    client.post(reverse("manage-user-action", args=[invitation.user.pk, "invite-again"]))
    assert len(mail.outbox) == 2
    assert mail.outbox[1].to == ["f@example.org"]


def test_a_deactivated_invitee_cannot_use_the_link(client, users):
    invitation = user_invite(
        actor=users["performance_manager"], email="g@example.org", name="G", role=Role.BOARD_MEMBER
    )
    user_set_active(actor=users["performance_manager"], user_id=invitation.user.pk, active=False)
    assert "This link no longer works" in client.get(_path(invitation.link), follow=True).content.decode()


def test_the_users_page_reads_in_a_fixed_number_of_queries(client, users, police, django_assert_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from ..factories import UserFactory

    client.force_login(users["performance_manager"])
    with CaptureQueriesContext(connection) as few:
        assert client.get(reverse("manage-users")).status_code == 200
    for i in range(25):
        UserFactory(username=f"analyst-{i}", role=Role.ANALYST, agency=police)
    with django_assert_num_queries(len(few)):
        html = client.get(reverse("manage-users")).content.decode()
    assert "analyst-24" in html

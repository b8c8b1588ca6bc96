"""Login throttling: after the failure limit a username is locked out, even with the right password; the login
page says it is locked and for how long; the lockout is audited once; it lifts after the cool-off."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.audit import AuditAction
from accounts.models import AuditEvent, Role

from ..factories import UserFactory

PASSWORD = "correct-horse-battery"


@pytest.fixture
def throttled(db, settings):
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 5
    settings.AXES_COOLOFF_TIME = dt.timedelta(minutes=15)
    return UserFactory(username="board", role=Role.BOARD_MEMBER, password=PASSWORD)


def attempt(client, password, username="board"):
    return client.post(reverse("login"), {"username": username, "password": password})


def test_fifty_wrong_passwords_lock_the_account_even_against_the_right_one(throttled, client):
    for _ in range(50):
        attempt(client, "wrong-guess")
    response = attempt(client, PASSWORD)
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    page = response.content.decode()
    assert "This account is locked after 5 failed log-ins. Try again in 15 minutes" in page
    assert 'role="alert"' in page and 'name="username"' in page  # the login form, saying why
    # Audited once, naming the account, however many attempts followed.
    (event,) = AuditEvent.objects.filter(action=AuditAction.LOGIN_LOCKED_OUT)
    assert event.object_id == str(throttled.pk) and "board locked out after 5 failed log-ins" in event.summary


def test_the_first_failures_only_say_the_password_did_not_match(throttled, client):
    for _ in range(4):
        response = attempt(client, "wrong-guess")
        assert response.status_code == 200
        assert "did not match" in response.content.decode()
    response = attempt(client, PASSWORD)
    assert response.status_code == 302 and client.session["_auth_user_id"] == str(throttled.pk)
    assert not AuditEvent.objects.filter(action=AuditAction.LOGIN_LOCKED_OUT).exists()


def test_the_lockout_lifts_after_the_cool_off(throttled, client):
    from axes.models import AccessAttempt

    for _ in range(5):
        attempt(client, "wrong-guess")
    assert attempt(client, PASSWORD).status_code == 429
    # Sixteen minutes pass after the last attempt.
    AccessAttempt.objects.update(attempt_time=timezone.now() - dt.timedelta(minutes=16))
    assert attempt(client, PASSWORD).status_code == 302


def test_another_account_is_not_locked_by_someone_elses_failures(throttled, client):
    UserFactory(username="manager", role=Role.PERFORMANCE_MANAGER, password=PASSWORD)
    for _ in range(10):
        attempt(client, "wrong-guess")
    assert attempt(client, PASSWORD, username="manager").status_code == 302


def test_guessed_usernames_are_locked_but_never_fill_the_audit_trail(throttled, client):
    # Audit events can never be deleted: a stranger trying made-up names must not be able to fill the trail.
    for name in ("nobody-1", "nobody-2", "nobody-3"):
        for _ in range(6):
            attempt(client, "wrong-guess", username=name)
    assert attempt(client, "wrong-guess", username="nobody-1").status_code == 429
    assert not AuditEvent.objects.filter(action=AuditAction.LOGIN_LOCKED_OUT).exists()

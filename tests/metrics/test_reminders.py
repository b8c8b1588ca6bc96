"""Chasing from the tracker: a reminder to the agency's contacts (audited, once per agency per 24 hours, honest
about who was e-mailed); the round-opening message; the due date suggested; a return sent back is not on time."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone

from accounts.audit import AuditAction
from accounts.contacts import agency_contacts_update
from accounts.models import AuditEvent, Role
from metrics.models import Notification, ReturnState
from metrics.returns import selectors
from metrics.returns.selectors import next_round, tracker
from metrics.returns.services import ReturnError, return_remind, return_send_back, return_submit

from ..clock import pin_today
from ..factories import UserFactory
from .returns_setup import GOOD, open_round, upload

TODAY = timezone.localdate()


@pytest.fixture(autouse=True)
def _clock_on_today(monkeypatch):
    pin_today(monkeypatch, TODAY)


@pytest.fixture
def late(setup):
    """2024/25 Q1, due a week ago: nothing submitted yet."""
    round_ = open_round(setup, due=TODAY - dt.timedelta(days=7))
    setup["police_return"] = round_.returns.get(agency=setup["police"])
    setup["hmpps_return"] = round_.returns.get(agency=setup["hmpps"])
    return setup


def remind(s, key="police_return", who="manager", capture=None):
    with capture(execute=True):
        return return_remind(actor=s[who], return_id=s[key].pk)


def test_a_reminder_goes_to_the_contacts_and_the_shared_mailbox_and_says_who(
    late, mailoutbox, django_capture_on_commit_callbacks
):
    head = UserFactory(
        username="head",
        role=Role.ANALYST,
        agency=late["police"],
        email="head@police.example",
        first_name="Asha",
        last_name="Khan",
    )
    agency_contacts_update(
        actor=late["manager"], agency_id=late["police"].pk, user_ids=[head.pk], shared_mailbox="team@police.example"
    )
    mailoutbox.clear()
    reminded = remind(late, capture=django_capture_on_commit_callbacks)
    assert reminded.message == (
        "Reminder about the 2024/25 Q1 return sent to Staffordshire Police: Asha Khan (head@police.example), "
        "the shared mailbox (team@police.example)."
    )
    (mail,) = mailoutbox
    assert mail.to == ["head@police.example", "team@police.example"]
    assert mail.subject == "pcc_perf: reminder: the 2024/25 Q1 return for Staffordshire Police is late"
    assert f"/returns/{late['police_return'].pk}/" in mail.body
    assert mail.body.startswith("manager at the commissioner's office asks")  # who sent it (no full name here)
    assert "asks for the 2024/25 Q1 data return for Staffordshire Police, which was due on" in mail.body
    assert "It has not been submitted yet." in mail.body
    (event,) = AuditEvent.objects.filter(action=AuditAction.RETURN_REMINDED)
    assert event.actor == late["manager"] and event.return_id == late["police_return"].pk
    assert event.new == {"to": ["head@police.example", "team@police.example"]}
    assert Notification.objects.filter(kind="reminder", return_obj=late["police_return"]).exists()


def test_no_email_is_sent_if_the_transaction_rolls_back(late, mailoutbox, django_capture_on_commit_callbacks):
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        return_remind(actor=late["manager"], return_id=late["police_return"].pk)
    assert len(callbacks) == 1 and mailoutbox == []  # sent only once the transaction commits


def test_one_reminder_per_agency_per_day_says_when_the_next_is_allowed(
    late, mailoutbox, django_capture_on_commit_callbacks, monkeypatch
):
    remind(late, capture=django_capture_on_commit_callbacks)
    sent = AuditEvent.objects.get(action=AuditAction.RETURN_REMINDED).at
    later = timezone.localtime(sent + dt.timedelta(hours=24))
    with pytest.raises(ReturnError) as refused:
        remind(late, capture=django_capture_on_commit_callbacks)
    assert "Staffordshire Police was sent a reminder at" in str(refused.value)
    assert f"the next can be sent after {later:%H:%M} on {later:%A} {later.day} {later:%B}." in str(refused.value)
    assert AuditEvent.objects.filter(action=AuditAction.RETURN_REMINDED).count() == 1
    # Another agency is not held back; and a day later the police can be chased again.
    remind(late, key="hmpps_return", capture=django_capture_on_commit_callbacks)

    class Tomorrow:
        @staticmethod
        def now():
            return sent + dt.timedelta(hours=24, minutes=1)

    monkeypatch.setattr(selectors, "timezone", Tomorrow)
    remind(late, capture=django_capture_on_commit_callbacks)
    assert AuditEvent.objects.filter(action=AuditAction.RETURN_REMINDED).count() == 3


def test_an_agency_nobody_can_be_emailed_at_is_named_and_nothing_is_recorded(
    late, mailoutbox, django_capture_on_commit_callbacks
):
    late["hmpps_analyst"].email = ""
    late["hmpps_analyst"].save()
    mailoutbox.clear()
    with pytest.raises(
        ReturnError, match=r"^No one at HM Prison and Probation Service has an e-mail address — add a contact\.$"
    ):
        remind(late, key="hmpps_return", capture=django_capture_on_commit_callbacks)
    assert mailoutbox == []
    assert not AuditEvent.objects.filter(action=AuditAction.RETURN_REMINDED).exists()


def test_a_submitted_return_is_not_chased(late, django_capture_on_commit_callbacks):
    upload_obj = upload(late, late["police_return"], GOOD)
    from metrics.returns.uploads import upload_confirm

    upload_confirm(actor=late["analyst"], upload=upload_obj)
    return_submit(actor=late["analyst"], return_obj=late["police_return"])
    with pytest.raises(ReturnError, match="is submitted: there is nothing to chase"):
        remind(late, capture=django_capture_on_commit_callbacks)


@pytest.mark.parametrize("who", ["analyst", "hmpps_analyst", "board"])
def test_analysts_and_board_members_cannot_chase(late, who, django_capture_on_commit_callbacks):
    with pytest.raises(PermissionDenied):
        remind(late, who=who, capture=django_capture_on_commit_callbacks)
    assert not AuditEvent.objects.filter(action=AuditAction.RETURN_REMINDED).exists()


# --- the tracker page ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("who", "status"), [("analyst", 403), ("board", 403), ("manager", 302)])
def test_the_send_reminder_button_is_the_managers(
    client, late, who, status, mailoutbox, django_capture_on_commit_callbacks
):
    client.force_login(late[who])
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("return-remind", args=[late["police_return"].pk]))
    assert response.status_code == status
    assert len(mailoutbox) == (1 if who == "manager" else 0)


def test_the_tracker_shows_contacts_and_the_button_then_who_was_emailed(client, late, mailoutbox):
    late["hmpps_analyst"].email = ""
    late["hmpps_analyst"].save()
    client.force_login(late["manager"])
    html = client.get(reverse("returns")).content.decode()
    assert "analyst@police.example" in html
    assert "No one at HM Prison and Probation Service has an e-mail address" in html
    assert 'aria-label="Send reminder to Staffordshire Police"' in html
    assert reverse("agencies") in html
    response = client.post(reverse("return-remind", args=[late["police_return"].pk]), follow=True)
    html = response.content.decode()
    assert (
        "Reminder about the 2024/25 Q1 return sent to Staffordshire Police: analyst (analyst@police.example)." in html
    )
    assert "Reminded; next after" in html
    assert 'aria-label="Send reminder to Staffordshire Police"' not in html
    response = client.post(reverse("return-remind", args=[late["hmpps_return"].pk]), follow=True)
    assert (
        "No one at HM Prison and Probation Service has an e-mail address — add a contact." in response.content.decode()
    )


def test_analysts_see_neither_contacts_nor_chase_buttons(client, late):
    client.force_login(late["analyst"])
    html = client.get(reverse("returns")).content.decode()
    assert "Send reminder" not in html and "analyst@police.example" not in html


def test_reminding_an_unknown_return_is_not_found(client, late):
    client.force_login(late["manager"])
    assert client.post(reverse("return-remind", args=[999999])).status_code == 404


def test_the_round_opening_message_names_who_was_emailed_and_who_could_not_be(
    client, setup, mailoutbox, django_capture_on_commit_callbacks
):
    setup["hmpps_analyst"].email = ""
    setup["hmpps_analyst"].save()
    client.force_login(setup["manager"])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("round-open"),
            {"period": "2024/25 Q1", "due_date": (TODAY + dt.timedelta(days=20)).isoformat()},
            follow=True,
        )
    html = response.content.decode()
    assert "The 2024/25 Q1 round is open. E-mailed: Staffordshire Police: analyst (analyst@police.example)." in html
    assert "No one at HM Prison and Probation Service has an e-mail address — add a contact." in html
    assert "are being told" not in html
    assert [m.to for m in mailoutbox] == [["analyst@police.example"]]


def test_the_suggested_due_date_is_in_the_future(client, setup):
    _, due = next_round(today=TODAY)
    assert due >= TODAY + dt.timedelta(days=14)
    client.force_login(setup["manager"])
    html = client.get(reverse("returns")).content.decode()
    assert f'value="{due.isoformat()}"' in html


def test_a_return_sent_back_for_correction_is_not_on_time(setup):
    """Issue 17: the tracker said "100% / on time" for a return sent back for correction."""
    round_ = open_round(setup, due=TODAY + dt.timedelta(days=10))
    ret = round_.returns.get(agency=setup["police"])
    from metrics.returns.uploads import upload_confirm

    upload_confirm(actor=setup["analyst"], upload=upload(setup, ret, GOOD))
    return_submit(actor=setup["analyst"], return_obj=ret)
    (status,) = [s for s in tracker(framework=setup["framework"]) if s.return_obj.pk == ret.pk]
    assert status.on_time is True and status.on_time_text == "Yes"
    return_send_back(actor=setup["manager"], return_obj=ret, reason="Robbery looks doubled.")
    (status,) = [s for s in tracker(framework=setup["framework"]) if s.return_obj.pk == ret.pk]
    assert status.return_obj.state == ReturnState.RETURNED
    assert status.on_time is None
    assert status.on_time_text == "Not yet: sent back for correction"
    assert status.chaseable

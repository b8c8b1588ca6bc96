"""The state-change kit, on a real status (a return) with a transition table written here."""

import datetime as dt

import pytest
from django.db import transaction
from django.db.transaction import TransactionManagementError
from django.utils import timezone

from accounts.audit import AuditAction
from accounts.models import AuditEvent
from accounts.workflow import Conflict, IllegalTransition, change_state, locked, transition
from metrics.models import CollectionRound, Return, ReturnState

TABLE = {
    ReturnState.DRAFT: {ReturnState.SUBMITTED},
    ReturnState.SUBMITTED: {ReturnState.APPROVED, ReturnState.RETURNED},
    ReturnState.RETURNED: {ReturnState.SUBMITTED},
    ReturnState.APPROVED: {ReturnState.DRAFT},
}


@pytest.fixture
def ret(db, police):
    round_ = CollectionRound.objects.create(period=dt.date(2024, 6, 30), due_date=dt.date(2024, 7, 31))
    return Return.objects.create(round=round_, agency=police)


def test_a_legal_transition_changes_the_state_and_bumps_the_version(ret):
    assert transition(ret, to=ReturnState.SUBMITTED, table=TABLE) == ReturnState.DRAFT
    assert (ret.state, ret.version) == (ReturnState.SUBMITTED, 1)


def test_an_illegal_transition_is_refused_in_plain_words(ret):
    with pytest.raises(IllegalTransition, match=r"A draft return cannot become approved\.") as refused:
        transition(ret, to=ReturnState.APPROVED, table=TABLE)
    assert (refused.value.from_state, refused.value.to_state) == (ReturnState.DRAFT, ReturnState.APPROVED)
    assert (ret.state, ret.version) == (ReturnState.DRAFT, 0)


def test_locked_returns_the_row_when_the_version_matches(ret):
    with transaction.atomic():
        assert locked(Return, ret.pk, version=0) == ret
        assert locked(Return.objects.filter(agency=ret.agency), ret.pk) == ret


def test_locked_raises_conflict_when_someone_changed_the_row_meanwhile(ret):
    Return.objects.filter(pk=ret.pk).update(version=3)
    with transaction.atomic(), pytest.raises(Conflict, match="version 3, you had 2"):
        locked(Return, ret.pk, version=2)


@pytest.mark.django_db(transaction=True)
def test_the_kit_refuses_to_run_outside_a_transaction(ret, users):
    with pytest.raises(TransactionManagementError):
        locked(Return, ret.pk)
    with pytest.raises(TransactionManagementError):
        change_state(
            ret, to=ReturnState.SUBMITTED, table=TABLE, actor=users["analyst"], action=AuditAction.RETURN_SUBMITTED
        )


def test_change_state_saves_audits_with_the_enum_action_and_queues_the_side_effect_on_commit(
    ret, users, django_capture_on_commit_callbacks
):
    ran = []
    with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
        obj = locked(Return, ret.pk, version=0)
        obj.reason, obj.submitted_at = "figures checked", timezone.now()
        change_state(
            obj,
            to=ReturnState.SUBMITTED,
            table=TABLE,
            actor=users["analyst"],
            action=AuditAction.RETURN_SUBMITTED,
            fields=["reason", "submitted_at"],
            reason="figures checked",
            return_id=obj.pk,
            on_commit=lambda: ran.append(obj.pk),
        )
        assert ran == []  # not before the commit
    assert ran == [ret.pk] and len(callbacks) == 1
    ret.refresh_from_db()
    assert (ret.state, ret.version, ret.reason) == (ReturnState.SUBMITTED, 1, "figures checked")
    event = AuditEvent.objects.get()
    assert event.action == AuditAction.RETURN_SUBMITTED == "return.submitted"
    assert (event.actor, event.object_type, event.object_id) == (users["analyst"], "metrics.return", str(ret.pk))
    assert (event.old, event.new, event.reason, event.return_id) == (
        {"state": "draft"},
        {"state": "submitted"},
        "figures checked",
        ret.pk,
    )


def test_no_side_effect_and_no_change_when_the_transaction_rolls_back(ret, users, django_capture_on_commit_callbacks):
    ran = []

    def submit_then_fail():
        with transaction.atomic():
            obj = locked(Return, ret.pk)
            obj.submitted_at = timezone.now()
            change_state(
                obj,
                to=ReturnState.SUBMITTED,
                table=TABLE,
                actor=users["analyst"],
                action=AuditAction.RETURN_SUBMITTED,
                fields=["submitted_at"],
                on_commit=lambda: ran.append(1),
            )
            raise RuntimeError("something later failed")

    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(RuntimeError):
        submit_then_fail()
    assert ran == [] and callbacks == []
    ret.refresh_from_db()
    assert (ret.state, ret.version) == (ReturnState.DRAFT, 0)
    assert not AuditEvent.objects.exists()


def test_an_illegal_change_writes_nothing(ret, users):
    with pytest.raises(IllegalTransition), transaction.atomic():
        change_state(
            locked(Return, ret.pk),
            to=ReturnState.APPROVED,
            table=TABLE,
            actor=users["performance_manager"],
            action=AuditAction.RETURN_APPROVED,
        )
    ret.refresh_from_db()
    assert ret.state == ReturnState.DRAFT and not AuditEvent.objects.exists()

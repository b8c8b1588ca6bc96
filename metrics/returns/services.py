"""Rounds and a return's state changes: submit, send back, approve, reopen.

Every state change has one shape: check permission → one transaction (lock the return) → check the
transition is legal (``RETURN_TRANSITIONS``) → save → audit event → side effects (e-mail) after commit.
Values reach approved data (``Observation``) only when a performance manager approves, through the same
write as the import core: a changed value is a revision with the old value kept in the audit trail.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from accounts import workflow
from accounts.access import Perm, require
from accounts.audit import AuditAction, record
from accounts.contacts import AgencyContactList, agency_contacts, contacts_of
from accounts.models import Agency
from accounts.tenancy import current_partnership
from accounts.versions import data_changed
from accounts.workflow import IllegalTransition, change_state, locked
from frameworks.models import Framework
from frameworks.selectors import current_framework
from metrics.imports.commit import approve_return_values
from metrics.models import EDITABLE_STATES, RETURN_TRANSITIONS, CollectionRound, Return, ReturnState
from metrics.quarters import Quarter

from . import notifications
from .selectors import REMIND_EVERY, last_reminders, owed_lines, owing_agencies
from .validation import blocking, evaluate, needing_comment


class ReturnError(Exception):
    """An action that cannot be done now, with a message for the person who tried."""


class Conflict(ReturnError):
    """Someone else changed the return since the page was opened."""


def check_editable(return_obj: Return) -> None:
    if not return_obj.is_editable:
        raise ReturnError(f"This return is {return_obj.get_state_display().lower()}; it cannot be changed now.")


STALE = (
    "Someone else saved this return while you were editing it. Your entries are kept below: "
    "check them against the latest figures and save again."
)


def lock_return(return_obj: Return, version: int | None) -> Return:
    """The return, locked until the transaction ends; ``Conflict`` if it moved on from ``version``."""
    try:
        return locked(Return.objects.in_scope().select_related("round", "agency"), return_obj.pk, version=version)
    except workflow.Conflict:
        raise Conflict(STALE) from None


def check_move(obj: Any, to: str, table: workflow.Transitions) -> None:
    """Refuse, before any work, a state change the table does not allow (``change_state`` then cannot fail)."""
    if to not in table.get(obj.state, ()):
        raise ReturnError(str(IllegalTransition(obj, field="state", from_state=obj.state, to_state=to)))


# The state each audited change of a return moves it to.
RETURN_MOVES = {
    AuditAction.RETURN_SUBMITTED: ReturnState.SUBMITTED,
    AuditAction.RETURN_RETURNED: ReturnState.RETURNED,
    AuditAction.RETURN_APPROVED: ReturnState.APPROVED,
    AuditAction.RETURN_REOPENED: ReturnState.DRAFT,
    AuditAction.RETURN_VALUES_SAVED: ReturnState.DRAFT,  # a return sent back is a draft again once edited
}


@contextmanager
def _moving(return_obj: Return, to: ReturnState, version: int | None = None) -> Iterator[Return]:
    """One transaction with the return locked, the move to ``to`` checked legal before any work is done."""
    with transaction.atomic():
        ret = lock_return(return_obj, version)
        check_move(ret, to, RETURN_TRANSITIONS)
        yield ret


def move_return(ret: Return, action: AuditAction, *, actor: Any, fields: list[str], **change: Any) -> Return:
    """``change_state`` on a return: the state ``action`` moves it to (``RETURN_MOVES``), its transition table,
    ``updated_at`` saved with ``fields`` and the audit event filed under the return."""
    return change_state(
        ret,
        to=RETURN_MOVES[action],
        table=RETURN_TRANSITIONS,
        actor=actor,
        action=action,
        fields=[*fields, "updated_at"],
        return_id=ret.pk,
        **change,
    )


def _decide(ret: Return, action: AuditAction, *, actor: Any, reason: str = "", summary: str = "") -> None:
    """A performance manager's decision on a submitted return (sent back or approved): who decided, when and
    why, the move, and the e-mail to the agency once committed."""
    ret.decided_at, ret.decided_by, ret.reason = timezone.now(), actor, reason
    kind = "approved" if action == AuditAction.RETURN_APPROVED else "returned"
    move_return(
        ret,
        action,
        actor=actor,
        fields=["decided_at", "decided_by", "reason"],
        summary=summary,
        reason=reason,
        on_commit=lambda: notifications.return_decided(return_id=ret.pk, kind=kind),
    )


# --- rounds -------------------------------------------------------------------------------------------
def round_open(*, actor: Any, framework: Framework, period: dt.date, due_date: dt.date) -> CollectionRound:
    """Open the current partnership's collection round for a quarter (``framework``: its framework): a draft
    return for each agency that owes data. Each partnership has its own round for a quarter."""
    require(actor, Perm.MANAGE_ROUNDS)
    partnership = current_partnership()
    if framework.partnership_id != partnership.pk:
        raise ReturnError(f"The framework {framework.code} belongs to another partnership.")
    quarter = Quarter.from_end_date(period)
    if due_date <= quarter.end_date:
        raise ReturnError("The due date must be after the quarter ends.")
    with transaction.atomic():
        if CollectionRound.objects.in_scope(partnership).select_for_update().filter(period=quarter.end_date).exists():
            raise ReturnError(f"The round for {quarter.label} is already open.")
        round_ = CollectionRound.objects.create(
            partnership=partnership, period=quarter.end_date, due_date=due_date, opened_by=actor
        )
        returns = [Return(round=round_, agency=agency) for agency in owing_agencies(framework=framework)]
        Return.objects.bulk_create(returns)
        record(
            AuditAction.ROUND_OPENED,
            actor=actor,
            obj=round_,
            summary=f"{quarter.label}, due {due_date:%d %B %Y}",
            new={"due_date": due_date.isoformat()},
        )
        transaction.on_commit(lambda: notifications.round_opened(round_id=round_.pk))
    return round_


# --- transitions --------------------------------------------------------------------------------------------
def return_submit(*, actor: Any, return_obj: Return, version: int | None = None) -> Return:
    """Send the return to the commissioner's office. Every owed value must be accounted for (a number,
    [x] or [z]), no rule error may stand, and every warning needs a comment."""
    require(actor, Perm.SUBMIT_RETURN, agency=return_obj.agency_id)
    with _moving(return_obj, ReturnState.SUBMITTED, version) as ret:
        framework = current_framework()
        values = list(ret.values.select_related("metric"))
        have = {v.key for v in values}
        if framework is not None:
            missing = [line for line in owed_lines(framework=framework, agency=ret.agency) if line.key not in have]
            if missing:
                names = ", ".join(
                    f"{line.metric.code} {line.area.name}{' ' + line.category.name if line.category else ''}"
                    for line in missing[:5]
                )
                more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
                raise ReturnError(
                    f"{len(missing)} owed value(s) are missing: {names}{more}. Give a number, [x] or [z]."
                )
        findings = evaluate(values=values, framework=framework, period=ret.round.period)
        errors = blocking(findings)
        if errors:
            raise ReturnError("Fix these before submitting: " + " ".join(f.message for f in errors))
        comments = {v.key: v.comment for v in values}
        uncommented = needing_comment(findings, comments)
        if uncommented:
            raise ReturnError(f"{len(uncommented)} warning(s) need your comment before you submit.")
        now = timezone.now()
        ret.submitted_at, ret.submitted_by = now, actor
        ret.first_submitted_at = ret.first_submitted_at or now
        move_return(
            ret,
            AuditAction.RETURN_SUBMITTED,
            actor=actor,
            fields=["submitted_at", "submitted_by", "first_submitted_at"],
        )
    return ret


def return_send_back(*, actor: Any, return_obj: Return, reason: str) -> Return:
    """Return a submitted return to its agency for correction, with the reason."""
    require(actor, Perm.APPROVE_RETURN)
    if not reason.strip():
        raise ReturnError("Say what needs correcting.")
    with _moving(return_obj, ReturnState.RETURNED) as ret:
        _decide(ret, AuditAction.RETURN_RETURNED, actor=actor, reason=reason.strip())
    return ret


def return_approve(*, actor: Any, return_obj: Return) -> Return:
    """Approve a submitted return: it is locked and its values become approved data. A value that differs
    from approved data is a revision; the old value is kept in the audit trail."""
    require(actor, Perm.APPROVE_RETURN)
    with _moving(return_obj, ReturnState.APPROVED) as ret:
        summary = approve_return_values(
            return_obj=ret, actor=actor, filename=f"return {ret.agency.code} {ret.round.label}"
        )
        data_changed()  # approved data (and the return's state the pages read) changed
        _decide(
            ret,
            AuditAction.RETURN_APPROVED,
            actor=actor,
            summary=f"{ret}: {summary.created} new, {summary.updated} revised, {summary.unchanged} unchanged",
        )
    return ret


def return_reopen(*, actor: Any, return_obj: Return, reason: str) -> Return:
    """Reopen an approved return for changes (a performance manager, with a reason). Approved data stays
    as it is until the return is approved again."""
    require(actor, Perm.APPROVE_RETURN)
    if not reason.strip():
        raise ReturnError("Give the reason for reopening an approved return.")
    with _moving(return_obj, ReturnState.DRAFT) as ret:
        ret.reason = reason.strip()
        move_return(ret, AuditAction.RETURN_REOPENED, actor=actor, fields=["reason"], reason=ret.reason)
    return ret


# --- chasing ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Reminded:
    """A reminder sent: about which return, and to whom (names and addresses, for the page to say)."""

    return_obj: Return
    contacts: AgencyContactList

    @property
    def message(self) -> str:
        r = self.return_obj
        to = ", ".join(str(x) for x in self.contacts.recipients)
        return f"Reminder about the {r.round.label} return sent to {r.agency.name}: {to}."


def _when(at: dt.datetime) -> str:
    local = timezone.localtime(at)
    return f"{local:%H:%M} on {local:%A} {local.day} {local:%B}"


def return_remind(*, actor: Any, return_id: int) -> Reminded:
    """E-mail the agency's contacts (named people with an active address, and the shared mailbox) about a return
    not yet submitted. At most one reminder per agency per ``REMIND_EVERY``; an agency with no address is told
    to nobody and the message says so (nothing is recorded, so a reminder can follow as soon as a contact is
    added)."""
    require(actor, Perm.CHASE_RETURNS)
    with transaction.atomic():
        ret = locked(Return.objects.in_scope().select_related("round", "agency"), return_id)
        if ret.state not in EDITABLE_STATES:
            raise ReturnError(
                f"The {ret.round.label} return of {ret.agency.name} is {ret.get_state_display().lower()}: "
                "there is nothing to chase."
            )
        locked(Agency, ret.agency_id)  # two reminders for one agency at once: the second waits, then is refused
        last = last_reminders(agency_ids={ret.agency_id}).get(ret.agency_id)
        if last is not None:
            raise ReturnError(
                f"{ret.agency.name} was sent a reminder at {_when(last)}; the next can be sent after "
                f"{_when(last + REMIND_EVERY)}."
            )
        contacts = contacts_of(ret.agency)
        if not contacts.recipients:
            raise ReturnError(contacts.nobody)
        to = contacts.addresses
        record(
            AuditAction.RETURN_REMINDED,
            actor=actor,
            obj=ret,
            summary=f"{ret}: reminder to {', '.join(str(x) for x in contacts.recipients)}"[:500],
            new={"to": to},
            return_id=ret.pk,
        )
        sender = (actor.get_full_name() or actor.username) if getattr(actor, "pk", None) else "The office"
        transaction.on_commit(lambda: notifications.return_reminder(return_id=ret.pk, to=to, sender=sender))
    return Reminded(return_obj=ret, contacts=contacts)


def round_told(round_: CollectionRound) -> str:
    """Whom the round-opening e-mail went to, agency by agency, and plainly which agencies nobody could be told."""
    lists = agency_contacts(agency_ids={r.agency_id for r in round_.returns.all()}).values()
    told = [entry.told() for entry in lists if entry.recipients]
    nobody = [entry.nobody for entry in lists if not entry.recipients]
    parts = [f"E-mailed: {'; '.join(told)}." if told else "No one was e-mailed."]
    return " ".join([*parts, *nobody])

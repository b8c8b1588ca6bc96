"""E-mails about returns (Django's e-mail framework; the console backend locally)."""

from __future__ import annotations

import datetime as dt
import logging
import smtplib

from django.conf import settings
from django.core.mail import send_mass_mail
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from accounts.contacts import agency_contacts
from accounts.models import Role, User
from metrics.models import CollectionRound, Notification, Return, ReturnState

logger = logging.getLogger(__name__)


def _send(messages: list[tuple[str, str, str, list[str]]]) -> int:
    """Send e-mails; a mail server that is down must not undo the action that triggered them."""
    try:
        return send_mass_mail(messages)
    except (OSError, smtplib.SMTPException):
        logger.exception("could not send %d e-mail(s)", len(messages))
        return 0


def _analysts(agency_ids: set[int]) -> dict[int, list[str]]:
    """Each agency's addresses: its named contacts (else its analysts) and its shared mailbox."""
    return {pk: entry.addresses for pk, entry in agency_contacts(agency_ids=agency_ids).items() if entry.addresses}


def _managers() -> list[str]:
    return list(
        User.objects.filter(role=Role.PERFORMANCE_MANAGER, is_active=True)
        .exclude(email="")
        .values_list("email", flat=True)
    )


def _link(return_obj: Return) -> str:
    return settings.PCC_PERF_SITE_URL.rstrip("/") + reverse("return-detail", args=[return_obj.pk])


def round_opened(*, round_id: int) -> int:
    round_ = CollectionRound.objects.get(pk=round_id)
    returns = list(round_.returns.select_related("agency"))
    emails = _analysts({r.agency_id for r in returns})
    messages = []
    for r in returns:
        to = emails.get(r.agency_id, [])
        if to:
            messages.append(
                (
                    f"pcc_perf: {round_.label} return open, due {round_.due_date:%d %B %Y}",
                    f"The {round_.label} data return for {r.agency.name} is open and due on "
                    f"{round_.due_date:%A %d %B %Y}.\n\n{_link(r)}\n",
                    settings.DEFAULT_FROM_EMAIL,
                    to,
                )
            )
    Notification.objects.create(
        kind="round_opened", round=round_, recipients=", ".join(email for m in messages for email in m[3])
    )
    return _send(messages)


def return_decided(*, return_id: int, kind: str) -> int:
    r = Return.objects.select_related("round", "agency").get(pk=return_id)
    to = _analysts({r.agency_id}).get(r.agency_id, [])
    if not to:
        return 0
    if kind == "returned":
        subject = f"pcc_perf: {r.round.label} return returned for correction"
        body = f"The commissioner's office returned your {r.round.label} return for correction:\n\n{r.reason}\n\n{_link(r)}\n"
    else:
        subject = f"pcc_perf: {r.round.label} return approved"
        body = f"Your {r.round.label} return for {r.agency.name} has been approved.\n\n{_link(r)}\n"
    Notification.objects.create(kind=kind, return_obj=r, recipients=", ".join(to))
    return _send([(subject, body, settings.DEFAULT_FROM_EMAIL, to)])


STANDING: dict[str, str] = {
    ReturnState.DRAFT: "It has not been submitted yet.",
    ReturnState.RETURNED: "It was sent back for correction and has not been submitted again yet.",
}


def return_reminder(*, return_id: int, to: list[str], sender: str) -> int:
    """A reminder a performance manager sent from the tracker (``services.return_remind``), to the addresses
    the page named."""
    r = Return.objects.select_related("round", "agency").get(pk=return_id)
    due = r.round.due_date
    days = (due - timezone.localdate()).days
    when = f"was due on {due:%A %d %B %Y}" if days < 0 else f"is due on {due:%A %d %B %Y}"
    subject = (
        f"pcc_perf: reminder: the {r.round.label} return for {r.agency.name} {'is late' if days < 0 else 'is due'}"
    )
    body = (
        f"{sender} at the commissioner's office asks for the {r.round.label} data return for {r.agency.name}, "
        f"which {when}. {STANDING.get(r.state, '')}\n\n{_link(r)}\n"
    )
    Notification.objects.create(kind="reminder", return_obj=r, recipients=", ".join(to))
    return _send([(subject, body, settings.DEFAULT_FROM_EMAIL, to)])


def send_reminders(*, today: dt.date | None = None) -> int:
    """Due-in-3-days and late reminders, each sent once per return. Run daily (``send_return_reminders``)."""
    today = today or timezone.localdate()
    open_returns = Return.objects.select_related("round", "agency").filter(
        state__in=[ReturnState.DRAFT, ReturnState.RETURNED]
    )
    sent = 0
    emails = _analysts(set(open_returns.values_list("agency_id", flat=True)))
    for r in open_returns:
        days = (r.round.due_date - today).days
        if 0 <= days <= 3:
            kind, subject = "due_soon", f"pcc_perf: {r.round.label} return due on {r.round.due_date:%d %B}"
        elif days < 0:
            kind, subject = "late", f"pcc_perf: {r.round.label} return is late"
        else:
            continue
        to = emails.get(r.agency_id, []) + (_managers() if kind == "late" else [])
        try:
            with transaction.atomic():
                Notification.objects.create(kind=kind, return_obj=r, recipients=", ".join(to))
        except IntegrityError:
            continue  # already sent
        body = (
            f"The {r.round.label} return for {r.agency.name} was due on {r.round.due_date:%A %d %B %Y}.\n\n{_link(r)}\n"
        )
        if to:
            sent += _send([(subject, body, settings.DEFAULT_FROM_EMAIL, to)])
    return sent

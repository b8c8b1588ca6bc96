"""E-mails about returns (Django's e-mail framework; the console backend locally).

Each is about one partnership's round or return, and is written inside that partnership (``accounts.tenancy``),
derived from the round: its recipients are that partnership's contacts and managers, and a link to a return of
a partnership other than the default one names it (``?partnership=``), so it opens there.
"""

from __future__ import annotations

import datetime as dt
import logging
import smtplib

from django.conf import settings
from django.core.mail import send_mass_mail
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from accounts.contacts import agency_contacts, partnership_users
from accounts.models import Partnership, Role
from accounts.partnerships import is_default
from accounts.tenancy import current_partnership, partnership_scope
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
    """The addresses of the current partnership's performance managers."""
    return list(partnership_users(role=Role.PERFORMANCE_MANAGER).exclude(email="").values_list("email", flat=True))


def _link(return_obj: Return, partnership: Partnership) -> str:
    link = settings.PCC_PERF_SITE_URL.rstrip("/") + reverse("return-detail", args=[return_obj.pk])
    return link if is_default(partnership) else f"{link}?partnership={partnership.code}"


def round_opened(*, round_id: int) -> int:
    round_ = CollectionRound.objects.select_related("partnership").get(pk=round_id)
    with partnership_scope(round_.partnership):
        return _round_opened(round_)


def _round_opened(round_: CollectionRound) -> int:
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
                    f"{round_.due_date:%A %d %B %Y}.\n\n{_link(r, round_.partnership)}\n",
                    settings.DEFAULT_FROM_EMAIL,
                    to,
                )
            )
    Notification.objects.create(
        kind="round_opened", round=round_, recipients=", ".join(email for m in messages for email in m[3])
    )
    return _send(messages)


def _return(return_id: int) -> Return:
    """The return an e-mail is about, with its round's partnership (derived here: the e-mail is sent in it)."""
    return Return.objects.select_related("round__partnership", "agency").get(pk=return_id)


def return_decided(*, return_id: int, kind: str) -> int:
    r = _return(return_id)
    with partnership_scope(r.round.partnership):
        return _return_decided(r, kind)


def _return_decided(r: Return, kind: str) -> int:
    to = _analysts({r.agency_id}).get(r.agency_id, [])
    if not to:
        return 0
    if kind == "returned":
        subject = f"pcc_perf: {r.round.label} return returned for correction"
        body = f"The commissioner's office returned your {r.round.label} return for correction:\n\n{r.reason}\n\n{_link(r, r.round.partnership)}\n"
    else:
        subject = f"pcc_perf: {r.round.label} return approved"
        body = (
            f"Your {r.round.label} return for {r.agency.name} has been approved.\n\n{_link(r, r.round.partnership)}\n"
        )
    Notification.objects.create(kind=kind, return_obj=r, recipients=", ".join(to))
    return _send([(subject, body, settings.DEFAULT_FROM_EMAIL, to)])


STANDING: dict[str, str] = {
    ReturnState.DRAFT: "It has not been submitted yet.",
    ReturnState.RETURNED: "It was sent back for correction and has not been submitted again yet.",
}


def return_reminder(*, return_id: int, to: list[str], sender: str) -> int:
    """A reminder a performance manager sent from the tracker (``services.return_remind``), to the addresses
    the page named."""
    r = _return(return_id)
    due = r.round.due_date
    days = (due - timezone.localdate()).days
    when = f"was due on {due:%A %d %B %Y}" if days < 0 else f"is due on {due:%A %d %B %Y}"
    subject = (
        f"pcc_perf: reminder: the {r.round.label} return for {r.agency.name} {'is late' if days < 0 else 'is due'}"
    )
    body = (
        f"{sender} at the commissioner's office asks for the {r.round.label} data return for {r.agency.name}, "
        f"which {when}. {STANDING.get(r.state, '')}\n\n{_link(r, r.round.partnership)}\n"
    )
    Notification.objects.create(kind="reminder", return_obj=r, recipients=", ".join(to))
    return _send([(subject, body, settings.DEFAULT_FROM_EMAIL, to)])


def send_reminders(*, today: dt.date | None = None, partnership: Partnership | None = None) -> int:
    """Due-in-3-days and late reminders about the returns of ``partnership`` (the current one when None), each
    sent once per return, to that partnership's contacts (and, when late, its managers). Run daily
    (``send_return_reminders``, for every partnership)."""
    today = today or timezone.localdate()
    partnership = partnership or current_partnership()
    with partnership_scope(partnership):
        return _send_reminders(today, partnership)


def _send_reminders(today: dt.date, partnership: Partnership) -> int:
    open_returns = (
        Return.objects.in_scope()
        .select_related("round", "agency")
        .filter(state__in=[ReturnState.DRAFT, ReturnState.RETURNED])
    )
    sent = 0
    emails = _analysts(set(open_returns.values_list("agency_id", flat=True)))
    managers: list[str] | None = None
    for r in open_returns:
        days = (r.round.due_date - today).days
        if 0 <= days <= 3:
            kind, subject = "due_soon", f"pcc_perf: {r.round.label} return due on {r.round.due_date:%d %B}"
        elif days < 0:
            kind, subject = "late", f"pcc_perf: {r.round.label} return is late"
        else:
            continue
        if kind == "late" and managers is None:
            managers = _managers()
        to = emails.get(r.agency_id, []) + ((managers or []) if kind == "late" else [])
        try:
            with transaction.atomic():
                Notification.objects.create(kind=kind, return_obj=r, recipients=", ".join(to))
        except IntegrityError:
            continue  # already sent
        body = (
            f"The {r.round.label} return for {r.agency.name} was due on {r.round.due_date:%A %d %B %Y}.\n\n"
            f"{_link(r, partnership)}\n"
        )
        if to:
            sent += _send([(subject, body, settings.DEFAULT_FROM_EMAIL, to)])
    return sent

"""Whom the office e-mails at each agency: its named contacts (users of the agency) and a shared mailbox.

An agency with no one named falls back to its active analysts, so a new agency is reachable as soon as
someone is given a log-in; a page that says who was e-mailed says which of the two it was, and an agency
with no address at all is named plainly ("No one at X has an e-mail address — add a contact").
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q, QuerySet

from .access import Perm, require
from .audit import AuditAction, record
from .models import Agency, AgencyContacts, Partnership, Role, User
from .workflow import locked


class ContactError(Exception):
    """A change to an agency's contacts that cannot be made, with a message for the person who tried."""


@dataclass(frozen=True)
class Recipient:
    """One address an e-mail goes to, with the name a message shows for it."""

    name: str
    address: str

    def __str__(self) -> str:
        return f"{self.name} ({self.address})"


def person_name(user: User) -> str:
    return user.get_full_name() or user.username


@dataclass
class AgencyContactList:
    """An agency's contacts as a page or an e-mail needs them."""

    agency: Agency
    people: list[User] = field(default_factory=list)
    named: bool = False  # False: nobody is named, ``people`` are the agency's active analysts
    shared_mailbox: str = ""

    @property
    def recipients(self) -> list[Recipient]:
        """Every address to e-mail: the people's (active, with an address), then the shared mailbox."""
        out = [Recipient(person_name(u), u.email) for u in self.people if u.is_active and u.email]
        if self.shared_mailbox and self.shared_mailbox.lower() not in {r.address.lower() for r in out}:
            out.append(Recipient("the shared mailbox", self.shared_mailbox))
        return out

    @property
    def addresses(self) -> list[str]:
        return [r.address for r in self.recipients]

    @property
    def without_address(self) -> list[User]:
        return [u for u in self.people if u.is_active and not u.email]

    @property
    def nobody(self) -> str:
        return f"No one at {self.agency.name} has an e-mail address — add a contact."

    def told(self) -> str:
        """Who an e-mail went to, in words: names and addresses, or plainly that nobody could be told."""
        if not self.recipients:
            return self.nobody
        return f"{self.agency.name}: " + ", ".join(str(r) for r in self.recipients)


# --- the partnership's people (``accounts.tenancy``) ------------------------------------------------------------
def _partnership() -> Partnership | None:
    """The partnership of the work in hand; None outside any scope, which is the default partnership (read
    without the query ``current_partnership()`` would make for it)."""
    from .tenancy import current_partnership, in_a_scope

    return current_partnership() if in_a_scope() else None


def _is_default(partnership: Partnership | None) -> bool:
    return partnership is None or partnership.code == settings.PCC_PERF_DEFAULT_PARTNERSHIP


def scoped_contacts(partnership: Partnership | None) -> QuerySet[AgencyContacts]:
    """The agency contacts of ``partnership`` (None: the default partnership, matched by its code)."""
    if partnership is None:
        return AgencyContacts.objects.filter(partnership__code=settings.PCC_PERF_DEFAULT_PARTNERSHIP)
    return AgencyContacts.objects.in_scope(partnership)


def partnership_users(
    *, role: str | None = None, agency_ids: Iterable[int] | None = None, partnership: Partnership | None = None
) -> QuerySet[User]:
    """The active users of ``partnership`` (the current one when None), with ``role`` there when given, of the
    agencies ``agency_ids`` when given, each annotated with ``member_agency_id``: the agency they belong to
    there. The default partnership's are ``User.role`` and ``User.agency`` (as ``accounts.access`` reads them);
    another's are its ``Membership`` rows. One query when read."""
    partnership = partnership or _partnership()
    if _is_default(partnership):
        users = User.objects.filter(is_active=True).annotate(member_agency_id=F("agency_id"))
        if role is not None:
            users = users.filter(role=role)
        if agency_ids is not None:
            users = users.filter(agency_id__in=set(agency_ids))
        return users
    member = Q(memberships__partnership=partnership)
    if role is not None:
        member &= Q(memberships__role=role)
    if agency_ids is not None:
        member &= Q(memberships__agency_id__in=set(agency_ids))
    return User.objects.filter(member, is_active=True).annotate(member_agency_id=F("memberships__agency_id"))


def agency_contacts(*, agency_ids: Iterable[int] | None = None) -> dict[int, AgencyContactList]:
    """The contacts of every agency (or of ``agency_ids``) in the current partnership, keyed by agency id: the
    people it names there (its users in that partnership), else its analysts there. Four queries, whatever the
    number of agencies and people."""
    partnership = _partnership()
    agencies = Agency.objects.order_by("name")
    if agency_ids is not None:
        agencies = agencies.filter(pk__in=set(agency_ids))
    lists = {a.pk: AgencyContactList(agency=a) for a in agencies}
    for row in scoped_contacts(partnership).filter(agency_id__in=lists).prefetch_related("users"):
        entry = lists[row.agency_id]
        entry.shared_mailbox = row.shared_mailbox
        entry.people = sorted(row.users.all(), key=lambda u: (person_name(u).lower(), u.pk))
        entry.named = bool(entry.people)
    analysts = partnership_users(role=Role.ANALYST, agency_ids=lists, partnership=partnership).order_by(
        "first_name", "last_name", "username"
    )
    for user in analysts:
        entry = lists[user.member_agency_id]  # type: ignore[attr-defined]
        if not entry.named:
            entry.people.append(user)
    return lists


def contacts_of(agency: Agency) -> AgencyContactList:
    return agency_contacts(agency_ids=[agency.pk])[agency.pk]


def agency_people(agency: Agency) -> Any:
    """The users who may be named as the agency's contacts: its own active users in the current partnership."""
    return partnership_users(agency_ids=[agency.pk]).order_by("first_name", "last_name", "username")


def _state(contacts: AgencyContacts) -> dict[str, Any]:
    return {
        "people": sorted(f"{person_name(u)} <{u.email or 'no address'}>" for u in contacts.users.all()),
        "shared_mailbox": contacts.shared_mailbox,
    }


def agency_contacts_update(
    *, actor: Any, agency_id: int, user_ids: Iterable[int], shared_mailbox: str
) -> AgencyContacts:
    """Name the agency's contacts (users of that agency) and its shared mailbox; audited when anything changed."""
    from .tenancy import current_partnership

    require(actor, Perm.MANAGE_AGENCIES)
    wanted = set(user_ids)
    with transaction.atomic():
        agency = locked(Agency, agency_id)
        users = list(agency_people(agency).filter(pk__in=wanted))
        if len(users) != len(wanted):
            raise ContactError(f"A contact must be an active user of {agency.name}.")
        partnership = current_partnership()
        contacts, _ = (
            AgencyContacts.objects.in_scope(partnership)
            .select_for_update()
            .get_or_create(agency=agency, partnership=partnership)
        )
        old = _state(contacts)
        contacts.shared_mailbox = shared_mailbox.strip()
        contacts.save(update_fields=["shared_mailbox", "updated_at"])
        contacts.users.set(users)
        new = _state(contacts)
        if old != new:
            record(
                AuditAction.AGENCY_CONTACTS_CHANGED,
                actor=actor,
                obj=agency,
                summary=f"{agency.name}: contacts changed",
                old=old,
                new=new,
            )
    return contacts

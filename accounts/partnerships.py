"""Partnerships (the unit of tenancy) and users' memberships of them.

Every installation has its default partnership (code ``settings.PCC_PERF_DEFAULT_PARTNERSHIP``, made by the
migration ``0013_partnerships``); a single-partnership installation never needs to name it. A user's role and
agency in the default partnership are ``User.role`` and ``User.agency``, which the permission helper reads
today; ``sync_default_membership`` keeps the default partnership's ``Membership`` row in step with them,
whatever changed them (the Users page, the admin, an identity-provider sign-in, a command).

A role in another partnership lives only in its ``Membership`` row and grants nothing yet: the permission helper
does not read memberships until selectors are scoped by partnership. So a user added only to another partnership
cannot see this installation's (the default partnership's) data.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Q

from .access import Perm, is_system_actor, require
from .audit import AuditAction, record
from .models import Agency, Membership, Partnership, Role, User


class PartnershipError(Exception):
    """A partnership asked for that cannot be used (unknown, or one must be named); the message says why."""


def default_partnership() -> Partnership:
    """The installation's default partnership (made here if the migration has not: a database made without
    migrations, as the tests do)."""
    partnership, _ = Partnership.objects.get_or_create(
        code=settings.PCC_PERF_DEFAULT_PARTNERSHIP, defaults={"name": "Default partnership"}
    )
    return partnership


def several_partnerships() -> bool:
    """Whether the installation serves more than one partnership (one query)."""
    return Partnership.objects.all()[:2].count() > 1


def is_default(partnership: Partnership) -> bool:
    return bool(partnership.code == settings.PCC_PERF_DEFAULT_PARTNERSHIP)


def partnership_choose(code: str | None) -> Partnership:
    """The partnership a command works on: the one ``code`` names, or, when none is named, the installation's
    only partnership. Raises ``PartnershipError`` for an unknown code, or when none is named and there are
    several to choose from."""
    if code == settings.PCC_PERF_DEFAULT_PARTNERSHIP:
        return default_partnership()
    if code:
        found = Partnership.objects.filter(code=code).first()
        if found is None:
            known = ", ".join(Partnership.objects.order_by("code").values_list("code", flat=True))
            raise PartnershipError(f"unknown partnership '{code}' (this installation has: {known or 'none'})")
        return found
    codes = list(Partnership.objects.order_by("code").values_list("code", flat=True)[:51])
    if len(codes) > 1:
        listed = ", ".join(codes[:50]) + (", …" if len(codes) > 50 else "")
        raise PartnershipError(
            f"this installation has more than one partnership: name one with --partnership CODE ({listed})"
        )
    if len(codes) == 1:
        return Partnership.objects.get(code=codes[0])
    return default_partnership()


# --- the default partnership's memberships follow User.role and User.agency ------------------------------------
def sync_default_membership(sender: Any, instance: User, raw: bool = False, **kwargs: Any) -> None:
    """``post_save`` of ``User``: the user's membership of the default partnership is their role and agency
    (none without a role). Saves that touch neither (a log-in's ``last_login``) are skipped."""
    update_fields = kwargs.get("update_fields")
    if raw or (update_fields is not None and not {"role", "agency", "agency_id"} & set(update_fields)):
        return
    partnership = default_partnership()
    if not instance.role:
        Membership.objects.filter(partnership=partnership, user=instance).delete()
        return
    Membership.objects.update_or_create(
        partnership=partnership, user=instance, defaults={"role": instance.role, "agency_id": instance.agency_id}
    )


# --- onboarding: add_user ---------------------------------------------------------------------------------
class MembershipError(Exception):
    """A role that cannot be given as asked (the message says why)."""


@dataclass(frozen=True)
class MembershipAdded:
    user: User
    membership: Membership
    user_created: bool
    outcome: str  # "added", "changed" or "unchanged"
    link: str | None  # a one-time set-password link, while the user has no password


def _label(role: str, agency: Agency | None, partnership: Partnership) -> str:
    return f"{Role(role).label.lower()}{f' ({agency.name})' if agency else ''} in {partnership.name}"


def membership_add(
    *, actor: Any, email: str, partnership: Partnership, role: str, agency: Agency | None = None
) -> MembershipAdded:
    """Give the user with ``email`` (created, with no password yet, if there is none) ``role`` in
    ``partnership``: a second partnership adds a role, the same call again changes nothing, another role in
    the same partnership replaces the old one. Audited (``user.invited`` for a new user, ``user.changed`` for a
    role given or changed). The set-password link comes back while the user has not chosen a password."""
    from .users import UserError, set_password_link, user_change, user_invite

    require(actor, Perm.MANAGE_USERS)
    email = email.strip().lower()
    try:
        validate_email(email)
    except Exception:
        raise MembershipError(f"“{email}” is not an e-mail address.") from None
    if role not in Role.values:
        raise MembershipError(f"unknown role '{role}' (one of {', '.join(Role.values)})")
    if role == Role.ANALYST and agency is None:
        raise MembershipError("an analyst belongs to an agency: give --agency CODE")
    default = is_default(partnership)
    with transaction.atomic():
        user = User.objects.filter(Q(username__iexact=email) | Q(email__iexact=email)).first()
        if user is not None and is_system_actor(user):
            raise MembershipError("the system account cannot be given a role")
        created = user is None
        old = None
        try:
            if user is None and default:
                user = user_invite(actor=actor, email=email, name="", role=role, agency=agency, send=False).user
            elif user is None:
                user = User(username=email, email=email)  # no role in the default partnership
                user.set_unusable_password()
                user.save()
                record(
                    AuditAction.USER_INVITED,
                    actor=actor,
                    obj=user,
                    summary=f"{email} invited as {_label(role, agency, partnership)}",
                )
            elif default:
                old = Membership.objects.filter(partnership=partnership, user=user).first()
                user = user_change(actor=actor, user_id=user.pk, role=role, agency=agency)
        except UserError as exc:
            raise MembershipError(str(exc)) from None
        if not default:
            old = None if created else Membership.objects.filter(partnership=partnership, user=user).first()
            if old is None or (old.role, old.agency_id) != (role, agency.pk if agency else None):
                Membership.objects.update_or_create(
                    partnership=partnership, user=user, defaults={"role": role, "agency": agency}
                )
                record(
                    AuditAction.USER_CHANGED,
                    actor=actor,
                    obj=user,
                    summary=f"{user.username}: {_label(role, agency, partnership)}",
                    old={"partnership": partnership.code, "role": old.role, "agency_id": old.agency_id}
                    if old
                    else None,
                    new={"partnership": partnership.code, "role": role, "agency": agency.code if agency else None},
                )
        membership = Membership.objects.get(partnership=partnership, user=user)
    if created or old is None:
        outcome = "added"
    elif (old.role, old.agency_id) == (membership.role, membership.agency_id):
        outcome = "unchanged"
    else:
        outcome = "changed"
    link = None if user.has_usable_password() else set_password_link(user)
    return MembershipAdded(user=user, membership=membership, user_created=created, outcome=outcome, link=link)


# --- commands' --partnership ------------------------------------------------------------------------------
PARTNERSHIP_HELP = "code of the partnership (needed only when the installation has more than one)"


def command_partnership(code: str | None) -> Partnership:
    """``partnership_choose`` for a management command: a usage error (exit status 2) when it cannot choose."""
    from django.core.management.base import CommandError

    try:
        return partnership_choose(code)
    except PartnershipError as exc:
        raise CommandError(f"--partnership: {exc}", returncode=2) from None

"""Users managed in the app by the performance manager: invite by e-mail (a one-time set-password link made
with Django's password reset tokens), change role and agency, deactivate and reactivate. Every change is
audited. A later ``add_user`` command can call ``user_invite`` as the pages do.

A user who has acted is never deleted (``UserHasActed``): the pages only offer deactivation.
"""

from __future__ import annotations

import logging
import smtplib
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from .access import Perm, is_system_actor, require
from .audit import AuditAction, record
from .models import Agency, Role, User
from .workflow import locked

logger = logging.getLogger(__name__)


class UserError(Exception):
    """A change to a user that cannot be made as asked (the message says why, in words)."""


@dataclass(frozen=True)
class Invitation:
    user: User
    link: str  # the one-time set-password link (absolute)
    sent: bool  # whether the e-mail went to the mail server


def _check_role(role: str, agency: Agency | None) -> None:
    if role not in Role.values:
        raise UserError(f"Unknown role “{role}”.")
    if role == Role.ANALYST and agency is None:
        raise UserError("An agency analyst belongs to an agency: choose one.")


def _describe(user: User) -> dict[str, Any]:
    return {
        "role": user.role,
        "agency": user.agency.code if user.agency_id and user.agency else None,
        "is_active": user.is_active,
    }


def set_password_link(user: User) -> str:
    """An absolute one-time link to set ``user``'s password (valid until it is used, the password changes or
    ``PASSWORD_RESET_TIMEOUT`` passes)."""
    uidb64 = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    path = reverse("set-password", kwargs={"uidb64": uidb64, "token": token})
    return settings.PCC_PERF_SITE_URL.rstrip("/") + path


def _send_invitation(
    user: User, link: str, *, invited_by: Any, role: str = "", agency: Agency | None = None, where: str = ""
) -> bool:
    """E-mail ``user`` the set-password ``link``, naming their role (``role`` and ``agency`` when given, else
    their default-partnership ones) and the partnership (``where``) when it is not the default one."""
    days = max(1, round(settings.PASSWORD_RESET_TIMEOUT / 86400))
    role = role or user.role
    agency = agency if role != user.role or agency is not None else user.agency
    who = (invited_by.get_full_name() or invited_by.username) if getattr(invited_by, "pk", None) else "The office"
    body = (
        f"Hello {user.first_name or user.email},\n\n"
        f"{who} has given you an account on the performance reporting service "
        f"({Role(role).label.lower()}{f', {agency.name}' if agency else ''}{f', {where}' if where else ''}).\n\n"
        f"Choose your password here (the link works once, for {days} day{'s' if days != 1 else ''}):\n{link}\n\n"
        f"Then sign in with your e-mail address {user.username}.\n"
    )
    try:
        return bool(send_mail("Your account: choose a password", body, None, [user.email]))
    except (OSError, smtplib.SMTPException):
        logger.exception("could not send the invitation to user %s", user.pk)
        return False


def user_invite(
    *, actor: Any, email: str, name: str, role: str, agency: Agency | None = None, send: bool = True
) -> Invitation:
    """Create a user who has no password yet (username = the e-mail address, lower case) with ``role`` and
    ``agency``, audited, and e-mail them a one-time set-password link (unless ``send`` is false). The result
    says whether the e-mail was sent, and carries the link so it can be passed on another way."""
    require(actor, Perm.MANAGE_USERS)
    if not _in_default():
        return _invite_elsewhere(actor=actor, email=email, name=name, role=role, agency=agency, send=send)
    email = email.strip().lower()
    try:
        validate_email(email)
    except Exception:
        raise UserError(f"“{email}” is not an e-mail address.") from None
    _check_role(role, agency)
    first, _, last = name.strip().partition(" ")
    with transaction.atomic():
        if User.objects.filter(Q(username__iexact=email) | Q(email__iexact=email)).exists():
            raise UserError(f"There is already a user with the e-mail address {email}.")
        user = User(
            username=email,
            email=email,
            first_name=first[:150],
            last_name=last.strip()[:150],
            role=role,
            agency=agency if role == Role.ANALYST or agency is not None else None,
        )
        user.set_unusable_password()
        user.save()
        record(
            AuditAction.USER_INVITED,
            actor=actor,
            obj=user,
            summary=f"{email} invited as {Role(role).label.lower()}{f' ({agency.name})' if agency else ''}",
            new=_describe(user),
        )
    link = set_password_link(user)
    sent = _send_invitation(user, link, invited_by=actor) if send else False
    return Invitation(user=user, link=link, sent=sent)


def _in_default() -> bool:
    from .partnerships import is_default
    from .tenancy import current_partnership

    return is_default(current_partnership())


def _invite_elsewhere(*, actor: Any, email: str, name: str, role: str, agency: Agency | None, send: bool) -> Invitation:
    """An invitation in a partnership other than the default one: a role there (``Membership``) for the user
    with that e-mail address, made (with no password yet) if there is none."""
    from .partnerships import MembershipError, membership_add
    from .tenancy import current_partnership

    _check_role(role, agency)
    try:
        added = membership_add(actor=actor, email=email, partnership=current_partnership(), role=role, agency=agency)
    except MembershipError as exc:
        raise UserError(str(exc)) from None
    user = added.user
    if added.user_created and name.strip():
        first, _, last = name.strip().partition(" ")
        user.first_name, user.last_name = first[:150], last.strip()[:150]
        user.save(update_fields=["first_name", "last_name"])
    # A set-password link only for an account this invitation made: an existing account's password (and its
    # roles in other partnerships) is not this partnership's to give.
    link = (added.link or "") if added.user_created else ""
    sent = (
        _send_invitation(
            user, link, invited_by=actor, role=role, agency=agency, where=added.membership.partnership.name
        )
        if send and link
        else False
    )
    return Invitation(user=user, link=link, sent=sent)


def user_invite_again(*, actor: Any, user_id: int) -> Invitation:
    """A new set-password link for a user who has not chosen a password yet, e-mailed again."""
    require(actor, Perm.MANAGE_USERS)
    user = users_in_scope().select_related("agency").get(pk=user_id)
    if user.has_usable_password():
        raise UserError(f"{user.username} has already chosen a password.")
    if not user.email:
        raise UserError(f"{user.username} has no e-mail address.")
    if _elsewhere(user) and not getattr(actor, "is_superuser", False) and not is_system_actor(actor):
        # A link sets the password of the whole account, roles elsewhere included: not one partnership's to give.
        raise UserError(
            f"{user.username} also has a role in another partnership, so only the service's host can send them "
            "a new link."
        )
    record(AuditAction.USER_INVITED, actor=actor, obj=user, summary=f"{user.email} sent a new invitation link")
    link = set_password_link(user)
    return Invitation(user=user, link=link, sent=_send_invitation(user, link, invited_by=actor))


def _guard_other(actor: Any, user: User) -> None:
    if is_system_actor(user):
        raise UserError("The system account cannot be changed.")
    if getattr(actor, "pk", None) == user.pk:
        raise UserError("You cannot change your own role or deactivate yourself: ask another performance manager.")


def user_change(*, actor: Any, user_id: int, role: str, agency: Agency | None) -> User:
    """Change a user's role and agency (audited with the old and the new)."""
    require(actor, Perm.MANAGE_USERS)
    _check_role(role, agency)
    if not _in_default():
        return _change_elsewhere(actor=actor, user_id=user_id, role=role, agency=agency)
    with transaction.atomic():
        user = locked(User, user_id)
        if not users_in_scope().filter(pk=user.pk).exists():
            raise User.DoesNotExist
        _guard_other(actor, user)
        old = _describe(user)
        user.role = role
        user.agency = agency
        new = _describe(user)
        if old == new:
            return user
        user.save(update_fields=["role", "agency"])
        record(
            AuditAction.USER_CHANGED,
            actor=actor,
            obj=user,
            summary=f"{user.username}: {Role(role).label.lower()}{f' ({agency.name})' if agency else ''}",
            old={k: v for k, v in old.items() if new[k] != v},
            new={k: v for k, v in new.items() if old[k] != v},
        )
    return user


def user_set_active(*, actor: Any, user_id: int, active: bool) -> User:
    """Deactivate a user (they can no longer sign in; what they did stays theirs in the trail) or reactivate
    them. Users are never deleted here."""
    require(actor, Perm.MANAGE_USERS)
    with transaction.atomic():
        user = locked(User, user_id)
        if not users_in_scope().filter(pk=user.pk).exists():
            raise User.DoesNotExist
        _guard_other(actor, user)
        if user.is_active == active:
            return user
        if _elsewhere(user) and not getattr(actor, "is_superuser", False) and not is_system_actor(actor):
            raise UserError(
                f"{user.username} also has a role in another partnership, so only the service's host can "
                "deactivate them. Remove them from this partnership instead."
            )
        user.is_active = active
        user.save(update_fields=["is_active"])
        record(
            AuditAction.USER_REACTIVATED if active else AuditAction.USER_DEACTIVATED,
            actor=actor,
            obj=user,
            summary=f"{user.username} {'reactivated' if active else 'deactivated'}",
            old={"is_active": not active},
            new={"is_active": active},
        )
    return user


def user_password_set(*, user: User, password: str) -> User:
    """The invitee (or a user given a new link) chooses a password; the link stops working."""
    with transaction.atomic():
        user.set_password(password)
        user.save(update_fields=["password"])
        record(AuditAction.USER_PASSWORD_SET, actor=user, obj=user, summary=f"{user.username} chose a password")
    return user


def users_in_scope() -> QuerySet[User]:
    """The users a performance manager of the current partnership manages: those with a role in it, and, in
    the default partnership, users with no role anywhere (made before they were given one). Never the system
    account."""
    from .tenancy import current_partnership

    partnership = current_partnership()
    mine = Q(memberships__partnership=partnership)
    if _in_default():
        mine |= Q(memberships__isnull=True)
    ids = User.objects.filter(mine).values("pk")
    return User.objects.filter(pk__in=ids).exclude(username="system", is_active=False)


def users_list() -> list[User]:
    """The current partnership's users (``users_in_scope``), each with ``role_here`` and ``agency_here``: their
    role and agency in this partnership. Two queries."""
    from .models import Membership
    from .tenancy import current_partnership

    users = list(users_in_scope().select_related("agency").order_by("-is_active", "username"))
    here = {
        m.user_id: m
        for m in Membership.objects.filter(
            partnership=current_partnership(), user__in=[u.pk for u in users]
        ).select_related("agency")
    }
    for u in users:
        m = here.get(u.pk)
        u.role_here = m.role if m else ""  # type: ignore[attr-defined]
        u.role_here_label = Role(m.role).label if m else ""  # type: ignore[attr-defined]
        u.agency_here = m.agency if m else None  # type: ignore[attr-defined]
    return users


def _elsewhere(user: User) -> bool:
    """Whether ``user`` has a role in a partnership other than the current one."""
    from .models import Membership
    from .tenancy import current_partnership

    return Membership.objects.filter(user=user).exclude(partnership=current_partnership()).exists()


def _change_elsewhere(*, actor: Any, user_id: int, role: str, agency: Agency | None) -> User:
    """``user_change`` in a partnership other than the default one: the user's ``Membership`` there."""
    from .access import forget_memberships
    from .models import Membership
    from .tenancy import current_partnership

    partnership = current_partnership()
    with transaction.atomic():
        user = locked(User, user_id)
        _guard_other(actor, user)
        membership = Membership.objects.select_for_update().filter(partnership=partnership, user=user).first()
        if membership is None:
            raise User.DoesNotExist
        old = {"role": membership.role, "agency": membership.agency.code if membership.agency else None}
        new = {"role": role, "agency": agency.code if agency else None}
        if old == new:
            return user
        membership.role, membership.agency = role, agency
        membership.save(update_fields=["role", "agency"])
        forget_memberships(user)
        record(
            AuditAction.USER_CHANGED,
            actor=actor,
            obj=user,
            summary=f"{user.username}: {Role(role).label.lower()}{f' ({agency.name})' if agency else ''} "
            f"in {partnership.name}",
            old={k: v for k, v in old.items() if new[k] != v},
            new={k: v for k, v in new.items() if old[k] != v},
        )
    return user


def membership_remove(*, actor: Any, user_id: int) -> User:
    """Take away the user's role in the current partnership (their roles elsewhere stay). Audited."""
    from .models import Membership
    from .tenancy import current_partnership

    require(actor, Perm.MANAGE_USERS)
    partnership = current_partnership()
    with transaction.atomic():
        user = locked(User, user_id)
        _guard_other(actor, user)
        membership = Membership.objects.select_for_update().filter(partnership=partnership, user=user).first()
        if membership is None:
            raise User.DoesNotExist
        old = {"partnership": partnership.code, "role": membership.role}
        if _in_default():
            user.role, user.agency = "", None
            user.save(update_fields=["role", "agency"])  # the default membership follows (and goes)
        else:
            membership.delete()
        record(
            AuditAction.USER_CHANGED,
            actor=actor,
            obj=user,
            summary=f"{user.username} removed from {partnership.name}",
            old=old,
            new={"partnership": partnership.code, "role": None},
        )
    return user

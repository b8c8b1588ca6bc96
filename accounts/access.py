"""The one permission helper that every view, command and API endpoint uses.

Roles are fixed (DESIGN "Who uses it"); what each role may do is the table ``ROLE_PERMISSIONS``.
Superusers may do everything.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse

from .models import Agency, Partnership, Role, User
from .prepared import prepared_read


class Perm(enum.StrEnum):
    VIEW_APPROVED_DATA = "view_approved_data"
    VIEW_AGENCY_RETURNS = "view_agency_returns"  # an agency's returns in any state
    SUBMIT_RETURN = "submit_return"
    VIEW_ALL_RETURNS = "view_all_returns"
    APPROVE_RETURN = "approve_return"
    MANAGE_ROUNDS = "manage_rounds"
    CHASE_RETURNS = "chase_returns"  # send a reminder about a late or unsubmitted return
    MANAGE_AGENCIES = "manage_agencies"  # agencies' contacts
    VIEW_AUDIT = "view_audit"
    MANAGE_FRAMEWORK = "manage_framework"
    IMPORT_DATA = "import_data"  # administrator's bulk load of approved data
    PUBLISH_SNAPSHOT = "publish_snapshot"
    EDIT_REPORT = "edit_report"
    VIEW_REPORTS = "view_reports"
    USE_ADMIN = "use_admin"
    MANAGE_USERS = "manage_users"  # invite users, change their role and agency, deactivate them
    MANAGE_SHARING = "manage_sharing"  # share the partnership's published figures with its region, or stop


# Permissions that are limited to the user's own agency.
AGENCY_SCOPED = {Perm.VIEW_AGENCY_RETURNS, Perm.SUBMIT_RETURN, Perm.VIEW_AUDIT}

ROLE_PERMISSIONS: dict[str, frozenset[Perm]] = {
    Role.ANALYST: frozenset({Perm.VIEW_APPROVED_DATA, Perm.VIEW_AGENCY_RETURNS, Perm.SUBMIT_RETURN, Perm.VIEW_AUDIT}),
    Role.PERFORMANCE_MANAGER: frozenset(Perm),
    Role.BOARD_MEMBER: frozenset({Perm.VIEW_APPROVED_DATA, Perm.VIEW_REPORTS}),
}


SYSTEM_USERNAME = "system"


def system_actor() -> User:
    """The actor for management commands and background work: a real user row, so audit events name it.

    It can never log in (inactive, unusable password) and has the performance manager's permissions.
    """
    user, created = User.objects.get_or_create(
        username=SYSTEM_USERNAME,
        defaults={"role": Role.PERFORMANCE_MANAGER, "is_active": False, "first_name": "System"},
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user


def is_system_actor(user: Any) -> bool:
    """The row ``system_actor()`` made (an inactive user who cannot log in), not someone who took the name."""
    return (
        isinstance(user, User)
        and user.pk is not None
        and user.username == SYSTEM_USERNAME
        and not user.is_active
        and user.role == Role.PERFORMANCE_MANAGER
        and not user.has_usable_password()
    )


def _memberships(user: Any) -> dict[int, tuple[str, int | None, Partnership]]:
    """The user's role, agency and partnership in each partnership, read once per user object (one query)."""
    cached = getattr(user, "_pcc_memberships", None)
    if cached is None:
        cached = {m.partnership_id: (m.role, m.agency_id, m.partnership) for m in _memberships_of.read(user_id=user.pk)}
        user._pcc_memberships = cached
    return cast(dict[int, tuple[str, int | None, Partnership]], cached)


@prepared_read(scoped=False)
def _memberships_of(*, user_id: Any) -> QuerySet[Any]:
    from .models import Membership

    return Membership.objects.filter(user_id=user_id).select_related("partnership")


def forget_memberships(user: Any) -> None:
    """After a user's memberships change: the next permission check reads them again."""
    if hasattr(user, "_pcc_memberships"):
        del user._pcc_memberships


def _membership(user: Any, partnership: Partnership | int | None) -> tuple[str, int | None] | None:
    """(role, agency id) of an active, signed-in ``user`` in ``partnership`` (the current one when None)."""
    from .partnerships import is_default
    from .tenancy import current_partnership

    if partnership is None:
        partnership = current_partnership()
    if isinstance(partnership, Partnership) and is_default(partnership):
        # The default partnership's membership is User.role and User.agency (kept in step): no query.
        return (user.role, user.agency_id) if user.role else None
    pid = partnership.pk if isinstance(partnership, Partnership) else partnership
    found = _memberships(user).get(int(pid))
    return (found[0], found[1]) if found else None


def user_role(user: Any, partnership: Partnership | int | None = None) -> str | None:
    """The user's role in ``partnership`` (the current one when None); None: no role there."""
    if is_system_actor(user):
        return Role.PERFORMANCE_MANAGER
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    if user.is_superuser:
        return Role.PERFORMANCE_MANAGER
    found = _membership(user, partnership)
    return found[0] if found else None


def user_agency_id(user: Any, partnership: Partnership | int | None = None) -> int | None:
    """The agency an analyst supplies in ``partnership`` (the current one when None); None for other roles."""
    if user is None or not getattr(user, "is_authenticated", False) or user.is_superuser or is_system_actor(user):
        return None
    found = _membership(user, partnership)
    return found[1] if found and found[0] == Role.ANALYST else None


def user_partnerships(user: Any) -> list[Partnership]:
    """The partnerships ``user`` has a role in (every partnership for a superuser), by name."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return []
    if user.is_superuser:
        return list(Partnership.objects.order_by("name", "code"))
    return sorted((m[2] for m in _memberships(user).values()), key=lambda p: (p.name, p.code))


def has_perm(
    user: Any, perm: Perm, *, agency: Agency | int | None = None, partnership: Partnership | int | None = None
) -> bool:
    """May ``user`` do ``perm`` in ``partnership`` (the current one when None; for ``agency``, where the
    permission is agency-scoped)? The role is the user's role in that partnership: a role in one partnership
    grants nothing in another."""
    role = user_role(user, partnership)
    if role is None:
        return False
    if perm not in ROLE_PERMISSIONS.get(role, frozenset()):
        return False
    if perm in AGENCY_SCOPED and role == Role.ANALYST and agency is not None:
        agency_id = agency.pk if isinstance(agency, Agency) else agency
        return bool(user_agency_id(user, partnership) == agency_id)
    return True


def require(
    user: Any, perm: Perm, *, agency: Agency | int | None = None, partnership: Partnership | int | None = None
) -> None:
    """Raise ``PermissionDenied`` unless ``user`` may do ``perm`` (in ``partnership``: the current one when
    None)."""
    if not has_perm(user, perm, agency=agency, partnership=partnership):
        raise PermissionDenied(f"You do not have permission to {perm.value.replace('_', ' ')}.")


ViewFunc = TypeVar("ViewFunc", bound=Callable[..., HttpResponse])


def permission_required(perm: Perm) -> Callable[[ViewFunc], ViewFunc]:
    """View decorator: anonymous visitors go to the login page; others without ``perm`` get 403."""

    def decorator(view: ViewFunc) -> ViewFunc:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            require(request.user, perm)
            return view(request, *args, **kwargs)

        return cast(ViewFunc, wrapped)

    return decorator

from typing import Any

from django.http import HttpRequest
from django.urls import reverse

from accounts.access import Perm, has_perm, user_partnerships, user_role
from accounts.partnerships import is_default, several_partnerships


def access(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    signed_in = user is not None and user.is_authenticated
    return {
        "user_role": user_role(user),
        # Lazy: the query saying whether the admin is the host's alone is asked only of a manager's navigation.
        "can_use_admin": lambda: _can_use_admin(user),
        "can_see_returns": has_perm(user, Perm.VIEW_AGENCY_RETURNS),
        "can_see_audit": has_perm(user, Perm.VIEW_AUDIT),
        "can_manage": has_perm(user, Perm.MANAGE_FRAMEWORK),
        "can_manage_users": has_perm(user, Perm.MANAGE_USERS),
        "can_manage_sharing": has_perm(user, Perm.MANAGE_SHARING),
        # The partnership switcher in the header: the one the page is in, and the user's others (the middleware
        # read them already, so no query here but a superuser's list of every partnership).
        "current_partnership": getattr(request, "partnership", None) if signed_in else None,
        "my_partnerships": user_partnerships(user) if signed_in else [],
    }


def public_links(request: HttpRequest) -> dict[str, Any]:
    """The public pages' addresses for the partnership the page is in: the unnamed ones for the default
    partnership (as a single-partnership installation has always had), ``/public/<code>/…`` for the others."""
    partnership = getattr(request, "partnership", None)
    if partnership is None or is_default(partnership):
        return {"public_reports_url": reverse("public-reports"), "public_areas_url": reverse("public-local-index")}
    code = {"partnership": partnership.code}
    return {
        "public_reports_url": reverse("partnership-public-reports", kwargs=code),
        "public_areas_url": reverse("partnership-public-local-index", kwargs=code),
    }


def _can_use_admin(user: Any) -> bool:
    """As ``PccAdminSite.has_permission``: a performance manager's while there is one partnership, the host's
    once there are several."""
    if not has_perm(user, Perm.USE_ADMIN):
        return False
    return bool(user.is_superuser) or not several_partnerships()

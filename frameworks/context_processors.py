from typing import Any

from django.http import HttpRequest

from accounts.access import Perm, has_perm, user_role


def access(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    return {
        "user_role": user_role(user),
        "can_use_admin": has_perm(user, Perm.USE_ADMIN),
        "can_see_returns": has_perm(user, Perm.VIEW_AGENCY_RETURNS),
        "can_see_audit": has_perm(user, Perm.VIEW_AUDIT),
        "can_manage": has_perm(user, Perm.MANAGE_FRAMEWORK),
        "can_manage_users": has_perm(user, Perm.MANAGE_USERS),
    }

"""The Django admin, for performance managers only (through the one permission helper)."""

from collections.abc import Callable
from functools import update_wrapper
from typing import Any

from django.conf import settings
from django.contrib import admin
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

from accounts.access import Perm, has_perm
from accounts.partnerships import several_partnerships


class PccAdminSite(admin.AdminSite):
    site_header = "pcc_perf administration"
    site_title = "pcc_perf admin"
    index_title = "Framework, reference data and users"

    def has_permission(self, request: HttpRequest) -> bool:
        """A performance manager's while the installation has one partnership; the host's (superusers) once
        it has several: the admin's lists span every partnership and the shared reference data, so a
        partnership's manager works through the service's own pages, which are scoped to their partnership."""
        user = request.user
        if getattr(user, "is_superuser", False) and user.is_active:
            return True
        return has_perm(user, Perm.USE_ADMIN) and not several_partnerships()

    def _refuse(self, request: HttpRequest) -> HttpResponse:
        # One login page for the whole product; a logged-in user who is not a performance manager is refused.
        if request.user.is_authenticated:
            raise PermissionDenied(
                "The admin is for performance managers (for the host alone when the service has several partnerships)."
            )
        return redirect_to_login(request.get_full_path(), settings.LOGIN_URL)

    def admin_view(self, view: Callable[..., Any], cacheable: bool = False) -> Callable[..., Any]:  # type: ignore[override]
        inner = super().admin_view(view, cacheable)

        def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
            if not self.has_permission(request):
                return self._refuse(request)
            return inner(request, *args, **kwargs)

        return update_wrapper(guarded, inner)

    def login(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        if self.has_permission(request):
            return super().login(request, extra_context)
        return self._refuse(request)

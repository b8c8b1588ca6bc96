"""The Django admin, for performance managers only (through the one permission helper)."""

from typing import Any

from django.conf import settings
from django.contrib import admin
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse

from frameworks.access import Perm, has_perm


class PccAdminSite(admin.AdminSite):
    site_header = "pcc_perf administration"
    site_title = "pcc_perf admin"
    index_title = "Framework, reference data and users"

    def has_permission(self, request: HttpRequest) -> bool:
        return has_perm(request.user, Perm.USE_ADMIN)

    def login(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        # One login page for the whole product.
        return redirect_to_login(request.GET.get("next", self.name and "/admin/"), settings.LOGIN_URL)

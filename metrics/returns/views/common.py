"""What every returns page starts with: the current framework, the user's agency, the return they asked for.

All of the current partnership (``accounts.tenancy``): the framework is its framework, the agency the one the
user supplies in it, and a return or upload is found among its own (another partnership's id is a 404)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404

from accounts.access import user_agency_id, user_role
from accounts.models import Agency, Role
from frameworks.models import Framework
from frameworks.selectors import current_framework
from metrics.models import Return, ReturnUpload
from metrics.returns.selectors import require_return_access


def framework_or_404() -> Framework:
    framework = current_framework()
    if framework is None:
        raise Http404("No framework is loaded.")
    return framework


def agency_scope(request: HttpRequest) -> Agency | None:
    """An analyst sees the agency they supply in the current partnership; the commissioner's office sees all
    (None)."""
    user: Any = request.user
    if user_role(user) != Role.ANALYST:
        return None
    agency_id = user_agency_id(user)
    if agency_id is None:
        raise PermissionDenied("You are not an analyst of an agency in this partnership.")
    if agency_id == user.agency_id:
        return user.agency  # the default partnership's: as it always was read
    return Agency.objects.get(pk=agency_id)


def return_for(request: HttpRequest, pk: int) -> Return:
    """The current partnership's return ``pk`` (404 for another partnership's), if the user may see it."""
    return_obj = get_object_or_404(Return.objects.in_scope().select_related("round", "agency"), pk=pk)
    require_return_access(request.user, return_obj)
    return return_obj


def upload_for(request: HttpRequest, pk: int) -> ReturnUpload:
    """The current partnership's upload ``pk`` (404 for another partnership's), if the user may see it."""
    upload = get_object_or_404(
        ReturnUpload.objects.in_scope().select_related("return_obj__round", "return_obj__agency"), pk=pk
    )
    require_return_access(request.user, upload.return_obj)
    return upload

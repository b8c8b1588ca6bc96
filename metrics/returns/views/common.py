"""What every returns page starts with: the current framework, the user's agency, the return they asked for."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404

from frameworks.models import Framework
from frameworks.selectors import current_framework
from metrics.models import Return, ReturnUpload
from metrics.returns.selectors import require_return_access


def framework_or_404() -> Framework:
    framework = current_framework()
    if framework is None:
        raise Http404("No framework is loaded.")
    return framework


def agency_scope(request: HttpRequest) -> Any:
    """An analyst sees their own agency; the commissioner's office sees all (None)."""
    user: Any = request.user
    return user.agency if user.role == "analyst" and not user.is_superuser else None


def return_for(request: HttpRequest, pk: int) -> Return:
    return_obj = get_object_or_404(Return.objects.select_related("round", "agency"), pk=pk)
    require_return_access(request.user, return_obj)
    return return_obj


def upload_for(request: HttpRequest, pk: int) -> ReturnUpload:
    upload = get_object_or_404(ReturnUpload.objects.select_related("return_obj__round", "return_obj__agency"), pk=pk)
    require_return_access(request.user, upload.return_obj)
    return upload

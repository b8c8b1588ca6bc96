"""Uploading a file to a return: the preview with every problem, confirming it, the progress of a large one."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from accounts.access import Perm
from accounts.workflow import IllegalTransition
from metrics.imports.parse import FileRejected
from metrics.imports.summary import ISSUE_KINDS
from metrics.models import UploadState
from metrics.returns.forms import UploadForm
from metrics.returns.selectors import can_act
from metrics.returns.services import ReturnError
from metrics.returns.uploads import UploadRejected, upload_alive, upload_confirm, upload_create, upload_retry

from .common import return_for, upload_for


@require_POST
def return_upload(request: HttpRequest, pk: int) -> HttpResponse:
    if not request.user.is_authenticated:
        raise PermissionDenied
    return_obj = return_for(request, pk)
    if not can_act(request.user, return_obj, Perm.SUBMIT_RETURN):
        raise PermissionDenied
    form = UploadForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, "Choose a CSV or XLSX file to upload.")
        return redirect("return-detail", pk=pk)
    uploaded = form.cleaned_data["file"]
    try:
        content = uploaded.read()
        upload = upload_create(
            actor=request.user, return_obj=return_obj, filename=uploaded.name or "upload", content=content
        )
    except FileRejected as exc:
        messages.error(request, f"{uploaded.name}: {exc}. Nothing was written.")
        return redirect("return-detail", pk=pk)
    except UploadRejected as exc:
        summary = exc.summary
        context = {
            "upload": None,
            "filename": uploaded.name,
            "return_obj": return_obj,
            "summary": summary,
            "errors": _grouped(summary.get("errors", []), summary.get("errors_omitted", {})),
            "warnings": _grouped(summary.get("warnings", []), summary.get("warnings_omitted", {})),
            "working": False,
            "can_confirm": False,
            "rejected": True,
        }
        return render(request, "metrics/upload_detail.html", context, status=400)
    except ReturnError as exc:
        messages.error(request, str(exc))
        return redirect("return-detail", pk=pk)
    return redirect("upload-detail", pk=upload.pk)


def _grouped(items: list[dict[str, Any]], omitted: dict[str, int]) -> list[tuple[str, list[dict[str, Any]], int, int]]:
    """Problems by kind: (heading, the problems listed, how many in all, how many not listed)."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for item in items:
        groups.setdefault(item["kind"], []).append(item)
    for kind in omitted:
        groups.setdefault(kind, [])
    return [
        (
            ISSUE_KINDS.get(kind, kind.replace("_", " ").capitalize()),
            rows,
            len(rows) + omitted.get(kind, 0),
            omitted.get(kind, 0),
        )
        for kind, rows in groups.items()
    ]


def upload_detail(request: HttpRequest, pk: int) -> HttpResponse:
    if not request.user.is_authenticated:
        from django.contrib.auth.views import redirect_to_login

        return redirect_to_login(request.get_full_path())
    upload = upload_alive(upload_for(request, pk))
    if request.method == "POST":
        try:
            upload = upload_confirm(actor=request.user, upload=upload)
        except ReturnError as exc:
            messages.error(request, str(exc))
            return redirect("upload-detail", pk=pk)
        if upload.state == UploadState.COMMITTED:
            messages.success(request, f"{upload.filename} was written to the return.")
            return redirect("return-detail", pk=upload.return_obj_id)
        return redirect("upload-detail", pk=pk)
    summary = upload.summary or {}
    return render(
        request,
        "metrics/upload_detail.html",
        {
            "upload": upload,
            "return_obj": upload.return_obj,
            "summary": summary,
            "errors": _grouped(summary.get("errors", []), summary.get("errors_omitted", {})),
            "warnings": _grouped(summary.get("warnings", []), summary.get("warnings_omitted", {})),
            "working": upload.state in (UploadState.CHECKING, UploadState.WRITING),
            "can_confirm": upload.state == UploadState.READY
            and upload.return_obj.is_editable
            and can_act(request.user, upload.return_obj, Perm.SUBMIT_RETURN),
            "can_retry": upload.state == UploadState.FAILED
            and upload.return_obj.is_editable
            and can_act(request.user, upload.return_obj, Perm.SUBMIT_RETURN),
        },
    )


@require_POST
def upload_try_again(request: HttpRequest, pk: int) -> HttpResponse:
    """Check a stopped upload again from the start."""
    if not request.user.is_authenticated:
        raise PermissionDenied
    upload = upload_for(request, pk)
    if not can_act(request.user, upload.return_obj, Perm.SUBMIT_RETURN):
        raise PermissionDenied
    try:
        upload_retry(actor=request.user, upload_id=upload.pk)
    except (ReturnError, IllegalTransition) as exc:
        messages.error(request, str(exc))
    return redirect("upload-detail", pk=pk)


def upload_progress(request: HttpRequest, pk: int) -> JsonResponse:
    if not request.user.is_authenticated:
        return JsonResponse({"error": "log in"}, status=401)
    upload = upload_alive(upload_for(request, pk))
    return JsonResponse(
        {
            "state": upload.state,
            "percent": upload.percent_done,
            "rows_done": upload.rows_done,
            "rows_total": upload.rows_total,
        }
    )

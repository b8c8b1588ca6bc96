"""Board pack pages: start a build, watch its progress, download; the public pack without login."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from accounts.access import Perm, has_perm, permission_required
from accounts.workflow import IllegalTransition
from reports.models import ReportState
from reports.narrative.services import can_read
from reports.narrative.views import _report, public_scope
from reports.packs.services import PackError, pack_alive, pack_request, pack_retry


# --- board packs ------------------------------------------------------------------------------------------
@require_POST
@permission_required(Perm.EDIT_REPORT)
def pack_start(request: HttpRequest, pk: int) -> HttpResponse:
    """Queue the PDF of a report's edition; a background worker builds it."""
    report = _report(request, pk)
    try:
        pack, new = pack_request(actor=request.user, report=report, public=request.POST.get("edition") == "public")
    except PackError as exc:
        messages.error(request, str(exc))
        return redirect("report-detail", pk=pk)
    if not new:
        messages.info(request, "This pack is already being built: its progress is below.")
    return redirect("pack-detail", pk=pack.pk)


@require_POST
@permission_required(Perm.EDIT_REPORT)
def pack_try_again(request: HttpRequest, pk: int) -> HttpResponse:
    """Queue a failed pack again."""
    try:
        pack = pack_retry(actor=request.user, pack_id=_pack(request, pk).pk)
    except IllegalTransition as exc:
        messages.error(request, str(exc))
        return redirect("pack-detail", pk=pk)
    return redirect("pack-detail", pk=pack.pk)


def _pack(request: HttpRequest, pk: int) -> Any:
    """The pack asked for (failed first if its worker stopped), if the user may read its report."""
    from reports.models import BoardPack

    pack = get_object_or_404(BoardPack.objects.in_scope().select_related("report__snapshot"), pk=pk)
    if not can_read(request.user, pack.report):
        raise PermissionDenied
    return pack_alive(pack)


@permission_required(Perm.VIEW_APPROVED_DATA)
def pack_detail(request: HttpRequest, pk: int) -> HttpResponse:
    pack = _pack(request, pk)
    context = {
        "pack": pack,
        "working": pack.state in ("queued", "building"),
        "can_retry": pack.state == "failed" and has_perm(request.user, Perm.EDIT_REPORT),
    }
    return render(request, "reports/pack_detail.html", context)


@permission_required(Perm.VIEW_APPROVED_DATA)
def pack_progress(request: HttpRequest, pk: int) -> HttpResponse:
    from django.http import JsonResponse

    pack = _pack(request, pk)
    return JsonResponse({"state": pack.state, "percent": pack.progress, "message": pack.message})


@permission_required(Perm.VIEW_APPROVED_DATA)
def pack_download(request: HttpRequest, pk: int) -> HttpResponse:
    pack = _pack(request, pk)
    if pack.state != "ready" or pack.pdf is None:
        raise Http404("The pack is not ready.")
    response = HttpResponse(bytes(pack.pdf), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{pack.filename}"'
    response["X-Content-SHA256"] = pack.sha256
    return response


@permission_required(Perm.VIEW_APPROVED_DATA)
def pack_download_docx(request: HttpRequest, pk: int) -> HttpResponse:
    """The board edition as an editable Word document, built with the PDF."""
    pack = _pack(request, pk)
    if pack.state != "ready" or pack.docx is None:
        raise Http404("No Word document for this pack.")
    response = HttpResponse(
        bytes(pack.docx), content_type="application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    )
    response["Content-Disposition"] = f'attachment; filename="{pack.docx_filename}"'
    return response


def public_pack(request: HttpRequest, pk: int, partnership: str | None = None) -> HttpResponse:
    """The latest public-edition pack of a published report of the partnership the path names (the default
    one for ``/public/reports/…``), without login."""
    from reports.models import BoardPack

    with public_scope(partnership):
        pack = (
            BoardPack.objects.in_scope()
            .filter(report_id=pk, report__state=ReportState.PUBLISHED, public=True, state="ready")
            .select_related("report__snapshot")
            .first()
        )
    if pack is None or pack.pdf is None:
        raise Http404("No public pack has been built for this report.")
    response = HttpResponse(bytes(pack.pdf), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{pack.filename}"'
    return response

"""The framework file in the app: the performance manager uploads a new version, sees what it would create,
change, delete and leave unchanged (or every error with its key path), and applies it on confirmation — the
same all-or-nothing loader as ``load_framework``. The current file downloads as YAML (``export_framework``)."""

from __future__ import annotations

import hashlib
from collections import Counter
from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from accounts.access import Perm, permission_required
from accounts.forms import gds_helper
from accounts.tenancy import current_partnership
from frameworks.selectors import current_framework

from .export import framework_export
from .load import LoadResult, framework_load, framework_preview
from .schema import FrameworkFileError

MAX_BYTES = 2 * 1024 * 1024


class FrameworkUploadForm(forms.Form):
    file = forms.FileField(
        label="Framework file (YAML)",
        help_text="The whole framework, in the format “Download the current file” gives. Nothing changes until you confirm.",
        error_messages={"required": "Choose the framework file (YAML) to check"},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = gds_helper("Check the file", form_id="framework-upload")

    def clean_file(self) -> str:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_BYTES:
            raise forms.ValidationError("The file is larger than 2 MB: a framework file is a few kilobytes.")
        try:
            return str(upload.read().decode("utf-8-sig"))
        except UnicodeDecodeError:
            raise forms.ValidationError("The file is not text in UTF-8: save it as a YAML text file.") from None


def _normal(text: str) -> str:
    """Line ends as ``\n``: a browser sends a form's text back with ``\r\n``."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _digest(text: str) -> str:
    return hashlib.sha256(_normal(text).encode("utf-8")).hexdigest()


_KINDS = ("members of peer group", "peer group", "place of", "rebase of", "category of")


def _kind(label: str) -> str:
    """What a loader label is about: “metric EFF01” → “metric”, “peer group msg” → “peer group”, “areas of metric
    EFF01” → “areas of metric”, “rebase EFF01 2020-06-30” → “rebase”."""
    for kind in _KINDS:
        if label.startswith(kind + " "):
            return kind
    for of in (" of metric ", " of breakdown "):
        if of in label:
            return label.split(of)[0] + of.rstrip()
    return label.split(" ", 1)[0]


_SHOWN = {"place of": "place in the framework", "rebase of": "rebase", "category of": "category"}


def _shown_kind(label: str) -> str:
    kind = _kind(label)
    return _SHOWN.get(kind, kind)


def _preview_context(result: LoadResult) -> dict[str, Any]:
    rows = []
    for change in result.changes:
        verb, _, label = change.partition(" ")
        rows.append({"verb": verb, "kind": _shown_kind(label), "label": label})
    counts = Counter(r["verb"] for r in rows)
    unchanged = Counter(_shown_kind(item) for item in result.unchanged_items)
    return {
        "changes": rows,
        "counts": {"created": counts["created"], "updated": counts["updated"], "deleted": counts["deleted"]},
        "unchanged": sorted(unchanged.items()),
        "unchanged_total": len(result.unchanged_items),
    }


@permission_required(Perm.MANAGE_FRAMEWORK)
def framework_page(request: HttpRequest) -> HttpResponse:
    framework = current_framework()
    context: dict[str, Any] = {"framework": framework, "versions": framework.versions.all()[:10] if framework else []}
    form = FrameworkUploadForm()
    if request.method == "POST" and request.POST.get("confirm"):
        text = _normal(request.POST.get("text", ""))
        if _digest(text) != request.POST.get("digest"):
            messages.error(request, "The checked file did not come back intact: upload it again.")
            return redirect("manage-framework")
        try:
            result = framework_load(text=text, actor=request.user, partnership=current_partnership())
        except FrameworkFileError as exc:
            context.update(errors=exc.errors)
        else:
            if result.changed:
                messages.success(
                    request,
                    f"Framework {result.framework.code} is now version {result.framework.version}: "
                    f"{result.created} created, {result.updated} updated, {result.deleted} deleted.",
                )
            else:
                messages.success(request, "The file matches the framework as it stands: nothing changed.")
            return redirect("manage-framework")
    elif request.method == "POST":
        form = FrameworkUploadForm(request.POST, request.FILES)
        if form.is_valid():
            text = _normal(form.cleaned_data["file"])
            file_name = getattr(request.FILES.get("file"), "name", "The file")
            try:
                result = framework_preview(text=text, actor=request.user, partnership=current_partnership())
            except FrameworkFileError as exc:
                context.update(errors=exc.errors, file_name=file_name)
            else:
                context.update(
                    preview=_preview_context(result),
                    result=result,
                    text=text,
                    digest=_digest(text),
                    file_name=file_name,
                )
    context["form"] = form
    return render(request, "metrics/manage/framework.html", context)


@permission_required(Perm.MANAGE_FRAMEWORK)
def framework_download(request: HttpRequest) -> HttpResponse:
    framework = current_framework()
    if framework is None:
        return redirect("manage-framework")
    response = HttpResponse(
        framework_export(code=framework.code, partnership=framework.partnership),
        content_type="application/yaml; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="{framework.code}-v{framework.version}.yaml"'
    return response

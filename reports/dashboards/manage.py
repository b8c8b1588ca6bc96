"""Managing a measure from its page (performance manager only): record or remove a rebase, add, change or
remove a note. Rebases are written back to the framework file; every change is audited. Everything is the
current partnership's: a measure is its own or a shared one, and another partnership's rebase or note is a 404."""

from __future__ import annotations

import contextlib
import datetime as dt
from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse

from accounts.access import Perm, permission_required
from accounts.forms import gds_helper
from frameworks.models import Area
from metrics.models import Metric, Observation, Rebase
from metrics.quarters import Quarter, period_label
from metrics.rebases import RebaseError, rebase_record, rebase_remove
from reports.annotations import AnnotationError, annotation_add, annotation_change, annotation_remove
from reports.dashboards.common import area_asked, framework_or_404, metric_or_404
from reports.evidence.build import metric_evidence
from reports.evidence.items import Part
from reports.models import Annotation, AnnotationKind


def _quarters(metric: Metric, *, extra: dt.date | None = None) -> list[tuple[str, str]]:
    """The quarters the measure has figures for, newest first (and ``extra``, if it has none there)."""
    periods = set(Observation.objects.filter(metric=metric).values_list("period", flat=True).distinct())
    if extra is not None:
        periods.add(extra)
    return [(p.isoformat(), period_label(p)) for p in sorted(periods, reverse=True)]


class RebaseForm(forms.Form):
    period = forms.ChoiceField(
        label="First quarter of the new limits",
        help_text="The limits are recalculated from this quarter on, from its figures and the ones after it.",
        error_messages={"required": "Choose the first quarter of the new limits"},
    )
    reason = forms.CharField(
        label="Reason for the rebase",
        help_text="Quote the source where it documents a break (a change of definition, recording or system).",
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "Give the reason for the rebase"},
    )

    def __init__(self, *args: Any, quarters: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["period"].choices = quarters  # type: ignore[attr-defined]
        self.helper = gds_helper("Record the rebase", form_id="rebase-form")


class AnnotationForm(forms.Form):
    # Each error names its field: the GOV.UK error summary lists them without the labels.
    period = forms.ChoiceField(
        label="Quarter the note is about", error_messages={"required": "Choose the quarter the note is about"}
    )
    area = forms.ModelChoiceField(
        label="Area", queryset=Area.objects.order_by("name"), required=False, empty_label="Every area"
    )
    kind = forms.ChoiceField(
        label="Kind of note",
        choices=AnnotationKind.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose the kind of note"},
    )
    text = forms.CharField(
        label="Note",
        max_length=200,
        help_text="Up to 200 characters: it is shown on the chart and in reports.",
        error_messages={"required": "Write the note", "max_length": "Write the note in 200 characters or fewer"},
    )

    def __init__(self, *args: Any, quarters: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["period"].choices = quarters  # type: ignore[attr-defined]
        self.helper = gds_helper("Save the note", form_id="annotation-form")


def _metric_url(metric: Metric, area: str = "") -> str:
    url = reverse("dashboard-metric", args=[metric.code])
    return f"{url}?area={area}" if area else url


def _render_form(request: HttpRequest, *, form: forms.Form, metric: Metric, title: str, lede: str = "") -> HttpResponse:
    return render(
        request,
        "reports/manage/form.html",
        {"form": form, "metric": metric, "title": title, "lede": lede, "back": _metric_url(metric)},
    )


@permission_required(Perm.MANAGE_FRAMEWORK)
def rebase_new(request: HttpRequest, code: str) -> HttpResponse:
    framework = framework_or_404()
    metric = metric_or_404(code, framework=framework)
    asked = request.GET.get("period", "")
    initial: dict[str, Any] = {}
    if asked:
        with contextlib.suppress(ValueError):
            initial["period"] = Quarter.parse(asked).end_date.isoformat()
    form = RebaseForm(request.POST or None, initial=initial, quarters=_quarters(metric))
    lede = (
        "A rebase says the process changed: the chart starts new limits from that quarter. "
        "It is written to the framework file."
    )
    if "period" in initial and request.method == "GET":
        # Accepting a proposal: say what the tool saw there (the evidence builder proposes, the manager decides).
        evidence = metric_evidence(
            framework=framework, metric=metric, area=area_asked(request, framework), parts=Part.NONE
        )
        for s in evidence.suggested_rebases:
            if s.period.isoformat() == initial["period"]:
                lede = f"The tool proposes new limits from {period_label(s.period)}: {s.reason}. {lede}"
    if request.method == "POST" and form.is_valid():
        period = dt.date.fromisoformat(form.cleaned_data["period"])
        try:
            rebase_record(
                actor=request.user,
                framework=framework,
                metric=metric,
                period=period,
                reason=form.cleaned_data["reason"],
            )
        except RebaseError as exc:
            form.add_error("period", str(exc))
        else:
            messages.success(request, f"Rebased from {period_label(period)}: the limits are recalculated from there.")
            return redirect(_metric_url(metric))
    return _render_form(
        request,
        form=form,
        metric=metric,
        title="Record a rebase",
        lede=lede,
    )


@permission_required(Perm.MANAGE_FRAMEWORK)
def rebase_delete(request: HttpRequest, pk: int) -> HttpResponse:
    framework = framework_or_404()
    rebase = get_object_or_404(Rebase.objects.in_scope().select_related("metric"), pk=pk)
    metric = rebase.metric
    if request.method == "POST":
        rebase_remove(actor=request.user, framework=framework, rebase_id=rebase.pk)
        messages.success(request, f"The rebase from {period_label(rebase.period)} is removed.")
        return redirect(_metric_url(metric))
    return render(
        request,
        "reports/manage/confirm_remove.html",
        {
            "metric": metric,
            "title": f"Remove the rebase from {period_label(rebase.period)}?",
            "what": f"Reason given: {rebase.reason}",
            "consequence": "The limits will run on across that quarter again. The removal is audited and written to the framework file.",
            "button": "Remove the rebase",
            "back": _metric_url(metric),
        },
    )


def _note_quarters(metric: Metric, note: Annotation | None = None) -> list[tuple[str, str]]:
    return _quarters(metric, extra=note.period if note else None)


@permission_required(Perm.MANAGE_FRAMEWORK)
def annotation_new(request: HttpRequest, code: str) -> HttpResponse:
    metric = metric_or_404(code, framework=framework_or_404())
    form = AnnotationForm(
        request.POST or None, initial={"kind": AnnotationKind.CONTEXT}, quarters=_note_quarters(metric)
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            annotation_add(
                actor=request.user,
                metric=metric,
                period=dt.date.fromisoformat(data["period"]),
                text=data["text"],
                kind=data["kind"],
                area=data["area"],
            )
        except AnnotationError as exc:
            form.add_error("text", str(exc))
        else:
            messages.success(request, "The note is added.")
            return redirect(_metric_url(metric))
    return _render_form(request, form=form, metric=metric, title="Add a note")


@permission_required(Perm.MANAGE_FRAMEWORK)
def annotation_edit(request: HttpRequest, pk: int) -> HttpResponse:
    framework_or_404()
    note = get_object_or_404(Annotation.objects.in_scope().select_related("metric", "area"), pk=pk)
    initial = {"period": note.period.isoformat(), "area": note.area, "kind": note.kind, "text": note.text}
    form = AnnotationForm(request.POST or None, initial=initial, quarters=_note_quarters(note.metric, note))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            annotation_change(
                actor=request.user,
                annotation_id=note.pk,
                period=dt.date.fromisoformat(data["period"]),
                text=data["text"],
                kind=data["kind"],
                area=data["area"],
            )
        except AnnotationError as exc:
            form.add_error("text", str(exc))
        else:
            messages.success(request, "The note is saved.")
            return redirect(_metric_url(note.metric))
    return _render_form(request, form=form, metric=note.metric, title="Change a note")


@permission_required(Perm.MANAGE_FRAMEWORK)
def annotation_delete(request: HttpRequest, pk: int) -> HttpResponse:
    framework_or_404()
    note = get_object_or_404(Annotation.objects.in_scope().select_related("metric", "area"), pk=pk)
    if request.method == "POST":
        annotation_remove(actor=request.user, annotation_id=note.pk)
        messages.success(request, "The note is removed.")
        return redirect(_metric_url(note.metric))
    return render(
        request,
        "reports/manage/confirm_remove.html",
        {
            "metric": note.metric,
            "title": f"Remove the note on {period_label(note.period)}?",
            "what": f"“{note.label}”{f' ({note.area.name})' if note.area else ''}",
            "consequence": "It will no longer show on the charts, in reports made from now on, or in new board packs. The removal is audited.",
            "button": "Remove the note",
            "back": _metric_url(note.metric),
        },
    )

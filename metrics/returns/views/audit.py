"""The audit trail: every recorded action in words, filtered by who, what, when, agency and metric, a page at a
time, or the whole filtered trail as CSV."""

from __future__ import annotations

import json
from typing import Any, cast

from django import forms
from django.core.paginator import Paginator
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from accounts.access import Perm, permission_required
from accounts.audit import AuditAction
from accounts.downloads import csv_bytes, download
from accounts.models import Agency, AuditEvent
from accounts.partnerships import is_default
from accounts.tenancy import current_partnership
from metrics.audit_trail import AuditFilters, audit_events, audit_lines
from metrics.models import Metric

from .common import agency_scope, return_for

AUDIT_HEADER = [
    "when (UTC)",
    "who",
    "action",
    "what",
    "old",
    "new",
    "reason",
    "return",
    "metric",
    "action code",
    "object",
    "old (as stored)",
    "new (as stored)",
]
PAGE_SIZE = 50
CSV_LIMIT = 50_000
CSV_CHUNK = 2_000


def in_partnership(events: QuerySet[AuditEvent]) -> QuerySet[AuditEvent]:
    """The events of the current partnership's trail: those filed in it, and for the default partnership those
    filed in none (the installation's shared data, and events from before partnerships)."""
    partnership = current_partnership()
    mine = Q(partnership=partnership)
    if is_default(partnership):
        mine |= Q(partnership__isnull=True)
    return events.filter(mine)


class AuditFilterForm(forms.Form):
    """The trail's filters, from the query string. Every field is optional; a bad one is named, never ignored."""

    actor = forms.ChoiceField(label="Who", required=False)
    action = forms.ChoiceField(label="Action", required=False)
    date_from = forms.DateField(
        label="From (date)", required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    date_to = forms.DateField(
        label="To (date)", required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    agency = forms.ModelChoiceField(
        label="Agency", queryset=Agency.objects.none(), required=False, to_field_name="code", empty_label="All"
    )
    metric = forms.ChoiceField(label="Metric", required=False)
    return_id = forms.IntegerField(required=False, widget=forms.HiddenInput, min_value=1)

    def __init__(self, *args: Any, scope: Agency | None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Whose events the user may see: an analyst is offered the people in their own agency's trail only.
        visible = in_partnership(
            audit_events(filters=AuditFilters(agency=scope)) if scope is not None else AuditEvent.objects.all()
        )
        people = (
            visible.exclude(actor_username="")
            .order_by("actor_username")
            .values_list("actor_username", flat=True)
            .distinct()
        )
        cast(forms.ChoiceField, self.fields["actor"]).choices = [("", "Anyone"), *((n, n) for n in sorted(people))]
        cast(forms.ChoiceField, self.fields["action"]).choices = [("", "Any action"), *AuditAction.choices]
        metrics = Metric.objects.in_scope().order_by("code").only("code", "name")
        if scope is not None:
            metrics = metrics.filter(agency=scope)
            del self.fields["agency"]  # an analyst sees their own agency's trail only
        else:
            cast(forms.ModelChoiceField, self.fields["agency"]).queryset = Agency.objects.order_by("name")
        cast(forms.ChoiceField, self.fields["metric"]).choices = [
            ("", "Any metric"),
            *((m.code, f"{m.code} {m.name}") for m in metrics),
        ]

    def add_prefix(self, field_name: str) -> str:
        return "return" if field_name == "return_id" else super().add_prefix(field_name)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", "The end date must be on or after the start date.")
        return data


@permission_required(Perm.VIEW_AUDIT)
def audit_log(request: HttpRequest) -> HttpResponse:
    scope = agency_scope(request)
    query = request.GET.copy()
    query.pop("page", None)
    fmt = query.pop("format", [""])[-1]
    form = AuditFilterForm(query or None, scope=scope)
    valid = form.is_valid() if query else True
    data = form.cleaned_data if query and valid else {}
    return_obj = return_for(request, data["return_id"]) if data.get("return_id") else None
    filters = AuditFilters(
        actor=data.get("actor") or "",
        action=data.get("action") or "",
        date_from=data.get("date_from"),
        date_to=data.get("date_to"),
        agency=scope if scope is not None else data.get("agency"),
        metric=data.get("metric") or "",
        return_id=return_obj.pk if return_obj is not None else None,
    )
    events = in_partnership(audit_events(filters=filters))
    if valid and fmt == "csv":
        return download(csv_bytes(AUDIT_HEADER, _csv_rows(events)), "audit.csv")
    paginator = Paginator(events, PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page")) if valid else None
    lines = audit_lines(list(page.object_list)) if page is not None else []
    return render(
        request,
        "metrics/audit.html",
        {
            "form": form,
            "lines": lines,
            "page": page,
            "return_obj": return_obj,
            "filtered": bool(query) and valid,
            "query": query.urlencode(),
            "csv_limit": f"{CSV_LIMIT:,}",
        },
        status=200 if valid else 400,
    )


def _csv_rows(events: Any) -> Any:
    """Every filtered event (up to ``CSV_LIMIT``), newest first, in words, then as stored; named in chunks."""
    fetched = list(events[:CSV_LIMIT])
    for start in range(0, len(fetched), CSV_CHUNK):
        for line in audit_lines(fetched[start : start + CSV_CHUNK]):
            e = line.event
            yield [
                e.at.isoformat(timespec="seconds"),
                line.who,
                line.action,
                line.what,
                line.old,
                line.new,
                e.reason,
                line.return_label,
                e.metric_code,
                e.action,
                f"{e.object_type}:{e.object_id}",
                _stored(e.old),
                _stored(e.new),
            ]


def _stored(value: Any) -> str:
    return "" if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True)

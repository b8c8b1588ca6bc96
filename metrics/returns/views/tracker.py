"""The returns tracker (page, CSV, XLSX) and opening a collection round."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.access import Perm, has_perm, permission_required
from accounts.contacts import agency_contacts
from accounts.downloads import csv_bytes, download, xlsx_bytes
from metrics.models import Return
from metrics.quarters import period_label
from metrics.returns import selectors, services
from metrics.returns.forms import RoundOpenForm

from .common import agency_scope, framework_or_404

TRACKER_HEADER = [
    "quarter",
    "agency",
    "state",
    "late",
    "values supplied",
    "values owed",
    "completeness %",
    "due date",
    "first submitted",
    "on time",
]


def _tracker_rows(statuses: list[selectors.ReturnStatus]) -> list[list[Any]]:
    return [
        [
            s.return_obj.round.label,
            s.return_obj.agency.name,
            s.state_label,
            "yes" if s.late else "no",
            s.supplied,
            s.owed,
            round(s.completeness, 1),
            s.return_obj.round.due_date.isoformat(),
            s.return_obj.first_submitted_at.date().isoformat() if s.return_obj.first_submitted_at else "",
            {True: "yes", False: "no", None: ""}[s.on_time],
        ]
        for s in statuses
    ]


@permission_required(Perm.VIEW_AGENCY_RETURNS)
def tracker(request: HttpRequest) -> HttpResponse:
    framework = framework_or_404()
    statuses = selectors.tracker(framework=framework, agency=agency_scope(request))
    fmt = request.GET.get("format")
    if fmt in {"csv", "xlsx"}:
        rows = _tracker_rows(statuses)
        name = f"returns-tracker-{timezone.localdate():%Y-%m-%d}"
        if fmt == "csv":
            return download(csv_bytes(TRACKER_HEADER, rows), f"{name}.csv")
        return download(xlsx_bytes([("tracker", TRACKER_HEADER, rows)]), f"{name}.xlsx")
    rounds: dict[dt.date, list[selectors.ReturnStatus]] = {}
    for s in statuses:
        rounds.setdefault(s.return_obj.round.period, []).append(s)
    suggested, suggested_due = selectors.next_round(today=timezone.localdate())
    agency_ids = {s.return_obj.agency_id for s in statuses}
    can_chase = has_perm(request.user, Perm.CHASE_RETURNS)
    contacts = agency_contacts(agency_ids=agency_ids) if can_chase else {}
    reminded = selectors.last_reminders(agency_ids=agency_ids) if can_chase else {}
    for s in statuses:
        s.contacts = contacts.get(s.return_obj.agency_id)
        last = reminded.get(s.return_obj.agency_id)
        s.next_reminder = last + selectors.REMIND_EVERY if last else None
    return render(
        request,
        "metrics/tracker.html",
        {
            "framework": framework,
            "rounds": [(period_label(p), items) for p, items in rounds.items()],
            "can_open": has_perm(request.user, Perm.MANAGE_ROUNDS),
            "can_chase": can_chase,
            "can_manage_agencies": has_perm(request.user, Perm.MANAGE_AGENCIES),
            "suggested_period": suggested.label,
            "suggested_due": suggested_due.isoformat(),
            "round_form": RoundOpenForm(
                action=reverse("round-open"),
                initial={"period": suggested.label, "due_date": suggested_due.isoformat()},
            ),
        },
    )


@require_POST
@permission_required(Perm.MANAGE_ROUNDS)
def round_open(request: HttpRequest) -> HttpResponse:
    form = RoundOpenForm(request.POST)
    if not form.is_valid():
        first = next(iter(form.errors.values()))
        messages.error(request, f"Could not open the round: {first[0]}")
        return redirect("returns")
    try:
        round_ = services.round_open(
            actor=request.user,
            framework=framework_or_404(),
            period=form.cleaned_data["period"],
            due_date=form.cleaned_data["due_date"],
        )
    except services.ReturnError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"The {round_.label} round is open. {services.round_told(round_)}")
    return redirect("returns")


@require_POST
@permission_required(Perm.CHASE_RETURNS)
def return_remind(request: HttpRequest, pk: int) -> HttpResponse:
    """The tracker's "Send reminder" button: e-mail the agency's contacts, then say who was e-mailed."""
    try:
        reminded = services.return_remind(actor=request.user, return_id=pk)
    except Return.DoesNotExist:
        raise Http404("No such return.") from None
    except services.ReturnError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, reminded.message)
    return redirect(f"{reverse('returns')}#return-{pk}")

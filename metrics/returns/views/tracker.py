"""The returns tracker (page, CSV, XLSX) and opening a collection round."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.access import Perm, has_perm, permission_required
from accounts.downloads import csv_bytes, download, xlsx_bytes
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
    return render(
        request,
        "metrics/tracker.html",
        {
            "framework": framework,
            "rounds": [(period_label(p), items) for p, items in rounds.items()],
            "can_open": has_perm(request.user, Perm.MANAGE_ROUNDS),
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
        messages.success(request, f"The {round_.label} round is open; analysts with an e-mail address are being told.")
    return redirect("returns")

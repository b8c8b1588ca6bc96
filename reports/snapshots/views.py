"""Snapshot pages: readiness and publishing (performance managers), the list and each snapshot's revisions."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from accounts.access import Perm, has_perm, permission_required
from frameworks.selectors import current_framework
from metrics.models import CollectionRound
from metrics.quarters import Quarter, QuarterError
from reports.models import Snapshot
from reports.snapshots.frozen import FrozenDefinitions
from reports.snapshots.services import SnapshotError, readiness, snapshot_publish


@permission_required(Perm.VIEW_APPROVED_DATA)
def snapshot_list(request: HttpRequest) -> HttpResponse:
    rounds = list(CollectionRound.objects.in_scope().order_by("-period")[:8])
    states = [(r, readiness(period=r.period)) for r in rounds] if has_perm(request.user, Perm.PUBLISH_SNAPSHOT) else []
    return render(
        request,
        "reports/snapshots.html",
        {
            "snapshots": Snapshot.objects.in_scope().select_related("published_by")[:100],
            "states": states,
            "can_publish": has_perm(request.user, Perm.PUBLISH_SNAPSHOT),
        },
    )


@require_POST
@permission_required(Perm.PUBLISH_SNAPSHOT)
def snapshot_create(request: HttpRequest) -> HttpResponse:
    framework = current_framework()
    try:
        period = Quarter.parse(request.POST.get("quarter", "")).end_date
        if framework is None:
            raise SnapshotError("No framework is loaded.")
        snapshot = snapshot_publish(
            actor=request.user, framework=framework, period=period, reason=request.POST.get("reason", "")
        )
    except (QuarterError, SnapshotError) as exc:
        messages.error(request, str(exc))
        return redirect("snapshots")
    messages.success(request, f"Published {snapshot}.")
    return redirect("snapshot-detail", pk=snapshot.pk)


@permission_required(Perm.VIEW_APPROVED_DATA)
def snapshot_detail(request: HttpRequest, pk: int) -> HttpResponse:
    snapshot = get_object_or_404(Snapshot.objects.in_scope().select_related("published_by", "framework"), pk=pk)
    revisions = list(snapshot.revisions.select_related("metric", "area", "category"))
    frozen = FrozenDefinitions.of(snapshot)
    for revision in revisions:  # the metric as the snapshot named it
        revision.metric = frozen.metric(revision.metric)
    return render(request, "reports/snapshot_detail.html", {"snapshot": snapshot, "revisions": revisions})

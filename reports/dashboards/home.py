"""The home page: each role's work queue (every item a link), then the latest figures, all of the current
partnership (``accounts.tenancy``) and by the user's role there."""

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from accounts.access import Perm, has_perm, permission_required, user_agency_id, user_role
from accounts.models import Role
from frameworks.selectors import current_framework
from metrics.returns.selectors import analyst_queue
from reports.dashboards.selectors import board_queue, manager_queue, priorities_evidence


@permission_required(Perm.VIEW_APPROVED_DATA)
def home(request: HttpRequest) -> HttpResponse:
    framework = current_framework()
    user: Any = request.user
    today = timezone.localdate()
    context: dict[str, Any] = {"framework": framework, "priorities": [], "today": today}
    if has_perm(user, Perm.APPROVE_RETURN):
        context["manager"] = manager_queue(today=today)
    elif user_role(user) == Role.ANALYST and (agency_id := user_agency_id(user)):
        context["analyst"] = analyst_queue(framework=framework, agency=agency_id, today=today)
    elif has_perm(user, Perm.VIEW_REPORTS):
        context["board"] = board_queue()
    if framework is not None:
        context["area"] = framework.home_area
        context["priorities"] = priorities_evidence(framework=framework, area=framework.home_area)
    return render(request, "reports/home.html", context)

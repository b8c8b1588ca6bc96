from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from accounts.access import Perm, permission_required
from frameworks.selectors import current_framework
from reports.dashboards.selectors import priorities_evidence


@permission_required(Perm.VIEW_APPROVED_DATA)
def home(request: HttpRequest) -> HttpResponse:
    framework = current_framework()
    context: dict[str, Any] = {"framework": framework, "priorities": []}
    if framework is not None:
        context["area"] = framework.home_area
        context["priorities"] = priorities_evidence(framework=framework, area=framework.home_area)
    return render(request, "reports/home.html", context)

"""The regional view page: the region's sharing partnerships side by side, from published snapshots only."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from accounts.access import Perm, permission_required
from accounts.tenancy import current_partnership
from reports.dashboards.common import export
from reports.regional.selectors import RegionalView, regional_view

REGIONAL_HEADER = [
    "measure_code",
    "measure",
    "partnership",
    "area",
    "value",
    "quarter",
    "snapshot",
    "note",
]


def regional_table(view: RegionalView) -> tuple[list[str], list[list[Any]]]:
    """Every figure the page shows, one row each (the same text as the page), then each partnership's note."""
    rows: list[list[Any]] = []
    for row in view.rows:
        for member, cell in zip(view.members, row.cells, strict=True):
            rows.append(
                [
                    row.code,
                    row.name,
                    member.partnership.name,
                    member.area.name if member.area is not None else "",
                    cell.text,
                    cell.quarter,
                    str(member.snapshot) if member.snapshot is not None else "",
                    cell.note,
                ]
            )
    for member in view.members:
        if member.note:
            rows.append(["", "", member.partnership.name, "", "", "", member.snapshot_label, member.note])
    return REGIONAL_HEADER, rows


@permission_required(Perm.VIEW_APPROVED_DATA)
def regional_page(request: HttpRequest) -> HttpResponse:
    partnership = current_partnership()
    view = regional_view(partnership=partnership)
    header, rows = regional_table(view)
    about = [
        ["Region", view.region or "none set"],
        ["Read by", partnership.name],
        [
            "Figures",
            "Each partnership's latest published snapshot only (never unpublished data), from the partnerships "
            "that share their published figures with the region, and your own",
        ],
    ]
    response = export(request, f"region-{partnership.code}", header, rows, about)
    if response is not None:
        return response
    return render(request, "reports/regional.html", {"view": view})

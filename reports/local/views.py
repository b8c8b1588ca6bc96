"""The public dashboard by local area: no login, the latest published snapshot only, suppressed figures.

One partnership's pages: ``/public/<partnership>/areas/…`` names it (the middleware works in it), and
``/public/areas/…`` is the partnership of the request (the installation's default one for a visitor). Links
between the pages stay in the partnership (its path, unless it is the default one)."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse

from accounts.partnerships import is_default
from accounts.tenancy import current_partnership
from frameworks.models import Area
from metrics.stats.suppression import SYMBOLS
from reports import wording
from reports.dashboards.common import export
from reports.local.selectors import LocalPage, local_area_or_none, local_index, local_page, published_snapshot


def _links(partnership: str | None, areas: list[Area]) -> dict[str, Any]:
    """The addresses of the index, each local area and the published reports in the partnership of the page:
    its own paths when it is named in the path or is not the default one; else the installation's."""
    if partnership is None:
        current = current_partnership()
        partnership = None if is_default(current) else current.code
    if partnership is None:
        return {
            "index_url": reverse("public-local-index"),
            "area_urls": {a.code: reverse("public-local-area", args=[a.code]) for a in areas},
            "reports_url": reverse("public-reports"),
        }
    try:  # the partnership's published reports (no link while the reports pages cannot name it)
        reports_url: str | None = reverse("partnership-public-reports", args=[partnership])
    except NoReverseMatch:
        reports_url = None
    return {
        "index_url": reverse("partnership-public-local-index", args=[partnership]),
        "area_urls": {a.code: reverse("partnership-public-local-area", args=[partnership, a.code]) for a in areas},
        "reports_url": reports_url,
    }


def public_local_index(request: HttpRequest, partnership: str | None = None) -> HttpResponse:
    """The local areas of the partnership's home area (``partnership``: the code in the path, if any)."""
    index = local_index()
    if index is None:
        raise Http404("No framework is loaded yet.")
    return render(request, "reports/local_index.html", {"index": index, **_links(partnership, index.areas)})


def public_local_area(request: HttpRequest, code: str, partnership: str | None = None) -> HttpResponse:
    """A local area's page from the partnership's latest published snapshot (``?format=csv`` or ``xlsx``:
    its figures)."""
    index = local_index()
    if index is None or index.snapshot is None:
        raise Http404("Nothing is published yet.")
    area = local_area_or_none(index.framework, code)
    if area is None:
        raise Http404("Not a local area of this framework.")
    snapshot = published_snapshot(index.framework)
    assert snapshot is not None
    page = local_page(framework=index.framework, area=area, snapshot=snapshot)
    header, rows = local_table(page)
    about = [
        ["Local area", f"{page.area.name} ({page.area.ons_code})" if page.area.ons_code else page.area.name],
        ["Edition", "Public: small numbers suppressed [c]"],
        ["Figures", f"As published in {snapshot} on {snapshot.published_at:%d %B %Y}"],
    ]
    if page.illustrative:
        about.append(["Illustrative", wording.ILLUSTRATIVE])
    response = export(request, f"local-{page.area.code}-{snapshot.period:%Y-%m-%d}", header, rows, about)
    if response is not None:
        return response
    context: dict[str, Any] = {
        "page": page,
        "index": index,
        "letters": wording.VARIATION_LETTER,
        "short": wording.VARIATION_SHORT,
        "illustrative_text": wording.ILLUSTRATIVE,
        "legend": list(SYMBOLS.items()),
        **_links(partnership, index.areas),
    }
    return render(request, "reports/local_area.html", context)


def local_table(page: LocalPage) -> tuple[list[str], list[list[Any]]]:
    """Every figure the page shows, one row each: each measure's quarters for the area, the force area's
    figure beside the latest, and the other local areas' figures (the same suppressed figures as the page)."""
    header = ["measure_code", "measure", "area", "row", "quarter", "value", "variation", "illustrative", "source"]
    rows: list[list[Any]] = []
    for m in page.measures:
        e = m.evidence
        base = [e.metric.code, e.metric.name]
        src = ", ".join(v for k, v in e.metric.source.items() if k in ("publisher", "title", "period") and v)
        flag = "yes" if e.illustrative else "no"
        for row in e.rows():
            value = f"{row.value} {row.symbol}".strip()
            rows.append([*base, page.area.name, "series", row.label, value, row.cause, flag, src])
        rows.append([*base, page.area.name, "latest", e.quarter_label, e.latest_text, m.variation_plain, flag, src])
        if m.force is not None and e.vintage is not None:
            force_row = next((o for o in m.force.series if o.period == e.vintage), None)
            shown = (
                m.force.format(force_row.value)
                if force_row is not None and force_row.value is not None
                else ("[c]" if force_row is not None and force_row.missing == "c" else "[x]")
            )
            force_flag = "yes" if force_row is not None and force_row.illustrative else "no"
            rows.append([*base, m.force.area.name, "force area", e.quarter_label, shown, "", force_flag, src])
        for c in m.compared:
            if not c.this:
                rows.append([*base, c.area.name, "local area", e.quarter_label, c.text, "", flag, src])
    for metric, why in page.no_figures:
        rows.append([metric.code, metric.name, page.area.name, "no local figures", "", "", why, "", ""])
    return header, rows

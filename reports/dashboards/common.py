"""What every dashboard page shares: the framework, area and snapshot asked for, and CSV/XLSX exports."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, cast

from django.db.models import F, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.html import escape

from accounts.downloads import csv_bytes, download, xlsx_bytes
from accounts.prepared import prepared_read
from frameworks.models import Area, Framework
from frameworks.selectors import current_framework
from metrics.models import Metric
from metrics.stats.suppression import SYMBOLS
from reports.dashboards.cache import cached_part
from reports.dashboards.selectors import quarter_choice
from reports.evidence.build import attach_rebases
from reports.evidence.sources import FigureSource, ObsRow
from reports.models import Snapshot


def framework_or_404() -> Framework:
    """The current partnership's current framework (``frameworks.selectors.current_framework``)."""
    framework = current_framework()
    if framework is None:
        raise Http404("No framework is loaded yet.")
    return framework


def metric_or_404(code: str, *, framework: Framework, snapshot: Snapshot | None = None) -> Metric:
    """The metric ``code`` names that the current partnership reads (its own, or a shared official statistic)
    and its framework places (the current one, or the snapshot's asked for), with its agency and its rebases in
    the partnership. Another partnership's metric, or a shared one only another framework places, is not found.
    One query (and one for the rebases)."""
    frameworks = [framework.pk] + ([snapshot.framework_id] if snapshot is not None else [])
    found = _placed_metric.read(code=code, framework_ids=frameworks)
    if not found:
        raise Http404("No such measure in this framework.")
    attach_rebases(found)
    return cast(Metric, found[0])


@prepared_read
def _placed_metric(*, code: Any, framework_ids: Any) -> QuerySet[Any]:
    query = Metric.objects.in_scope().filter(code=code, placements__framework_id__in=framework_ids)
    # the partnership's own before a shared one
    return query.select_related("agency").order_by(F("partnership_id").asc(nulls_last=True))[:1]


@prepared_read(scoped=False)
def _area(*, code: Any) -> QuerySet[Any]:
    return Area.objects.filter(code=code)[:1]  # (codes are unique)


def area_asked(request: HttpRequest, framework: Framework) -> Area:
    code = request.GET.get("area") or framework.home_area.code
    found = _area.read(code=code)
    if not found:
        raise Http404("No Area matches the given query.")
    return cast(Area, found[0])


def snapshot_asked(request: HttpRequest) -> Snapshot | None:
    """``?snapshot=ID``: show the figures exactly as that snapshot published them (a snapshot of the current
    partnership: another's is not found)."""
    text = request.GET.get("snapshot", "").strip()
    if not text:
        return None
    if not text.isdigit():
        raise Http404("Unknown snapshot")
    return get_object_or_404(Snapshot.objects.in_scope(), pk=int(text))


def page_asked(request: HttpRequest) -> tuple[Framework, Area, Snapshot | None, dt.date | None]:
    """The framework, the area, the snapshot and the quarter a page is asked for (``?quarter=``, else the
    snapshot's quarter, else ``None``: the latest)."""
    framework = framework_or_404()
    area = area_asked(request, framework)
    snapshot = snapshot_asked(request)
    return (
        framework,
        area,
        snapshot,
        quarter_choice(request.GET.get("quarter")) or (snapshot.period if snapshot else None),
    )


def page_context(framework: Framework, area: Area, snapshot: Snapshot | None, **more: Any) -> dict[str, Any]:
    """What a dashboard page's template is given besides its own figures: the framework, the area, and the
    snapshot shown (with its caption)."""
    return {
        "framework": framework,
        "area": area,
        "snapshot": snapshot,
        "snapshot_caption": FigureSource(snapshot).caption,
        **more,
    }


def symbol_of(obs: ObsRow | None) -> str:
    return obs.symbol if obs is not None else ""


LEGEND = [(symbol, meaning) for symbol, meaning in SYMBOLS.items()]


def export(
    request: HttpRequest, name: str, header: list[str], rows: list[list[Any]], about: list[list[Any]]
) -> HttpResponse | None:
    fmt = request.GET.get("format")
    if fmt not in {"csv", "xlsx"}:
        return None
    about = [
        *about,
        ["Downloaded", timezone.now().strftime("%Y-%m-%d %H:%M UTC")],
        [],
        ["Symbol", "Meaning"],
        *[[s, m] for s, m in LEGEND],
    ]
    if fmt == "csv":
        preamble = [*about, []]
        return download(csv_bytes(header, rows, preamble=preamble), f"{name}.csv")
    return download(xlsx_bytes([("data", header, rows), ("about", ["Item", "Value"], about)]), f"{name}.xlsx")


def wants_export(request: HttpRequest) -> bool:
    """``?format=csv`` or ``?format=xlsx``: the page's table, not the page."""
    return request.GET.get("format") in {"csv", "xlsx"}


def render_cached(
    request: HttpRequest,
    *,
    page: str,
    framework: Framework,
    template: str,
    body_template: str,
    body_context: Callable[[], dict[str, Any]],
    outer: dict[str, Any],
    title: Callable[[dict[str, Any]], str] | None = None,
    cacheable: bool = True,
) -> HttpResponse:
    """A dashboard page: its content (``body_template`` with ``body_context()``, the costly and shared part)
    from the page cache when the same page was rendered at the same data version, rendered inside
    ``template`` (navigation, title, scripts: per request) with ``outer``. ``title(context)`` names the page
    from what only the build knows (kept with the body; escaped here)."""

    def build() -> dict[str, str]:
        context = body_context()
        parts: dict[str, str] = {"body": render_to_string(body_template, context, request)}
        if title is not None:
            parts["title"] = escape(title(context))
        return parts

    parts = cached_part(request, page=page, framework=framework, render=build, cacheable=cacheable)
    return render(request, template, {**outer, **parts})


def export_or_render(
    request: HttpRequest,
    name: str,
    header: list[str],
    rows: list[list[Any]],
    about: list[list[Any]],
    *,
    template: str,
    context: Callable[[], dict[str, Any]],
) -> HttpResponse:
    """The page's table as CSV/XLSX when ``?format=`` asks for it, else the page (``context`` is only built
    for the page)."""
    return export(request, name, header, rows, about) or render(request, template, context())

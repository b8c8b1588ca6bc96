"""PDF board packs: the report's edition as an A4 statistical publication (WeasyPrint), its charts the
same Plotly figures as the pages rendered to vector SVG by kaleido in one Chromium for the whole pack.
Without a browser the pack is still built, each chart replaced by its data table and a visible note."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import plotly.graph_objects as go
from django.conf import settings
from django.template.loader import render_to_string

from accounts.background import heartbeat
from metrics.quarters import period_label
from reports.models import BoardPack, Report
from reports.narrative.editions import edition, summary_of
from reports.packs.services import building, pack_built, pack_progress, pack_started
from reports.packs.svg import chromium_path, render_svgs


@dataclass
class PackChart:
    title: str
    text: str
    svg: str | None
    rows: list[tuple[str, str]]


def build_pack_html(*, report: Report, public: bool, use_browser: bool = True, progress: Any = None) -> str:
    """The pack's HTML: cover, summary of variation, contents, executive summary, a section per
    priority (narrative, findings, charts, tables), annotations, appendix."""
    snapshot = report.snapshot
    framework = snapshot.framework
    sections = edition(report=report, public=public)
    figures: list[go.Figure] = []
    chart_slots: list[tuple[Any, PackChart]] = []
    for section in sections:
        for line in section.lines:
            evidence = line.evidence
            # Public evidence holds small numbers as [c] gaps already: its charts draw only what may be shown.
            if not evidence.spc.points:
                continue
            figures.append(evidence.xmr_figure())
            chart = PackChart(
                title=line.metric.name,
                text=evidence.finding,
                svg=None,
                rows=[(row.label, f"{row.value} {row.symbol}".strip()) for row in evidence.rows()[-8:]],
            )
            chart_slots.append((line, chart))
    if progress:
        progress(20, f"Drawing {len(figures)} charts")
    svgs = render_svgs(figures) if use_browser else None
    if progress:
        progress(60, "Laying out the pages")
    for index, (line, chart) in enumerate(chart_slots):
        chart.svg = svgs[index] if svgs else None
        line.pack_chart = chart
    return render_to_string(
        "reports/pack.html",
        {
            "report": report,
            "snapshot": snapshot,
            "framework": framework,
            "sections": sections,
            "summary": summary_of(report, public=public),
            "public": public,
            "marking": settings.PCC_PERF_PROTECTIVE_MARKING,
            "charts_rendered": svgs is not None,
            "quarter": period_label(snapshot.period),
        },
    )


def build_pack_pdf(*, report: Report, public: bool = False, use_browser: bool = True, progress: Any = None) -> bytes:
    from weasyprint import HTML

    from reports.packs.fetch import StaticOnlyFetcher

    html = build_pack_html(report=report, public=public, use_browser=use_browser, progress=progress)
    # WeasyPrint reads nothing but the app's static files (no http, no local file outside static/).
    document = HTML(string=html, base_url=str(settings.BASE_DIR), url_fetcher=StaticOnlyFetcher()).render()
    # Fixed identifier and dates: the same snapshot gives the same file.
    document.metadata.created = report.snapshot.published_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    document.metadata.modified = document.metadata.created
    return document.write_pdf(pdf_identifier=hashlib.sha256(html.encode()).hexdigest()[:32].encode())


def build_pack(*, pack_id: int, task_id: str = "") -> BoardPack:
    """Build a queued pack, recording progress on it and beating a heartbeat while it builds, and store the
    PDF with its checksum. ``task_id``: the worker's task (``PackSuperseded`` if the pack stopped being its)."""
    pack = pack_started(pack_id=pack_id, task_id=task_id)

    def progress(percent: int, message: str) -> None:
        pack_progress(pack_id=pack_id, percent=percent, message=message, task_id=task_id)

    with heartbeat(building(pack_id, task_id)):
        pdf = build_pack_pdf(report=pack.report, public=pack.public, progress=progress)
    return pack_built(pack_id=pack_id, pdf=pdf, charts_rendered=chromium_path() is not None, task_id=task_id)

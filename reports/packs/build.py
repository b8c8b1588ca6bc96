"""PDF board packs: the report's edition as an A4 statistical publication (WeasyPrint), its charts the
same Plotly figures as the pages rendered to vector SVG by kaleido in one Chromium for the whole pack.
Without a browser the pack is still built, each chart replaced by its data table and a visible note."""

from __future__ import annotations

import hashlib
import logging
import time
from typing import Any

from django.conf import settings
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe

from accounts.background import heartbeat
from metrics.quarters import period_label
from reports.icons import ASSURANCE_NOTE
from reports.models import BoardPack, Report, ReportState
from reports.narrative.editions import edition, render_markdown, summary_of
from reports.packs.content import Slot, board_content, print_links
from reports.packs.services import building, pack_built, pack_progress, pack_started
from reports.packs.svg import chromium_path, render_svgs
from reports.wording import DISPROPORTIONALITY_CAVEAT

logger = logging.getLogger(__name__)


def build_pack_html(
    *, report: Report, public: bool, use_browser: bool = True, progress: Any = None, stats: dict[str, Any] | None = None
) -> str:
    """The pack's HTML: cover, at a glance (with the icons' key), contents, executive summary, a section per
    priority, appendices. The board edition's contents come from ``content.board_content``; ``stats``
    (optional) receives what the build log line reports."""
    snapshot = report.snapshot
    framework = snapshot.framework
    sections = edition(report=report, public=public)
    for section in sections:  # links as paper needs them: full URLs of the site, or left out
        section.narrative = mark_safe(print_links(section.narrative))  # noqa: S308 - sanitised by render_markdown
        section.commentary = mark_safe(print_links(section.commentary))  # noqa: S308
    board = None if public else board_content(report=report, sections=sections)
    slots: list[Slot] = []
    if board is not None:
        slots = board.slots
    else:
        for section in sections:
            for line in section.lines:
                evidence = line.evidence
                # Public evidence holds small numbers as [c] gaps already: its charts draw only what may be shown.
                if not evidence.spc.points:
                    continue
                line.pack_chart = Slot(
                    evidence.xmr_figure(),
                    line.metric.name,
                    evidence.finding,
                    [(row.label, f"{row.value} {row.symbol}".strip()) for row in evidence.rows()[-8:]],
                )
                slots.append(line.pack_chart)
    if progress:
        progress(20, f"Drawing {len(slots)} charts")
    svgs = render_svgs([slot.figure for slot in slots]) if use_browser else None
    if progress:
        progress(60, "Laying out the pages")
    for index, slot in enumerate(slots):
        slot.svg = svgs[index] if svgs else None
    if stats is not None:
        stats.update(
            charts=len(slots),
            drawn=svgs is not None,
            measures=sum(len(s.lines) for s in sections),
            without=sum(1 for s in sections for line in s.lines if not line.evidence.has_figures),
        )
    return render_to_string(
        "reports/pack.html",
        {
            "report": report,
            "snapshot": snapshot,
            "framework": framework,
            "sections": sections,
            "board": board,
            "summary": mark_safe(print_links(summary_of(report, public=public))),  # noqa: S308 - sanitised
            "deep_dive_findings": "" if public else mark_safe(print_links(render_markdown(report.deep_dive_findings))),  # noqa: S308
            "deep_dive_recommendations": ""
            if public
            else mark_safe(print_links(render_markdown(report.deep_dive_recommendations))),  # noqa: S308
            "public": public,
            "draft": report.state != ReportState.PUBLISHED,
            "marking": settings.PCC_PERF_PROTECTIVE_MARKING,
            "charts_rendered": svgs is not None,
            "quarter": period_label(snapshot.period),
            "assurance_note": ASSURANCE_NOTE,
            "disproportionality_caveat": DISPROPORTIONALITY_CAVEAT,
        },
    )


def build_pack_pdf(*, report: Report, public: bool = False, use_browser: bool = True, progress: Any = None) -> bytes:
    from weasyprint import HTML

    from reports.packs.fetch import StaticOnlyFetcher

    started = time.perf_counter()
    stats: dict[str, Any] = {}
    html = build_pack_html(report=report, public=public, use_browser=use_browser, progress=progress, stats=stats)
    # WeasyPrint reads nothing but the app's static files (no http, no local file outside static/).
    document = HTML(string=html, base_url=str(settings.BASE_DIR), url_fetcher=StaticOnlyFetcher()).render()
    # Fixed identifier and dates: the same snapshot gives the same file.
    document.metadata.created = report.snapshot.published_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    document.metadata.modified = document.metadata.created
    pdf: bytes = document.write_pdf(pdf_identifier=hashlib.sha256(html.encode()).hexdigest()[:32].encode())
    logger.info(
        "pack %s, %s edition%s: %d pages, %d measures (%d without figures), %d charts%s, %d KB in %.1f s",
        report.snapshot,
        "public" if public else "board",
        "" if report.state == ReportState.PUBLISHED else " (draft)",
        len(document.pages),
        stats.get("measures", 0),
        stats.get("without", 0),
        stats.get("charts", 0),
        "" if stats.get("drawn") else " drawn as tables (no browser)",
        len(pdf) // 1024,
        time.perf_counter() - started,
    )
    return pdf


def build_pack(*, pack_id: int, task_id: str = "") -> BoardPack:
    """Build a queued pack, recording progress on it and beating a heartbeat while it builds, and store the
    PDF with its checksum (and the board edition's Word document). ``task_id``: the worker's task
    (``PackSuperseded`` if the pack stopped being its)."""
    pack = pack_started(pack_id=pack_id, task_id=task_id)

    def progress(percent: int, message: str) -> None:
        pack_progress(pack_id=pack_id, percent=percent, message=message, task_id=task_id)

    docx = None
    with heartbeat(building(pack_id, task_id)):
        pdf = build_pack_pdf(report=pack.report, public=pack.public, progress=progress)
        if not pack.public:  # the board edition as an editable Word document too
            from reports.packs.word import build_pack_docx

            progress(85, "Writing the Word document")
            docx = build_pack_docx(report=pack.report, use_browser=chromium_path() is not None)
    return pack_built(pack_id=pack_id, pdf=pdf, charts_rendered=chromium_path() is not None, docx=docx, task_id=task_id)

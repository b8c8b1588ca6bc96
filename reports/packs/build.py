"""PDF board packs: the report's edition as an A4 statistical publication (WeasyPrint), its charts the
same Plotly figures as the pages rendered to vector SVG by kaleido in one Chromium for the whole pack.
Without a browser the pack is still built, each chart replaced by its data table and a visible note."""

from __future__ import annotations

import hashlib
import logging
import re
import time
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import ExitStack, nullcontext
from dataclasses import dataclass
from multiprocessing import get_context
from typing import Any

from django.conf import settings
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe

from accounts.background import heartbeat
from metrics.quarters import period_label
from reports.icons import ASSURANCE_NOTE
from reports.models import BoardPack, Report, ReportState
from reports.narrative.editions import render_markdown, summary_of
from reports.packs.content import PackParts, pack_parts, print_links
from reports.packs.services import building, pack_built, pack_progress, pack_started
from reports.packs.svg import BrowserBatch, chromium_path, load_rasteriser, render_svgs, svg_to_png
from reports.wording import DISPROPORTIONALITY_CAVEAT

logger = logging.getLogger(__name__)


def draw_charts(
    parts: PackParts, *, use_browser: bool = True, progress: Any = None, browser: BrowserBatch | None = None
) -> None:
    """Every chart of the pack drawn as SVG in one browser batch (the Word document's PNGs are rasterised
    from them: ``build_pack_files``), or, with ``browser``, the SVGs of the batch already drawing the
    pack's figures (``BrowserBatch.start``); without a browser (or ``use_browser`` False) each stays a
    data table with a note."""
    if progress:
        progress(20, f"Drawing {len(parts.slots)} charts")
    if not use_browser:
        svgs = None
    elif browser is not None:
        svgs = browser.svgs()
    else:
        svgs = render_svgs([slot.figure for slot in parts.slots])
    for index, slot in enumerate(parts.slots):
        slot.svg = svgs[index] if svgs else None
    parts.drawn = svgs is not None


def build_pack_html(
    *,
    report: Report,
    public: bool,
    use_browser: bool = True,
    progress: Any = None,
    stats: dict[str, Any] | None = None,
    parts: PackParts | None = None,
) -> str:
    """The pack's HTML: cover, at a glance (with the icons' key), contents, executive summary, a section per
    priority, appendices. The board edition's contents come from ``content.board_content``; ``parts``: the
    pack's parts already built and drawn (else built and drawn here); ``stats`` (optional) receives what the
    build log line reports."""
    snapshot = report.snapshot
    framework = snapshot.framework
    if parts is None:
        parts = pack_parts(report=report, public=public)
        draw_charts(parts, use_browser=use_browser, progress=progress)
    sections, board = parts.sections, parts.board
    if progress:
        progress(60, "Laying out the pages")
    if stats is not None:
        stats.update(
            charts=len(parts.slots),
            drawn=parts.drawn,
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
            "charts_rendered": parts.drawn,
            "quarter": period_label(snapshot.period),
            "assurance_note": ASSURANCE_NOTE,
            "disproportionality_caveat": DISPROPORTIONALITY_CAVEAT,
        },
    )


def build_pack_pdf(
    *,
    report: Report,
    public: bool = False,
    use_browser: bool = True,
    progress: Any = None,
    parts: PackParts | None = None,
    laid_out: EarlyLayout | None = None,
) -> bytes:
    """The pack as PDF; ``parts``: its parts already built and drawn (``build_pack`` shares them with the
    Word document); ``laid_out``: its pages laid out while the charts were drawn (``lay_out_early``)."""
    started = time.perf_counter()
    stats: dict[str, Any] = {}
    html = build_pack_html(
        report=report, public=public, use_browser=use_browser, progress=progress, stats=stats, parts=parts
    )
    document = laid_out.with_charts(parts) if laid_out is not None and parts is not None else None
    if document is None:
        document = _render(html)
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


def _render(html: str) -> Any:
    from weasyprint import HTML

    from reports.packs.fetch import StaticOnlyFetcher

    # WeasyPrint reads nothing but the app's static files (no http, no local file outside static/).
    return HTML(string=html, base_url=str(settings.BASE_DIR), url_fetcher=StaticOnlyFetcher()).render()


# The WeasyPrint the early layout was written for and tested with (uv.lock pins it): on another, the pack is
# laid out after its charts are drawn, and tests/reports/test_pack_browser.py fails until this is checked.
EARLY_LAYOUT_WEASYPRINT = "70.0"
_BLANK = '<svg class="main-svg" height="{h}" viewBox="0 0 {w} {h}" width="{w}" xmlns="http://www.w3.org/2000/svg" id="blank-{i}"/>'
_SIZE = re.compile(r'<svg [^>]*height="([0-9.]+)" viewBox="([^"]*)" width="([0-9.]+)"')


@dataclass
class EarlyLayout:
    """A pack's pages laid out while its charts are drawn (``lay_out_early``): WeasyPrint lays out a
    chart from its size alone, so each chart is a blank SVG of that size (its own: WeasyPrint keeps an
    image per source) until ``with_charts`` puts the drawn chart in that image. The PDF is the same,
    byte for byte, as the one laid out with the charts (tests/reports/test_pack_browser.py)."""

    document: Any
    images: list[Any]  # WeasyPrint's image of each chart's blank, in the order of the slots
    size: tuple[str, str, str]  # the blanks' height, viewBox, width

    def with_charts(self, parts: PackParts) -> Any:
        """The laid-out document with the drawn charts in it; None when it cannot be (charts not drawn, or
        not of the blanks' size: the caller lays the pack out again)."""
        from weasyprint.images import SVGImage

        svgs = [slot.svg for slot in parts.slots]
        if not parts.drawn or len(svgs) != len(self.images):
            return None
        for svg, image in zip(svgs, self.images, strict=True):
            size = _SIZE.match(svg or "")
            if size is None or size.groups() != self.size or not isinstance(image, SVGImage):
                return None
        # WeasyPrint's image internals (pinned in uv.lock; the byte-for-byte test fails loudly on an upgrade
        # that changes them): should they differ, the pack is laid out again, never lost.
        try:
            for svg, image in zip(svgs, self.images, strict=True):
                _put_svg(image, svg or "")
        except Exception:
            logger.exception("the early layout could not take the drawn charts; laying the pack out again")
            return None
        return self.document


def _put_svg(image: Any, svg: str) -> None:
    """``svg`` drawn by WeasyPrint's ``image`` (an ``SVGImage`` laid out with a blank of the same size)."""
    from xml.etree.ElementTree import fromstring

    from weasyprint.images import SVGImage

    # Parsed as WeasyPrint parses an SVG image source (weasyprint.images), from the browser's SVG.
    tree = fromstring(svg.encode())  # noqa: S314
    drawn = SVGImage(tree, image._base_url, image._url_fetcher, image._context)
    image._svg = drawn._svg  # what WeasyPrint draws the image from


def lay_out_early(*, report: Report, public: bool, parts: PackParts) -> EarlyLayout:
    """The pack laid out with a blank of each chart's size (``WIDTH`` by ``HEIGHT``, as the browser
    draws them) in place of the chart; ``parts`` left as they were."""
    from weasyprint import HTML

    from reports.packs.fetch import StaticOnlyFetcher
    from reports.packs.svg import HEIGHT, WIDTH

    saved = [slot.svg for slot in parts.slots], parts.drawn
    try:
        for index, slot in enumerate(parts.slots):
            slot.svg = _BLANK.format(w=WIDTH, h=HEIGHT, i=index)
        parts.drawn = True
        sources = [slot.data_uri for slot in parts.slots]
        html = build_pack_html(report=report, public=public, parts=parts)
    finally:
        for slot, svg in zip(parts.slots, saved[0], strict=True):
            slot.svg = svg
        parts.drawn = saved[1]
    images: dict[str, Any] = {}  # WeasyPrint's image cache: each source's image, filled as it lays out
    document = HTML(string=html, base_url=str(settings.BASE_DIR), url_fetcher=StaticOnlyFetcher()).render(cache=images)
    return EarlyLayout(
        document=document,
        images=[images.get(source) for source in sources],
        size=(str(HEIGHT), f"0 0 {WIDTH} {HEIGHT}", str(WIDTH)),
    )


def build_pack(*, pack_id: int, task_id: str = "") -> BoardPack:
    """Build a queued pack, recording progress on it and beating a heartbeat while it builds, and store the
    PDF with its checksum (and the board edition's Word document). ``task_id``: the worker's task
    (``PackSuperseded`` if the pack stopped being its). Works in the pack's partnership (its report's
    snapshot's framework's), whatever partnership the caller (a worker) is in."""
    from accounts.tenancy import partnership_scope

    owner = BoardPack.objects.select_related("report__snapshot__framework__partnership").get(pk=pack_id)
    with partnership_scope(owner.report.snapshot.framework.partnership):
        return _build_pack(pack_id=pack_id, task_id=task_id)


def _build_pack(*, pack_id: int, task_id: str) -> BoardPack:
    pack = pack_started(pack_id=pack_id, task_id=task_id)

    def progress(percent: int, message: str) -> None:
        pack_progress(pack_id=pack_id, percent=percent, message=message, task_id=task_id)

    with heartbeat(building(pack_id, task_id)):
        pdf, docx, drawn = build_pack_files(report=pack.report, public=pack.public, progress=progress)
    return pack_built(pack_id=pack_id, pdf=pdf, charts_rendered=drawn, docx=docx, task_id=task_id)


def build_pack_files(*, report: Report, public: bool, progress: Any = None) -> tuple[bytes, bytes | None, bool]:
    """A pack's PDF and, for the board edition, its Word document, from one edition (one evidence build)
    and one browser batch (the PDF's SVGs; the document's PNGs rasterised from them in a second process,
    on the other core, each as soon as it is drawn); and whether the charts were drawn.

    Chromium starts first, in the background (~1.5 s, mostly waiting), and so does the rasteriser's
    process; meanwhile the evidence is built; then, while the browser draws, the Word document is written
    but for its pictures and the PDF's pages laid out (``lay_out_early``), so that after the drawing
    WeasyPrint only draws the pages."""
    from reports.packs.word import build_pack_docx, finish_pack_docx, start_pack_docx

    use_browser = chromium_path() is not None
    board = not public
    with ExitStack() as stack:
        pool = None
        if use_browser and board:
            # A fresh interpreter (spawned, not forked from a process with threads) imports only the rasteriser.
            pool = ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn"))
            stack.callback(pool.shutdown, cancel_futures=True)
            pool.submit(load_rasteriser)  # the process starts now, not when the PNGs are wanted
        pngs: dict[int, Future[bytes]] = {}  # each chart rasterised as soon as it is drawn

        def rasterise(index: int, svg: str) -> None:
            assert pool is not None
            try:
                pngs[index] = pool.submit(svg_to_png, svg)
            except Exception as exc:  # the rasteriser's process is gone: Word gets tables, the PDF its charts
                failed: Future[bytes] = Future()
                failed.set_exception(exc)
                pngs[index] = failed

        with BrowserBatch() if use_browser else nullcontext() as browser:
            parts = pack_parts(report=report, public=public)
            if browser is not None:
                browser.start([slot.figure for slot in parts.slots], each=rasterise if pool else None)
            # Written while the browser draws (with the charts' places kept), finished with their pictures.
            word = start_pack_docx(report=report, parts=parts, drawn=True) if pool else None
            # And the pages laid out (with blanks the charts' size), leaving WeasyPrint only to draw them.
            laid_out = _early_layout(report=report, public=public, parts=parts) if browser is not None else None
            draw_charts(parts, use_browser=use_browser, progress=progress, browser=browser)
        pdf = build_pack_pdf(report=report, public=public, progress=progress, parts=parts, laid_out=laid_out)
        parts.pngs = _pictures(pngs, len(parts.slots)) if pool and parts.drawn else None
    docx = None
    if board:  # the board edition as an editable Word document too
        if progress:
            progress(85, "Writing the Word document")
        if word is not None and parts.drawn and parts.pngs is not None:
            docx = finish_pack_docx(word, pngs=parts.pngs)
        else:  # no browser, or it failed: the charts are tables
            docx = build_pack_docx(report=report, use_browser=use_browser, parts=parts)
    return pdf, docx, parts.drawn


def _early_layout(*, report: Report, public: bool, parts: PackParts) -> EarlyLayout | None:
    """``lay_out_early``, only on the WeasyPrint it was written for (it puts the drawn charts into
    WeasyPrint's images through its internals: ``EARLY_LAYOUT_WEASYPRINT``); None (the pack laid out
    afterwards, as without it) on another version or when it fails."""
    import weasyprint

    if weasyprint.__version__ != EARLY_LAYOUT_WEASYPRINT:
        logger.warning(
            "WeasyPrint %s, not %s: the pack is laid out after its charts are drawn (slower; see _put_svg)",
            weasyprint.__version__,
            EARLY_LAYOUT_WEASYPRINT,
        )
        return None
    try:
        return lay_out_early(report=report, public=public, parts=parts)
    except Exception:
        logger.exception("laying the pack out early failed; it is laid out once its charts are drawn")
        return None


def _pictures(pngs: dict[int, Future[bytes]], count: int) -> list[bytes] | None:
    """The Word document's pictures, in the order of the charts; None (its charts as tables, the PDF's
    drawn as they are) when rasterising any of them failed."""
    try:
        return [pngs[index].result() for index in range(count)]
    except Exception:
        logger.exception("rasterising the charts for the Word document failed; it shows them as tables")
        return None

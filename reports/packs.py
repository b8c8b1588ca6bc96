"""PDF board packs: the report's edition as an A4 statistical publication (WeasyPrint), its charts the
same Plotly figures as the pages rendered to vector SVG by kaleido in one Chromium for the whole pack.
Without a browser the pack is still built, each chart replaced by its data table and a visible note."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import re
import shutil
from dataclasses import dataclass
from typing import Any

import plotly.graph_objects as go
from django.conf import settings
from django.template.loader import render_to_string

from metrics.quarters import period_label

from .models import Report
from .reporting import edition, render_markdown

logger = logging.getLogger(__name__)


def chromium_path() -> str | None:
    path = os.environ.get("BROWSER_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
    return path if path and os.path.exists(path) and os.access(path, os.X_OK) else None


def render_svgs(figures: list[go.Figure], *, width: int = 760, height: int = 340) -> list[str] | None:
    """Every figure as SVG text, in one browser; None when no browser can be started."""
    if not figures:
        return []
    browser = chromium_path()
    if browser is None:
        return None
    os.environ["BROWSER_PATH"] = browser
    import kaleido

    async def run() -> list[str]:
        out = []
        # The plotly package's own plotly.js (kaleido's default) and no MathJax: nothing from a CDN.
        async with kaleido.Kaleido(n=1, mathjax=False) as k:
            for index, fig in enumerate(figures):
                data = await k.calc_fig(fig, opts={"format": "svg", "width": width, "height": height})
                out.append(_stable_ids(data.decode("utf-8"), prefix=f"c{index}"))
        return out

    try:
        return asyncio.run(run())
    except Exception:  # no browser, or it died: the pack falls back to tables
        logger.exception("chart rendering failed; the pack uses data tables instead")
        return None


def _stable_ids(svg: str, *, prefix: str = "c") -> str:
    """Renumber Plotly's random SVG ids so the same figure gives the same bytes (reproducible packs),
    each chart with its own prefix so ids stay unique in the pack."""
    names: dict[str, str] = {}
    for match in re.finditer(r'id="([^"]+)"', svg):
        names.setdefault(match.group(1), f"{prefix}-{len(names)}")
    for old, new in sorted(names.items(), key=lambda item: -len(item[0])):
        svg = svg.replace(f'"{old}"', f'"{new}"').replace(f"#{old})", f"#{new})").replace(f'"#{old}"', f'"#{new}"')
    # Trace classes carry random uids too ("trace743606").
    uids: dict[str, str] = {}
    svg = re.sub(r"\btrace([0-9a-f]{6})\b", lambda m: "trace" + uids.setdefault(m.group(1), f"t{len(uids)}"), svg)
    return re.sub(r"^<\?xml[^>]*>", "", svg).strip()


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
            if not evidence.series or (public and line.metric.unit == "count"):
                continue
            figures.append(evidence.xmr_figure())
            chart = PackChart(
                title=line.metric.name,
                text=evidence.finding,
                svg=None,
                rows=[
                    (period_label(o.period), "" if o.value is None else f"{o.value:,.6g}") for o in evidence.series[-8:]
                ],
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
            "summary": render_markdown(report.executive_summary),
            "public": public,
            "marking": settings.PCC_PERF_PROTECTIVE_MARKING,
            "charts_rendered": svgs is not None,
            "quarter": period_label(snapshot.period),
        },
    )


def build_pack_pdf(*, report: Report, public: bool = False, use_browser: bool = True, progress: Any = None) -> bytes:
    from weasyprint import HTML

    html = build_pack_html(report=report, public=public, use_browser=use_browser, progress=progress)
    document = HTML(string=html, base_url=str(settings.BASE_DIR)).render()
    # Fixed identifier and dates: the same snapshot gives the same file.
    document.metadata.created = report.snapshot.published_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    document.metadata.modified = document.metadata.created
    return document.write_pdf(pdf_identifier=hashlib.sha256(html.encode()).hexdigest()[:32].encode())


def build_pack(*, pack: Any) -> Any:
    """Build a queued pack, recording progress on it, and store the PDF with its checksum."""
    from django.utils import timezone

    from .models import BoardPack, PackState

    def progress(percent: int, message: str) -> None:
        BoardPack.objects.filter(pk=pack.pk).update(state=PackState.BUILDING, progress=percent, message=message)

    progress(5, "Collecting the snapshot's figures")
    pdf = build_pack_pdf(report=pack.report, public=pack.public, progress=progress)
    rendered = chromium_path() is not None
    BoardPack.objects.filter(pk=pack.pk).update(
        state=PackState.READY,
        progress=100,
        message="Ready" if rendered else "Ready (charts shown as tables: no browser was available)",
        pdf=pdf,
        sha256=hashlib.sha256(pdf).hexdigest(),
        size=len(pdf),
        charts_rendered=rendered,
        finished_at=timezone.now(),
    )
    pack.refresh_from_db()
    return pack

"""The board edition as an editable Word document (python-docx), for offices that assemble board papers in
Word: the same contents as the PDF (``content.board_content``, from the one evidence builder), Word headings
and tables, and the charts as PNG pictures at about 300 dpi: the PDF's SVGs (kaleido, from the same Plotly
figures) rasterised by cairosvg (Word takes no SVG that every version shows; without a browser the charts
are tables, as in the PDF)."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from docx import Document
from docx.enum.section import WD_ORIENT, WD_SECTION
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.shared import Mm, Pt, RGBColor

from metrics.quarters import period_label
from reports.icons import ASSURANCE_NOTE, ICONS, icon_key
from reports.models import Report, ReportState
from reports.packs.content import BoardContent, PackParts, Slot, pack_parts, print_url
from reports.packs.svg import render_pngs
from reports.wording import DISPROPORTIONALITY_CAVEAT, ILLUSTRATIVE

CHART_WIDTH = Mm(165)
_INLINE = re.compile(r"(\*\*[^*]+\*\*|\*[^*]+\*|\[[^\]]+\]\([^)]+\))")


def _rgb(hex_colour: str) -> RGBColor:
    return RGBColor.from_string(hex_colour.lstrip("#").upper())


def _runs(paragraph: Any, text: str) -> None:
    """Markdown inline marks as Word runs: **bold**, *italic*, [words](link) as the words and the full URL."""
    for part in _INLINE.split(text):
        if not part:
            continue
        if part.startswith("**") and part.endswith("**"):
            paragraph.add_run(part[2:-2]).bold = True
        elif part.startswith("[") and "](" in part:
            words, _, href = part[1:-1].partition("](")
            url = print_url(href)
            paragraph.add_run(f"{words} ({url})" if url else words)
        elif part.startswith("*") and part.endswith("*") and len(part) > 2:
            paragraph.add_run(part[1:-1]).italic = True
        else:
            paragraph.add_run(part)


def add_markdown(doc: Any, text: str, *, base_level: int = 2) -> None:
    """The analysts' Markdown (headings, bullet and numbered lists, paragraphs) as Word paragraphs."""
    paragraph: list[str] = []

    def flush() -> None:
        if paragraph:
            _runs(doc.add_paragraph(), " ".join(paragraph))
            paragraph.clear()

    for raw in (text or "").splitlines():
        line = raw.strip()
        heading = re.match(r"^(#{1,6})\s+(.*)$", line)
        if not line:
            flush()
        elif heading:
            flush()
            doc.add_heading(heading.group(2), level=min(base_level + len(heading.group(1)) - 1, 4))
        elif re.match(r"^[-*+]\s+", line):
            flush()
            _runs(doc.add_paragraph(style="List Bullet"), re.sub(r"^[-*+]\s+", "", line))
        elif re.match(r"^\d+[.)]\s+", line):
            flush()
            _runs(doc.add_paragraph(style="List Number"), re.sub(r"^\d+[.)]\s+", "", line))
        else:
            paragraph.append(line)
    flush()


def _table(doc: Any, header: list[str], rows: list[list[str]], *, numeric_from: int = 1, size: float = 9) -> Any:
    table = doc.add_table(rows=1, cols=len(header))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for cell, text in zip(table.rows[0].cells, header, strict=True):
        cell.text = ""
        run = cell.paragraphs[0].add_run(text)
        run.bold = True
        run.font.size = Pt(size)
    for row in rows:
        cells = table.add_row().cells
        for index, (cell, text) in enumerate(zip(cells, row, strict=True)):
            run = cell.paragraphs[0].add_run(str(text))
            run.font.size = Pt(size)
            if index >= numeric_from:
                cell.paragraphs[0].alignment = 2  # right
    return table


class _Pictures:
    """The charts' pictures: each slot's paragraph (the one ``Document.add_picture`` would add), kept
    empty with its PNG's index in ``holes`` until ``finish_pack_docx`` puts the PNG in; without
    ``drawn`` none (the charts are tables)."""

    def __init__(self, slots: list[Slot], *, drawn: bool) -> None:
        self.index = {id(slot): i for i, slot in enumerate(slots)}
        self.drawn = drawn
        self.holes: list[tuple[Any, int]] = []

    def add(self, doc: Any, slot: Slot) -> bool:
        """A paragraph kept for ``slot``'s picture; False when it has none (drawn as a table)."""
        if not self.drawn or id(slot) not in self.index:
            return False
        self.holes.append((doc.add_paragraph(), self.index[id(slot)]))
        return True


def _chart(doc: Any, slot: Slot, pictures: _Pictures) -> None:
    if pictures.add(doc, slot):
        pass  # the picture goes in when the document is finished
    elif slot.elsewhere:
        doc.add_paragraph(f"Chart not drawn (no browser available to render it): {slot.elsewhere}")
    else:
        doc.add_paragraph("Chart not drawn (no browser available to render it): its figures follow.")
        _table(doc, [slot.title, "Value"], [list(r) for r in slot.rows])
    if slot.text:
        run = doc.add_paragraph().add_run(slot.text)
        run.font.size = Pt(8.5)
        run.font.color.rgb = _rgb("#505a5f")


def _icon_run(paragraph: Any, verdict: str, label: str) -> None:
    icon = ICONS[icon_key(verdict)]
    run = paragraph.add_run(f" ({icon.letter}) ")
    run.bold = True
    run.font.color.rgb = _rgb(icon.ink)
    paragraph.add_run(label).italic = True


def build_pack_docx(*, report: Report, use_browser: bool = True, parts: PackParts | None = None) -> bytes:
    """The board edition of a report as a .docx file; ``parts``: the board pack's parts already built and
    drawn with their PNGs (``build_pack``: the PDF's edition and browser batch), else built here."""
    if parts is None or parts.board is None:
        parts = pack_parts(report=report, public=False)
        parts.pngs = render_pngs([slot.figure for slot in parts.slots]) if use_browser else None
    return finish_pack_docx(start_pack_docx(report=report, parts=parts, drawn=bool(parts.pngs)), pngs=parts.pngs)


@dataclass
class WordDraft:
    """A board edition's Word document written but for its charts' pictures (``start_pack_docx``): the
    paragraph each goes in, kept empty until ``finish_pack_docx``."""

    doc: Any
    pictures: _Pictures


def start_pack_docx(*, report: Report, parts: PackParts, drawn: bool) -> WordDraft:
    """``build_pack_docx`` before the charts are drawn (``build_pack_files`` writes it while the browser
    starts): with ``drawn`` a paragraph kept for each chart's picture, else the charts as tables."""
    snapshot = report.snapshot
    framework = snapshot.framework
    sections, content = parts.sections, parts.board
    assert content is not None
    images = _Pictures(content.slots, drawn=drawn)
    quarter = period_label(snapshot.period)
    draft = report.state != ReportState.PUBLISHED
    marking = settings.PCC_PERF_PROTECTIVE_MARKING

    doc = Document()
    doc.core_properties.title = report.title
    doc.core_properties.author = framework.name
    doc.core_properties.created = snapshot.published_at
    doc.core_properties.modified = snapshot.published_at
    doc.styles["Normal"].font.name = "Arial"
    doc.styles["Normal"].font.size = Pt(10.5)
    section = doc.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.left_margin = section.right_margin = Mm(18)
    _page_marks(section, marking, draft, f"{framework.name} · {quarter}")

    doc.add_paragraph(marking).runs[0].bold = True
    doc.add_heading(report.title, level=0)
    doc.add_paragraph(f"{framework.home_area.name} · {quarter}")
    doc.add_paragraph(f"Figures as published in {snapshot} on {snapshot.published_at:%-d %B %Y}. Board edition.")
    if draft:
        note = doc.add_paragraph().add_run(
            "DRAFT"
            + (f" ({report.get_state_display().lower()})" if report.state != ReportState.DRAFT else "")
            + ": not for circulation until the report is published."
        )
        note.bold = True
        note.font.color.rgb = _rgb("#d4351c")

    doc.add_heading("At a glance", level=1)
    glance = _table(
        doc,
        ["Priority", "Measure", "Latest", "Quarter", "Variation"],
        [
            [
                view.section.priority.name,
                line.metric.name
                + (" (England and Wales)" if line.evidence.national_fallback else "")
                + (" (illustrative)" if line.evidence.illustrative else ""),
                line.value,
                line.quarter or "—",
                f"({ICONS[icon_key(line.evidence.verdict)].letter}) {line.variation}",
            ]
            for view in sections
            for line in view.lines
        ],
        numeric_from=2,
    )
    for row, line in zip(glance.rows[1:], [line for view in sections for line in view.lines], strict=True):
        run = row.cells[4].paragraphs[0].runs[0]
        run.font.color.rgb = _rgb(ICONS[icon_key(line.evidence.verdict)].ink)
    doc.add_heading("Key to the variation icons", level=3)
    for icon in ICONS.values():
        p = doc.add_paragraph(style="List Bullet")
        run = p.add_run(f"({icon.letter}) {icon.label}")
        run.bold = True
        run.font.color.rgb = _rgb(icon.ink)
        p.add_run(f": {icon.meaning}.")
    doc.add_paragraph(ASSURANCE_NOTE)

    doc.add_page_break()
    doc.add_heading("Executive summary", level=1)
    add_markdown(doc, report.executive_summary or "No executive summary has been written.")
    _sections(doc, content, images, report)
    _appendix(doc, content, snapshot, marking, draft, f"{framework.name} · {quarter}")
    return WordDraft(doc=doc, pictures=images)


def finish_pack_docx(draft: WordDraft, *, pngs: list[bytes] | None) -> bytes:
    """The document's charts' pictures put in (in the order of the pages: the same parts and ids as
    ``Document.add_picture`` as it writes) and the .docx file written."""
    if draft.pictures.holes:
        assert pngs is not None, "a document started with its charts drawn needs their PNGs"
        for paragraph, index in draft.pictures.holes:
            paragraph.add_run().add_picture(io.BytesIO(pngs[index]), width=CHART_WIDTH)
        draft.pictures.holes = []
    out = io.BytesIO()
    draft.doc.save(out)
    return out.getvalue()


def _page_marks(section: Any, marking: str, draft: bool, running: str) -> None:
    header = section.header.paragraphs[0]
    header.text = f"{marking}{' · DRAFT' if draft else ''}\t\t{running}"
    header.runs[0].bold = draft
    footer = section.footer.paragraphs[0]
    footer.text = f"{marking}{' · DRAFT: not for circulation' if draft else ''}"


def _sections(doc: Any, content: BoardContent, images: _Pictures, report: Report) -> None:
    for ps in content.sections:
        view = ps.view
        doc.add_page_break()
        doc.add_heading(f"{view.section.priority.name}{' (deep dive)' if view.deep_dive else ''}", level=1)
        add_markdown(doc, view.section.narrative)
        for m in ps.measures:
            heading = doc.add_heading(m.line.metric.name, level=2)
            _icon_run(heading, m.evidence.verdict, m.line.variation)
            if m.evidence.illustrative:
                doc.add_paragraph().add_run(ILLUSTRATIVE).bold = True
            doc.add_paragraph(m.finding)
            if m.comparisons:
                _table(doc, ["Comparison", ""], [[label, text] for label, text in m.comparisons], numeric_from=9)
            if m.chart is not None:
                _chart(doc, m.chart, images)
            else:
                doc.add_paragraph(m.no_chart).runs[0].italic = True
            if m.deep is not None:
                doc.add_heading(f"{m.line.metric.name}: trend and peers", level=3)
                doc.add_paragraph(
                    f"{m.deep.change_previous[:1].upper()}{m.deep.change_previous[1:]}; "
                    f"{m.evidence.change_year_text}. {m.evidence.peer_text}"
                )
                if m.deep.peers is not None:
                    _chart(doc, m.deep.peers, images)
                elif m.deep.peer_rows:
                    _table(
                        doc, ["Area", "Value"], [[n + (" (this area)" if h else ""), v] for n, v, h in m.deep.peer_rows]
                    )
                for name, cells in m.deep.breakdowns:
                    doc.add_heading(f"{m.line.metric.name} by {name}", level=3)
                    _table(doc, ["Category", "Value"], [list(c) for c in cells])
            for f in m.fairness:
                fair = f.fair
                doc.add_heading(
                    f"Fairness: {fair.metric.name} by {fair.breakdown.name.lower()}, {period_label(fair.period)}",
                    level=3,
                )
                if fair.recorded_text:
                    doc.add_paragraph(f"{fair.recorded_text[:1].upper()}{fair.recorded_text[1:]}.")
                if fair.withheld:
                    p = doc.add_paragraph()
                    p.add_run("Verdict withheld: ").bold = True
                    p.add_run(f"{fair.withheld}.")
                else:
                    for sentence in fair.sentences:
                        doc.add_paragraph(sentence, style="List Bullet")
                if f.chart is not None:
                    _chart(doc, f.chart, images)
                _table(
                    doc,
                    ["Group", "Count", "Population", "Rate per 1,000", "Ratio", "95% interval", "Significant"],
                    [list(r) for r in f.rows],
                )
                if len(f.trend_rows) > 1:
                    doc.add_paragraph(f"The ratio's trend over the last {len(f.trend_rows)} quarters:")
                    _table(doc, f.trend_header, f.trend_rows, size=8)
                    doc.add_paragraph(f.national_note)
                doc.add_paragraph(DISPROPORTIONALITY_CAVEAT).runs[0].font.size = Pt(8.5)
        if view.deep_dive:
            doc.add_heading("Deep dive: the analyst's findings", level=2)
            add_markdown(doc, report.deep_dive_findings or "Not written yet.", base_level=3)
            doc.add_heading("Deep dive: recommendations to the board", level=2)
            add_markdown(doc, report.deep_dive_recommendations or "Not written yet.", base_level=3)
        if view.notes:
            doc.add_heading("Notes", level=2)
            for metric, q, text in view.notes:
                doc.add_paragraph(f"{q}, {metric}: {text}", style="List Bullet")
        if view.section.commentary:
            doc.add_heading("Partner commentary", level=2)
            add_markdown(doc, view.section.commentary, base_level=3)


def _appendix(doc: Any, content: BoardContent, snapshot: Any, marking: str, draft: bool, running: str) -> None:
    wide = doc.add_section(WD_SECTION.NEW_PAGE)
    wide.orientation = WD_ORIENT.LANDSCAPE
    wide.page_width, wide.page_height = Mm(297), Mm(210)
    wide.left_margin = wide.right_margin = Mm(14)
    _page_marks(wide, marking, draft, running)
    doc.add_heading("Appendix A: data pack", level=1)
    doc.add_paragraph(
        f"Every measure's last {len(content.quarters)} quarters, as published in {snapshot}. Symbols: "
        + "; ".join(f"{s} {m}" for s, m in content.symbols)
        + "."
    )
    for priority, rows in content.appendix:
        doc.add_heading(priority, level=3)
        _table(
            doc,
            ["Measure", "Unit", *content.quarters, "Notes"],
            [[f"{r.code} {r.name}", r.unit, *r.cells, r.note] for r in rows],
            numeric_from=2,
            size=7.5,
        )
    doc.add_heading("Appendix B: definitions, sources and caveats", level=1)
    _table(
        doc,
        ["Measure", "Definition and caveats", "Source (publisher, publication, period, release)", "Owner"],
        [
            [
                f"{s.code} {s.name}",
                s.definition + (f" Caveats: {s.caveats}" if s.caveats else ""),
                s.source + (f" {s.url}" if s.url else ""),
                s.owner,
            ]
            for s in content.sources
        ],
        numeric_from=9,
        size=8,
    )
    portrait = doc.add_section(WD_SECTION.NEW_PAGE)
    portrait.orientation = WD_ORIENT.PORTRAIT
    portrait.page_width, portrait.page_height = Mm(210), Mm(297)
    portrait.left_margin = portrait.right_margin = Mm(18)
    doc.add_heading("Appendix C: revisions since the previous snapshot", level=1)
    if content.revisions:
        _table(
            doc, ["Measure", "Area", "Quarter", "Was", "Now [r]"], [list(r) for r in content.revisions], numeric_from=3
        )
    else:
        doc.add_paragraph("No figure shown in this pack was revised since the previous snapshot.")
    doc.add_heading("Appendix D: method and symbols", level=1)
    for heading, text in content.methods:
        doc.add_heading(heading, level=3)
        doc.add_paragraph(text)
    doc.add_heading("Symbols", level=3)
    for symbol, meaning in content.symbols:
        doc.add_paragraph(f"{symbol} {meaning}", style="List Bullet")

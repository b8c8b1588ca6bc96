"""What the board edition of a pack contains, worked out once for the PDF and the Word document, from the
report's edition and the one evidence builder (nothing here computes a figure): per measure the chart, the
finding the analyst kept and the comparison lines; a fairness section for each breakdown with a reference
group; the deep dive's peers and breakdowns; and the data-pack appendix (the last 8 quarters with GSS
symbols, sources, caveats, revisions) with the methods."""

from __future__ import annotations

import base64
import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

from django.conf import settings
from django.utils.safestring import mark_safe

from metrics.quarters import Quarter, period_label
from metrics.stats.suppression import (
    CONFIDENTIAL,
    NOT_APPLICABLE,
    NOT_AVAILABLE,
    PROVISIONAL,
    REVISED,
    is_primary,
    missing_symbol,
    status_symbol,
)
from reports.evidence.items import FairnessEvidence, MetricEvidence
from reports.models import Report, SnapshotRevision
from reports.narrative.editions import MetricLine, SectionView, edition

APPENDIX_QUARTERS = 8
PRINT_WINDOW = 20  # quarters a pack's chart shows (five years, as the pages); the limits use the whole series
LOW_RELIABILITY = "[u]"
SYMBOL_LEGEND = [
    (NOT_AVAILABLE, "not available"),
    (CONFIDENTIAL, "confidential: suppressed to protect small numbers (public edition)"),
    (REVISED, "revised since the previous snapshot or first publication"),
    (NOT_APPLICABLE, "not applicable"),
    (LOW_RELIABILITY, "low reliability: a rate or percentage built on a count of 1 to "),
    (PROVISIONAL, "provisional: may be revised"),
]


@dataclass
class Slot:
    """A chart of the pack: its figure (plain figure data from the evidence, or a Plotly figure), and once
    drawn its SVG (None: drawn as a table instead)."""

    figure: Any
    title: str
    text: str
    rows: list[tuple[str, str]]
    svg: str | None = None
    elsewhere: str = ""  # where the figures are printed anyway (then a chart not drawn needs no table of its own)

    @property
    def data_uri(self) -> str:
        """The drawn SVG as an image source: WeasyPrint draws it as vector graphics without reading the
        chart's own styles as the page's CSS (no "unknown property" warnings)."""
        if self.svg is None:
            return ""
        return "data:image/svg+xml;base64," + base64.b64encode(self.svg.encode()).decode("ascii")


@dataclass
class FairnessBlock:
    fair: FairnessEvidence
    chart: Slot | None
    rows: list[tuple[str, str, str, str, str, str, str]]  # group, count, population, rate, ratio, interval, sig.
    trend_header: list[str]
    trend_rows: list[list[str]]
    national_note: str


@dataclass
class DeepDive:
    peers: Slot | None
    peer_rows: list[tuple[str, str, bool]]  # area, value, home area
    breakdowns: list[tuple[str, list[tuple[str, str]]]]  # breakdown name, (category, value)
    change_previous: str


@dataclass
class PackMeasure:
    line: MetricLine
    evidence: MetricEvidence
    finding: str
    comparisons: list[tuple[str, str]]
    chart: Slot | None
    no_chart: str  # the short line printed instead of a chart for a measure without figures
    fairness: list[FairnessBlock] = field(default_factory=list)
    deep: DeepDive | None = None


@dataclass
class PackSection:
    view: SectionView
    measures: list[PackMeasure]


@dataclass
class AppendixRow:
    code: str
    name: str
    unit: str
    cells: list[str]
    note: str


@dataclass
class SourceRow:
    code: str
    name: str
    source: str
    url: str
    caveats: str
    owner: str
    definition: str = ""


@dataclass
class BoardContent:
    sections: list[PackSection]
    slots: list[Slot]
    quarters: list[str]
    appendix: list[tuple[str, list[AppendixRow]]]  # priority name, rows
    sources: list[SourceRow]
    revisions: list[tuple[str, str, str, str, str]]  # measure, area, quarter, old, new
    methods: list[tuple[str, str]]  # heading, paragraph
    symbols: list[tuple[str, str]]
    measures_without_figures: int = 0


def _quarters_to(end: dt.date, count: int) -> list[dt.date]:
    last = Quarter.from_end_date(end)
    return [last.shift(-back).end_date for back in range(count - 1, -1, -1)]


def _cell(evidence: MetricEvidence, obs: Any, revised: bool, threshold: int) -> str:
    """A quarter's figure at the metric's precision with its GSS symbols (board edition: nothing suppressed)."""
    if obs is None:
        return NOT_AVAILABLE
    if obs.value is None:
        return missing_symbol(obs.missing) or NOT_AVAILABLE
    symbols = [status_symbol(obs.status)]
    if revised and REVISED not in symbols:
        symbols.append(REVISED)
    if obs.numerator is not None and evidence.metric.unit != "count" and is_primary(obs.numerator, threshold):
        symbols.append(LOW_RELIABILITY)
    return " ".join([evidence.format(obs.value), *[s for s in symbols if s]])


def _source_text(source: dict[str, Any] | None, kind: str) -> tuple[str, str]:
    if not source:
        return f"{kind}: no publication recorded", ""
    parts = [source.get("publisher", ""), source.get("title", "")]
    if source.get("period"):
        parts.append(f"covering {source['period']}")
    if source.get("released"):
        parts.append(f"released {source['released']}")
    if source.get("next_release"):
        parts.append(f"next release {source['next_release']}")
    return "; ".join(p for p in parts if p), str(source.get("url", ""))


def _fairness_block(fair: FairnessEvidence, slots: list[Slot]) -> FairnessBlock:
    chart = None
    if not fair.withheld and any(g.ratio is not None for g in fair.groups):
        chart = Slot(fair.figure(), fair.title, fair.chart_text, [], elsewhere="the ratios are in the table below.")
        slots.append(chart)
    rows = []
    for g in fair.groups:
        name = fair.labels.get(g.category, g.category)
        ratio = "—" if g.ratio is None else f"{g.ratio:.2f}" + (" (small numbers)" if g.small_numbers else "")
        if g.ratio is not None:
            interval = f"{g.ci_lower:.2f} to {g.ci_upper:.2f}"
        else:
            interval = "withheld" if fair.withheld else (g.note or "—")
        rows.append(
            (
                name,
                "—" if g.numerator is None else f"{g.numerator:,.0f}",
                "—" if g.denominator is None else f"{g.denominator:,.0f}",
                "—" if g.rate is None else f"{g.rate:.2f}",
                ratio,
                interval,
                "Yes" if g.significant else ("No" if g.significant is False else "—"),
            )
        )
    national = {n.period: {g.category: g.ratio for g in n.groups} for n in fair.national_trend}
    names = [fair.labels.get(code, code) for code in fair.trend_groups]
    header = ["Quarter", "Recorded"] + [f"{n} (E&W)" if national else n for n in names]
    trend_rows = []
    for item in fair.trend:
        ratios = {g.category: g.ratio for g in item.groups}
        cells = [period_label(item.period), "—" if item.recorded_share is None else f"{item.recorded_share:.0%}"]
        for code in fair.trend_groups:
            mine = ratios.get(code)
            text = "withheld" if item.withheld else ("—" if mine is None else f"{mine:.2f}")
            if national:
                theirs = national.get(item.period, {}).get(code)
                text += f" ({'—' if theirs is None else f'{theirs:.2f}'})"
            cells.append(text)
        trend_rows.append(cells)
    note = (
        "England and Wales ratios in brackets, from the national figures by group."
        if national
        else "No England and Wales figures by group in this snapshot: the national ratio cannot be shown."
    )
    return FairnessBlock(fair, chart, rows, header, trend_rows, note)


@dataclass
class PackParts:
    """What a pack is made of, worked out once for its PDF and (board edition) its Word document: the
    edition's sections (one evidence build), the board edition's contents, and every chart of the pack in
    the order they are drawn (in one batch)."""

    sections: list[SectionView]
    board: BoardContent | None
    slots: list[Slot]
    drawn: bool = False  # the charts were rendered (False: each is a data table with a note)
    pngs: list[bytes] | None = None  # the charts as PNGs for the Word document, in the order of ``slots``


def pack_parts(*, report: Report, public: bool) -> PackParts:
    """The edition of ``report`` (its evidence built once), with links as paper needs them, and its charts:
    the board edition's from ``board_content``; the public edition's, one XmR chart a measure with figures."""
    sections = edition(report=report, public=public)
    for section in sections:  # links as paper needs them: full URLs of the site, or left out
        section.narrative = mark_safe(print_links(section.narrative))  # noqa: S308 - sanitised by render_markdown
        section.commentary = mark_safe(print_links(section.commentary))  # noqa: S308
    if not public:
        board = board_content(report=report, sections=sections)
        return PackParts(sections, board, board.slots)
    slots: list[Slot] = []
    for section in sections:
        for line in section.lines:
            evidence = line.evidence
            # Public evidence holds small numbers as [c] gaps already: its charts draw only what may be shown.
            if not evidence.spc.points:
                continue
            line.pack_chart = Slot(
                evidence.xmr_chart(),
                line.metric.name,
                evidence.finding,
                [(row.label, f"{row.value} {row.symbol}".strip()) for row in evidence.rows()[-8:]],
            )
            slots.append(line.pack_chart)
    return PackParts(sections, None, slots)


def board_content(*, report: Report, sections: list[SectionView]) -> BoardContent:
    """The board edition's contents from the report's edition (its evidence already built)."""
    snapshot = report.snapshot
    threshold = settings.PCC_PERF_SUPPRESSION_THRESHOLD
    slots: list[Slot] = []
    out_sections = []
    without = 0
    for view in sections:
        measures = []
        for line in view.lines:
            evidence = line.evidence
            chart = None
            no_chart = ""
            if evidence.has_figures:
                chart = Slot(
                    evidence.xmr_chart(window=PRINT_WINDOW),
                    evidence.title,
                    evidence.chart_text,
                    [],
                    elsewhere="its last 8 quarters are in the data pack (Appendix A).",
                )
                slots.append(chart)
            else:
                without += 1
                no_chart = f"No chart: there are no figures to draw ({line.metric.agency.name} owns this measure)."
            measure = PackMeasure(line, evidence, line.finding, evidence.comparisons, chart, no_chart)
            measure.fairness = [_fairness_block(f, slots) for f in evidence.fairness]
            if view.deep_dive and evidence.has_figures:
                peers = None
                figure = evidence.peer_chart() if evidence.comparable and not evidence.stale else None
                peer_rows = [
                    (b.area.name, evidence.format(b.value), b.area.pk == evidence.area.pk)
                    for b in sorted(evidence.peers, key=lambda b: -b.value)
                ]
                if figure is not None:
                    peers = Slot(figure, f"{line.metric.name}: peers", evidence.peer_text, peer_rows_as(peer_rows))
                    slots.append(peers)
                measure.deep = DeepDive(
                    peers=peers,
                    peer_rows=peer_rows,
                    breakdowns=[
                        (
                            f"{b.breakdown.name.lower()}, {period_label(b.period)}",
                            [(c.name, _cell(evidence, o, False, threshold)) for c, o in b.cells],
                        )
                        for b in evidence.breakdowns
                        if b.has_values
                    ],
                    change_previous=evidence.change_previous_text,
                )
            measures.append(measure)
        out_sections.append(PackSection(view, measures))

    quarters = _quarters_to(snapshot.period, APPENDIX_QUARTERS)
    revisions = list(
        SnapshotRevision.objects.filter(snapshot=snapshot, category__isnull=True).select_related("metric", "area")
    )
    revised = {(r.metric_id, r.area_id, r.period) for r in revisions}
    appendix = []
    sources = []
    for view in sections:
        rows = []
        for line in view.lines:
            e = line.evidence
            by_period = {o.period: o for o in e.series}
            cells = [_cell(e, by_period.get(q), (e.metric.pk, e.area.pk, q) in revised, threshold) for q in quarters]
            note = []
            if e.national_fallback:
                note.append("England and Wales figures (no local series)")
            if e.illustrative:
                note.append("illustrative figures, made up for the demonstration: not published data")
            if e.stale:
                note.append(f"{e.stale_text} ({e.latest_text})")
            if not e.has_figures:
                note.append("no figures")
            rows.append(AppendixRow(line.metric.code, line.metric.name, e.unit_label, cells, "; ".join(note)))
            text, url = _source_text(line.metric.source, line.metric.get_source_type_display())
            sources.append(
                SourceRow(
                    line.metric.code,
                    line.metric.name,
                    text,
                    url,
                    line.metric.caveats,
                    f"{line.metric.agency.name}; {line.metric.get_source_type_display()}",
                    line.metric.description,
                )
            )
        appendix.append((view.section.priority.name, rows))
    shown = {line.metric.pk for view in sections for line in view.lines}
    revision_rows = [
        (
            r.metric.name,
            r.area.name,
            period_label(r.period),
            "[x]" if r.old_value is None else f"{r.old_value:,.6g}",
            "[x]" if r.new_value is None else f"{r.new_value:,.6g}",
        )
        for r in revisions
        if r.metric_id in shown
    ]
    symbols = [(s, m + (f"{threshold}" if s == LOW_RELIABILITY else "")) for s, m in SYMBOL_LEGEND]
    return BoardContent(
        sections=out_sections,
        slots=slots,
        quarters=[period_label(q) for q in quarters],
        appendix=appendix,
        sources=sources,
        revisions=revision_rows,
        methods=methods(report=report, sections=sections),
        symbols=symbols,
        measures_without_figures=without,
    )


def peer_rows_as(rows: list[tuple[str, str, bool]]) -> list[tuple[str, str]]:
    return [(f"{name} (this area)" if home else name, value) for name, value, home in rows]


def methods(*, report: Report, sections: list[SectionView]) -> list[tuple[str, str]]:
    """The methods page: SPC rules and run lengths as published, screening, rebases, staleness, peers,
    disproportionality and suppression."""
    snapshot = report.snapshot
    evidence = [line.evidence for view in sections for line in view.lines]
    spc_settings = {e.metric.code: e.source.spc_settings_for(e.metric) for e in evidence}
    lengths: dict[tuple[int, int], list[str]] = {}
    screened_off = []
    for e in evidence:
        s = spc_settings.get(e.metric.code) or {
            "run_length": e.metric.spc_run_length,
            "trend_length": e.metric.spc_trend_length,
            "screen_outliers": e.metric.spc_screen_outliers,
        }
        lengths.setdefault((s["run_length"], s["trend_length"]), []).append(e.metric.code)
        if not s["screen_outliers"]:
            screened_off.append(e.metric.code)
    usual = max(lengths.items(), key=lambda item: len(item[1]))[0] if lengths else (7, 7)
    others = "; ".join(
        f"run {run}, trend {trend} for {', '.join(codes)}"
        for (run, trend), codes in lengths.items()
        if (run, trend) != usual
    )
    rebases = "; ".join(
        f"{e.metric.code} from {period_label(seg.start)} ({seg.reason or 'no reason recorded'})"
        for e in evidence
        for seg in e.spc.segments[1:]
    )
    threshold = settings.PCC_PERF_SUPPRESSION_THRESHOLD
    return [
        (
            "Statistical process control",
            "Each measure is an XmR chart as NHS England's Making Data Count: the centre line is the mean; the "
            "process limits are the mean ± 2.66 × the mean moving range; fewer than 13 quarters give trial limits. "
            "A special cause is a point outside the limits, a run of points on one side of the mean, a trend of "
            "points each above (or below) the one before, or two of three points beyond two-thirds of the way to "
            "a limit (a point beyond a limit counts). With a direction a special cause is improvement or concern; "
            "the latest quarter gives the icon. There are no targets, so no assurance icons.",
        ),
        (
            "Run and trend lengths",
            f"Run {usual[0]} and trend {usual[1]} points for every measure"
            + (f" except: {others}." if others else ".")
            + f" Settings as published with the framework (version {snapshot.framework_version}).",
        ),
        (
            "Screening",
            "Moving ranges above 3.267 × their mean are screened out and the mean moving range recomputed"
            + (f", except for {', '.join(screened_off)}." if screened_off else ", for every measure."),
        ),
        (
            "Rebases",
            (
                f"Limits recalculated from a recorded quarter with a reason: {rebases}."
                if rebases
                else "No measure's limits were recalculated (no rebase recorded)."
            ),
        ),
        (
            "Missing and out-of-date figures",
            "A missing quarter breaks the line and no moving range is computed across it. A figure older than "
            f"the quarter by more than {settings.PCC_PERF_STALE_QUARTERS} quarters is shown as the latest "
            "available, not judged and not ranked.",
        ),
        (
            "Comparisons",
            "Same quarter last year: the change on the figure four quarters before. Most similar group: peers "
            "ranked only on comparable figures (rates, percentages, days, ratios), never on raw counts. England "
            "and Wales: the national figure for the same quarter.",
        ),
        (
            "Disproportionality",
            "Each group's rate over the reference group's, with a 95% interval on the log of the ratio; "
            "significant when the interval excludes 1. Ratios are withheld when the characteristic is recorded "
            "for fewer records than the breakdown's minimum share (80% unless set).",
        ),
        (
            "Suppression",
            f"Public outputs suppress counts of 1 to {threshold} as [c], with secondary suppression so a hidden "
            "cell cannot be worked out from a total, and rates built on a suppressed count. This board edition "
            f"shows every figure; rates and percentages built on a count of 1 to {threshold} are marked [u].",
        ),
    ]


_LINK = re.compile(r'<a\s+[^>]*href="([^"]*)"[^>]*>(.*?)</a>', re.S)


def print_url(href: str) -> str:
    """A link's address as paper needs it: a full URL stays; a site path becomes a full URL of the site
    (``PCC_PERF_SITE_URL``), unless the site is this machine; "" when it is to be left out."""
    if href.startswith(("http://", "https://", "mailto:")):
        return href
    site = settings.PCC_PERF_SITE_URL.rstrip("/")
    host = urlparse(site).hostname or ""
    local = not site or host in ("localhost", "127.0.0.1", "::1") or host.endswith(".localhost")
    return f"{site}{href}" if href.startswith("/") and not local else ""


def print_links(html: str) -> str:
    """Links in sanitised HTML as paper needs them (``print_url``): left out, their words kept, when there
    is no full URL to print."""

    def fix(match: re.Match[str]) -> str:
        url = print_url(match.group(1))
        return f'<a href="{url}">{match.group(2)}</a>' if url else match.group(2)

    return _LINK.sub(fix, html)

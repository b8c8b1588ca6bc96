"""Charts for print: Plotly figures rendered by kaleido in one batch: one Chromium, every chart of the pack
drawn as SVG in the page kaleido loaded once (``PCC_PERF_PACK_TABS`` tabs), with reproducible ids and attributes in a
fixed order; the Word document's PNGs rasterised from those SVGs by cairosvg (no second browser pass).
Without a browser: None (the pack draws tables instead)."""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import re
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

logger = logging.getLogger(__name__)

WIDTH = 760
HEIGHT = 340
PNG_SCALE = 3  # about 300 dpi at 16 cm wide


def chromium_path() -> str | None:
    path = os.environ.get("BROWSER_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
    return path if path and os.path.exists(path) and os.access(path, os.X_OK) else None


def render_svgs(figures: Sequence[Any], *, width: int = WIDTH, height: int = HEIGHT) -> list[str] | None:
    """Every figure as SVG text, in one browser; None when no browser can be started."""
    drawn = render_batch(figures, svg=True, png=False, width=width, height=height)
    return None if drawn is None else drawn.svgs


def render_pngs(
    figures: Sequence[Any], *, width: int = WIDTH, height: int = HEIGHT, scale: float = PNG_SCALE
) -> list[bytes] | None:
    """Every figure as a PNG at ``scale`` times its size (3: about 300 dpi at 16 cm wide), drawn as SVG in
    one browser and rasterised — for the Word document, which takes no SVG that every version of Word
    shows; None without a browser."""
    drawn = render_batch(figures, svg=False, png=True, width=width, height=height, scale=scale)
    return None if drawn is None else drawn.pngs


def svg_to_png(svg: str, *, scale: float = PNG_SCALE) -> bytes:
    """A drawn chart (its print SVG) as a PNG at ``scale`` times its size, rasterised by cairosvg (cairo,
    fontconfig's Liberation Sans as in the browser). cairosvg's safe mode (its default): no XML entities,
    no file or URL read (a chart refers to nothing outside itself)."""
    import cairosvg

    png: bytes = cairosvg.svg2png(bytestring=svg.encode("utf-8"), scale=scale, unsafe=False)
    return png


def svgs_to_pngs(svgs: Sequence[str], *, scale: float = PNG_SCALE) -> list[bytes]:
    """``svg_to_png`` of each, in order."""
    return [svg_to_png(svg, scale=scale) for svg in svgs]


@dataclass
class Drawn:
    """A batch's images, in the order of its figures: ``svgs`` (post-processed for print) and ``pngs``."""

    svgs: list[str]
    pngs: list[bytes]


def render_batch(
    figures: Sequence[Any],
    *,
    svg: bool = True,
    png: bool = False,
    width: int = WIDTH,
    height: int = HEIGHT,
    scale: float = PNG_SCALE,
) -> Drawn | None:
    """Every figure as SVG and/or PNG in one browser session (one Chromium, ``PCC_PERF_PACK_TABS`` tabs drawing at once,
    kaleido's page loaded once in each for the batch); the PNGs rasterised from the SVGs (``svg_to_png``);
    None when no browser can be started or it fails (the pack falls back to tables). A figure is a
    ``go.Figure`` or plain figure data (``reports.charts``' ``*_chart``): plain data gets Plotly's default
    template, the look ``go.Figure`` gives it."""
    if not figures or not (svg or png):
        return Drawn([], [])
    browser = chromium_path()
    if browser is None:
        return None
    os.environ["BROWSER_PATH"] = browser
    specs = [_with_template(figure) for figure in figures]
    opts = {"format": "svg", "width": width, "height": height}

    from django.conf import settings

    tabs = settings.PCC_PERF_PACK_TABS

    async def run() -> list[bytes]:
        # The plotly package's own plotly.js (kaleido's default) and no MathJax: nothing from a CDN.
        async with _batch_kaleido()(n=tabs, mathjax=False) as k:
            # In the order of the figures, whichever tab drew each.
            return list(await asyncio.gather(*(k.calc_fig(spec, opts=opts) for spec in specs)))

    try:
        images = asyncio.run(run())
    except Exception:  # no browser, or it died: the pack falls back to tables
        logger.exception("chart rendering failed; the pack uses data tables instead")
        return None
    svgs = [_stable_ids(data.decode("utf-8"), prefix=f"c{index}") for index, data in enumerate(images)]
    return Drawn(svgs if svg else [], svgs_to_pngs(svgs, scale=scale) if png else [])


@functools.cache
def _batch_kaleido() -> type[Any]:
    """kaleido's browser, keeping its page between figures. kaleido reloads the page (and so parses
    plotly.js again, ~0.3 s) after every figure; the figures here are exported with ``Plotly.toImage`` on a
    figure object, which draws in a detached element and removes it, so the page is left as it was."""
    import kaleido

    class BatchKaleido(kaleido.Kaleido):
        sessions = 0  # browsers started in this process (tests count them)

        async def open(self) -> None:
            type(self).sessions += 1
            await super().open()

        async def _return_kaleido_tab(self, tab: Any) -> None:
            await self.tabs_ready.put(tab)

    if not hasattr(kaleido.Kaleido, "_return_kaleido_tab"):  # pragma: no cover - guarded by a test
        raise RuntimeError("kaleido no longer has _return_kaleido_tab: the batch would reload every figure")
    return BatchKaleido


def _with_template(figure: Any) -> Any:
    if isinstance(figure, dict) and "template" not in figure.get("layout", {}):
        from reports.charts import chart_template

        return {**figure, "layout": {**figure.get("layout", {}), "template": chart_template()}}
    return figure


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
    return _for_print(re.sub(r"^<\?xml[^>]*>", "", svg).strip())


_STYLE = re.compile(r'\sstyle="([^"]*)"')
_PIXELS = re.compile(r'="(?:-?[0-9.]+px(?:,\s*)?)+"')  # "1px", "9px, 9px" (a dash pattern)


def _for_print(svg: str) -> str:
    """Plotly's ``style="fill: …"`` declarations as SVG presentation attributes (drawn the same; WeasyPrint
    reads attributes without parsing a style sheet per element, so a pack lays out faster), lengths in
    pixels as plain numbers (the SVG's user units: the same length, and WeasyPrint reads a plain number
    without its unit parser, ~9,000 times a national pack), every element's attributes in name order (a
    tab's timing can change the order Plotly sets them in: the same figure gives the same bytes), and its
    empty layer groups left out."""

    def attributes(match: re.Match[str]) -> str:
        out = []
        for declaration in match.group(1).split(";"):
            name, _, value = declaration.partition(":")
            if name.strip() and value.strip():
                out.append(f' {name.strip()}="{value.strip()}"')
        return "".join(out)

    svg = _PIXELS.sub(lambda match: match.group(0).replace("px", ""), _STYLE.sub(attributes, svg))
    svg = _sorted_attributes(svg)
    svg = _outside_points(svg)
    svg = _INVISIBLE.sub("", svg)
    previous = None
    while previous != svg:  # empty groups, and the groups they were all of
        previous, svg = svg, _EMPTY_GROUP.sub("", svg)
    return svg


_TAG = re.compile(r'<([a-zA-Z][\w:-]*)((?:\s+[\w:-]+="[^"]*")+)\s*(/?)>')
_ATTRIBUTE = re.compile(r'([\w:-]+)="([^"]*)"')


def _sorted_attributes(svg: str) -> str:
    """Each element's attributes in name order (XML gives their order no meaning)."""

    def tag(match: re.Match[str]) -> str:
        attributes = sorted(_ATTRIBUTE.findall(match.group(2)), key=lambda item: item[0])
        text = "".join(f' {name}="{value}"' for name, value in attributes)
        return f"<{match.group(1)}{text}{match.group(3)}>"

    return _TAG.sub(tag, svg)


# Drawn as nothing: legend click targets (transparent), a legend's unused scroll bar (no size), axis lines
# with no path. WeasyPrint draws every node of every chart, so a node left out is time saved. (Attributes
# are in name order by then.)
_INVISIBLE = re.compile(
    r'<rect class="legendtoggle"[^>]*fill-opacity="0"[^>]*/>'
    r'|<rect class="scrollbar"[^>]* height="0"[^>]* width="0"[^>]*/>'
    r'|<path class="[^"]*"/>'
)
_EMPTY_GROUP = re.compile(r'<g(?: [a-z-]+="[^"]*")*/>|<g(?: [a-z-]+="[^"]*")*></g>')
_PLOT_CLIP = re.compile(r'<clipPath class="plotclip" id="[^"]*"><rect height="([0-9.]+)" width="([0-9.]+)"/>')
_POINT = re.compile(r'<path class="point[^"]*"[^>]* transform="translate\((-?[0-9.e+-]+),(-?[0-9.e+-]+)\)"[^>]*/>')
MARKER_MARGIN = 30  # px beyond the plot area within which a marker could still show (markers are ~8 px)


def _outside_points(svg: str) -> str:
    """A chart zoomed to its last quarters (the print window) still carries the earlier points, clipped
    out of sight: markers wholly outside the plot area are left out (a chart with one plot area only)."""
    clips = _PLOT_CLIP.findall(svg)
    if len(clips) != 1:
        return svg
    height, width = (float(v) for v in clips[0])

    def keep(match: re.Match[str]) -> str:
        x, y = float(match.group(1)), float(match.group(2))
        inside = -MARKER_MARGIN <= x <= width + MARKER_MARGIN and -MARKER_MARGIN <= y <= height + MARKER_MARGIN
        return match.group(0) if inside else ""

    return _POINT.sub(keep, svg)

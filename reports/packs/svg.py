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
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from types import TracebackType
from typing import Any

logger = logging.getLogger(__name__)

WIDTH = 760
HEIGHT = 340
PNG_SCALE = 3  # about 300 dpi at 16 cm wide
# A browser that hangs never holds a pack: its charts become tables after DRAW_SECONDS (a national pack's
# 73 draw in ~5 s), and closing it is waited for CLOSE_SECONDS at most.
DRAW_SECONDS = 300.0
CLOSE_SECONDS = 60.0
# In the browser's own thread: opening (~1.5 s, kaleido's page and plotly.js in each tab) is given OPEN_SECONDS
# before a second browser is started, and closing SHUT_SECONDS before its processes are killed.
OPEN_SECONDS = 30.0
SHUT_SECONDS = 15.0


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


def load_rasteriser() -> None:
    """Import cairosvg (in a process that rasterises, before its first chart)."""
    import cairosvg  # noqa: F401


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
    with BrowserBatch(width=width, height=height) as batch:
        svgs = batch.draw(figures)
    if svgs is None:
        return None
    return Drawn(svgs if svg else [], svgs_to_pngs(svgs, scale=scale) if png else [])


class BrowserBatch:
    """One Chromium for a batch of figures, started (in a background thread) before the figures are
    known: ``with BrowserBatch() as batch: …build the figures…; svgs = batch.draw(figures)``. Chromium's
    start and kaleido's page load (~1.5 s, mostly waiting) overlap whatever the caller does meanwhile.
    ``draw`` once (or ``start`` and later ``svgs``): every figure as print SVG, in order (``render_batch``),
    or None when no browser can be started or it failed (the pack falls back to tables). Leaving the block closes the browser and
    ends the thread in every case: drawn, never asked to draw, or an exception in the caller."""

    def __init__(self, *, width: int = WIDTH, height: int = HEIGHT) -> None:
        from django.conf import settings

        self.opts = {"format": "svg", "width": width, "height": height}
        self.tabs: int = settings.PCC_PERF_PACK_TABS
        self.browser = chromium_path()
        self._figures: Future[list[Any] | None] = Future()  # None: close without drawing
        self._images: Future[list[str]] = Future()
        self._each: Callable[[int, str], object] | None = None
        self._thread = threading.Thread(target=self._run, name="pack-browser", daemon=True)

    def __enter__(self) -> BrowserBatch:
        if self.browser is not None:
            os.environ["BROWSER_PATH"] = self.browser
            self._thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if not self._figures.done():
            self._figures.set_result(None)
        if self._thread.is_alive():
            self._thread.join(CLOSE_SECONDS)
            if self._thread.is_alive():  # a browser that will not close does not hold the pack (or the worker)
                logger.warning("the pack's browser did not close within %s s; left to close by itself", CLOSE_SECONDS)

    def draw(self, figures: Sequence[Any], *, each: Callable[[int, str], object] | None = None) -> list[str] | None:
        """``start`` then ``svgs``."""
        self.start(figures, each=each)
        return self.svgs()

    def start(self, figures: Sequence[Any], *, each: Callable[[int, str], object] | None = None) -> None:
        """Hand the browser ``figures`` to draw (it draws them as soon as it is up) and return at once;
        ``each(index, svg)`` is called (in the browser's thread) as each is drawn, so work on it can start
        while the others are."""
        if self.browser is None:
            return
        if self._thread.ident is None:
            raise RuntimeError("BrowserBatch.start outside its with block")
        self._each = each
        self._figures.set_result([_with_template(figure) for figure in figures] if figures else None)

    def svgs(self) -> list[str] | None:
        """The figures handed to ``start``, drawn as print SVG in their order; None without a browser or
        when it failed (logged: the pack falls back to tables)."""
        if self.browser is None:
            return None
        if not self._figures.done():
            raise RuntimeError("BrowserBatch.svgs before start")
        try:
            return self._images.result(timeout=DRAW_SECONDS)
        except Exception:  # no browser, it died, or it hung: the pack falls back to tables
            logger.exception("chart rendering failed; the pack uses data tables instead")
            return None

    def _run(self) -> None:
        try:
            asyncio.run(self._session())
        except BaseException as exc:
            if not self._images.done():  # handed to ``draw``
                self._images.set_exception(exc)
            else:  # drawn, then closing failed
                logger.warning("closing the pack's browser failed", exc_info=True)
        finally:
            if not self._images.done():  # closed without drawing
                self._images.set_result([])

    async def _session(self) -> None:
        """Open the browser (a second one if the first fails or does not come up in OPEN_SECONDS), draw,
        close: every step bounded, and a browser that will not close is killed, so no step can hang the
        thread or leave Chromium running. (A full test run saw a browser hang; a likely cause: kaleido 1.5
        sends Page.enable after Page.navigate, so a page that loads in between is never reported and its
        open waits for ever.)"""
        for attempt in (1, 2):
            # The plotly package's own plotly.js (kaleido's default) and no MathJax: nothing from a CDN.
            k = _batch_kaleido()(n=self.tabs, mathjax=False)
            try:
                async with asyncio.timeout(OPEN_SECONDS):
                    await k.open()
            except Exception:  # timed out (which choreographer may report as a failed start), or failed
                await _shut(k)
                if attempt == 2:
                    raise
                logger.warning(
                    "the pack's browser did not open within %s s; starting another", OPEN_SECONDS, exc_info=True
                )
                continue
            try:
                await self._draw_in(k)
            except Exception as exc:  # handed over at once: the pack need not wait for the browser to close
                self._images.set_exception(exc)
            finally:
                await _shut(k)
            return

    async def _draw_in(self, k: Any) -> None:
        specs = await asyncio.wrap_future(self._figures)
        if specs is None:
            return

        async def one(index: int, spec: Any) -> str:
            svg = _stable_ids((await k.calc_fig(spec, opts=self.opts)).decode("utf-8"), prefix=f"c{index}")
            if self._each is not None:
                self._each(index, svg)
            return svg

        # In the order of the figures, whichever tab drew each; handed over before the browser closes.
        async with asyncio.timeout(DRAW_SECONDS):
            drawn = await asyncio.gather(*(one(i, spec) for i, spec in enumerate(specs)))
        self._images.set_result(list(drawn))


async def _shut(k: Any) -> None:
    """Close kaleido's browser as kaleido closes it, within SHUT_SECONDS; past that, kill its processes."""
    try:
        async with asyncio.timeout(SHUT_SECONDS):
            await k.__aexit__(None, None, None)
        return
    except TimeoutError:
        logger.warning("the pack's browser did not close within %s s; killing it", SHUT_SECONDS)
    except Exception:
        logger.warning("closing the pack's browser failed; killing it", exc_info=True)
    process = getattr(k, "subprocess", None)
    if process is not None and process.poll() is None:
        from choreographer.utils._kill import kill

        await asyncio.to_thread(kill, process)


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

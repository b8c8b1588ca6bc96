"""Charts for print: Plotly figures rendered to vector SVG by kaleido in one Chromium for the whole pack, with reproducible ids."""

from __future__ import annotations

import asyncio
import logging
import os
import re
import shutil

import plotly.graph_objects as go

logger = logging.getLogger(__name__)


def chromium_path() -> str | None:
    path = os.environ.get("BROWSER_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
    return path if path and os.path.exists(path) and os.access(path, os.X_OK) else None


def render_svgs(figures: list[go.Figure], *, width: int = 760, height: int = 340) -> list[str] | None:
    """Every figure as SVG text, in one browser; None when no browser can be started."""
    images = _render(figures, opts={"format": "svg", "width": width, "height": height})
    if images is None:
        return None
    return [_stable_ids(data.decode("utf-8"), prefix=f"c{index}") for index, data in enumerate(images)]


def render_pngs(
    figures: list[go.Figure], *, width: int = 760, height: int = 340, scale: float = 3
) -> list[bytes] | None:
    """Every figure as a PNG at ``scale`` times its size (3: about 300 dpi at 16 cm wide), in one browser —
    for the Word document, which takes no SVG that every version of Word shows; None without a browser."""
    return _render(figures, opts={"format": "png", "width": width, "height": height, "scale": scale})


def _render(figures: list[go.Figure], *, opts: dict[str, object]) -> list[bytes] | None:
    if not figures:
        return []
    browser = chromium_path()
    if browser is None:
        return None
    os.environ["BROWSER_PATH"] = browser
    import kaleido

    async def run() -> list[bytes]:
        out = []
        # The plotly package's own plotly.js (kaleido's default) and no MathJax: nothing from a CDN.
        async with kaleido.Kaleido(n=1, mathjax=False) as k:
            for fig in figures:
                out.append(await k.calc_fig(fig, opts=opts))
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
    return _for_print(re.sub(r"^<\?xml[^>]*>", "", svg).strip())


_STYLE = re.compile(r'\sstyle="([^"]*)"')


def _for_print(svg: str) -> str:
    """Plotly's ``style="fill: …"`` declarations as SVG presentation attributes (drawn the same; WeasyPrint
    reads attributes without parsing a style sheet per element, so a pack lays out faster), and its empty
    layer groups left out."""

    def attributes(match: re.Match[str]) -> str:
        out = []
        for declaration in match.group(1).split(";"):
            name, _, value = declaration.partition(":")
            if name.strip() and value.strip():
                out.append(f' {name.strip()}="{value.strip()}"')
        return "".join(out)

    svg = _STYLE.sub(attributes, svg)
    return re.sub(r'<g class="[^"]*"/>', "", svg)

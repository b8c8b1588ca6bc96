"""The XmR chart as a static inline SVG, drawn from the same plain figure data Plotly draws
(``reports.charts.xmr_chart``): what a page shows at first paint and without JavaScript, until Plotly
replaces it with the interactive chart in the same place.

One pure function, figure dict -> SVG text (no Django). The SVG is the Plotly chart's plot area: CSS
(``.xmr-svg`` in static/css/pcc.css) gives it the figure's margins (l 65, r 20, t 50 and the bottom Plotly
ends with once the legend and the quarter labels are placed) and its width, so it scales with its container
and nothing moves when Plotly draws. Inside, the data sit in a nested SVG stretched to the plot area
(``viewBox`` 0..1000 both ways, no aspect kept; strokes and markers keep their size in pixels); every text
sits outside it at a percentage of the plot area plus an offset in pixels, as Plotly places them. A phone's
layout (charts.js' ``narrow``: no title, about four quarter labels, smaller margins) is the stylesheet's,
on the same SVG."""

from __future__ import annotations

import datetime as dt
import functools
import html
import math
import re
from collections.abc import Sequence
from typing import Any

SIZE = 1000  # the nested data SVG's viewBox, both ways
# The plot area Plotly ends with on a priority page at 1280 px (65 + 20 px side margins, 50 top, 79 bottom):
# used only to size the autorange's padding (5% of the axis plus the marker's radius, in pixels).
PLOT_WIDTH = 1067
PLOT_HEIGHT = 211
CHAR_WIDTH = 6.3  # px: the mean width of a 12 px Liberation Sans character, for the legend's items


def _esc(text: Any) -> str:
    return html.escape(str(text))


@functools.lru_cache(maxsize=4096)
def _day(value: Any) -> float:
    """A Plotly date ("2024-03-31", or with a time) as days since 1970-01-01."""
    text = str(value)
    day = dt.date.fromisoformat(text[:10])
    extra = 0.0
    if len(text) > 10:
        hms = [float(p) for p in re.split("[ T:]", text[11:]) if p][:3]
        extra = sum(v / m for v, m in zip(hms, (24, 1440, 86400), strict=False))
    return float((day - dt.date(1970, 1, 1)).days) + extra


def _autorange(values: Sequence[float], length: float) -> tuple[float, float]:
    """Plotly's autorange of padded scatter data: 5% of the axis each side (the markers fit in it)."""
    low, high = min(values), max(values)
    if high == low:
        return (low - 1, high + 1) if low == 0 else (low - abs(low) / 2, high + abs(high) / 2)
    pad = 0.05 * length
    extra = (high - low) * pad / (length - 2 * pad)
    return low - extra, high + extra


def nice_ticks(low: float, high: float, length: float = PLOT_HEIGHT) -> tuple[list[float], float]:
    """Plotly's automatic linear ticks: about one per 40 px (4 to 9 intervals), the step 1, 2 or 5 x 10^n."""
    intervals = min(max(length / 40, 4), 9) + 1
    rough = (high - low) / intervals
    base = 10 ** math.floor(math.log10(rough))
    step = base * next(m for m in (1, 2, 5, 10) if m * base >= rough * (1 - 1e-9))
    first = math.ceil(low / step - 1e-9) * step
    count = math.floor((high - first) / step + 1e-9) + 1
    return [round(first + k * step, 12) for k in range(count)], step


def tick_label(value: float, step: float) -> str:
    """A y tick as Plotly writes it: the step's decimals, trailing zeros dropped, "12.5k" from a step of
    1,000, a true minus sign."""
    scale, suffix = 1.0, ""
    if step >= 1000:
        for size, name in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
            if abs(value) >= size or (value == 0 and step >= size):
                scale, suffix = size, name
                break
        step = step / scale
    decimals = max(0, -math.floor(math.log10(step) + 1e-9)) if step < 1 else 0
    if suffix and step < 1:
        decimals = max(decimals, 1)
    text = f"{abs(value) / scale:.{decimals + 1}f}".rstrip("0").rstrip(".")
    text = text if text else "0"
    if value == 0:
        return "0"
    return ("\u2212" if value < 0 else "") + text + suffix


def _n(value: float) -> str:
    """A number for an attribute: one decimal at most, no trailing ".0"."""
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def _i(value: float) -> str:
    """A coordinate in the data SVG: a whole thousandth of the plot area (under a pixel at 1280 px)."""
    return str(round(min(max(value, -SIZE), 2 * SIZE)))


def _pct(value: float) -> str:
    return _n(value / 10) + "%"  # 0..1000 as a percentage of the plot area


def _dash(line: dict[str, Any]) -> str:
    """Plotly's dashes for a line of this width (dot: 1x, dash: 3x the width, at least 3 px)."""
    dash = line.get("dash")
    unit = max(float(line.get("width", 2)), 3.0)
    if dash == "dot":
        return f' stroke-dasharray="{_n(unit)}"'
    if dash == "dash":
        return f' stroke-dasharray="{_n(3 * unit)}"'
    return ""


def _stroke(line: dict[str, Any]) -> str:
    return f'stroke="{_esc(line.get("color", "#444"))}" stroke-width="{_n(float(line.get("width", 2)))}"' + _dash(line)


def xmr_svg(figure: dict[str, Any], *, labelled_by: str = "") -> str:
    """The XmR chart of ``figure`` (``xmr_chart``'s dict) as an inline SVG; ``labelled_by``: the id of the
    element holding the chart's text alternative (the figure's caption), which names it."""
    layout = figure.get("layout", {})
    traces = figure.get("data", [])
    if not traces:
        return ""
    value = traces[0]
    xs = [_day(x) for x in value.get("x", [])]
    ys = value.get("y", [])
    lines = [t for t in traces[1:] if t.get("mode") == "lines"]
    shapes = layout.get("shapes", [])
    notes = layout.get("annotations", [])
    xaxis = layout.get("xaxis", {})

    # The axes' ranges: the figure's window, else Plotly's autorange over the data and the shapes.
    if xaxis.get("range"):
        x0, x1 = (_day(v) for v in xaxis["range"])
    else:
        spread = xs + [_day(x) for t in lines for x in t["x"]]
        spread += [_day(s[k]) for s in shapes if s.get("xref") == "x" for k in ("x0", "x1")]
        x0, x1 = _autorange(spread or [0.0, 1.0], PLOT_WIDTH)
    shown = [float(y) for y in ys if y is not None] + [float(y) for t in lines for y in t["y"] if y is not None]
    y0, y1 = _autorange(shown or [0.0, 1.0], PLOT_HEIGHT)
    ticks, step = nice_ticks(y0, y1)

    def px(day: float) -> float:
        return (day - x0) / (x1 - x0) * SIZE

    def py(v: float) -> float:
        return (1 - (v - y0) / (y1 - y0)) * SIZE

    data: list[str] = []

    # Below the data: the missing quarters' shading, then the gridlines.
    def inside(day: float, slack: float = 0.0) -> bool:
        return -slack <= px(day) <= SIZE + slack

    rects = [s for s in shapes if s.get("type") == "rect" and px(_day(s["x1"])) >= 0 and px(_day(s["x0"])) <= SIZE]
    if rects:
        fill = rects[0].get("fillcolor", "#b1b4b6")
        opacity = rects[0].get("opacity", 0.25)
        d = "".join(
            f"M{_i(px(_day(s['x0'])))} 0H{_i(px(_day(s['x1'])))}V{SIZE}H{_i(px(_day(s['x0'])))}z" for s in rects
        )
        data.append(f'<path fill="{_esc(fill)}" fill-opacity="{opacity}" d="{d}"/>')
    grid = "".join(f"M{_i(px(_day(t)))} 0V{SIZE}" for t in xaxis.get("tickvals", []))
    if grid:
        data.append(f'<path stroke="{_esc(xaxis.get("gridcolor", "#eee"))}" d="{grid}"/>')
    ygrid = layout.get("yaxis", {}).get("gridcolor", "#eee")
    data.append(f'<path stroke="{_esc(ygrid)}" d="{"".join(f"M0 {_i(py(t))}H{SIZE}" for t in ticks)}"/>')
    # The rebase and note lines.
    by_style: dict[str, str] = {}
    for s in shapes:
        if s.get("type") == "line" and inside(_day(s["x0"])):
            key = _stroke(s.get("line", {}))
            by_style[key] = by_style.get(key, "") + f"M{_i(px(_day(s['x0'])))} 0V{SIZE}"
    # The means and the limits, each style one path.
    for t in lines:
        if px(_day(t["x"][1])) < 0 or px(_day(t["x"][0])) > SIZE:
            continue
        a, b = (_i(px(_day(x))) for x in t["x"])
        key = _stroke(t.get("line", {}))
        by_style[key] = by_style.get(key, "") + f"M{a} {_i(py(float(t['y'][0])))}H{b}"
    data.extend(f'<path {style} d="{d}"/>' for style, d in by_style.items())
    # The value line, broken at every missing quarter.
    pieces: list[str] = []
    pen_up = True
    for k, (x, y) in enumerate(zip(xs, ys, strict=False)):
        # a point outside the window is drawn only as the line's way out to its neighbour inside
        near = inside(x) or (k > 0 and inside(xs[k - 1])) or (k + 1 < len(xs) and inside(xs[k + 1]))
        if y is None or not near:
            pen_up = True
            continue
        pieces.append(("M" if pen_up else "L") + f"{_i(px(x))} {_i(py(float(y)))}")
        pen_up = False
    line = value.get("line", {})
    data.append(f'<path {_stroke(line)} d="{"".join(pieces)}"/>')
    # The markers: a round dot per point (a zero-length stroke with round caps, which stays round however
    # the plot area is stretched), white edge beneath, one path per colour.
    marker = value.get("marker", {})
    colours = marker.get("color", "#444")
    size = float(marker.get("size", 6))
    edge = float(marker.get("line", {}).get("width", 0))
    dots: dict[str, str] = {}
    for k, (x, y) in enumerate(zip(xs, ys, strict=False)):
        if y is None or not inside(x, 10):
            continue
        colour = colours[k] if isinstance(colours, list) else colours
        dots[colour] = dots.get(colour, "") + f"M{_i(px(x))} {_i(py(float(y)))}h0"
    if dots:
        if edge:
            every = "".join(dots.values())
            white = marker.get("line", {}).get("color", "#fff")
            data.append(f'<path class="dot" stroke="{_esc(white)}" stroke-width="{_n(size + edge)}" d="{every}"/>')
        data.extend(
            f'<path class="dot" stroke="{_esc(c)}" stroke-width="{_n(size - edge)}" d="{d}"/>' for c, d in dots.items()
        )

    texts: list[str] = []
    # The y ticks and the quarter ticks (those a phone's narrow chart drops marked "w": charts.js keeps about four).
    texts.extend(f'<text x="-2" y="{_pct(py(t))}" dy="4" text-anchor="end">{tick_label(t, step)}</text>' for t in ticks)
    vals = xaxis.get("tickvals", [])
    names = xaxis.get("ticktext", [str(v) for v in vals])
    kept = set(range(len(vals) - 1, -1, -math.ceil(len(vals) / 4))) if len(vals) > 4 else set(range(len(vals)))
    for k, (v, name) in enumerate(zip(vals, names, strict=False)):
        x = px(_day(v))
        if 0 <= x <= SIZE:
            # "w": dropped on a phone, as charts.js thins them; "e": past the edge of a phone's narrow chart
            # (Plotly hides a label that would overflow it)
            wide = "" if k in kept and x <= 920 else (' class="w"' if x <= 920 else ' class="w e"')
            texts.append(f'<text{wide} x="{_pct(x)}" y="100%" dy="14" text-anchor="middle">{_esc(name)}</text>')
    # The notes: rebases at the top, annotations at the foot, "missing"/"[c]" over their quarters.
    for note in notes:
        x = px(_day(note["x"]))
        if not 0 <= x <= SIZE:
            continue
        font = note.get("font", {})
        y = float(note.get("y", 1))
        anchor = {"left": "start", "right": "end"}.get(note.get("xanchor", "center"), "middle")
        shift = {"start": 3, "end": -3}.get(anchor, 0)
        size_px = float(font.get("size", 12))
        dy = size_px + 2 if y > 2 / 3 else (-4 if y < 1 / 3 else size_px / 3)
        colour = f' fill="{_esc(font["color"])}"' if font.get("color") else ""
        texts.append(
            f'<text x="{_pct(x)}" dx="{shift}" y="{_n((1 - y) * 100)}%" dy="{_n(dy)}" text-anchor="{anchor}"'
            f' font-size="{_n(size_px)}"{colour}>{_esc(note.get("text", ""))}</text>'
        )
    # The title, the y axis' title (Plotly's axis titles: 14 px beside 12 px text) and the legend.
    title = layout.get("title", {}).get("text", "")
    if title:
        texts.append(f'<text class="title" x="5%" dx="-60.75" dy="-25" font-size="15">{_esc(title)}</text>')
    y_title = layout.get("yaxis", {}).get("title", {}).get("text", "")
    if y_title:
        texts.append(f'<text class="ytitle" x="-42" y="50%" text-anchor="middle" font-size="14">{_esc(y_title)}</text>')
    texts.append(_legend(value, traces[1:]))
    name = f' aria-labelledby="{_esc(labelled_by)}"' if labelled_by else ""
    return (
        f'<svg class="xmr-svg" xmlns="http://www.w3.org/2000/svg" role="img"{name} aria-hidden="true">'
        f'<svg width="100%" height="100%" viewBox="0 0 {SIZE} {SIZE}" preserveAspectRatio="none" fill="none">'
        + "".join(data)
        + "</svg>"
        + "".join(texts)
        + "</svg>"
    )


def _legend(value: dict[str, Any], others: Sequence[dict[str, Any]]) -> str:
    """Plotly's horizontal legend below the plot (y -0.18 of the plot area): each item a 30 px sample of
    its line (with a marker for the value) and its name, side by side."""
    items = [value] + [t for t in others if t.get("showlegend", True)]
    parts: list[str] = []
    x = 0.0
    for item in items:
        line = item.get("line", {})
        sample = f'<path {_stroke(line)} d="M{_n(x + 5)} 14.5h30"/>'
        if item is value:
            marker = item.get("marker", {})
            colour = marker.get("color", "#444")
            colour = colour[0] if isinstance(colour, list) and colour else colour
            colour = "#7b7d7d" if isinstance(colour, list) else colour
            sample += (
                f'<circle cx="{_n(x + 20)}" cy="14.5" r="{_n(float(marker.get("size", 6)) / 2)}" fill="{_esc(colour)}"'
                f' stroke="#fff"/>'
            )
        name = str(item.get("name", ""))
        parts.append(sample + f'<text x="{_n(x + 40)}" y="18.5">{_esc(name)}</text>')
        x += 40 + len(name) * CHAR_WIDTH + 5
    return '<svg class="legend" y="118%" overflow="visible">' + "".join(parts) + "</svg>"

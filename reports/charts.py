"""Chart builders: one per chart type. The XmR, peer and breakdown charts are built as plain figure data
(``*_chart``: dicts, no Plotly object model, which cost ~96% of a priority page's server time); pages draw
them with the plotly.js the plotly package ships, and ``*_figure`` wraps the same data in a ``go.Figure``
for the PDF, which renders it to SVG."""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections.abc import Sequence
from typing import Any

import plotly.graph_objects as go
import plotly.io as pio

from metrics.quarters import period_label
from metrics.stats.disproportionality import GroupRate
from metrics.stats.presentation import format_value, log_ticks, quarter_tick_labels
from metrics.stats.spc import SpcResult

# NHS "Making Data Count" colours.
COLOURS = {
    "improvement": "#289de0",
    "concern": "#fab428",
    "neutral": "#361475",
    None: "#7b7d7d",
}
HOME = "#1d3f73"
OTHER = "#b1b4b6"
FONT = "Liberation Sans, Arial, sans-serif"
# Room for a y axis title and tick labels such as "12.5k": at 60 px the y axis pushed the margin, and Plotly
# drew the chart twice, on 11 of the 15 charts of a national dataset's priority page.
LEFT_MARGIN = 65


def _layout_dict(*, title: str, y_title: str = "", height: int = 340) -> dict[str, Any]:
    """The layout every chart shares, as plain data (no template: pages apply ``chart_template`` once,
    ``go.Figure`` applies Plotly's default template itself). The left margin fits the y axis' title and
    tick labels of most charts: the axis' automargin (Plotly's default template) then has nothing to push
    and Plotly draws the chart once, not twice (a chart whose labels need more still gets it)."""
    return {
        "title": {"text": title, "font": {"size": 15}},
        "font": {"family": FONT, "size": 12, "color": "#0b0c0c"},
        "height": height,
        "margin": {"l": LEFT_MARGIN, "r": 20, "t": 50, "b": 50},
        "plot_bgcolor": "#ffffff",
        "paper_bgcolor": "#ffffff",
        "legend": {"orientation": "h", "y": -0.18},
        "hoverlabel": {"font": {"family": FONT}},
        "xaxis": {"gridcolor": "#f3f3f3"},
        "yaxis": {"title": {"text": y_title}, "gridcolor": "#e6e6e6", "zeroline": False},
    }


def _runs(gaps: list[dt.date], hidden: set[dt.date]) -> list[list[dt.date]]:
    """Consecutive quarters (at most about 92 days apart) of the same kind (missing, or suppressed [c])."""
    runs: list[list[dt.date]] = []
    for gap in gaps:
        last = runs[-1][-1] if runs else None
        if last is not None and (gap - last).days <= 92 and (gap in hidden) == (last in hidden):
            runs[-1].append(gap)
        else:
            runs.append([gap])
    return runs


# Figures as plain dicts: the pages' charts are built as JSON-ready data (dates as ISO text), without
# Plotly's object model (validating every property costs ~15 ms a chart); ``go.Figure(data)`` gives the
# same figure where a Figure is needed (the PDF's SVGs through kaleido).
def _d(day: dt.date) -> str:
    return day.isoformat()


def _vline(x: dt.date | float, line: dict[str, Any]) -> dict[str, Any]:
    """The shape ``Figure.add_vline`` adds."""
    value = _d(x) if isinstance(x, dt.date) else x
    return {"type": "line", "x0": value, "x1": value, "xref": "x", "y0": 0, "y1": 1, "yref": "y domain", "line": line}


def as_figure(data: dict[str, Any]) -> go.Figure:
    """Plain figure data as a Plotly Figure (validated; Plotly's default template applied)."""
    return go.Figure(data)


def xmr_figure(**kwargs: Any) -> go.Figure:
    """The XmR chart as a Plotly Figure (for kaleido: the PDF's SVGs); see ``xmr_chart``."""
    return go.Figure(xmr_chart(**kwargs))


def xmr_chart(
    *,
    title: str,
    unit_label: str,
    observations: Sequence[Any],
    spc: SpcResult,
    annotations: Sequence[tuple[dt.date, str]] = (),
    window: int | None = None,
    decimals: int | None = None,
    judged: bool = True,
) -> dict[str, Any]:
    """The XmR chart: points coloured by special cause, mean and limits per segment, rebases marked; a
    missing quarter breaks the line; the axis reads in financial-year quarters. ``window``: the last N
    quarters are shown (the limits still come from the whole series; the rest is a zoom out away).
    Plain figure data (``{"data": [...], "layout": {...}}``)."""
    points = spc.points
    values = {o.period: o for o in observations}
    # A missing quarter is a hole in the line (None), never a segment drawn across it; so is a figure a
    # public output suppresses (``missing`` "c"), marked [c] instead of "missing".
    hidden = {o.period for o in observations if getattr(o, "missing", "") == "c"}
    gaps = set(spc.missing_quarters) | hidden
    ordered = sorted([(p.period, p) for p in points] + [(g, None) for g in gaps], key=lambda item: item[0])
    x = [when for when, _ in ordered]
    traces: list[dict[str, Any]] = [
        {
            "type": "scatter",
            "x": [_d(when) for when in x],
            "y": [p.value if p is not None else None for _, p in ordered],
            "connectgaps": False,
            "mode": "lines+markers",
            "name": "Value",
            "line": {"color": "#505a5f", "width": 1.5},
            "marker": {
                "color": [COLOURS[p.special_cause] if p is not None and judged else COLOURS[None] for _, p in ordered],
                "size": 8,
                "line": {"color": "#ffffff", "width": 1},
            },
            "customdata": [
                [
                    period_label(when),
                    values[when].status if when in values else "",
                    _cause_text(p.special_cause, p.rules)
                    if p is not None
                    else ("suppressed [c]" if when in hidden else "missing"),
                ]
                for when, p in ordered
            ],
            "hovertemplate": "%{customdata[0]}: %{y:,."
            + str(decimals if decimals is not None else 2)
            + "f}<br>%{customdata[1]}<br>%{customdata[2]}<extra></extra>",
        }
    ]
    shapes: list[dict[str, Any]] = []
    notes: list[dict[str, Any]] = []
    for index, seg in enumerate(spc.segments):
        seg_points = [p for p in points if p.segment == index]
        if not seg_points:
            continue
        xs = [_d(seg_points[0].period), _d(seg_points[-1].period)]
        first = index == 0
        traces.append(
            {
                "type": "scatter",
                "x": xs,
                "y": [seg.mean] * 2,
                "mode": "lines",
                "name": "Mean",
                "line": {"color": "#0b0c0c", "width": 1.5},
                "showlegend": first,
                "hoverinfo": "skip",
            }
        )
        if seg.upper_limit is not None and seg.lower_limit is not None:
            label = "Process limits (trial)" if seg.trial_limits else "Process limits"
            for bound in (seg.upper_limit, seg.lower_limit):
                traces.append(
                    {
                        "type": "scatter",
                        "x": xs,
                        "y": [bound] * 2,
                        "mode": "lines",
                        "name": label,
                        "line": {"color": "#6f777b", "width": 1, "dash": "dash"},
                        "showlegend": first and bound == seg.upper_limit,
                        "hoverinfo": "skip",
                    }
                )
        if index > 0:
            shapes.append(_vline(seg.start, {"color": "#d4351c", "width": 1, "dash": "dot"}))
            notes.append(
                {
                    "x": _d(seg.start),
                    "y": 1,
                    "yref": "paper",
                    "text": f"Rebased: {seg.reason or 'limits recalculated'}",
                    "showarrow": False,
                    "xanchor": "left",
                    "font": {"size": 10, "color": "#d4351c"},
                }
            )
    for when, text in annotations:
        shapes.append(_vline(when, {"color": "#505a5f", "width": 1, "dash": "dot"}))
        notes.append(
            {
                "x": _d(when),
                "y": 0.02,
                "yref": "paper",
                "text": text,
                "showarrow": False,
                "xanchor": "left",
                "font": {"size": 10},
            }
        )
    half = dt.timedelta(days=45)
    for gap in sorted(gaps):  # a missing quarter is marked on the chart, not only named in its text
        shapes.append(
            {
                "type": "rect",
                "x0": _d(gap - half),
                "x1": _d(gap + half),
                "xref": "x",
                "y0": 0,
                "y1": 1,
                "yref": "y domain",
                "fillcolor": "#b1b4b6",
                "opacity": 0.25,
                "line": {"width": 0},
                "layer": "below",
            }
        )
    for run in _runs(sorted(gaps), hidden):  # one label per run of missing quarters: four side by side overlap
        middle = run[0] + (run[-1] - run[0]) / 2
        notes.append(
            {
                "x": _d(middle),
                "y": 0.98,
                "yref": "paper",
                "text": "[c]" if run[0] in hidden else "missing",
                "showarrow": False,
                "font": {"size": 9, "color": "#505a5f"},
            }
        )
    layout = _layout_dict(title=title, y_title=unit_label)
    if shapes:
        layout["shapes"] = shapes
    if notes:
        layout["annotations"] = notes
    layout["xaxis"].update(_quarter_axis(x, window=window))
    return {"data": traces, "layout": layout}


def _quarter_axis(periods: Sequence[dt.date], *, window: int | None) -> dict[str, Any]:
    """Ticks labelled "2023/24 Q4" at no more than eight quarters (labels that never run into each other,
    on a page or on paper); a window of the last N quarters."""
    if not periods:
        return {}
    shown = list(periods[-window:]) if window else list(periods)
    step = max(1, -(-len(shown) // 8))
    ticks = shown[::-1][::step][::-1]
    axis: dict[str, Any] = {
        "tickmode": "array",
        "tickvals": [_d(t) for t in ticks],
        "ticktext": quarter_tick_labels(ticks),
        "tickangle": 0,
    }
    if window and len(periods) > window:
        pad = dt.timedelta(days=45)
        axis["range"] = [_d(shown[0] - pad), _d(shown[-1] + pad)]
    return axis


def _cause_text(cause: str | None, rules: Sequence[str]) -> str:
    if not cause:
        return "Common cause variation"
    names = {
        "outside_limits": "outside the limits",
        "shift": "run",
        "trend": "trend",
        "two_of_three": "2 of 3 near a limit",
    }
    return f"Special cause ({cause}): " + ", ".join(names.get(r, r) for r in rules)


def peer_figure(**kwargs: Any) -> go.Figure:
    """The peers' chart as a Plotly Figure; see ``peer_chart``."""
    return go.Figure(peer_chart(**kwargs))


def peer_chart(
    *,
    title: str,
    unit_label: str,
    values: Sequence[tuple[str, float]],
    home: str,
    national: float | None,
    unit: str = "count",
    decimals: int | None = None,
    national_name: str = "England and Wales",
) -> dict[str, Any]:
    """Peers' values (home area highlighted) with the national figure as a reference line — only when it
    sits on the peers' scale; otherwise it is named in a note so it cannot squash the bars."""
    ordered = sorted(values, key=lambda item: item[1])
    bars = {
        "type": "bar",
        "x": [v for _, v in ordered],
        "y": [name for name, _ in ordered],
        "orientation": "h",
        "marker": {"color": [HOME if name == home else OTHER for name, _ in ordered]},
        "hovertemplate": "%{y}: %{x:,." + str(decimals if decimals is not None else 2) + "f}<extra></extra>",
        "name": "Peers",
    }
    layout = _layout_dict(title=title, y_title="", height=max(260, 40 + 28 * len(ordered)))
    top = max((v for _, v in ordered), default=0.0)
    if national is not None:
        label = f"{national_name} {format_value(national, unit, decimals)}"
        if 0 <= national <= top * 1.5:
            layout["shapes"] = [_vline(national, {"color": "#d4351c", "width": 2, "dash": "dash"})]
            note = {"x": national, "y": 1.06, "yref": "paper", "yanchor": "bottom", "text": label}
        else:  # far off the peers' scale (e.g. a national count): a note, not a line that squashes the bars
            note = {
                "x": 1,
                "xref": "paper",
                "y": 1.06,
                "yref": "paper",
                "yanchor": "bottom",
                "xanchor": "right",
                "text": f"{label} (off this scale)",
            }
        layout["annotations"] = [{**note, "showarrow": False, "font": {"size": 10, "color": "#d4351c"}}]
    if unit == "count":
        layout["xaxis"]["tickformat"] = ",." + str(decimals if decimals is not None else 0) + "f"
    layout["xaxis"]["title"] = {"text": unit_label}
    return {"data": [bars], "layout": layout}


def breakdown_figure(**kwargs: Any) -> go.Figure:
    """The breakdown's bar chart as a Plotly Figure; see ``breakdown_chart``."""
    return go.Figure(breakdown_chart(**kwargs))


def breakdown_chart(*, title: str, unit_label: str, values: Sequence[tuple[str, float | None]]) -> dict[str, Any]:
    shown = [(name, v) for name, v in values if v is not None]
    bars = {
        "type": "bar",
        "x": [name for name, _ in shown],
        "y": [v for _, v in shown],
        "marker": {"color": HOME},
        "hovertemplate": "%{x}: %{y:,.4~g}<extra></extra>",
        "name": title,
    }
    return {"data": [bars], "layout": _layout_dict(title=title, y_title=unit_label)}


def disproportionality_figure(**kwargs: Any) -> go.Figure:
    """The rate ratios' chart as a Plotly Figure (the PDF's); see ``disproportionality_chart``."""
    return go.Figure(disproportionality_chart(**kwargs))


def disproportionality_chart(
    *, title: str, reference: str, groups: Sequence[GroupRate], labels: dict[str, str]
) -> dict[str, Any]:
    """Each group's rate ratio against the reference group with its 95% interval (log scale), as plain
    figure data (the fairness page draws ten: Plotly's object model took four fifths of its server time)."""
    shown = [g for g in groups if g.ratio is not None]
    ratios = {
        "type": "scatter",
        "x": [g.ratio for g in shown],
        "y": [labels.get(g.category, g.category) for g in shown],
        "mode": "markers",
        "marker": {"size": 10, "color": [("#d4351c" if g.significant else "#505a5f") for g in shown]},
        "error_x": {
            "type": "data",
            "symmetric": False,
            "array": [(g.ci_upper or 0) - (g.ratio or 0) for g in shown],
            "arrayminus": [(g.ratio or 0) - (g.ci_lower or 0) for g in shown],
            "color": "#505a5f",
        },
        "hovertemplate": "%{y}: %{x:.2f} times<extra></extra>",
        "name": "Ratio",
    }
    bounds = [b for g in shown for b in (g.ci_lower, g.ci_upper, g.ratio) if b is not None and b > 0] + [1.0]
    tickvals, ticktext = log_ticks(min(bounds), max(bounds))
    layout = _layout_dict(title=title, height=max(240, 80 + 40 * len(shown)))
    layout["shapes"] = [_vline(1, {"color": "#0b0c0c", "width": 1})]
    layout["xaxis"].update(
        {
            "type": "log",
            "tickmode": "array",
            "tickvals": tickvals,
            "ticktext": ticktext,
            "title": {"text": f"Rate ratio against {labels.get(reference, reference)} (log scale; 1 = the same rate)"},
        }
    )
    return {"data": [ratios], "layout": layout}


def figure_json(fig: go.Figure | dict[str, Any]) -> Any:
    """A figure as plain JSON data for ``json_script``: a plain-dict chart as it is (pages apply the shared
    ``chart_template``), a Plotly Figure through Plotly's serialiser (template included)."""
    if isinstance(fig, dict):
        return fig
    return json.loads(pio.to_json(fig, validate=False, engine="json"))


@functools.cache
def chart_template() -> dict[str, Any]:
    """Plotly's default template as plain data: the look ``go.Figure`` gives a figure, sent once per page
    and applied to every plain-dict chart on it (``static/js/charts.js``)."""
    template: dict[str, Any] = json.loads(pio.to_json(go.Figure(), validate=False, engine="json"))["layout"]["template"]
    return template


def sparkline_points(values: Sequence[float | None], *, width: int = 120, height: int = 28) -> str:
    """An SVG polyline's points for a tile's sparkline (decorative: the tile states the figures)."""
    present = [(i, v) for i, v in enumerate(values) if v is not None]
    if len(present) < 2:
        return ""
    low = min(v for _, v in present)
    high = max(v for _, v in present)
    span = high - low or 1.0
    step = width / max(len(values) - 1, 1)
    return " ".join(f"{i * step:.1f},{height - 2 - (v - low) / span * (height - 4):.1f}" for i, v in present)

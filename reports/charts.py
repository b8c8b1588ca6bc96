"""Chart builders: one per chart type, each returning a Plotly figure. Pages draw them with the plotly.js
the plotly package ships; the PDF renders the same figures to SVG."""

from __future__ import annotations

import datetime as dt
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


def _layout(fig: go.Figure, *, title: str, y_title: str = "", height: int = 340) -> go.Figure:
    fig.update_layout(
        title={"text": title, "font": {"size": 15}},
        font={"family": FONT, "size": 12, "color": "#0b0c0c"},
        height=height,
        margin={"l": 60, "r": 20, "t": 50, "b": 50},
        plot_bgcolor="#ffffff",
        paper_bgcolor="#ffffff",
        legend={"orientation": "h", "y": -0.18},
        hoverlabel={"font": {"family": FONT}},
    )
    fig.update_yaxes(title_text=y_title, gridcolor="#e6e6e6", zeroline=False)
    fig.update_xaxes(gridcolor="#f3f3f3")
    return fig


def xmr_figure(
    *,
    title: str,
    unit_label: str,
    observations: Sequence[Any],
    spc: SpcResult,
    annotations: Sequence[tuple[dt.date, str]] = (),
    window: int | None = None,
    decimals: int | None = None,
    judged: bool = True,
) -> go.Figure:
    """The XmR chart: points coloured by special cause, mean and limits per segment, rebases marked; a
    missing quarter breaks the line; the axis reads in financial-year quarters. ``window``: the last N
    quarters are shown (the limits still come from the whole series; the rest is a zoom out away)."""
    fig = go.Figure()
    points = spc.points
    values = {o.period: o for o in observations}
    # A missing quarter is a hole in the line (None), never a segment drawn across it; so is a figure a
    # public output suppresses (``missing`` "c"), marked [c] instead of "missing".
    hidden = {o.period for o in observations if getattr(o, "missing", "") == "c"}
    gaps = set(spc.missing_quarters) | hidden
    ordered = sorted([(p.period, p) for p in points] + [(g, None) for g in gaps], key=lambda item: item[0])
    x = [when for when, _ in ordered]
    y = [p.value if p is not None else None for _, p in ordered]
    fig.add_trace(
        go.Scatter(
            x=x,
            y=y,
            connectgaps=False,
            mode="lines+markers",
            name="Value",
            line={"color": "#505a5f", "width": 1.5},
            marker={
                "color": [COLOURS[p.special_cause] if p is not None and judged else COLOURS[None] for _, p in ordered],
                "size": 8,
                "line": {"color": "#ffffff", "width": 1},
            },
            customdata=[
                [
                    period_label(when),
                    values[when].status if when in values else "",
                    _cause_text(p.special_cause, p.rules)
                    if p is not None
                    else ("suppressed [c]" if when in hidden else "missing"),
                ]
                for when, p in ordered
            ],
            hovertemplate="%{customdata[0]}: %{y:,."
            + str(decimals if decimals is not None else 2)
            + "f}<br>%{customdata[1]}<br>%{customdata[2]}<extra></extra>",
        )
    )
    for index, seg in enumerate(spc.segments):
        seg_points = [p for p in points if p.segment == index]
        if not seg_points:
            continue
        xs = [seg_points[0].period, seg_points[-1].period]
        first = index == 0
        fig.add_trace(
            go.Scatter(
                x=xs,
                y=[seg.mean] * 2,
                mode="lines",
                name="Mean",
                line={"color": "#0b0c0c", "width": 1.5},
                showlegend=first,
                hoverinfo="skip",
            )
        )
        if seg.upper_limit is not None and seg.lower_limit is not None:
            label = "Process limits (trial)" if seg.trial_limits else "Process limits"
            for bound in (seg.upper_limit, seg.lower_limit):
                fig.add_trace(
                    go.Scatter(
                        x=xs,
                        y=[bound] * 2,
                        mode="lines",
                        name=label,
                        line={"color": "#6f777b", "width": 1, "dash": "dash"},
                        showlegend=first and bound == seg.upper_limit,
                        hoverinfo="skip",
                    )
                )
        if index > 0:
            fig.add_vline(x=seg.start, line={"color": "#d4351c", "width": 1, "dash": "dot"})
            fig.add_annotation(
                x=seg.start,
                y=1,
                yref="paper",
                text=f"Rebased: {seg.reason or 'limits recalculated'}",
                showarrow=False,
                xanchor="left",
                font={"size": 10, "color": "#d4351c"},
            )
    for when, text in annotations:
        fig.add_vline(x=when, line={"color": "#505a5f", "width": 1, "dash": "dot"})
        fig.add_annotation(x=when, y=0.02, yref="paper", text=text, showarrow=False, xanchor="left", font={"size": 10})
    for gap in sorted(gaps):  # a missing quarter is marked on the chart, not only named in its text
        half = dt.timedelta(days=45)
        fig.add_vrect(x0=gap - half, x1=gap + half, fillcolor="#b1b4b6", opacity=0.25, line_width=0, layer="below")
        fig.add_annotation(
            x=gap,
            y=0.98,
            yref="paper",
            text="[c]" if gap in hidden else "missing",
            showarrow=False,
            font={"size": 9, "color": "#505a5f"},
        )
    _quarter_axis(fig, x, window=window)
    return _layout(fig, title=title, y_title=unit_label)


def _quarter_axis(fig: go.Figure, periods: Sequence[dt.date], *, window: int | None) -> None:
    """Ticks labelled "2023/24 Q4" at no more than eight quarters (labels that never run into each other,
    on a page or on paper); a window of the last N quarters."""
    if not periods:
        return
    shown = list(periods[-window:]) if window else list(periods)
    step = max(1, -(-len(shown) // 8))
    ticks = shown[::-1][::step][::-1]
    fig.update_xaxes(tickmode="array", tickvals=ticks, ticktext=quarter_tick_labels(ticks), tickangle=0)
    if window and len(periods) > window:
        pad = dt.timedelta(days=45)
        fig.update_xaxes(range=[shown[0] - pad, shown[-1] + pad])


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


def peer_figure(
    *,
    title: str,
    unit_label: str,
    values: Sequence[tuple[str, float]],
    home: str,
    national: float | None,
    unit: str = "count",
    decimals: int | None = None,
    national_name: str = "England and Wales",
) -> go.Figure:
    """Peers' values (home area highlighted) with the national figure as a reference line — only when it
    sits on the peers' scale; otherwise it is named in a note so it cannot squash the bars."""
    ordered = sorted(values, key=lambda item: item[1])
    fig = go.Figure(
        go.Bar(
            x=[v for _, v in ordered],
            y=[name for name, _ in ordered],
            orientation="h",
            marker={"color": [HOME if name == home else OTHER for name, _ in ordered]},
            hovertemplate="%{y}: %{x:,." + str(decimals if decimals is not None else 2) + "f}<extra></extra>",
            name="Peers",
        )
    )
    top = max((v for _, v in ordered), default=0.0)
    if national is not None:
        label = f"{national_name} {format_value(national, unit, decimals)}"
        if 0 <= national <= top * 1.5:
            fig.add_vline(x=national, line={"color": "#d4351c", "width": 2, "dash": "dash"})
            fig.add_annotation(
                x=national,
                y=1.06,
                yref="paper",
                yanchor="bottom",
                text=label,
                showarrow=False,
                font={"size": 10, "color": "#d4351c"},
            )
        else:  # far off the peers' scale (e.g. a national count): a note, not a line that squashes the bars
            fig.add_annotation(
                x=1,
                xref="paper",
                y=1.06,
                yref="paper",
                yanchor="bottom",
                xanchor="right",
                text=f"{label} (off this scale)",
                showarrow=False,
                font={"size": 10, "color": "#d4351c"},
            )
    fig.update_xaxes(tickformat=",." + str(decimals if decimals is not None else 0) + "f" if unit == "count" else None)
    return _layout(fig, title=title, y_title="", height=max(260, 40 + 28 * len(ordered))).update_xaxes(
        title_text=unit_label
    )


def breakdown_figure(*, title: str, unit_label: str, values: Sequence[tuple[str, float | None]]) -> go.Figure:
    shown = [(name, v) for name, v in values if v is not None]
    fig = go.Figure(
        go.Bar(
            x=[name for name, _ in shown],
            y=[v for _, v in shown],
            marker={"color": HOME},
            hovertemplate="%{x}: %{y:,.4~g}<extra></extra>",
            name=title,
        )
    )
    return _layout(fig, title=title, y_title=unit_label)


def disproportionality_figure(
    *, title: str, reference: str, groups: Sequence[GroupRate], labels: dict[str, str]
) -> go.Figure:
    """Each group's rate ratio against the reference group with its 95% interval (log scale)."""
    shown = [g for g in groups if g.ratio is not None]
    fig = go.Figure(
        go.Scatter(
            x=[g.ratio for g in shown],
            y=[labels.get(g.category, g.category) for g in shown],
            mode="markers",
            marker={"size": 10, "color": [("#d4351c" if g.significant else "#505a5f") for g in shown]},
            error_x={
                "type": "data",
                "symmetric": False,
                "array": [(g.ci_upper or 0) - (g.ratio or 0) for g in shown],
                "arrayminus": [(g.ratio or 0) - (g.ci_lower or 0) for g in shown],
                "color": "#505a5f",
            },
            hovertemplate="%{y}: %{x:.2f} times<extra></extra>",
            name="Ratio",
        )
    )
    fig.add_vline(x=1, line={"color": "#0b0c0c", "width": 1})
    bounds = [b for g in shown for b in (g.ci_lower, g.ci_upper, g.ratio) if b is not None and b > 0] + [1.0]
    tickvals, ticktext = log_ticks(min(bounds), max(bounds))
    fig.update_xaxes(
        type="log",
        tickmode="array",
        tickvals=tickvals,
        ticktext=ticktext,
        title_text=f"Rate ratio against {labels.get(reference, reference)} (log scale; 1 = the same rate)",
    )
    return _layout(fig, title=title, height=max(240, 80 + 40 * len(shown)))


def figure_json(fig: go.Figure) -> Any:
    """A figure as plain JSON data for ``json_script``."""
    return json.loads(pio.to_json(fig, validate=False, engine="json"))


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

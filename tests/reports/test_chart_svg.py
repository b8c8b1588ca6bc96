"""The server's SVG of an XmR chart (reports/chart_svg.py), drawn from the same figure data Plotly draws:
what a page shows at first paint and without JavaScript."""

import re
import xml.etree.ElementTree as ET

import pytest
from django.urls import reverse

from reports import charts
from reports.chart_svg import nice_ticks, tick_label, xmr_svg

from .test_charts import xmr_case
from .test_dashboards import build

NS = "{http://www.w3.org/2000/svg}"


def drawn(case=None, **changes):
    kwargs = {**(case or xmr_case()), **changes}
    figure = charts.xmr_chart(**kwargs)
    svg = xmr_svg(figure, labelled_by="xmr-T-caption")
    return figure, svg, ET.fromstring(svg)  # noqa: S314 - our own SVG: well-formed XML, or this raises


def paths(root, stroke, width=None):
    """The data's paths of this stroke (the plot area's nested SVG: the legend's samples aside)."""
    plot = root.find(f"{NS}svg")
    return [
        p.get("d")
        for p in plot.iter(f"{NS}path")
        if p.get("stroke") == stroke and width in (None, p.get("stroke-width")) and p.get("class") != "dot"
    ]


def test_the_svg_is_named_by_the_caption_and_hidden_from_a_screen_reader_that_reads_the_caption():
    _, _, root = drawn()
    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == "xmr-T-caption"
    assert root.get("aria-hidden") == "true"


def test_a_missing_or_suppressed_quarter_breaks_the_value_line():
    """The case has quarter 7 missing (before the window) and quarter 15 suppressed [c] (in it): the line is
    two runs in the window, one per side of the [c] quarter, never a segment across it."""
    figure, _, root = drawn()
    (line,) = paths(root, "#505a5f", "1.5")
    assert line.count("M") == 2
    value = figure["data"][0]
    gap = value["y"].index(None, 10)  # the suppressed quarter, inside the 12-quarter window
    assert value["y"][gap] is None
    case = xmr_case()
    case["window"] = None  # every quarter: both holes show
    _, _, root = drawn(case)
    assert paths(root, "#505a5f", "1.5")[0].count("M") == 3


def test_each_segment_has_its_own_mean_and_limits():
    """Rebased at the 13th quarter: two means, four limit segments (upper and lower per segment), the rebase
    line and its label."""
    case = xmr_case()
    case["window"] = None
    _, svg, root = drawn(case)
    (means,) = paths(root, "#0b0c0c")
    (limits,) = paths(root, "#6f777b")
    assert means.count("M") == 2 and means.count("H") == 2
    assert limits.count("M") == 4
    limit_ys = {float(m) for m in re.findall(r"M-?[\d.]+ (-?[\d.]+)H", limits)}
    assert len(limit_ys) == 4  # each segment its own limits
    assert "Rebased: Recording changed" in svg
    (rebase,) = paths(root, "#d4351c")
    assert rebase.count("V") == 1
    assert 'stroke-dasharray="3"' in svg  # Plotly's "dot" at 1 px
    assert 'stroke-dasharray="9"' in svg  # Plotly's "dash" at 1 px: the limits


def test_the_quarter_ticks_are_the_figures_and_a_phone_keeps_about_four():
    figure, _, root = drawn()
    axis = figure["layout"]["xaxis"]
    labels = [t for t in root.iter(f"{NS}text") if t.get("y") == "100%"]
    assert [t.text for t in labels] == axis["ticktext"]
    phone = [t.text for t in labels if "w" not in (t.get("class") or "").split()]
    assert 2 <= len(phone) <= 4  # charts.js' narrow keeps about four, counted from the last


def test_the_window_clips_the_quarters_before_it():
    """Twelve quarters shown out of 24: the x range is the figure's, the points before it are not drawn
    (the line only leaves the plot area towards its first point inside)."""
    _, _, root = drawn()
    (line,) = paths(root, "#505a5f", "1.5")
    xs = [int(x) for x in re.findall(r"[ML](-?\d+) ", line)]
    assert sum(x < 0 for x in xs) == 1 and all(x <= 1000 for x in xs)


def test_the_y_ticks_are_nice_numbers_written_as_plotly_writes_them():
    ticks, step = nice_ticks(2.2878, 3.1402)
    assert step == 0.2 and [tick_label(t, step) for t in ticks] == ["2.4", "2.6", "2.8", "3"]
    ticks, step = nice_ticks(9000, 31000)
    assert [tick_label(t, step) for t in ticks] == ["10k", "15k", "20k", "25k", "30k"]
    assert tick_label(12500, 2500) == "12.5k"
    assert tick_label(-5, 5) == "\u22125"
    _, _, root = drawn()
    ys = [t.text for t in root.iter(f"{NS}text") if t.get("text-anchor") == "end"]
    assert ys == ["10", "15", "20", "25"]


def test_every_text_is_escaped():
    case = xmr_case()
    case["title"] = 'Knife crime <5 & "other"'
    case["unit_label"] = "Rate <per> 1,000"
    case["annotations"] = [(case["observations"][-3].period, "<script>alert(1)</script> & co")]
    _, svg, root = drawn(case)
    assert "<script>" not in svg
    texts = [t.text for t in root.iter(f"{NS}text")]
    assert 'Knife crime <5 & "other"' in texts  # parsed back: escaped in the SVG, the same text read
    assert "Rate <per> 1,000" in texts
    assert "<script>alert(1)</script> & co" in texts


def test_markers_are_one_path_per_colour_with_one_white_edge():
    figure, _, root = drawn()
    dots = [p for p in root.iter(f"{NS}path") if p.get("class") == "dot"]
    colours = [p.get("stroke") for p in dots]
    assert colours[0] == "#ffffff" and len(colours) == len(set(colours))
    value = figure["data"][0]
    shown = len([p for p in dots[0].get("d").split("M") if p])
    assert shown == sum(1 for c in dots[1:] for p in c.get("d").split("M") if p)
    assert shown <= len([y for y in value["y"] if y is not None])
    assert set(colours[1:]) <= set(value["marker"]["color"])


@pytest.mark.django_db
def test_a_priority_page_carries_one_server_svg_per_chart(client, users):
    build(6)  # metrics 0 and 3 are in priority p0
    client.force_login(users["board_member"])
    html = client.get(reverse("dashboard-priority", args=["p0"])).content.decode()
    plots = re.findall(
        r'<div class="plot" id="(xmr-[^"]+)" data-figure="[^"]+" data-drawn="static">(.*?)</div>', html, re.S
    )
    assert len(plots) == 2 == html.count('<svg class="xmr-svg"')
    for fig_id, inner in plots:
        assert inner.startswith('<svg class="xmr-svg"') and inner.endswith("</svg>")
        assert f'aria-labelledby="{fig_id}-caption"' in inner
        assert f'<figcaption id="{fig_id}-caption">' in html
        ET.fromstring(inner)  # noqa: S314 - the page's own SVG

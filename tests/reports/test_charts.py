"""The pages' charts are plain figure data (no Plotly object model on the server): the same figures
Plotly's own builders made, valid Plotly, drawn with one shared template per page."""

import json
import re
from pathlib import Path

import pandas as pd
import pytest
from django.urls import reverse

from metrics.quarters import Quarter
from metrics.stats.disproportionality import GroupRate
from metrics.stats.spc import xmr
from reports import charts

from .test_dashboards import build

GOLDEN = Path(__file__).parent / "golden" / "plotly_figures_before_plain_dicts.json"


class Obs:
    def __init__(self, period, value, missing=""):
        self.period, self.value, self.status, self.missing = period, value, "final", missing


def xmr_case():
    """Rebased limits, a missing quarter, a suppressed quarter, an annotation and a window."""
    periods = [Quarter(2018, 1).shift(k).end_date for k in range(24) if k not in (7, 15)]
    values = [10 + (k % 5) + (8 if k > 12 else 0) for k in range(len(periods))]
    observations = [Obs(p, v) for p, v in zip(periods, values, strict=True)]
    observations.append(Obs(Quarter(2018, 1).shift(15).end_date, None, "c"))
    spc = xmr(
        pd.Series(values, index=periods, dtype=float),
        rebases=[periods[12]],
        rebase_reasons=["Recording changed"],
        direction="higher_is_better",
    )
    return {
        "title": "T",
        "unit_label": "Count",
        "observations": observations,
        "spc": spc,
        "window": 12,
        "decimals": 1,
        "annotations": [(periods[3], "Note")],
    }


CASES = {
    "xmr00": (charts.xmr_chart, xmr_case),
    "peer1": (
        charts.peer_chart,
        lambda: {
            "title": "P",
            "unit_label": "U",
            "values": [("A", 10.0), ("B", 7.5), ("C", 12.25)],
            "home": "B",
            "national": 1000.0,
            "unit": "count",
            "decimals": 2,
            "national_name": "E&W",
        },
    ),
    "dp": (
        charts.disproportionality_chart,
        lambda: {
            "title": "R",
            "reference": "white",
            "labels": {"white": "White", "black": "Black", "asian": "Asian"},
            "groups": [
                GroupRate("black", 120, 15000, 8.0, 4.0, 3.2, 5.0, True),
                GroupRate("asian", 30, 20000, 1.5, 0.75, 0.5, 1.1, False),
                GroupRate("mixed", 0, 100, 0.0, None, None, None, None, "no ratio"),
            ],
        },
    ),
    "bd": (
        charts.breakdown_chart,
        lambda: {"title": "B", "unit_label": "U", "values": [("x", 1.0), ("y", None), ("z", 3.5)]},
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_plain_dict_charts_are_the_figures_plotly_built_before(name):
    """The JSON the go.Figure builders gave (recorded before the rewrite, template aside) is what the
    plain-dict builders give now: same traces, points, colours, limits, shapes, notes and axes."""
    build, kwargs = CASES[name]
    expected = json.loads(GOLDEN.read_text())[name]
    assert json.loads(json.dumps(build(**kwargs()))) == expected


@pytest.mark.parametrize("name", list(CASES))
def test_plain_dict_charts_are_valid_plotly_that_plotly_leaves_unchanged(name):
    """go.Figure validates every property (a misspelt one raises) and gives back the same data with its
    default template, which is the one pages send once and apply to each chart."""
    build, kwargs = CASES[name]
    data = json.loads(json.dumps(build(**kwargs())))
    via_plotly = charts.figure_json(charts.as_figure(data))
    assert via_plotly["layout"].pop("template") == charts.chart_template()
    assert via_plotly == data


def test_the_xmr_chart_has_its_value_mean_and_limit_traces():
    chart = charts.xmr_chart(**xmr_case())
    names = [t["name"] for t in chart["data"]]
    assert names == ["Value"] + ["Mean", "Process limits (trial)", "Process limits (trial)"] * 2  # 12 and 10 points
    value = chart["data"][0]
    assert None in value["y"]  # the missing and the suppressed quarters break the line
    assert len(value["x"]) == len(value["y"]) == len(value["marker"]["color"]) == 24
    assert "template" not in chart["layout"]


@pytest.mark.django_db
def test_a_priority_page_sends_each_chart_without_the_template_and_the_template_once(client, users):
    build(6)  # metrics 0 and 3 are in priority p0
    client.force_login(users["board_member"])
    response = client.get(reverse("dashboard-priority", args=["p0"]))
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count('id="chart-template"') == 1
    figures = re.findall(r'<script id="xmr-[^"]+-data" type="application/json">(.*?)</script>', html, re.S)
    assert len(figures) == 2
    for text in figures:
        figure = json.loads(text)
        assert "template" not in figure["layout"]
        assert [t["name"] for t in figure["data"]][:2] == ["Value", "Mean"]
    assert re.search(r'<script[^>]+vendor/plotly/plotly-basic\.min\.js"[^>]*\sdefer', html)


# The pages load plotly.js's basic bundle (static/vendor/plotly, plotly.js-basic-dist-min): its trace types only.
BASIC_BUNDLE_TRACES = {"scatter", "bar", "pie"}


def test_the_vendored_bundle_is_the_basic_one_at_the_plotly_packages_version():
    import plotly

    vendored = Path(__file__).resolve().parents[2] / "static" / "vendor" / "plotly"
    assert (vendored / "LICENSE").read_text().startswith("MIT License")
    package = json.loads((vendored / "package.json").read_text())
    assert package["name"] == "plotly.js-basic-dist-min"
    head = (vendored / "plotly-basic.min.js").read_text()[:200]
    full = (Path(plotly.__file__).parent / "package_data" / "plotly.min.js").read_text()[:200]
    version = re.search(r"plotly\.js \(basic - minified\) v([\d.]+)", head)
    assert version and version.group(1) == package["version"]
    assert re.search(r"plotly\.js v([\d.]+)", full).group(1) == package["version"]  # the PDF's (kaleido) too


@pytest.mark.django_db
def test_every_chart_the_pages_draw_is_a_trace_type_of_the_basic_bundle(client, users):
    from frameworks.models import Breakdown, BreakdownCategory

    from ..factories import ObservationFactory

    _, area, metrics = build(3)
    breakdown = Breakdown.objects.create(code="sex", name="Sex")
    metrics[0].breakdowns.add(breakdown)
    for code in ("female", "male"):
        category = BreakdownCategory.objects.create(breakdown=breakdown, code=code, name=code.title())
        ObservationFactory(
            metric=metrics[0], area=area, period=Quarter(2021, 1).shift(7).end_date, category=category, value=40
        )
    client.force_login(users["board_member"])
    types = set()
    for url in (reverse("dashboard-metric", args=["M000"]), reverse("dashboard-priority", args=["p0"])):
        html = client.get(url).content.decode()
        for text in re.findall(r'<script id="[^"]+-data" type="application/json">(.*?)</script>', html, re.S):
            types |= {trace.get("type", "scatter") for trace in json.loads(text)["data"]}
    assert {"scatter", "bar"} <= types <= BASIC_BUNDLE_TRACES
    ratios = charts.disproportionality_chart(title="T", reference="white", groups=[], labels={})
    assert {trace["type"] for trace in ratios["data"]} <= BASIC_BUNDLE_TRACES  # the fairness page's chart


def test_a_run_of_missing_quarters_has_one_label_not_one_each():
    """Four missing quarters side by side drew "missingmissingmissingmissing" over each other on a phone."""
    case = xmr_case()
    gone = {Quarter(2018, 1).shift(k).end_date for k in (16, 17, 18, 19)}
    case["observations"] = [o for o in case["observations"] if o.period not in gone]
    kept = [o for o in case["observations"] if o.value is not None]
    case["spc"] = xmr(pd.Series([o.value for o in kept], index=[o.period for o in kept], dtype=float))
    notes = [a["text"] for a in charts.xmr_chart(**case)["layout"]["annotations"]]
    assert notes.count("missing") == 2  # quarter 7 alone, then 16 to 19 as one run
    assert notes.count("[c]") == 1

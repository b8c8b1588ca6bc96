"""Dashboards on the real demo data in a real browser: charts draw with no console error, filters live in
the URL, downloads hold what the table shows, and axe-core finds no serious or critical violation."""

import csv
import io

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.core.management import call_command
from playwright.sync_api import expect

from accounts.models import Role

from ..factories import UserFactory
from .conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def watch(page):
    problems = []
    page.on("console", lambda m: problems.append(f"{m.type}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(f"pageerror: {e}"))
    return problems


def serious_violations(page):
    results = Axe().run(page)
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def test_dashboards_on_demo_data(new_page):
    call_command("seed_demo", stdout=io.StringIO())
    UserFactory(username="member", role=Role.BOARD_MEMBER)
    page = new_page()
    problems = watch(page)
    log_in(page, "member")

    # Overview: tiles, summary, filters in the URL.
    page.goto("/dashboard/")
    assert page.get_by_role("heading", name="Staffordshire LCJB Performance Framework (demo)").is_visible()
    assert page.locator(".tile").count() >= 20
    assert page.locator(".summary-strip").inner_text().count("\n") >= 4
    assert serious_violations(page) == []
    page.get_by_label("Area").select_option(label="Derbyshire")
    page.get_by_label("Priority").select_option(label="Offending")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url("**/dashboard/?area=derbyshire*priority=offending*")
    assert "Derbyshire, figures to" in page.locator(".lede").inner_text()
    assert page.get_by_role("heading", name="Fairness").count() == 0
    page.go_back()
    page.wait_for_url("**/dashboard/")
    assert "Staffordshire, figures to" in page.locator(".lede").inner_text()

    # A metric page: the XmR chart and the peer chart draw (Plotly's chart in place of the server's SVG);
    # the download holds the table.
    page.get_by_role("link", name="Police recorded crime (excluding fraud)", exact=True).click()
    page.wait_for_selector('#xmr[data-drawn="true"]')
    page.wait_for_selector('#peers[data-drawn="true"]')  # below the first screen: drawn after it, unscrolled
    assert page.locator("#xmr .main-svg").count() >= 1
    assert page.locator("#xmr svg.xmr-svg").count() == 0  # replaced, not left beneath
    # Drawn with the page's shared template (Plotly's default look), not plotly.js's bare defaults.
    assert page.evaluate("document.getElementById('xmr').layout.template.layout.colorway.length") >= 10
    assert "latest 21,212 in 2023/24 Q4" in page.locator("#xmr-caption").inner_text()
    table_rows = page.locator("#data-table tbody tr").all_inner_texts()
    with page.expect_download() as info:
        page.get_by_role("link", name="Download CSV").click()
    text = info.value.path().read_text(encoding="utf-8-sig")
    data = list(csv.reader(io.StringIO(text[text.index("quarter,label,value") :])))
    assert len(data) - 1 == len(table_rows)
    assert data[-1][1] == "2023/24 Q4"
    assert data[-1][2] == "21212"  # at the metric's precision (a full-precision column follows)
    assert table_rows[-1].startswith("2023/24 Q4\t21,212")
    assert serious_violations(page) == []

    # A priority page: the charts of the first screen are drawn first, as soon as plotly.js has run (before
    # DOMContentLoaded is reported: no wait for a frame or an observer), the ones further down after them,
    # one per task, without any scrolling.
    page.add_init_script(
        "document.addEventListener('DOMContentLoaded', () => { const el = document.querySelector('[data-figure]');"
        " window.firstDrawnAtDcl = !!el && el.getAttribute('data-drawn') === 'true'; });"
    )
    page.goto("/dashboard/priority/offending/")
    assert page.evaluate("window.firstDrawnAtDcl") is True
    charts = page.locator("[data-figure]")
    assert charts.count() >= 3
    last = charts.nth(charts.count() - 1)
    expect(last).to_have_attribute("data-drawn", "true", timeout=15_000)  # no eval: the CSP forbids it
    assert page.locator("svg.xmr-svg").count() == 0  # every server SVG replaced by Plotly's chart
    order = [int(charts.nth(i).get_attribute("data-drawing")) for i in range(charts.count())]
    assert order[0] == 1 and order[-1] == max(order)  # top first, the bottom one last
    # The hints charts.js gives Plotly to draw faster (a bottom margin learnt from the chart before, no
    # label-by-label overflow check) change nothing drawn: each chart has the plot area and tick labels Plotly
    # gives the bare figure, and keeps the figure's own margin for a resize.
    same = page.evaluate(
        """() => Promise.all([...document.querySelectorAll('[data-figure]')].map(el => {
          const fig = JSON.parse(document.getElementById(el.getAttribute('data-figure')).textContent);
          fig.layout.template = JSON.parse(document.getElementById('chart-template').textContent);
          const div = document.createElement('div');
          div.style.width = el.clientWidth + 'px';
          document.body.appendChild(div);
          return Plotly.newPlot(div, fig.data, fig.layout).then(() => {
            const labels = g => [...g.querySelectorAll('.xtick text, .ytick text')]
              .map(t => t.textContent + ':' + t.style.display).join('|');
            const a = el._fullLayout._size, b = div._fullLayout._size;
            const same = ['l', 'r', 't', 'b', 'w', 'h'].every(k => a[k] === b[k]) && labels(el) === labels(div)
              && el.layout.margin.b === fig.layout.margin.b;
            Plotly.purge(div);
            div.remove();
            return same;
          });
        }))"""
    )
    assert same == [True] * charts.count()

    # The fairness view: ratios with intervals, in words, chart and table.
    page.goto("/dashboard/fairness/?area=metropolitan")
    page.wait_for_selector('[data-drawn="true"]')
    assert page.get_by_text("does not show why").is_visible()
    assert page.get_by_text("The rate for Black people was 2.8 times the rate for White people").first.is_visible()
    assert page.locator(".fairness-table").first.locator("tbody tr").count() == 4
    assert serious_violations(page) == []

    assert problems == []


def test_charts_without_javascript_are_the_servers_svg(browser, live_server):
    """With JavaScript off, each XmR chart of a priority page and of a metric page is the server's SVG
    (data-drawn "static"): the plot area in the figure's margins, the legend and the markers. With plotly.js
    not loaded (the same SVG, JavaScript on: axe-core needs it) axe-core finds no serious or critical
    violation (the SVG is hidden from a screen reader: the caption is its text)."""
    call_command("seed_demo", stdout=io.StringIO())
    UserFactory(username="member", role=Role.BOARD_MEMBER)
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    context.set_default_timeout(15_000)
    try:
        page = context.new_page()
        log_in(page, "member")
        page.goto("/dashboard/priority/offending/")
        charts = page.locator("[data-figure]")
        assert charts.count() >= 3
        for i in range(charts.count()):
            chart = charts.nth(i)
            assert chart.get_attribute("data-drawn") == "static"
            svg = chart.locator("svg.xmr-svg")
            assert svg.count() == 1
            assert svg.get_attribute("aria-hidden") == "true"
            assert svg.get_attribute("aria-labelledby") == chart.get_attribute("id") + "-caption"
        box = charts.first.locator("svg.xmr-svg").bounding_box()
        assert box is not None and box["height"] == pytest.approx(211, abs=1)  # Plotly's plot area at 1280 px
        assert charts.first.bounding_box()["height"] == pytest.approx(340, abs=1)  # and its height: nothing moves
        first = charts.first.locator("svg.xmr-svg")
        assert first.locator("text", has_text="Process limits").count() == 1
        assert first.locator("path.dot").count() >= 2  # the white edges and a colour at least
        assert page.locator(".main-svg").count() == 0
        page.goto("/dashboard/metric/OFF01/")
        assert page.locator('#xmr[data-drawn="static"] svg.xmr-svg').count() == 1
    finally:
        context.close()
    context = browser.new_context(base_url=live_server.url)
    context.set_default_timeout(15_000)
    context.route("**/plotly-basic*.js", lambda route: route.abort())
    try:
        page = context.new_page()
        log_in(page, "member")
        page.goto("/dashboard/priority/offending/")
        assert page.locator('[data-drawn="static"] svg.xmr-svg').count() >= 3
        assert serious_violations(page) == []
    finally:
        context.close()

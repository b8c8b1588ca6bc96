"""The public dashboard by local area in a real browser, without logging in: the index and a local page open,
the charts draw, a small count shows [c] everywhere (tiles, text, tables, chart data, CSV), nothing from
after the published snapshot or from a management-information measure appears, axe-core finds no serious
violation, and the page works 390 px wide. Then the demo's pages, with screenshots at 1280 and 390 px."""

import io
import os
from pathlib import Path

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from ..reports.test_local_dashboards import HIDDEN, MI_NAME, UNPUBLISHED, build_world
from ..reports.test_public_edition import numbers_in
from .test_dashboards import serious_violations, watch

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def wait_for_every_chart(page):
    """Charts below the first screen are drawn after it, while the browser is idle: wait for all of them."""
    # Playwright's own selector engine, not a JavaScript string: the page's CSP forbids eval.
    expect(page.locator(".plot:not([data-drawn])")).to_have_count(0, timeout=15_000)


def no_sideways_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_a_local_page_without_login_hides_small_numbers_and_reads_on_a_phone(new_page, settings):
    settings.PCC_PERF_SUPPRESSION_THRESHOLD = 50
    build_world()
    page = new_page()
    problems = watch(page)
    page.goto("/public/areas/")
    assert page.get_by_role("heading", name="Crime and justice in your area").is_visible()
    assert serious_violations(page) == []
    page.get_by_role("link", name="North District").click()
    page.wait_for_url("**/public/areas/north-district/")
    page.wait_for_selector("#xmr-CRM02[data-drawn]")
    page.wait_for_selector("#cmp-CRM02[data-drawn]")
    wait_for_every_chart(page)
    plots = page.locator(".plot")
    assert plots.count() >= 3
    for i in range(plots.count()):
        assert plots.nth(i).get_attribute("data-drawn") == "true"
        assert plots.nth(i).locator(".main-svg").count() >= 1
    # The small count and the second one hidden with it: [c] in the tile, the text, the tables and the chart
    # data; none of their numbers anywhere in the page (including its scripts' JSON).
    tile = page.locator(".tile").filter(has_text="Recorded crime per 1000 residents")
    assert "[c]" in tile.inner_text()
    text = page.locator("main").inner_text()
    assert "is suppressed [c] to protect small numbers" in text
    html = page.content()
    assert not numbers_in(html) & HIDDEN, numbers_in(html) & HIDDEN
    assert MI_NAME not in html and UNPUBLISHED not in numbers_in(html)
    assert serious_violations(page) == []
    with page.expect_download() as info:
        page.get_by_role("link", name="Download the figures on this page (CSV)").click()
    csv_text = info.value.path().read_text(encoding="utf-8-sig")
    assert "[c]" in csv_text and not numbers_in(csv_text) & HIDDEN and MI_NAME not in csv_text
    # A phone, 390 px wide: no sideways scrolling of the page, charts still drawn within the width.
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    page.wait_for_selector("#xmr-CRM02[data-drawn]")
    assert no_sideways_scroll(page)
    box = page.locator("#xmr-CRM02").bounding_box()
    assert box is not None and box["width"] <= 390
    assert serious_violations(page) == []
    assert problems == []


def test_the_demo_local_pages_with_screenshots(new_page, tmp_path):
    call_command("seed_demo", stdout=io.StringIO())
    out = Path(os.environ.get("PCC_PERF_SCREENSHOTS", tmp_path))
    out.mkdir(parents=True, exist_ok=True)
    page = new_page()
    problems = watch(page)
    page.goto("/public/areas/")
    for name in ["Cannock Chase", "Stoke-on-Trent", "Staffordshire County Council area", "Tamworth"]:
        assert page.get_by_role("link", name=name, exact=True).is_visible()
    page.get_by_role("link", name="Cannock Chase", exact=True).click()
    page.set_viewport_size({"width": 1280, "height": 900})
    page.wait_for_selector("#xmr-OFF02[data-drawn]")
    page.wait_for_selector("#cmp-CSS01[data-drawn]")
    wait_for_every_chart(page)
    text = page.locator("main").inner_text()
    assert "Illustrative figures, made up for the demonstration" in text
    assert "Crime severity score" in text and "cannot be compared with" in text
    assert "Published for Staffordshire County Council area, which includes Cannock Chase" in text
    assert serious_violations(page) == []
    page.screenshot(path=str(out / "local-1280.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    page.wait_for_selector("#xmr-OFF02[data-drawn]")
    wait_for_every_chart(page)
    assert no_sideways_scroll(page)
    assert serious_violations(page) == []
    page.screenshot(path=str(out / "local-390.png"), full_page=True)
    assert problems == []

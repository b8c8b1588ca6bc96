"""The audit trail in a real browser: a manager finds a corrected value by filtering, reads it in words, and
the page fits 1280 px and 390 px with no sideways scroll; axe-core finds no serious or critical violation.
Screenshots at both widths go to ``PCC_PERF_SCREENSHOTS`` (or the test's temporary folder)."""

import os
from pathlib import Path

import pytest

from ..metrics.test_audit_trail import trail  # noqa: F401  (the fixture: a return corrected by a second file)
from .conftest import log_in
from .test_dashboards import serious_violations, watch

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def no_sideways_scroll(page):
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_a_manager_finds_a_corrected_value_in_words_at_both_widths(new_page, trail, tmp_path):  # noqa: F811
    out = Path(os.environ.get("PCC_PERF_SCREENSHOTS", tmp_path))
    out.mkdir(parents=True, exist_ok=True)
    page = new_page()
    problems = watch(page)
    page.set_viewport_size({"width": 1280, "height": 900})
    log_in(page, "manager")
    page.get_by_role("link", name="Audit trail").click()
    page.get_by_label("Action").select_option(label="Return value changed")
    page.get_by_label("Agency").select_option(label="Staffordshire Police")
    page.get_by_role("button", name="Filter").click()
    table = page.locator("table.audit").inner_text()
    assert "Police recorded crime (OFF01) · Staffordshire · 2024/25 Q1 · Offence group: Robbery" in table
    assert "96.2% (1,400 of 1,455)" in table and "97.6% (1,420 of 1,455)" in table
    assert "3 events match the filters" in page.locator("main").inner_text()
    assert "{'" not in table
    assert no_sideways_scroll(page)
    assert serious_violations(page) == []
    page.screenshot(path=str(out / "audit-1280.png"), full_page=True)

    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    assert no_sideways_scroll(page)
    assert serious_violations(page) == []
    page.screenshot(path=str(out / "audit-390.png"), full_page=True)

    # Everything, unfiltered, fits too (framework file events are the longest lines).
    page.get_by_role("link", name="Clear filters").click()
    assert no_sideways_scroll(page)
    page.set_viewport_size({"width": 1280, "height": 900})
    assert no_sideways_scroll(page)

    # A bad date range is named, not ignored.
    page.get_by_label("From (date)").fill("2024-07-02")
    page.get_by_label("To (date)").fill("2024-07-01")
    page.get_by_role("button", name="Filter").click()
    assert page.get_by_role("alert").inner_text().count("The end date must be on or after the start date.") == 1
    assert serious_violations(page) == []
    assert problems == [] or all("400" in p for p in problems), problems

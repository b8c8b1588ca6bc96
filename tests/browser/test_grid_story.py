"""The return grid in a real browser (issue 17): 'abc' typed in one box is reported on that box, the error
summary's link moves to it, the analyst corrects and submits; after approval a reopen and a save with no
change make no revision. axe-core finds no serious or critical violation on the grid or the login page."""

import os

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from accounts.audit import AuditAction
from accounts.models import Agency, AuditEvent, Role
from metrics.catalogue.load import framework_load
from metrics.models import Observation
from metrics.returns.services import round_open

from ..factories import UserFactory
from ..metrics.returns_setup import DUE, FRAMEWORK, PERIOD, approved_history
from .conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = os.environ.get("PCC_PERF_SCREENSHOTS")  # a folder to keep the grid's screenshots in


def serious_violations(page):
    results = Axe().run(page)
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def test_an_error_on_its_cell_then_a_reopen_saved_unchanged_is_no_revision(new_page):
    framework = framework_load(text=FRAMEWORK).framework
    police = Agency.objects.get(code="police")
    manager_user = UserFactory(username="manager", role=Role.PERFORMANCE_MANAGER, email="pm@opcc.example")
    UserFactory(username="analyst", role=Role.ANALYST, agency=police, email="analyst@police.example")
    approved_history({"police": police})
    return_obj = round_open(actor=manager_user, framework=framework, period=PERIOD, due_date=DUE).returns.get(
        agency=police
    )
    return_url = f"/returns/{return_obj.pk}/"

    analyst = new_page()
    analyst.goto("/accounts/login/")
    assert serious_violations(analyst) == []
    if SCREENSHOTS:
        analyst.screenshot(path=os.path.join(SCREENSHOTS, "login.png"), full_page=True)
    log_in(analyst, "analyst")
    analyst.goto(return_url)
    total = analyst.get_by_label("OFF01 Staffordshire total: value")
    fair03 = analyst.get_by_label("FAIR03 Staffordshire total: value")
    expect(total).to_have_attribute("inputmode", "decimal")
    total.fill("5300")
    analyst.get_by_label("OFF01 Staffordshire violence against the person: value").fill("5100")
    analyst.get_by_label("OFF01 Staffordshire robbery: value").fill("200")
    fair03.fill("abc")
    analyst.get_by_role("button", name="Save draft").click()

    summary = analyst.locator(".govuk-error-summary")
    expect(summary).to_be_visible()
    link = summary.get_by_role("link")
    expect(link).to_have_count(1)
    expect(link).to_have_text("FAIR03 total, value: 'abc' is not a number")
    expect(fair03).to_have_attribute("aria-invalid", "true")
    expect(fair03).to_have_value("abc")
    expect(analyst.locator("[aria-invalid='true']")).to_have_count(1)
    cell_error = analyst.locator("#div_id_l3-value .govuk-error-message")
    expect(cell_error).to_contain_text("'abc' is not a number")
    expect(total).to_have_value("5300")  # the rest of what was typed is kept
    assert serious_violations(analyst) == []
    if SCREENSHOTS:
        analyst.screenshot(path=os.path.join(SCREENSHOTS, "grid-error.png"), full_page=True)
    link.click()
    expect(fair03).to_be_focused()

    fair03.fill("")
    analyst.get_by_label("FAIR03 total: numerator").fill("1400")
    analyst.get_by_label("FAIR03 total: denominator").fill("1455")
    analyst.get_by_role("button", name="Save draft").click()
    expect(analyst.get_by_text("Saved as a draft")).to_be_visible()
    expect(analyst.locator(".govuk-error-summary")).to_have_count(0)
    expect(fair03).to_have_value("96.21993127147766")  # every stored digit, not 96.21993127
    if SCREENSHOTS:
        analyst.screenshot(path=os.path.join(SCREENSHOTS, "grid-saved.png"), full_page=True)
    assert serious_violations(analyst) == []
    comments = analyst.get_by_label("Your comment")
    for index in range(comments.count()):  # a warning needs the analyst's word before the return can go
        comments.nth(index).fill("Checked: the figures are as recorded.")
    if comments.count():
        analyst.get_by_role("button", name="Save comments").click()
    analyst.get_by_role("button", name="Submit to the commissioner's office").click()
    expect(analyst.locator("#return-state")).to_have_text("Submitted")

    manager = new_page()
    log_in(manager, "manager")
    manager.goto("/returns/")  # the tracker, with its round form through crispy-forms-gds
    expect(manager.get_by_label("Quarter")).to_have_attribute("aria-describedby", "id_period_hint")
    assert serious_violations(manager) == []
    if SCREENSHOTS:
        manager.screenshot(path=os.path.join(SCREENSHOTS, "tracker.png"), full_page=True)
    manager.goto(return_url)
    manager.get_by_role("button", name="Approve").click()
    expect(manager.locator("#return-state")).to_have_text("Approved")
    manager.get_by_label("Reason for reopening").fill("Checking the ethnicity figure again.")
    manager.get_by_role("button", name="Reopen for changes").click()

    # Reopened: saved again without a change, submitted and approved — no value changed, nothing revised.
    changed_before = AuditEvent.objects.filter(action=AuditAction.RETURN_VALUE_CHANGED).count()
    analyst.goto(return_url)
    analyst.get_by_role("button", name="Save draft").click()
    expect(analyst.get_by_text("Saved as a draft")).to_be_visible()
    assert AuditEvent.objects.filter(action=AuditAction.RETURN_VALUE_CHANGED).count() == changed_before
    analyst.get_by_role("button", name="Submit to the commissioner's office").click()
    manager.goto(return_url)
    manager.get_by_role("button", name="Approve").click()
    expect(manager.locator("#return-state")).to_have_text("Approved")
    assert not AuditEvent.objects.filter(action=AuditAction.OBSERVATION_REVISED).exists()
    assert not Observation.objects.filter(status="revised").exists()
    expect(manager.get_by_role("heading", name="Revisions")).to_have_count(0)

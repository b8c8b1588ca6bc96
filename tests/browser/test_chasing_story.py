"""Chasing a late return in a real browser (issue 17): the manager goes from the home page's late agencies to
the tracker, sends a reminder and reads who was e-mailed; an agency nobody can be e-mailed at is named, a shared
mailbox is added on the agencies page and the reminder then reaches it. axe-core finds no serious or critical
violation on the tracker, the agencies page or the contacts form."""

import datetime as dt

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import Agency, Role
from metrics.catalogue.load import framework_load
from metrics.returns.services import round_open

from ..factories import UserFactory
from ..metrics.returns_setup import FRAMEWORK, PERIOD
from .conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def serious_violations(page):
    results = Axe().run(page)
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def test_the_manager_chases_a_late_agency_and_sees_who_was_emailed(new_page, mailoutbox):
    framework = framework_load(text=FRAMEWORK).framework
    police = Agency.objects.get(code="police")
    manager_user = UserFactory(username="manager", role=Role.PERFORMANCE_MANAGER, email="pm@opcc.example")
    UserFactory(
        username="analyst",
        role=Role.ANALYST,
        agency=police,
        email="analyst@police.example",
        first_name="Alex",
        last_name="Reid",
    )
    round_open(
        actor=manager_user, framework=framework, period=PERIOD, due_date=timezone.localdate() - dt.timedelta(days=7)
    )
    mailoutbox.clear()

    page = new_page()
    log_in(page, "manager")
    late = page.locator("section", has=page.get_by_role("heading", name="Late agencies"))
    expect(late.get_by_text("Staffordshire Police: 2024/25 Q1")).to_be_visible()
    late.get_by_role("link", name="Chase late agencies from the returns tracker").click()
    page.wait_for_url("**/returns/")
    row = page.locator("tr", has_text="Staffordshire Police")
    expect(row.get_by_text("analyst@police.example")).to_be_visible()
    expect(page.get_by_text("No one at HM Prison and Probation Service has an e-mail address").first).to_be_visible()
    assert serious_violations(page) == []

    page.get_by_role("button", name="Send reminder to Staffordshire Police").click()
    expect(
        page.get_by_text(
            "Reminder about the 2024/25 Q1 return sent to Staffordshire Police: Alex Reid (analyst@police.example)."
        )
    ).to_be_visible()
    expect(page.locator("tr", has_text="Staffordshire Police").get_by_text("Reminded; next after")).to_be_visible()
    assert [m.to for m in mailoutbox] == [["analyst@police.example"]]
    assert serious_violations(page) == []

    page.get_by_role("button", name="Send reminder to HM Prison and Probation Service").click()
    expect(
        page.get_by_text("No one at HM Prison and Probation Service has an e-mail address — add a contact.")
    ).to_be_visible()
    assert len(mailoutbox) == 1

    # Add the prison service's shared mailbox, then chase again.
    page.get_by_role("link", name="Agencies and contacts").click()
    page.wait_for_url("**/agencies/")
    assert serious_violations(page) == []
    page.get_by_role("link", name="Change the contacts of HM Prison and Probation Service").click()
    assert serious_violations(page) == []
    page.get_by_label("Shared mailbox").fill("not an address")
    page.get_by_role("button", name="Save contacts").click()
    expect(page.get_by_role("link", name="Enter a valid email address.")).to_be_visible()
    assert serious_violations(page) == []
    page.get_by_label("Shared mailbox").fill("omu@hmpps.example")
    page.get_by_role("button", name="Save contacts").click()
    page.wait_for_url("**/agencies/")
    expect(
        page.get_by_text("Contacts saved. HM Prison and Probation Service: the shared mailbox (omu@hmpps.example)")
    ).to_be_visible()

    page.goto("/returns/")
    page.get_by_role("button", name="Send reminder to HM Prison and Probation Service").click()
    expect(
        page.get_by_text(
            "Reminder about the 2024/25 Q1 return sent to HM Prison and Probation Service: "
            "the shared mailbox (omu@hmpps.example)."
        )
    ).to_be_visible()
    assert [m.to for m in mailoutbox] == [["analyst@police.example"], ["omu@hmpps.example"]]

"""The performance manager's management pages in a real browser, on the demo data: invite a user, who sets a
password from the e-mailed link and signs in; record a rebase from a measure's page and see the chart's limits
split there; preview a framework upload. axe-core finds no serious or critical violation on any of them."""

import io
import re

import pytest
from django.core import mail
from django.core.management import call_command

from accounts.models import Role, User
from metrics.models import Rebase

from ..factories import UserFactory
from .conftest import log_in
from .test_dashboards import serious_violations, watch

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_manager_invites_a_user_who_sets_a_password_and_signs_in(new_page):
    call_command("seed_demo", stdout=io.StringIO())
    UserFactory(username="boss", role=Role.PERFORMANCE_MANAGER)
    page = new_page()
    problems = watch(page)
    log_in(page, "boss")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Manage").click()
    page.wait_for_url("**/manage/")
    assert serious_violations(page) == []
    page.get_by_role("link", name="Users").click()
    page.wait_for_url("**/manage/users/")
    assert serious_violations(page) == []
    page.get_by_role("link", name="Invite a user").click()

    # A first try with mistakes: the error summary links to each field.
    page.get_by_label("E-mail address").fill("not an address")
    page.get_by_label("Agency analyst").check()
    page.get_by_role("button", name="Send the invitation").click()
    summary = page.locator(".govuk-error-summary")
    assert summary.is_visible()
    assert "Choose the analyst's agency." in summary.inner_text()
    assert page.title().startswith("Error: ")
    assert serious_violations(page) == []
    summary.get_by_role("link", name="Choose the analyst's agency.").click()
    assert page.evaluate("document.activeElement.id") == "id_agency" or page.url.endswith("#id_agency")

    page.get_by_label("Full name").fill("Sam Patel")
    page.get_by_label("E-mail address").fill("sam.patel@police.example")
    page.get_by_label("Agency", exact=True).select_option(label="Staffordshire Police")
    page.get_by_role("button", name="Send the invitation").click()
    page.wait_for_url(re.compile(r"/manage/users/(#id_agency)?$"))  # a redirect keeps the fragment
    assert "Invited sam.patel@police.example: the e-mail with the set-password link was sent." in page.inner_text(
        "main"
    )
    assert "Invited, no password yet" in page.locator("#users-table").inner_text()

    # The invitee opens the link from the e-mail in their own browser.
    (message,) = [m for m in mail.outbox if m.to == ["sam.patel@police.example"]]
    link = re.search(r"http://\S+/accounts/set-password/\S+/", message.body).group(0)
    invitee = new_page()
    invitee.goto("/" + link.split("/", 3)[3])
    invitee.get_by_role("heading", name="Choose your password").wait_for()
    assert serious_violations(invitee) == []
    invitee.get_by_label("Choose a password").fill("kettle-harbour-29")
    invitee.get_by_label("Type the password again").fill("kettle-harbour-29")
    invitee.get_by_role("button", name="Set my password").click()
    invitee.wait_for_url("**/accounts/login/")
    assert "Your password is set" in invitee.inner_text("main")
    log_in(invitee, "sam.patel@police.example", "kettle-harbour-29")
    assert "Log out sam.patel@police.example" in invitee.inner_text("header")
    assert invitee.get_by_role("link", name="Manage").count() == 0
    assert User.objects.get(username="sam.patel@police.example").has_usable_password()
    assert problems == []


def test_manager_records_a_rebase_from_the_metric_page_and_sees_the_chart_split(new_page):
    call_command("seed_demo", stdout=io.StringIO())
    UserFactory(username="boss", role=Role.PERFORMANCE_MANAGER)
    page = new_page()
    problems = watch(page)
    log_in(page, "boss")

    page.goto("/dashboard/metric/OFF01/")
    page.wait_for_selector('#xmr[data-drawn="true"]')
    assert "Limits recalculated" not in page.locator("#xmr-caption").inner_text()
    assert page.evaluate("document.getElementById('xmr').data.filter(t => t.name === 'Mean').length") == 1
    assert "No rebase" in page.locator("#manage-measure").inner_text()
    # The tool proposes a rebase where recorded crime stepped up; the manager accepts it with a reason.
    suggestion = page.locator(".notice.suggestion")
    assert "The process seems to have changed in 2022/23 Q1 — rebase?" in suggestion.inner_text()
    suggestion.get_by_role("link", name="Record this rebase from 2022/23 Q1").click()
    page.get_by_role("heading", name=re.compile("Record a rebase")).wait_for()
    assert serious_violations(page) == []
    select = page.get_by_label("First quarter of the new limits")
    chosen = select.locator("option:checked").inner_text()
    assert chosen == "2022/23 Q1"
    assert "The tool proposes new limits from 2022/23 Q1:" in page.inner_text("main")
    page.get_by_label("Reason for the rebase").fill("Crime recording standards audit: a documented recording change")
    page.get_by_role("button", name="Record the rebase").click()
    page.wait_for_url("**/dashboard/metric/OFF01/")
    page.wait_for_selector('#xmr[data-drawn="true"]')
    assert f"Rebased from {chosen}" in page.inner_text("main")
    caption = page.locator("#xmr-caption").inner_text()
    assert f"Limits recalculated from {chosen}: Crime recording standards audit" in caption
    # The chart draws the rebase (a marked line) and a second mean with its own limits.
    notes = page.evaluate("document.getElementById('xmr').layout.annotations.map(a => a.text)")
    assert any(n.startswith("Rebased: Crime recording standards audit") for n in notes), notes
    assert page.evaluate("document.getElementById('xmr').data.filter(t => t.name === 'Mean').length") == 2
    assert Rebase.objects.filter(metric__code="OFF01").count() == 1
    assert page.locator(".notice.suggestion").count() == 0  # accepted: no longer proposed
    assert serious_violations(page) == []

    # A note, then the removal pages.
    page.locator("#manage-measure").get_by_role("link", name="Add a note").click()
    page.get_by_label("Quarter the note is about").select_option(label=chosen)
    page.get_by_label("Data issue").check()
    page.get_by_label("Note", exact=True).fill("Force system change")
    assert serious_violations(page) == []
    page.get_by_role("button", name="Save the note").click()
    page.wait_for_url("**/dashboard/metric/OFF01/")
    assert "Data issue: Force system change" in page.locator("#notes-table").inner_text()
    page.locator("#rebases-table").get_by_role("link", name=re.compile("Remove")).click()
    page.get_by_role("heading", name=f"Remove the rebase from {chosen}?").wait_for()
    assert serious_violations(page) == []
    page.get_by_role("button", name="Remove the rebase").click()
    page.wait_for_url("**/dashboard/metric/OFF01/")
    assert Rebase.objects.filter(metric__code="OFF01").count() == 0

    # The framework page: download link and a preview of an upload (the current file: nothing changes).
    page.goto("/manage/framework/")
    with page.expect_download() as info:
        page.get_by_role("link", name="Download the current file (YAML)").click()
    current = info.value.path()
    assert serious_violations(page) == []
    page.get_by_label("Framework file (YAML)").set_input_files(str(current))
    page.get_by_role("button", name="Check the file").click()
    page.locator("#preview").wait_for()
    assert "Nothing would change" in page.locator("#preview").inner_text()
    assert serious_violations(page) == []
    assert problems == []

"""Writing the quarterly report in a real browser: narrative, an edited finding, an annotation; publish;
read the board edition and, without logging in, the public edition."""

import pytest

from accounts.models import Agency, Role
from frameworks.models import Framework
from metrics.catalogue.load import framework_load
from metrics.imports.commit import import_file
from reports.snapshots.services import snapshot_publish

from ..factories import UserFactory
from ..metrics.returns_setup import FRAMEWORK, HEADER, PERIOD
from .conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DATA = HEADER + (
    "OFF01,staffordshire,2024-03-31,,,21212,,,final,\n"
    "OFF01,staffordshire,2024-06-30,,,20800,,,final,\n"
    "OFF01,staffordshire,2024-06-30,offence-group,robbery,3,,,final,\n"
    "OFF01,staffordshire,2024-06-30,offence-group,violence-against-the-person,20797,,,final,\n"
    "FAIR03,staffordshire,2024-06-30,,,,1400,1455,final,\n"
)


def test_report_story(new_page):
    framework_load(text=FRAMEWORK)
    manager_user = UserFactory(username="manager", role=Role.PERFORMANCE_MANAGER)
    UserFactory(username="member", role=Role.BOARD_MEMBER)
    assert import_file(content=DATA.encode(), filename="data.csv", agency=Agency.objects.get(code="police")).accepted

    manager = new_page()
    log_in(manager, "manager")
    # A note on the measure, from its page (no admin), before the quarter is published (the snapshot freezes it).
    manager.goto("/dashboard/metric/OFF01/?area=staffordshire")
    manager.get_by_role("link", name="Add a note").click()
    manager.get_by_label("Quarter the note is about").select_option(value="2024-06-30")
    manager.get_by_label("Note", exact=True).fill("New charging unit from April")
    manager.get_by_role("button", name="Save the note").click()
    assert "New charging unit from April" in manager.locator("#notes-table").inner_text()
    snapshot_publish(
        actor=manager_user, framework=Framework.objects.get(), period=PERIOD, reason="No round in the demo"
    )

    manager.goto("/")
    manager.get_by_role("link", name="Reports", exact=True).click()
    manager.get_by_role("button", name="Write the report on 2024/25 Q1 snapshot 1").click()
    manager.get_by_label("Executive summary (Markdown)").fill("Recorded crime **fell** this quarter.")
    manager.get_by_label("Public summary (Markdown)").fill("Recorded crime fell: a summary for the public.")
    manager.get_by_label("Narrative: Offending (Markdown)").fill(
        "The new charging unit started in April.\n\n<script>alert(1)</script>"
    )
    finding = manager.get_by_label("Finding: Police recorded crime")
    assert finding.input_value().startswith("Police recorded crime is within its usual range.")
    finding.fill("Recorded crime fell to 20,800, within normal variation.")
    manager.get_by_role("button", name="Save").click()
    assert manager.get_by_text("Saved.").is_visible()
    assert manager.locator("#history").locator("..").inner_text().count("finding:") == 1

    manager.goto("/reports/")
    manager.get_by_role("link", name="Returns tests: 2024/25 Q1 report").click()
    manager.get_by_role("button", name="Send for review").click()
    # Publishing goes through the public preview: the board's texts beside the public ones, then the
    # public edition as it will appear.
    manager.get_by_role("link", name="Check the public edition and publish").click()
    texts = manager.locator("#public-texts").inner_text()
    assert "The new charging unit started in April." in texts  # the board's narrative …
    assert "None written: the public edition shows nothing here." in texts  # … and no public one
    assert "Recorded crime fell: a summary for the public." in texts
    manager.get_by_role("button", name="Publish").click()
    assert manager.locator("#report-state").inner_text() == "Published"
    report_url = manager.url

    # The board member starts from the home page: the latest published report is the first thing in the queue.
    member = new_page()
    log_in(member, "member")
    queue = member.locator("section.queue", has=member.locator("#q-board"))
    assert "No figure revised since the first snapshot" in queue.inner_text()
    queue.get_by_role("link", name="Returns tests: 2024/25 Q1 report").click()
    member.wait_for_url(report_url)
    board = member.locator("main").inner_text()
    assert "Recorded crime fell this quarter." in board
    assert "Recorded crime fell to 20,800, within normal variation." in board
    assert "New charging unit from April" in board
    assert "alert(1)" not in member.content()
    assert "Ethnicity recorded" in board

    visitor = new_page()
    public_url = report_url.replace("/reports/", "/public/reports/")
    visitor.goto(public_url)
    public = visitor.locator("main").inner_text()
    assert "Public edition" in public
    assert "[c]" in visitor.locator("table.report-table").inner_text()
    assert "Ethnicity recorded" not in public
    # The public edition has its own texts: the public summary, the finding generated from the public
    # figures; never the board's summary, narrative or edited finding.
    assert "Recorded crime fell: a summary for the public." in public
    assert "Recorded crime fell this quarter." not in public
    assert "The new charging unit started in April." not in public
    assert "Recorded crime fell to 20,800" not in public
    assert "Police recorded crime is within its usual range." in public

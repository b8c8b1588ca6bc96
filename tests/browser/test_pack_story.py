"""Starting a board pack from the report page, watching its progress and downloading it."""

import pytest
from django.utils import timezone

from accounts.models import Agency, Role
from frameworks.models import Framework
from metrics.catalogue.load import framework_load
from metrics.imports.commit import import_file
from reports.models import BoardPack, PackState
from reports.narrative.services import report_create, report_edit, report_transition
from reports.snapshots.services import snapshot_publish

from ..factories import UserFactory
from ..metrics.returns_setup import FRAMEWORK, HEADER, PERIOD
from .conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DATA = HEADER + "".join(
    f"OFF01,staffordshire,{q},,,{v},,,final,\n"
    for q, v in [("2023-09-30", 21595), ("2023-12-31", 20329), ("2024-03-31", 21212), ("2024-06-30", 20800)]
)


def test_pack_story(new_page):
    framework_load(text=FRAMEWORK)
    manager_user = UserFactory(username="manager", role=Role.PERFORMANCE_MANAGER)
    assert import_file(content=DATA.encode(), filename="d.csv", agency=Agency.objects.get(code="police")).accepted
    snapshot = snapshot_publish(actor=manager_user, framework=Framework.objects.get(), period=PERIOD, reason="demo")
    report = report_create(actor=manager_user, snapshot=snapshot)
    report = report_edit(actor=manager_user, report=report, version=0, changes={"summary": "Recorded crime fell."})
    report = report_transition(actor=manager_user, report=report, to="in_review")

    page = new_page()
    log_in(page, "manager")
    page.goto(f"/reports/{report.pk}/")
    page.get_by_role("button", name="Build the PDF").click()
    page.wait_for_url("**/packs/*/")
    assert page.locator("#pack-state").inner_text().startswith("Ready.")
    with page.expect_download() as info:
        page.get_by_role("link", name="Download the PDF").click()
    assert info.value.path().read_bytes()[:5] == b"%PDF-"

    # A pack still being built: the page shows its progress and turns into the download when it is done.
    building = BoardPack.objects.create(
        report=report, state=PackState.BUILDING, progress=40, message="Drawing 3 charts"
    )
    page.goto(f"/packs/{building.pk}/")
    assert "Drawing 3 charts" in page.locator("#progress-text").inner_text()
    assert page.locator("#progress").get_attribute("value") == "40"
    ready = BoardPack.objects.get(state=PackState.READY)
    BoardPack.objects.filter(pk=building.pk).update(
        state=PackState.READY,
        progress=100,
        message="Ready",
        pdf=bytes(ready.pdf),
        sha256=ready.sha256,
        size=ready.size,
        finished_at=timezone.now(),
    )
    page.wait_for_selector("#download", timeout=10_000)
    assert page.locator("#pack-state").inner_text().startswith("Ready.")

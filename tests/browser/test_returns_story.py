"""The whole returns story in a real browser: open a round, download the template, upload a file with
errors, fix it, comment on a warning, submit, be returned, correct, resubmit, be approved, and see a
later change as a revision in the audit trail."""

import csv
import io

import pytest

from accounts.models import Agency, Role
from metrics.catalogue.load import framework_load
from metrics.models import Observation

from ..factories import UserFactory
from ..metrics.returns_setup import FRAMEWORK
from .conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def fill_template(text, values):
    """The downloaded CSV template with ``values`` (metric/category -> (value, numerator, denominator))."""
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    header = rows[0]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    for row in rows[1:]:
        key = (row[0], row[4] or "total")
        value, numerator, denominator = values.get(key, ("", "", ""))
        row[5], row[6], row[7] = value, numerator, denominator
        writer.writerow(row)
    return out.getvalue()


def upload_file(page, name, text):
    page.get_by_label("CSV or XLSX file").set_input_files(
        {"name": name, "mimeType": "text/csv", "buffer": text.encode()}
    )
    page.get_by_role("button", name="Upload and check").click()


def test_returns_story(new_page):
    framework_load(text=FRAMEWORK)
    police = Agency.objects.get(code="police")
    UserFactory(username="manager", role=Role.PERFORMANCE_MANAGER, email="pm@opcc.example")
    UserFactory(username="analyst", role=Role.ANALYST, agency=police, email="analyst@police.example")

    manager = new_page()
    log_in(manager, "manager")
    manager.locator("header nav a[href='/returns/']").click()
    manager.get_by_label("Quarter").fill("2024/25 Q1")
    manager.get_by_label("Due date").fill("2024-07-31")
    manager.get_by_role("button", name="Open round").click()
    assert manager.get_by_text("The 2024/25 Q1 round is open").is_visible()

    analyst = new_page()
    log_in(analyst, "analyst")
    analyst.locator("header nav a[href='/returns/']").click()
    analyst.get_by_role("link", name="Staffordshire Police").click()
    return_url = analyst.url
    with analyst.expect_download() as download_info:
        analyst.get_by_role("link", name="Template (CSV)").click()
    template = download_info.value.path().read_text(encoding="utf-8")
    assert "OFF01,staffordshire,2024-06-30,offence-group,robbery" in template

    good = {
        ("OFF01", "total"): ("5300", "", ""),
        ("OFF01", "violence-against-the-person"): ("5100", "", ""),
        ("OFF01", "robbery"): ("200", "", ""),
        ("FAIR03", "total"): ("", "400", "1455"),
    }
    broken = dict(good)
    broken[("OFF01", "robbery")] = ("two hundred", "", "")
    text = fill_template(template, broken)
    text += "OFF01,nowhere,2024-06-30,,,5,,,provisional,,,,\nOFF01,staffordshire,2024-03-31,,,5,,,provisional,,,,\n"
    upload_file(analyst, "return.csv", text)
    assert analyst.get_by_text("Nothing was written").is_visible()
    errors = analyst.locator("table.issues").all_inner_texts()
    joined = "\n".join(errors)
    assert "4\tvalue\t'two hundred' is not a number" in joined
    assert "6\tarea\tunknown area 'nowhere'" in joined
    assert "7\tperiod\t2023/24 Q4 is not this return's quarter (2024/25 Q1)" in joined

    analyst.goto(return_url)
    upload_file(analyst, "return.csv", fill_template(template, good))
    assert analyst.locator("#upload-state").inner_text().startswith("Ready to confirm")
    assert analyst.get_by_text("27.4914 is outside 50 to").is_visible()
    analyst.get_by_role("button", name="Confirm and write to the return").click()
    assert analyst.get_by_text("was written to the return").is_visible()

    analyst.get_by_label("Your comment").fill("A new system left most ethnicity fields blank; fixed from July.")
    analyst.get_by_role("button", name="Save comments").click()
    analyst.get_by_role("button", name="Submit to the commissioner's office").click()
    assert analyst.locator("#return-state").inner_text() == "Submitted"

    manager.goto(return_url)
    assert manager.get_by_text("A new system left most ethnicity fields blank").is_visible()
    manager.get_by_label("What needs correcting").fill("Robbery is far below last year: check the Stoke figures.")
    manager.get_by_role("button", name="Return for correction").click()
    assert manager.locator("#return-state").inner_text() == "Returned for correction"

    analyst.goto(return_url)
    assert analyst.get_by_text("Robbery is far below last year").is_visible()
    analyst.get_by_label("OFF01 Staffordshire robbery: value").fill("230")
    analyst.get_by_label("OFF01 Staffordshire total: value").fill("5330")
    analyst.get_by_role("button", name="Save draft").click()
    assert analyst.get_by_text("Saved as a draft").is_visible()
    analyst.get_by_role("button", name="Submit to the commissioner's office").click()
    assert analyst.locator("#return-state").inner_text() == "Submitted"

    manager.goto(return_url)
    manager.get_by_role("button", name="Approve").click()
    assert manager.locator("#return-state").inner_text() == "Approved"
    assert Observation.objects.get(metric__code="OFF01", category__code="robbery").value == 230

    # A later change: reopened, corrected, approved again — a revision with the old value kept.
    manager.get_by_label("Reason for reopening").fill("Police found 12 more robberies after audit.")
    manager.get_by_role("button", name="Reopen for changes").click()
    analyst.goto(return_url)
    analyst.get_by_label("OFF01 Staffordshire robbery: value").fill("242")
    analyst.get_by_label("OFF01 Staffordshire total: value").fill("5342")
    analyst.get_by_role("button", name="Save draft").click()
    analyst.get_by_role("button", name="Submit to the commissioner's office").click()
    manager.goto(return_url)
    manager.get_by_role("button", name="Approve").click()
    revisions = manager.locator("section", has=manager.get_by_role("heading", name="Revisions")).inner_text()
    assert "robbery" in revisions.lower()
    assert "230\t242 [r]" in revisions
    assert "5,330\t5,342 [r]" in revisions
    manager.get_by_role("link", name="Audit trail of this return").click()
    audit = manager.locator("table").inner_text()
    assert "Observation revised" in audit
    assert "Police recorded crime (OFF01) · Staffordshire · 2024/25 Q1 · Offence group: Robbery\t230\t242" in audit
    assert "Return reopened" in audit
    assert "Police found 12 more robberies after audit." in audit
    assert Observation.objects.get(metric__code="OFF01", category__code="robbery").status == "revised"

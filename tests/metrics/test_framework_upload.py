"""The framework file from the app: upload, a preview of what it changes (nothing written), errors with key
paths, apply on confirmation (all or nothing), download; rebases recorded in the app export back, and loading
the exported file changes nothing."""

import datetime as dt
import hashlib
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts.audit import AuditAction
from accounts.models import AuditEvent
from frameworks.models import Framework, Priority
from metrics.catalogue.export import framework_export
from metrics.catalogue.load import framework_load, framework_preview
from metrics.models import Metric, Rebase
from metrics.rebases import rebase_record, rebase_remove

DEMO = (Path(__file__).resolve().parents[2] / "fixtures" / "demo_framework.yaml").read_text(encoding="utf-8")


@pytest.fixture
def demo(db):
    return framework_load(text=DEMO).framework


def _changed(text):
    """The demo file with one metric renamed, one new priority, and EFF01's COVID rebase taken out."""
    text = text.replace("name: Crown Court outstanding caseload", "name: Crown Court open caseload", 1)
    text = text.replace(
        '            - {period: 2020-06-30, reason: "COVID-19: jury trials paused in March 2020 and capacity was reduced."}\n',
        "",
        1,
    ).replace("        spc:\n          rebases:\n      - code: EFF02", "      - code: EFF02", 1)
    new_priority = "  - code: new-priority\n    name: A new priority\n    metrics: []\n"
    return text.replace("\nvalidation_rules:", "\n" + new_priority + "validation_rules:", 1)


def _counts():
    return (Metric.objects.count(), Priority.objects.count(), Rebase.objects.count(), AuditEvent.objects.count())


def test_the_preview_lists_what_would_change_and_writes_nothing(demo):
    before = _counts()
    version = Framework.objects.get().version
    result = framework_preview(text=_changed(DEMO))
    assert "updated metric EFF01" in result.changes
    assert "created priority new-priority" in result.changes
    assert any(c.startswith("deleted rebase of EFF01") for c in result.changes)
    assert "metric EFF02" in result.unchanged_items
    assert "metric EFF01" not in result.unchanged_items
    assert _counts() == before
    assert Framework.objects.get().version == version
    assert Metric.objects.get(code="EFF01").name == "Crown Court outstanding caseload"


@pytest.mark.parametrize(
    ("label", "kind"),
    [
        ("metric EFF01", "metric"),
        ("area staffordshire", "area"),
        ("peer group peers", "peer group"),
        ("members of peer group msg-staffordshire", "members of peer group"),
        ("place of EFF01", "place of"),
        ("rebase EFF01 2020-06-30", "rebase"),
        ("rebase of EFF01 EFF01 rebased 2020-06-30", "rebase of"),
        ("areas of metric EFF01", "areas of metric"),
        ("not recorded of breakdown ethnicity", "not recorded of breakdown"),
        ("category ethnicity:white", "category"),
    ],
)
def test_preview_rows_name_what_each_change_is_about(label, kind):
    from metrics.catalogue.views import _kind

    assert _kind(label) == kind


def test_the_preview_of_the_same_file_changes_nothing(demo):
    result = framework_preview(text=DEMO)
    assert result.changes == []
    assert result.unchanged == len(result.unchanged_items) > 50


@pytest.fixture
def manager_client(client, users):
    client.force_login(users["performance_manager"])
    return client


def _upload(client, text, name="framework.yaml"):
    return client.post(reverse("manage-framework"), {"file": SimpleUploadedFile(name, text.encode("utf-8"))})


def test_uploading_shows_the_preview_and_confirming_applies_it(manager_client, demo):
    before = _counts()
    text = _changed(DEMO)
    html = _upload(manager_client, text).content.decode()
    assert "What framework.yaml would change" in html
    assert "<td>Create</td><td>Priority</td><td>priority new-priority</td>" in html
    assert "<td>Change</td><td>Metric</td><td>metric EFF01</td>" in html
    assert "Apply these changes" in html
    assert _counts() == before  # a preview writes nothing
    # The browser sends the text back with CRLF line ends: the same file all the same.
    response = manager_client.post(
        reverse("manage-framework"),
        {"confirm": "1", "text": text.replace("\n", "\r\n"), "digest": hashlib.sha256(text.encode()).hexdigest()},
        follow=True,
    )
    page = response.content.decode()
    assert "is now version" in page
    assert Metric.objects.get(code="EFF01").name == "Crown Court open caseload"
    assert Priority.objects.filter(code="new-priority").exists()
    assert not Rebase.objects.filter(metric__code="EFF01").exists()
    assert AuditEvent.objects.filter(action=AuditAction.FRAMEWORK_FILE_UPDATED, summary="metric EFF01").exists()


def test_an_invalid_file_lists_every_error_with_its_key_path_and_writes_nothing(manager_client, demo):
    before = _counts()
    bad = DEMO.replace("unit: count", "unit: per cent", 1).replace("direction: lower_is_better", "direction: down", 1)
    html = _upload(manager_client, bad).content.decode()
    assert "<title>Error: Framework" in html
    assert "cannot be loaded: 2 problems" in html
    assert "unit: &#x27;per cent&#x27; is not one of" in html
    assert "priorities[0].metrics[1].unit" in html
    assert "].direction: &#x27;down&#x27; is not one of" in html
    assert "Apply these changes" not in html
    assert _counts() == before


def test_a_tampered_confirmation_is_refused(manager_client, demo):
    response = manager_client.post(
        reverse("manage-framework"), {"confirm": "1", "text": _changed(DEMO), "digest": "0" * 64}, follow=True
    )
    assert "did not come back intact" in response.content.decode()
    assert Metric.objects.get(code="EFF01").name == "Crown Court outstanding caseload"


def test_a_file_that_is_not_text_is_refused_in_the_form(manager_client, demo):
    response = manager_client.post(
        reverse("manage-framework"), {"file": SimpleUploadedFile("f.yaml", b"\xff\xfe\x00bad")}
    )
    html = response.content.decode()
    assert "There is a problem" in html and "not text in UTF-8" in html


def test_the_current_file_downloads_as_exported(manager_client, demo):
    response = manager_client.get(reverse("manage-framework-download"))
    assert response["Content-Disposition"] == f'attachment; filename="lcjb-demo-v{demo.version}.yaml"'
    assert response.content.decode() == framework_export(code="lcjb-demo")


def test_rebases_recorded_in_the_app_export_back_and_reloading_the_export_changes_nothing(demo, users):
    manager = users["performance_manager"]
    metric = Metric.objects.get(code="EFF02")
    rebase_record(actor=manager, framework=demo, metric=metric, period=dt.date(2020, 6, 30), reason="Courts closed")
    old = Rebase.objects.get(metric__code="EFF01")
    rebase_remove(actor=manager, framework=demo, rebase_id=old.pk)
    exported = framework_export(code="lcjb-demo")
    assert "Courts closed" in exported
    assert "COVID-19: jury trials paused" not in exported
    # The framework's saved version is the exported file.
    assert Framework.objects.get().versions.first().content == exported
    before = _counts()
    result = framework_load(text=exported)
    assert (result.created, result.updated, result.deleted) == (0, 0, 0)
    assert _counts() == before
    removed = AuditEvent.objects.get(action=AuditAction.REBASE_REMOVED)
    assert removed.old["reason"].startswith("COVID-19") and removed.metric_code == "EFF01"

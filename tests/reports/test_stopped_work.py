"""Work whose worker stopped is failed with a message, audited, and can be tried again (a real worker killed
mid-build: tests/reports/test_worker_killed.py)."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuditEvent
from metrics.models import ReturnUpload, ReturnValue, UploadState
from metrics.returns.uploads import UploadSuperseded, upload_check, upload_confirm, uploads_recover
from reports.models import BoardPack, PackState
from reports.packs.services import PackSuperseded, pack_built, pack_request, pack_started, packs_recover
from reports.tasks import recover_stale_work

from ..metrics.returns_setup import GOOD, police_return, upload
from .test_reporting import publish_report, published  # noqa: F401

pytestmark = pytest.mark.pdf  # the tried-again packs are built with WeasyPrint

LONG_AGO = timezone.now() - dt.timedelta(hours=1)


@pytest.fixture
def no_browser(monkeypatch):
    monkeypatch.setattr("reports.packs.build.chromium_path", lambda: None)  # fast: tables instead of charts


def stranded_pack(published, callbacks, report=None, public=False):  # noqa: F811
    """A pack a worker started and then stopped beating for an hour (killed)."""
    report = report or publish_report(published)
    with callbacks(execute=False):  # queued, but no worker takes it here
        pack, _ = pack_request(actor=published["manager"], report=report, public=public)
    pack_started(pack_id=pack.pk, task_id="the-dead-workers-task")
    BoardPack.objects.filter(pk=pack.pk).update(heartbeat_at=LONG_AGO, progress=20, message="Drawing 2 charts")
    return pack


def test_a_pack_whose_worker_stopped_is_failed_with_a_message_and_can_be_tried_again(
    published,  # noqa: F811
    client,
    no_browser,
    django_capture_on_commit_callbacks,
):
    pack = stranded_pack(published, django_capture_on_commit_callbacks)
    client.force_login(published["board"])  # a reader's page says so too, without the button
    html = client.get(reverse("pack-detail", args=[pack.pk])).content.decode()
    assert "Failed: The worker building this pack stopped: no sign of life for 120 seconds." in html
    assert "Try again" not in html
    pack.refresh_from_db()
    assert pack.state == PackState.FAILED
    failed = AuditEvent.objects.get(action="pack.failed")
    assert failed.actor.username == "system" and "stopped" in failed.reason
    assert (failed.old, failed.new) == ({"state": "building"}, {"state": "failed"})

    client.force_login(published["manager"])
    assert "Try again" in client.get(reverse("pack-detail", args=[pack.pk])).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("pack-retry", args=[pack.pk]))
    assert response.url == reverse("pack-detail", args=[pack.pk])
    pack.refresh_from_db()
    assert pack.state == PackState.READY and bytes(pack.pdf)[:5] == b"%PDF-"
    assert AuditEvent.objects.get(action="pack.retried").actor == published["manager"]


def test_the_progress_poll_fails_it_too_and_a_new_request_is_not_blocked(
    published,  # noqa: F811
    client,
    no_browser,
    django_capture_on_commit_callbacks,
):
    pack = stranded_pack(published, django_capture_on_commit_callbacks)
    client.force_login(published["manager"])
    progress = client.get(reverse("pack-progress", args=[pack.pk])).json()
    assert progress["state"] == "failed" and "stopped" in progress["message"]

    other = stranded_pack(published, django_capture_on_commit_callbacks, report=pack.report, public=True)
    with django_capture_on_commit_callbacks(execute=False):
        new, created = pack_request(actor=published["manager"], report=other.report, public=True)
    assert created and new.pk != other.pk  # the stranded build does not stand in for the new one
    other.refresh_from_db()
    assert other.state == PackState.FAILED


def test_live_work_is_left_alone(published, django_capture_on_commit_callbacks):  # noqa: F811
    pack = stranded_pack(published, django_capture_on_commit_callbacks)
    BoardPack.objects.filter(pk=pack.pk).update(heartbeat_at=timezone.now())
    assert packs_recover() == []
    pack.refresh_from_db()
    assert pack.state == PackState.BUILDING


def test_a_stopped_workers_late_result_changes_nothing(published, django_capture_on_commit_callbacks):  # noqa: F811
    pack = stranded_pack(published, django_capture_on_commit_callbacks)
    assert recover_stale_work() == {"packs": [pack.pk], "uploads": []}
    with pytest.raises(PackSuperseded):
        pack_built(pack_id=pack.pk, pdf=b"%PDF-late", charts_rendered=False, task_id="the-dead-workers-task")
    pack.refresh_from_db()
    assert pack.state == PackState.FAILED and pack.pdf is None


def stranded_upload(setup, callbacks, state):
    """A large upload a worker was checking (or writing) when it stopped beating."""
    r = police_return(setup)
    with callbacks(execute=False):
        up = upload(setup, r, GOOD)
    if state == UploadState.WRITING:
        ReturnUpload.objects.filter(pk=up.pk).update(state=UploadState.READY)
        up.refresh_from_db()
        with callbacks(execute=False):
            upload_confirm(actor=setup["analyst"], upload=up)
    ReturnUpload.objects.filter(pk=up.pk).update(task_id="the-dead-workers-task", heartbeat_at=LONG_AGO)
    up.refresh_from_db()
    assert up.state == state
    return up


@pytest.mark.parametrize("state", [UploadState.CHECKING, UploadState.WRITING])
def test_an_upload_whose_worker_stopped_is_failed_and_can_be_checked_again(
    setup, client, settings, django_capture_on_commit_callbacks, state
):
    settings.PCC_PERF_BACKGROUND_ROWS = 2  # GOOD's 4 rows go to the worker
    up = stranded_upload(setup, django_capture_on_commit_callbacks, state)
    client.force_login(setup["analyst"])
    html = client.get(reverse("upload-detail", args=[up.pk])).content.decode()
    doing = "checking" if state == UploadState.CHECKING else "writing"
    assert "<strong>Stopped.</strong>" in html
    assert f"The worker {doing} this file stopped: no sign of life for 120 seconds." in html
    assert "Check the file again" in html
    assert not ReturnValue.objects.exists()
    event = AuditEvent.objects.get(action="upload.failed")
    assert (event.old, event.new) == ({"state": state.value}, {"state": "failed"})

    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("upload-retry", args=[up.pk]))
    up.refresh_from_db()
    assert up.state == UploadState.READY
    assert AuditEvent.objects.filter(action="upload.retried", actor=setup["analyst"]).exists()
    with django_capture_on_commit_callbacks(execute=True):
        upload_confirm(actor=setup["analyst"], upload=up)
    up.refresh_from_db()
    assert up.state == UploadState.COMMITTED and ReturnValue.objects.count() == 4


def test_a_stopped_upload_checkers_late_result_changes_nothing(setup, settings, django_capture_on_commit_callbacks):
    settings.PCC_PERF_BACKGROUND_ROWS = 2
    up = stranded_upload(setup, django_capture_on_commit_callbacks, UploadState.CHECKING)
    assert uploads_recover() == [up.pk]
    with pytest.raises(UploadSuperseded):
        upload_check(upload=up, task_id="the-dead-workers-task")
    up.refresh_from_db()
    assert up.state == UploadState.FAILED


def test_an_unexpected_error_in_the_worker_fails_the_upload_with_its_reason(
    setup, settings, monkeypatch, django_capture_on_commit_callbacks
):
    settings.PCC_PERF_BACKGROUND_ROWS = 2

    def broken(**kwargs):
        raise RuntimeError("the disk is full")

    monkeypatch.setattr("metrics.returns.uploads.check_return_rows", broken)
    with django_capture_on_commit_callbacks(execute=True):
        up = upload(setup, police_return(setup), GOOD)
    up.refresh_from_db()
    assert up.state == UploadState.FAILED
    assert up.summary["errors"][0]["message"] == (
        "The file could not be checked: the disk is full. Nothing was written; check it again."
    )

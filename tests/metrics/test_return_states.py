"""Return and upload states change one way (accounts.workflow): legal moves only, audited, side effects
after commit, and a second confirmation of the same upload does nothing twice."""

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuditEvent
from metrics.models import (
    RETURN_TRANSITIONS,
    UPLOAD_TRANSITIONS,
    ReturnState,
    ReturnUpload,
    ReturnValue,
    UploadState,
)
from metrics.returns import tasks
from metrics.returns.services import ReturnError
from metrics.returns.uploads import upload_confirm

from .returns_setup import GOOD, police_return, upload


def test_every_state_has_its_moves_listed():
    assert set(RETURN_TRANSITIONS) == set(ReturnState)
    assert set(UPLOAD_TRANSITIONS) == set(UploadState)
    assert all(to in ReturnState for moves in RETURN_TRANSITIONS.values() for to in moves)
    assert all(to in UploadState for moves in UPLOAD_TRANSITIONS.values() for to in moves)


def test_the_database_refuses_an_unknown_upload_state(setup):
    up = upload(setup, police_return(setup), GOOD)
    with pytest.raises(IntegrityError), transaction.atomic():
        ReturnUpload.objects.filter(pk=up.pk).update(state="lost")


@pytest.fixture
def queued(monkeypatch):
    """The commit task, counting what is queued instead of running it."""
    calls = []

    class Recorder:
        def enqueue(self, *args):
            calls.append(args)

    monkeypatch.setattr(tasks, "commit_upload_task", Recorder())
    return calls


def test_confirming_a_large_upload_twice_queues_the_write_once(
    setup, settings, django_capture_on_commit_callbacks, queued
):
    settings.PCC_PERF_BACKGROUND_ROWS = 2
    with django_capture_on_commit_callbacks(execute=True):
        up = upload(setup, police_return(setup), GOOD)
    up.refresh_from_db()
    assert up.state == UploadState.READY
    stale = ReturnUpload.objects.get(pk=up.pk)  # the second tab, opened before the first confirmation
    with django_capture_on_commit_callbacks(execute=True):
        upload_confirm(actor=setup["analyst"], upload=up)
    with pytest.raises(ReturnError, match="already being written"), django_capture_on_commit_callbacks(execute=True):
        upload_confirm(actor=setup["analyst"], upload=stale)
    assert queued == [(up.pk, setup["analyst"].pk)]
    assert AuditEvent.objects.filter(action="upload.confirmed").count() == 1
    assert ReturnUpload.objects.get(pk=up.pk).state == UploadState.WRITING


def test_confirming_a_small_upload_twice_writes_once(setup):
    up = upload(setup, police_return(setup), GOOD)
    stale = ReturnUpload.objects.select_related("return_obj").get(pk=up.pk)
    upload_confirm(actor=setup["analyst"], upload=up)
    before = list(ReturnValue.objects.values_list("pk", "value").order_by("pk"))
    with pytest.raises(ReturnError, match="already been written"):
        upload_confirm(actor=setup["analyst"], upload=stale)
    assert list(ReturnValue.objects.values_list("pk", "value").order_by("pk")) == before
    assert AuditEvent.objects.filter(action="upload.written").count() == 1
    assert AuditEvent.objects.filter(action="return.values_saved").count() == 1


def test_a_second_confirmation_on_the_page_says_what_happened(client, setup):
    up = upload(setup, police_return(setup), GOOD)
    client.force_login(setup["analyst"])
    url = reverse("upload-detail", args=[up.pk])
    assert client.post(url).status_code == 302
    response = client.post(url, follow=True)
    assert "return.csv has already been written to the return." in response.content.decode()
    assert ReturnValue.objects.count() == 4


def test_a_background_write_that_fails_rejects_the_upload_and_says_why(setup, settings):
    settings.PCC_PERF_BACKGROUND_ROWS = 2
    r = police_return(setup)
    up = upload(setup, r, GOOD)  # kept for the background check (not run here)
    ReturnUpload.objects.filter(pk=up.pk).update(state=UploadState.WRITING)
    r.state, r.submitted_at = ReturnState.SUBMITTED, timezone.now()  # the return moved on: it cannot be changed
    r.save(update_fields=["state", "submitted_at"])
    assert tasks.commit_upload_task.enqueue(up.pk, setup["analyst"].pk).return_value == "rejected"
    up.refresh_from_db()
    assert up.state == UploadState.REJECTED
    assert "cannot be changed now" in up.summary["errors"][0]["message"]
    event = AuditEvent.objects.get(action="upload.rejected")
    assert (event.old, event.new) == ({"state": "writing"}, {"state": "rejected"})


def test_saving_corrections_to_a_returned_return_makes_it_a_draft_again_through_the_table(setup):
    r = police_return(setup)
    r.state = ReturnState.RETURNED
    r.save(update_fields=["state"])
    up = upload(setup, r, GOOD)
    upload_confirm(actor=setup["analyst"], upload=up)
    r.refresh_from_db()
    assert r.state == ReturnState.DRAFT
    event = AuditEvent.objects.get(action="return.values_saved")
    assert (event.old, event.new) == ({"state": "returned"}, {"state": "draft"})

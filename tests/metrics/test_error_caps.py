"""Error lists stay short: the first problems of each kind with a count of the rest, stored and shown."""

import json

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from metrics.imports.commit import import_file
from metrics.models import ReturnUpload, ReturnValue

from .returns_setup import HEADER, police_return, upload

ROWS = 3_000
ISSUES_PER_KIND = 100  # metrics.imports.summary.ISSUES_PER_KIND


def test_one_error_per_row_is_capped_in_the_stored_summary_and_on_the_page(
    setup, client, settings, django_capture_on_commit_callbacks
):
    settings.PCC_PERF_BACKGROUND_ROWS = 100  # checked by the worker, its summary stored
    r = police_return(setup)
    text = HEADER + "".join(f"OFF99,staffordshire,2024-06-30,,,lots{i},,,,\n" for i in range(ROWS))
    with django_capture_on_commit_callbacks(execute=True):
        up = upload(setup, r, text)
    up.refresh_from_db()
    assert up.state == "rejected"
    kinds = [e["kind"] for e in up.summary["errors"]]
    assert kinds.count("unknown_metric") == kinds.count("bad_number") == ISSUES_PER_KIND
    assert up.summary["errors_omitted"] == {
        "unknown_metric": ROWS - ISSUES_PER_KIND,
        "bad_number": ROWS - ISSUES_PER_KIND,
    }
    assert up.summary["errors"][0]["row"] == 2  # the first ones, in file order
    assert len(json.dumps(up.summary)) < 50_000
    client.force_login(setup["analyst"])
    page = client.get(reverse("upload-detail", args=[up.pk]))
    html = page.content.decode()
    assert "Unknown metric codes (3,000)" in html
    assert "The first 100 are listed; 2,900 more are not." in html
    assert len(page.content) < 100_000
    assert not ReturnValue.objects.exists()


def test_a_small_rejected_file_shows_the_same_capped_page(setup, client):
    r = police_return(setup)
    text = HEADER + "".join(f"OFF01,staffordshire,2024-06-30,,,{i}.5,,,,\n" for i in range(500))
    client.force_login(setup["analyst"])
    page = client.post(reverse("return-upload", args=[r.pk]), {"file": SimpleUploadedFile("r.csv", text.encode())})
    assert page.status_code == 400
    html = page.content.decode()
    assert "Values out of range (500)" in html and "400 more are not" in html
    assert len(page.content) < 60_000
    assert not ReturnUpload.objects.exists()


def test_ten_thousand_unknown_columns_give_a_small_page(setup, client):
    r = police_return(setup)
    header = "metric,area,period,value," + ",".join(f"extra{i}" for i in range(10_000))
    content = (header + "\nOFF01,staffordshire,2024-06-30,5\n").encode()
    client.force_login(setup["analyst"])
    page = client.post(
        reverse("return-upload", args=[r.pk]), {"file": SimpleUploadedFile("wide.csv", content)}, follow=True
    )
    html = page.content.decode()
    assert "unknown 10,000 columns: &#x27;extra0&#x27;" in html and "and 9,990 more" in html
    assert len(page.content) < 60_000
    assert not ReturnUpload.objects.exists()


def test_the_command_lists_the_first_of_each_kind_and_counts_the_rest(setup):
    text = "metric,area,period,value\n" + "".join(f"OFF99,staffordshire,2024-06-30,{i}\n" for i in range(1_000))
    summary = import_file(content=text.encode(), filename="f.csv", agency=setup["police"])
    assert summary.errors.total == 1_000 and len(summary.errors) == ISSUES_PER_KIND
    out = summary.as_text()
    assert "Errors: 1000" in out and "Unknown metric codes (1000):" in out
    assert "… and 900 more not listed" in out
    assert len(out.splitlines()) < ISSUES_PER_KIND + 20

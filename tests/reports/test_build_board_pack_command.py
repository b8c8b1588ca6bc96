"""`build_board_pack --snapshot ID` works the moment a quarter is published: with no report yet, it creates the
draft report from the evidence (as the system user, audited) and says so; existing flags keep working."""

import subprocess
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from accounts.access import system_actor
from accounts.audit import AuditAction
from accounts.models import AuditEvent
from reports.models import Report, ReportFinding, ReportState

from .test_reporting import publish_report, published  # noqa: F401

pytestmark = pytest.mark.pdf  # builds PDFs with WeasyPrint


@pytest.fixture
def no_browser(monkeypatch):
    """Charts drawn as tables: the command's behaviour, not Chromium's, is under test."""
    monkeypatch.setattr("reports.packs.build.render_svgs", lambda figures: None)


def run(*args: str) -> str:
    out = StringIO()
    call_command("build_board_pack", *args, stdout=out)
    return out.getvalue()


def pdf_text(path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout


def test_a_snapshot_without_a_report_gets_its_draft_report_and_pack(published, tmp_path, no_browser):  # noqa: F811
    snapshot = published["snapshot"]
    assert not Report.objects.filter(snapshot=snapshot).exists()
    out = run("--snapshot", str(snapshot.pk), "--out", str(tmp_path / "pack.pdf"))
    report = Report.objects.get(snapshot=snapshot)
    assert report.state == ReportState.DRAFT
    assert report.created_by == system_actor()
    assert f"created the draft report {report.pk}" in out
    assert "as the system user" in out
    event = AuditEvent.objects.get(action=AuditAction.REPORT_CREATED)
    assert event.actor == system_actor()
    assert event.object_id == str(report.pk)
    # The draft's findings are generated from the evidence, and the pack carries them.
    finding = ReportFinding.objects.get(section__report=report, metric__code="OFF01")
    text = pdf_text(tmp_path / "pack.pdf")
    assert "Police recorded crime" in text
    assert finding.generated.split(".")[0] in " ".join(text.split())
    # Run again (the next scheduled run): the same report, nothing created, nothing said about creating.
    again = run("--snapshot", str(snapshot.pk), "--out", str(tmp_path / "again.pdf"))
    assert Report.objects.filter(snapshot=snapshot).count() == 1
    assert "created" not in again
    assert AuditEvent.objects.filter(action=AuditAction.REPORT_CREATED).count() == 1
    with pytest.raises(CommandError, match="unknown snapshot 999"):
        run("--snapshot", "999", "--out", str(tmp_path / "x.pdf"))


def test_the_public_edition_still_needs_a_published_report(published, tmp_path, no_browser):  # noqa: F811
    snapshot = published["snapshot"]
    with pytest.raises(CommandError, match="published reports only"):
        run("--snapshot", str(snapshot.pk), "--out", str(tmp_path / "p.pdf"), "--edition", "public")
    assert not Report.objects.filter(snapshot=snapshot).exists()  # no draft made for a public build
    report = publish_report(published)
    out = run("--snapshot", str(snapshot.pk), "--out", str(tmp_path / "p.pdf"), "--edition", "public")
    assert "created" not in out
    assert Report.objects.get(snapshot=snapshot) == report
    assert "Public edition" in pdf_text(tmp_path / "p.pdf")

"""Commands and background tasks keep to their partnership (issue 18): with ``--partnership A`` a command reads
and writes A's rows only (and the shared reference data it may), never B's; the board-pack task for B's pack
works in B whatever the worker's own partnership, and writes B's rows only.

The world: ``tests/partnership_world.py`` (the default partnership "def" and West Mercia "wm", each with the
same framework code and the same measure code ``LOC01``, and markers in every row they own).
"""

from __future__ import annotations

import io

import pytest
import yaml
from django.core.management import CommandError, call_command

from accounts.models import AuditEvent
from accounts.tenancy import current_partnership, partnership_scope
from metrics.models import Observation, Return, ReturnState
from reports.models import BoardPack, PackState, Report, ReportFinding, Snapshot

from .partnership_world import HOME, OTHER, PUBLISHED, SECRET, build_world, fingerprint

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(db):
    return build_world()


def call(name: str, *args: str) -> tuple[int, str, str]:
    """(exit status, stdout, stderr) as the shell would see them."""
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command(name, *args, stdout=out, stderr=err)
    except SystemExit as exc:
        return int(exc.code or 0), out.getvalue(), err.getvalue()
    except CommandError as exc:
        return exc.returncode, out.getvalue(), str(exc)
    return 0, out.getvalue(), err.getvalue()


def code_of(world, tag):
    return world[tag].partnership.code


def changed(before, after):
    return [name for name in before if before[name] != after[name]]


# --- publish_snapshot -------------------------------------------------------------------------------------
@pytest.mark.parametrize("tag", ["def", "wm"])
def test_publish_snapshot_for_one_partnership_touches_nothing_of_the_other(world, tag):
    other = OTHER[tag]
    before = fingerprint(world, other)
    status, out, err = call(
        "publish_snapshot", "--quarter", "2024-09-30", "--reason", "matrix", "--partnership", code_of(world, tag)
    )
    assert status == 0, err
    assert changed(before, fingerprint(world, other)) == []
    snapshot = Snapshot.objects.get(pk=int(out.strip().splitlines()[-1]))
    assert snapshot.framework == world[tag].framework
    # Its figures: this partnership's measures and the shared statistic, never the other's.
    partnerships = set(snapshot.observations.values_list("metric__partnership", flat=True))
    assert partnerships <= {world[tag].partnership.pk, None}, partnerships
    frozen = str(list(snapshot.observations.values_list("note", flat=True))) + str(snapshot.annotations)
    assert SECRET[other] not in frozen
    assert SECRET[other] not in snapshot.framework_file and PUBLISHED[other] not in snapshot.framework_file
    assert set(
        AuditEvent.objects.filter(object_id=str(snapshot.pk), object_type="reports.snapshot").values_list(
            "partnership", flat=True
        )
    ) <= {world[tag].partnership.pk}


# --- build_board_pack -------------------------------------------------------------------------------------
def test_build_board_pack_does_not_build_another_partnerships_snapshot(world, tmp_path):
    out = tmp_path / "pack.pdf"
    before = fingerprint(world, "wm")
    status, _, err = call(
        "build_board_pack", "--snapshot", str(world["wm"].snapshot.pk), "--out", str(out), "--partnership", "default"
    )
    assert status != 0 and "unknown snapshot" in err
    assert not out.exists()
    assert changed(before, fingerprint(world, "wm")) == []


@pytest.mark.parametrize("tag", ["def", "wm"])
def test_build_board_pack_builds_in_the_snapshots_partnership(world, tmp_path, monkeypatch, tag):
    """A snapshot with no report gets its draft report made by the system user: in the snapshot's partnership,
    from its own evidence; the PDF is built there too."""
    other = OTHER[tag]
    seen = {}

    def fake_pdf(*, report, public, **kwargs):
        seen["partnership"] = current_partnership().code
        seen["report"] = report
        return b"%PDF-1.4 fake"

    monkeypatch.setattr("reports.management.commands.build_board_pack.build_pack_pdf", fake_pdf)
    before = fingerprint(world, other)
    out = tmp_path / "pack.pdf"
    snapshot = world[tag].snapshot_free
    status, _, err = call(
        "build_board_pack", "--snapshot", str(snapshot.pk), "--out", str(out), "--partnership", code_of(world, tag)
    )
    assert status == 0, err
    assert seen["partnership"] == code_of(world, tag)
    report = Report.objects.get(snapshot=snapshot)
    text = f"{report.title} {report.executive_summary} " + " ".join(
        ReportFinding.objects.filter(section__report=report).values_list("text", flat=True)
    )
    assert SECRET[other] not in text and PUBLISHED[other] not in text
    assert changed(before, fingerprint(world, other)) == []


# --- the board-pack task ----------------------------------------------------------------------------------
@pytest.mark.parametrize(("worker", "owner"), [("def", "wm"), ("wm", "def")])
def test_the_pack_task_works_in_the_packs_partnership(world, monkeypatch, worker, owner):
    """The worker runs in whatever partnership (the default one, outside any request); the task for the
    owner's pack works in the owner's, reads the owner's report and writes only the owner's rows."""
    from reports.packs import build as pack_build
    from reports.packs.content import pack_parts

    seen = {}

    def fake_files(*, report, public, progress=None):
        seen["partnership"] = current_partnership().code
        parts = pack_parts(report=report, public=public)  # the pack's content, read as the real build reads it
        seen["content"] = repr(parts)
        if progress:
            progress(50, "half way")
        return b"%PDF-1.4 fake", None, False

    monkeypatch.setattr(pack_build, "build_pack_files", fake_files)
    pack = BoardPack.objects.create(report=world[owner].report, state=PackState.QUEUED)
    before = fingerprint(world, worker)
    with partnership_scope(world[worker].partnership):
        pack_build.build_pack(pack_id=pack.pk, task_id="")
    pack.refresh_from_db()
    assert pack.state == PackState.READY
    assert seen["partnership"] == code_of(world, owner)
    assert SECRET[worker] not in seen["content"] and PUBLISHED[worker] not in seen["content"]
    assert changed(before, fingerprint(world, worker)) == []
    events = AuditEvent.objects.filter(object_type="reports.boardpack", object_id=str(pack.pk))
    assert set(events.values_list("partnership", flat=True)) <= {world[owner].partnership.pk}


# --- import_return ----------------------------------------------------------------------------------------
HEADER = "metric,area,period,breakdown,category,value,numerator,denominator,status,note\n"


@pytest.mark.parametrize("tag", ["def", "wm"])
def test_import_return_writes_the_named_partnerships_measure_only(world, tmp_path, tag):
    other = OTHER[tag]
    path = tmp_path / "data.csv"
    path.write_text(HEADER + f"LOC01,{HOME[tag]},2024-09-30,,,4242,,,final,\n")
    before = fingerprint(world, other)
    status, out, err = call("import_return", str(path), "--agency", "police", "--partnership", code_of(world, tag))
    assert status == 0, err + out
    assert changed(before, fingerprint(world, other)) == []
    written = Observation.objects.get(value=4242)
    assert written.metric == world[tag].local


def test_import_return_refuses_another_partnerships_own_measure(world, tmp_path):
    path = tmp_path / "data.csv"
    path.write_text(HEADER + f"{world['wm'].unique.code},west-mercia,2024-09-30,,,4343,,,final,\n")
    before = fingerprint(world, "wm")
    status, _, _ = call("import_return", str(path), "--agency", "police", "--partnership", "default")
    assert status != 0
    assert not Observation.objects.filter(value=4343).exists()
    assert changed(before, fingerprint(world, "wm")) == []


# --- send_return_reminders --------------------------------------------------------------------------------
@pytest.fixture
def open_returns(world):
    """Both partnerships' police returns open (late: the round was due in 2024)."""
    Return.objects.filter(pk__in=[world["def"].submitted.pk, world["wm"].submitted.pk]).update(state=ReturnState.DRAFT)
    return world


def test_reminders_go_to_each_partnerships_own_people(open_returns, mailoutbox):
    world = open_returns
    status, _, err = call("send_return_reminders")
    assert status == 0, err
    assert mailoutbox
    for message in mailoutbox:
        text = f"{message.subject}\n{message.body}"
        to = " ".join(message.to + message.cc + message.bcc)
        for tag in ("def", "wm"):
            about = f"/returns/{world[tag].submitted.pk}/" in text
            if about:
                assert f"{OTHER[tag]}-secret" not in to, f"{tag}'s reminder went to {to}"
        assert not (SECRET["def"] in text and SECRET["wm"] in text)


@pytest.mark.parametrize("tag", ["def", "wm"])
def test_reminders_for_one_partnership_touch_nothing_of_the_other(open_returns, mailoutbox, tag):
    world = open_returns
    other = OTHER[tag]
    before = fingerprint(world, other)
    status, _, err = call("send_return_reminders", "--partnership", code_of(world, tag))
    assert status == 0, err
    assert changed(before, fingerprint(world, other)) == []
    for message in mailoutbox:
        text = f"{message.subject}\n{message.body}"
        assert f"/returns/{world[other].submitted.pk}/" not in text
        assert f"{other}-secret" not in " ".join(message.to + message.cc + message.bcc)


# --- export_framework -------------------------------------------------------------------------------------
@pytest.mark.parametrize("tag", ["def", "wm"])
def test_export_framework_exports_the_named_partnerships_framework(world, tag):
    other = OTHER[tag]
    status, out, err = call("export_framework", "lcjb", "--partnership", code_of(world, tag))
    assert status == 0, err
    assert SECRET[tag] in out
    assert SECRET[other] not in out and PUBLISHED[other] not in out
    doc = yaml.safe_load(out)
    codes = [m["code"] for p in doc["priorities"] for m in p["metrics"]]
    assert sorted(codes) == sorted(["LOC01", world[tag].unique.code, "OFF01"])

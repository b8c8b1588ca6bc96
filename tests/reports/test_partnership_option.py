"""``--partnership CODE`` on import_return, publish_snapshot, build_board_pack and export_framework (CONTRACT §4):
optional while the installation has one partnership; with more than one, naming none is a usage error (exit
status 2), as is an unknown code; a named partnership selects its own framework (or snapshot)."""

import io

import pytest
import yaml
from django.core.management import CommandError, call_command

from accounts.models import Partnership
from reports.models import Report, Snapshot

from ..metrics.returns_setup import HEADER
from .test_reporting import published  # noqa: F401

pytestmark = pytest.mark.django_db


def call(name, *args):
    """(exit status, stdout, stderr) as the shell would see them."""
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command(name, *args, stdout=out, stderr=err)
    except SystemExit as exc:
        return exc.code, out.getvalue(), err.getvalue()
    except CommandError as exc:
        return exc.returncode, out.getvalue(), str(exc)
    return 0, out.getvalue(), err.getvalue()


@pytest.fixture
def second_partnership(db):
    return Partnership.objects.create(code="derbyshire", name="Derbyshire LCJB")


# --- import_return -----------------------------------------------------------------------------------------
@pytest.fixture
def data_file(setup, tmp_path):
    path = tmp_path / "crime.csv"
    path.write_text(HEADER + "OFF01,staffordshire,2024-03-31,,,21212,,,final,\n")
    return str(path)


def test_import_return_needs_no_partnership_while_there_is_one(data_file):
    assert call("import_return", data_file, "--agency", "police")[0] == 0
    assert call("import_return", data_file, "--agency", "police", "--partnership", "default")[0] == 0


def test_import_return_with_several_partnerships_needs_one_named(data_file, second_partnership):
    code, out, err = call("import_return", data_file, "--agency", "police")
    assert code == 2
    assert "more than one partnership: name one with --partnership CODE (default, derbyshire)" in err
    assert "Rows read" not in out
    assert call("import_return", data_file, "--agency", "police", "--partnership", "default")[0] == 0


def test_import_return_refuses_an_unknown_partnership(data_file):
    code, _, err = call("import_return", data_file, "--agency", "police", "--partnership", "nowhere")
    assert code == 2
    assert "unknown partnership 'nowhere'" in err


# --- publish_snapshot --------------------------------------------------------------------------------------
QUARTER = ("--quarter", "2024-06-30", "--reason", "Back data")


def test_publish_snapshot_publishes_the_only_partnerships_framework(setup):
    code, out, _ = call("publish_snapshot", *QUARTER)
    assert code == 0
    assert Snapshot.objects.get(pk=int(out.strip().splitlines()[-1])).framework == setup["framework"]


def test_publish_snapshot_publishes_the_named_partnerships_framework(setup, second_partnership):
    code, out, _ = call("publish_snapshot", *QUARTER, "--partnership", "default")
    assert code == 0
    assert Snapshot.objects.get(pk=int(out.strip().splitlines()[-1])).framework == setup["framework"]


def test_publish_snapshot_for_a_partnership_without_a_framework_publishes_nothing(setup, second_partnership):
    code, _, err = call("publish_snapshot", *QUARTER, "--partnership", "derbyshire")
    assert (code, err) == (1, "no framework is loaded for derbyshire")
    assert not Snapshot.objects.exists()


@pytest.mark.parametrize(
    ("extra", "message"), [((), "more than one partnership"), (("--partnership", "nowhere"), "unknown partnership")]
)
def test_publish_snapshot_usage_errors(setup, second_partnership, extra, message):
    code, _, err = call("publish_snapshot", *QUARTER, *extra)
    assert code == 2
    assert message in err
    assert not Snapshot.objects.exists()


# --- export_framework --------------------------------------------------------------------------------------
def test_export_framework_with_and_without_the_partnership(setup):
    code, plain, _ = call("export_framework", "returns")
    assert code == 0
    assert yaml.safe_load(plain)["framework"]["code"] == "returns"
    assert call("export_framework", "returns", "--partnership", "default") == (0, plain, "")


def test_export_framework_usage_errors_and_another_partnerships_framework(setup, second_partnership):
    assert call("export_framework", "returns")[0] == 2
    assert call("export_framework", "returns", "--partnership", "nowhere")[0] == 2
    code, _, err = call("export_framework", "returns", "--partnership", "derbyshire")
    assert (code, err) == (1, "unknown framework 'returns' in partnership derbyshire")
    assert call("export_framework", "returns", "--partnership", "default")[0] == 0


# --- build_board_pack --------------------------------------------------------------------------------------
@pytest.fixture
def no_browser(monkeypatch):
    monkeypatch.setattr("reports.packs.build.render_svgs", lambda figures: None)


@pytest.mark.pdf
def test_build_board_pack_finds_the_snapshot_in_the_named_partnership(published, tmp_path, no_browser):  # noqa: F811
    Partnership.objects.create(code="derbyshire", name="Derbyshire LCJB")
    snapshot = str(published["snapshot"].pk)
    out = tmp_path / "pack.pdf"
    code, _, err = call("build_board_pack", "--snapshot", snapshot, "--out", str(out))
    assert (code, "more than one partnership" in err) == (2, True)
    assert call("build_board_pack", "--snapshot", snapshot, "--out", str(out), "--partnership", "nowhere")[0] == 2
    code, _, err = call("build_board_pack", "--snapshot", snapshot, "--out", str(out), "--partnership", "derbyshire")
    assert (code, err) == (1, f"unknown snapshot {snapshot} in partnership derbyshire")
    assert not out.exists() and not Report.objects.exists()
    code, _, _ = call("build_board_pack", "--snapshot", snapshot, "--out", str(out), "--partnership", "default")
    assert code == 0
    assert out.read_bytes().startswith(b"%PDF")


@pytest.mark.pdf
def test_build_board_pack_needs_no_partnership_while_there_is_one(published, tmp_path, no_browser):  # noqa: F811
    out = tmp_path / "pack.pdf"
    assert call("build_board_pack", "--snapshot", str(published["snapshot"].pk), "--out", str(out))[0] == 0
    assert out.read_bytes().startswith(b"%PDF")

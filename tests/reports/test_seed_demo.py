"""The demo: real published figures, loaded through the same pipeline as everyone's data."""

import csv
import io
import subprocess
import sys

import pytest
from django.core.management import call_command
from django.urls import reverse
from openpyxl import load_workbook

from accounts.models import User
from frameworks.models import Framework
from metrics.models import Metric, Observation

from ..conftest import FIXTURES

SHARED = FIXTURES.parent.parent / "shared" / "data" / "published"


@pytest.mark.slow
@pytest.mark.django_db
def test_seed_demo_loads_real_figures_and_is_idempotent(client):
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    count = Observation.objects.count()
    assert count >= 10_000, out.getvalue()
    assert Observation.objects.filter(area__code="staffordshire").count() > 900
    # Real values: Staffordshire police recorded crime (excluding fraud), 2023/24 Q1 and Q3.
    assert (
        Observation.objects.get(
            metric__code="OFF01", area__code="staffordshire", period="2023-06-30", category=None
        ).value
        == 23285
    )
    assert (
        Observation.objects.get(
            metric__code="OFF01", area__code="staffordshire", period="2023-12-31", category=None
        ).value
        == 20329
    )
    # Metrics whose data is not public stay defined with no values.
    assert Metric.objects.get(code="VW01").observations.count() == 0
    assert {u.username: u.role for u in User.objects.all()} == {
        "manager": "performance_manager",
        "board": "board_member",
        "analyst": "analyst",
        "cps-analyst": "analyst",
    }

    again = io.StringIO()
    call_command("seed_demo", stdout=again)
    assert Observation.objects.count() == count
    assert "Observations created: 0" in again.getvalue()
    assert "0 created, 0 updated" in again.getvalue()
    assert Framework.objects.get().version == 1

    assert client.login(username="board", password="demo-pass-2024")
    html = client.get(reverse("home")).content.decode()
    assert "Staffordshire" in html and "Police recorded crime (excluding fraud)" in html
    assert "21,212" in html and "2023/24 Q4" in html  # OFF01, the latest quarter in the source
    assert "(England and Wales)" in html  # national-only metrics show the national figure, labelled


def _rows(path):
    if path.suffix == ".xlsx":
        wb = load_workbook(path, read_only=True)
        rows = [["" if c is None else str(c) for c in row] for row in wb["data"].iter_rows(values_only=True)]
        wb.close()
        return rows
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.reader(fh))


@pytest.mark.slow
@pytest.mark.skipif(not SHARED.exists(), reason="needs ../shared/data/published beside the project")
def test_fixtures_are_what_the_extract_script_makes(tmp_path):
    subprocess.run(
        [sys.executable, "scripts/extract_demo_data.py", "--published", str(SHARED), "--out", str(tmp_path)],
        check=True,
        cwd=FIXTURES.parent,
        capture_output=True,
    )
    for committed in sorted((FIXTURES / "demo").iterdir()):
        assert _rows(tmp_path / committed.name) == _rows(committed), committed.name

import io

import pytest
from django.conf import settings
from django.core.management import call_command

from metrics.models import Observation

GOOD = 'metric,area,period,value\nOFF01,staffordshire,2023-03-31,"23,675"\n'


def call(*args):
    out, err = io.StringIO(), io.StringIO()
    code = 0
    try:
        call_command("import_return", *args, stdout=out, stderr=err)
    except SystemExit as exc:
        code = exc.code
    return code, out.getvalue(), err.getvalue()


@pytest.mark.django_db
def test_accepted_file_exits_0_and_prints_a_summary(police_agency, tmp_path):
    path = tmp_path / "crime.csv"
    path.write_text(GOOD)
    code, out, _ = call(str(path), "--agency", "police")
    assert code == 0
    assert "Rows read: 1" in out and "Values created: 1, updated: 0, unchanged: 0" in out and "Errors: 0" in out
    assert Observation.objects.count() == 1
    code, out, _ = call(str(path), "--agency", "police")
    assert code == 0 and "Values created: 0, updated: 0, unchanged: 1" in out


@pytest.mark.django_db
def test_dry_run(police_agency, tmp_path):
    path = tmp_path / "crime.csv"
    path.write_text(GOOD)
    code, out, _ = call(str(path), "--agency", "police", "--dry-run")
    assert code == 0 and "Dry run" in out and "Values created: 1" in out
    assert not Observation.objects.exists()


@pytest.mark.django_db
def test_rejected_file_exits_1(police_agency, tmp_path):
    path = tmp_path / "crime.csv"
    path.write_text(GOOD + "OFF01,staffordshire,2023-04-30,5\n")
    code, out, _ = call(str(path), "--agency", "police")
    assert code == 1
    assert "row 3, column period: 2023-04-30 is not a quarter end date" in out
    assert not Observation.objects.exists()


@pytest.mark.django_db
def test_usage_errors_exit_2(police_agency, tmp_path):
    code, _, err = call(str(tmp_path / "missing.csv"), "--agency", "police")
    assert code == 2 and "cannot read" in err
    path = tmp_path / "crime.csv"
    path.write_text(GOOD)
    code, _, err = call(str(path), "--agency", "nobody")
    assert code == 2 and "unknown agency 'nobody'" in err


def test_missing_agency_option_is_a_usage_error(tmp_path):
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "manage.py", "import_return", str(tmp_path / "x.csv")],
        capture_output=True,
        text=True,
        env={"DJANGO_SECRET_KEY": "test", "PATH": "/usr/bin:/bin"},
        check=False,
        cwd=settings.BASE_DIR,
    )
    assert result.returncode == 2
    assert "--agency" in result.stderr


def test_draft_puts_values_into_the_return(setup, tmp_path):
    from metrics.models import Observation as Obs
    from metrics.models import ReturnValue

    from .returns_setup import GOOD, police_return

    r = police_return(setup)
    path = tmp_path / "police.csv"
    path.write_text(GOOD)
    code, out, _ = call(str(path), "--agency", "police", "--draft", "--dry-run")
    assert code == 0
    assert "Dry run" in out
    assert not ReturnValue.objects.exists()
    code, out, _ = call(str(path), "--agency", "police", "--draft")
    assert code == 0, out
    assert "Values created: 4" in out
    assert ReturnValue.objects.filter(return_obj=r).count() == 4
    assert not Obs.objects.exists()  # draft values are not approved data
    path.write_text(GOOD + "OFF01,staffordshire,2024-06-30,,,lots,,,,\n")
    code, out, _ = call(str(path), "--agency", "police", "--draft")
    assert code == 1
    assert "row 6, column value" in out
    path.write_text(GOOD.replace("2024-06-30", "2023-06-30"))
    code, out, _ = call(str(path), "--agency", "police", "--draft")
    assert code == 1
    assert "no collection round is open for 2023/24 Q1" in out

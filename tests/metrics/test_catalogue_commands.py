import io

import pytest
from django.core.management import CommandError, call_command

from frameworks.models import Framework

from .test_catalogue import SMALL


@pytest.mark.django_db
def test_load_and_export_commands(tmp_path):
    path = tmp_path / "framework.yaml"
    path.write_text(SMALL)
    out = io.StringIO()
    call_command("load_framework", str(path), stdout=out)
    assert "Framework lcjb-2024 version 1" in out.getvalue()
    exported = io.StringIO()
    call_command("export_framework", "lcjb-2024", stdout=exported)
    path.write_text(exported.getvalue())
    out = io.StringIO()
    call_command("load_framework", str(path), stdout=out)
    assert "0 created, 0 updated, 0 deleted" in out.getvalue()


@pytest.mark.django_db
def test_load_command_reports_key_paths_and_fails(tmp_path):
    path = tmp_path / "framework.yaml"
    path.write_text(SMALL.replace("unit: count", "unit: per cent"))
    err = io.StringIO()
    with pytest.raises(CommandError, match="nothing was written"):
        call_command("load_framework", str(path), stderr=err)
    assert "priorities[0].metrics[0].unit: 'per cent' is not one of" in err.getvalue()
    assert not Framework.objects.exists()


@pytest.mark.django_db
def test_export_unknown_framework():
    with pytest.raises(CommandError, match="unknown framework 'nope'"):
        call_command("export_framework", "nope")

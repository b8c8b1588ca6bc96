"""An installation made before partnerships migrates to one default partnership with no change in behaviour:
every user's role and agency become their membership of it, every framework belongs to it, and the pages
answer each role as before.

The database is a real one migrated by ``manage.py migrate`` in another process (the tests' own database is
made without migrations): migrated forward, taken back to before partnerships, filled as an old installation
was, then migrated forward again. SQLite, or, when the tests run on PostgreSQL, a PostgreSQL database of its own.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

BEFORE = [("accounts", "0012_data_version"), ("frameworks", "0008_area_population")]

FILL_OLD = """
import django, json
django.setup()
from django.db import connection
from django.db.migrations.loader import MigrationLoader
apps = MigrationLoader(connection).project_state(%r).apps
Agency = apps.get_model("accounts", "Agency"); User = apps.get_model("accounts", "User")
Area = apps.get_model("frameworks", "Area"); Framework = apps.get_model("frameworks", "Framework")
police = Agency.objects.create(code="police", name="Staffordshire Police")
User.objects.create(username="pm@example.org", role="performance_manager")
User.objects.create(username="analyst@example.org", role="analyst", agency=police)
User.objects.create(username="board@example.org", role="board_member")
User.objects.create(username="nobody@example.org", role="")
home = Area.objects.create(code="staffordshire", name="Staffordshire", type="police_force_area")
Framework.objects.create(code="lcjb-2024", name="LCJB 2024/25", home_area=home, is_current=True)
Framework.objects.create(code="lcjb-2023", name="LCJB 2023/24", home_area=home, is_current=False)
"""

READ_NEW = """
import django, json
django.setup()
from django.test import Client
from accounts.models import Membership, Partnership, User
from frameworks.models import Framework
from frameworks.selectors import current_framework
out = {
    "partnerships": list(Partnership.objects.values_list("code", "name")),
    "memberships": sorted(Membership.objects.values_list("user__username", "partnership__code", "role", "agency__code")),
    "users": sorted(User.objects.values_list("username", "role", "agency__code")),
    "frameworks": sorted(Framework.objects.values_list("code", "partnership__code")),
    "current": current_framework().code,
    "pages": {},
}
for username in ["pm@example.org", "analyst@example.org", "board@example.org", "nobody@example.org"]:
    client = Client()
    client.force_login(User.objects.get(username=username))
    out["pages"][username] = {url: client.get(url).status_code for url in ["/", "/manage/", "/returns/", "/snapshots/"]}
print(json.dumps(out))
"""


@pytest.fixture
def database_url(tmp_path):
    """A new empty database: SQLite in ``tmp_path``, or a PostgreSQL one beside the tests' when they use it."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        yield f"sqlite:///{tmp_path / 'old.sqlite3'}"
        return
    import psycopg

    base, _, name = url.rpartition("/")
    name = f"{name or 'pcc_perf'}_partnership_migration"
    server = base.replace("postgres://", "postgresql://", 1) + "/postgres"
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    yield f"{base}/{name}"
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def test_an_installation_before_partnerships_migrates_to_the_default_partnership(tmp_path, database_url):
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "DJANGO_DEBUG": "1",
        "DJANGO_SETTINGS_MODULE": "pcc_perf.settings",
        "PCC_PERF_MEDIA_ROOT": str(tmp_path / "media"),
    }
    run(env, "manage.py", "migrate", "--no-input", "-v0")
    for app, name in BEFORE[::-1]:
        run(env, "manage.py", "migrate", app, name, "--no-input", "-v0")
    run(env, "-c", FILL_OLD % (BEFORE,))
    run(env, "manage.py", "migrate", "--no-input", "-v0")
    found = json.loads(run(env, "-c", READ_NEW))

    # One default partnership, named after the current framework's home area.
    assert found["partnerships"] == [["default", "Staffordshire"]]
    # Memberships are exactly the old roles; the old fields are untouched; no role, no membership.
    assert found["memberships"] == [
        ["analyst@example.org", "default", "analyst", "police"],
        ["board@example.org", "default", "board_member", None],
        ["pm@example.org", "default", "performance_manager", None],
    ]
    assert ["analyst@example.org", "analyst", "police"] in found["users"]
    assert ["nobody@example.org", "", None] in found["users"]
    assert found["frameworks"] == [["lcjb-2023", "default"], ["lcjb-2024", "default"]]
    assert found["current"] == "lcjb-2024"
    # The pages answer each role as they did: the manager manages, the others may not, the no-role user sees
    # nothing.
    pages = found["pages"]
    assert pages["pm@example.org"]["/manage/"] == 200
    assert pages["board@example.org"]["/manage/"] == 403
    assert pages["analyst@example.org"]["/manage/"] == 403
    assert pages["analyst@example.org"]["/returns/"] == 200
    assert pages["board@example.org"]["/returns/"] == 403
    assert pages["pm@example.org"]["/snapshots/"] == 200
    assert all(pages[who]["/"] == 200 for who in ["pm@example.org", "analyst@example.org", "board@example.org"])
    assert set(pages["nobody@example.org"].values()) <= {302, 403}, pages["nobody@example.org"]

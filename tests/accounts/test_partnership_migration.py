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


# --- the scoping migrations: an installation with data, from before rows had partnerships -----------------------
# accounts 0014, frameworks 0011, metrics 0016 and reports 0014 all follow accounts 0013: migrating accounts back
# to 0013 takes the database to just before partnership scoping.
BEFORE_SCOPING = [
    ("accounts", "0013_partnerships"),
    ("frameworks", "0010_framework_partnership_required"),
    ("metrics", "0015_returnupload_checked_rows"),
    ("reports", "0013_board_pack_word_and_deep_dive_fields"),
]

FILL_BEFORE_SCOPING = """
import datetime as dt, django, json
django.setup()
from django.conf import settings
from django.db import connection
from django.db.migrations.loader import MigrationLoader
apps = MigrationLoader(connection).project_state(%r).apps
M = lambda label: apps.get_model(*label.split("."))
default, _ = M("accounts.Partnership").objects.get_or_create(
    code=settings.PCC_PERF_DEFAULT_PARTNERSHIP, defaults={"name": "Staffordshire"}
)
police = M("accounts.Agency").objects.create(code="police", name="Staffordshire Police")
users = {}
for name, role, agency in [("pm", "performance_manager", None), ("analyst", "analyst", police), ("board", "board_member", None)]:
    users[name] = M("accounts.User").objects.create(username=f"{name}@example.org", role=role, agency=agency)
    # What sync_default_membership (a post_save signal, not run for these historical models) would have done.
    M("accounts.Membership").objects.create(partnership=default, user=users[name], role=role, agency=agency)
home = M("frameworks.Area").objects.create(code="staffordshire", name="Staffordshire", type="police_force_area")
framework = M("frameworks.Framework").objects.create(
    code="lcjb-2024", name="LCJB 2024/25", home_area=home, is_current=True, partnership=default
)
priority = M("frameworks.Priority").objects.create(framework=framework, code="offending", name="Offending", order=0)
Metric = M("metrics.Metric")
common = dict(agency=police, unit="count", direction="lower_is_better")
local = Metric.objects.create(code="LOC01", name="Local measure", source_type="management_information", **common)
official = Metric.objects.create(code="OFF01", name="Police recorded crime", source_type="official_statistics", **common)
quarters = [dt.date(2023, 3, 31), dt.date(2023, 6, 30), dt.date(2023, 9, 30), dt.date(2023, 12, 31), dt.date(2024, 3, 31), dt.date(2024, 6, 30)]
for order, metric in enumerate([local, official]):
    M("metrics.FrameworkMetric").objects.create(framework=framework, priority=priority, metric=metric, order=order)
    for i, q in enumerate(quarters):
        M("metrics.Observation").objects.create(metric=metric, area=home, period=q, unit="count", value=1000 + 10 * i + order, status="final")
M("metrics.Rebase").objects.create(metric=local, period=quarters[3], reason="New recording rules")
M("reports.Annotation").objects.create(metric=official, period=quarters[4], text="Easter fell in this quarter", kind="context")
contacts = M("accounts.AgencyContacts").objects.create(agency=police, shared_mailbox="team@police.example")
contacts.users.add(users["analyst"])
round_ = M("metrics.CollectionRound").objects.create(period=dt.date(2024, 9, 30), due_date=dt.date(2024, 10, 31))
M("metrics.Return").objects.create(round=round_, agency=police, state="draft")
M("metrics.ImportBatch").objects.create(agency=police, filename="old.csv", sha256="0" * 64)
snapshot = M("reports.Snapshot").objects.create(
    period=quarters[-1], number=1, framework=framework, framework_version=1, framework_file="framework: {}", reason="Quarter end"
)
M("reports.SnapshotObservation").objects.create(
    snapshot=snapshot, metric=local, area=home, period=quarters[-1], unit="count", value=1050, status="final"
)
print(json.dumps({"snapshot": snapshot.pk}))
"""

READ_AFTER_SCOPING = """
import django, json, sys
django.setup()
from django.db import connection, transaction
from django.test import Client
from accounts.models import AgencyContacts, Partnership, User
from metrics.models import CollectionRound, ImportBatch, Metric, Rebase
from reports.models import Annotation, Snapshot
snapshot_id = int(sys.argv[1])
code = lambda p: p.code if p is not None else None
out = {
    "partnerships": sorted(Partnership.objects.values_list("code", flat=True)),
    "metrics": sorted([m.code, code(m.partnership)] for m in Metric.objects.all()),
    "rounds": sorted(code(r.partnership) for r in CollectionRound.objects.all()),
    "rebases": sorted(code(r.partnership) for r in Rebase.objects.all()),
    "annotations": sorted(code(a.partnership) for a in Annotation.objects.all()),
    "contacts": sorted(code(c.partnership) for c in AgencyContacts.objects.all()),
    "imports": sorted(code(b.partnership) for b in ImportBatch.objects.all()),
    "snapshots": sorted([s.pk, s.framework.partnership.code] for s in Snapshot.objects.all()),
    "in_scope": {
        "metrics": sorted(Metric.objects.in_scope().values_list("code", flat=True)),
        "snapshots": list(Snapshot.objects.in_scope().values_list("pk", flat=True)),
    },
    "refused": {},
    "pages": {},
    "shows": {},
}
for verb, sql in [("update", "UPDATE reports_snapshot SET reason = 'changed'"), ("delete", "DELETE FROM reports_snapshot")]:
    try:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(sql)
        out["refused"][verb] = False
    except Exception as exc:
        out["refused"][verb] = "cannot be changed or deleted" in str(exc)
pages = ["/", "/dashboard/", "/dashboard/metric/LOC01/", "/dashboard/metric/OFF01/", f"/snapshots/{snapshot_id}/",
         "/returns/", "/agencies/police/contacts/", "/api/v1/metrics/"]
for username in ["pm@example.org", "analyst@example.org", "board@example.org"]:
    client = Client()
    client.force_login(User.objects.get(username=username))
    out["pages"][username] = {url: client.get(url).status_code for url in pages}
client = Client()
client.force_login(User.objects.get(username="pm@example.org"))
out["shows"] = {
    "note": "Easter fell in this quarter" in client.get("/dashboard/metric/OFF01/").content.decode(),
    "rebase": "New recording rules" in client.get("/dashboard/metric/LOC01/").content.decode(),
    "contacts": "team@police.example" in client.get("/agencies/police/contacts/").content.decode(),
    "snapshot": "Quarter end" in client.get(f"/snapshots/{snapshot_id}/").content.decode()
    or client.get(f"/snapshots/{snapshot_id}/").status_code == 200,
}
print(json.dumps(out))
"""


def test_an_installation_with_data_migrates_its_rows_to_the_default_partnership(tmp_path, database_url):
    """Every partnership-owned row of a single-partnership installation lands in the default partnership (an
    official statistic becomes shared), the published snapshot is still refused any change (on SQLite the
    migration remakes the snapshot table, which drops its triggers: they are installed again), and the pages
    answer each role as before."""
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "DJANGO_DEBUG": "1",
        "DJANGO_SETTINGS_MODULE": "pcc_perf.settings",
        "PCC_PERF_MEDIA_ROOT": str(tmp_path / "media"),
    }
    run(env, "manage.py", "migrate", "--no-input", "-v0")
    run(env, "manage.py", "migrate", "accounts", "0013_partnerships", "--no-input", "-v0")
    filled = json.loads(run(env, "-c", FILL_BEFORE_SCOPING % (BEFORE_SCOPING,)).strip().splitlines()[-1])
    run(env, "manage.py", "migrate", "--no-input", "-v0")
    found = json.loads(run(env, "-c", READ_AFTER_SCOPING, str(filled["snapshot"])).strip().splitlines()[-1])

    assert found["partnerships"] == ["default"]
    assert found["metrics"] == [["LOC01", "default"], ["OFF01", None]]  # the official statistic is shared
    assert found["rounds"] == ["default"]
    assert found["rebases"] == ["default"]
    assert found["annotations"] == ["default"]
    assert found["contacts"] == ["default"]
    assert found["imports"] == [None]  # a loaded file's batch stays the host's: its official figures are everyone's
    assert found["snapshots"] == [[filled["snapshot"], "default"]]
    assert found["in_scope"] == {"metrics": ["LOC01", "OFF01"], "snapshots": [filled["snapshot"]]}
    assert found["refused"] == {"update": True, "delete": True}
    pages = found["pages"]
    for url, status in pages["pm@example.org"].items():
        assert status == 200, (url, status)
    for url in ["/", "/dashboard/", "/dashboard/metric/LOC01/", "/dashboard/metric/OFF01/", "/api/v1/metrics/"]:
        assert pages["board@example.org"][url] == 200, url
    assert pages["analyst@example.org"]["/returns/"] == 200
    assert pages["board@example.org"]["/returns/"] == 403
    assert pages["board@example.org"]["/agencies/police/contacts/"] in (403, 404)
    assert found["shows"] == {"note": True, "rebase": True, "contacts": True, "snapshot": True}

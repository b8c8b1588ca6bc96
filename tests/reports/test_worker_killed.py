"""A real ``db_worker`` process killed (SIGKILL) while it builds a board pack: the pack is failed with a
message once its heartbeat stops, the dead worker's task is marked failed, a fresh worker goes on with queued
work and the pack can be tried again. Processes share a SQLite file (or, with
PCC_PERF_WORKER_TEST_DATABASE_URL=postgres://…, that PostgreSQL database, which is emptied first);
tests/reports/worker_driver.py runs them."""

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.pdf]  # several processes; the packs are built with WeasyPrint

ROOT = Path(__file__).resolve().parents[2]
STALE_SECONDS = 3


def wait_for(what, check, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


PG_URL = os.environ.get("PCC_PERF_WORKER_TEST_DATABASE_URL", "")


class World:
    def __init__(self, tmp_path):
        self.db = tmp_path / "db.sqlite3"
        self.logs = tmp_path
        self.env = {
            **os.environ,
            "DATABASE_URL": PG_URL or f"sqlite:///{self.db}",
            "DJANGO_DEBUG": "1",
            "DJANGO_SETTINGS_MODULE": "pcc_perf.settings",
            "PCC_PERF_TASK_STALE_SECONDS": str(STALE_SECONDS),
            "BROWSER_PATH": "/nonexistent",  # charts as tables: a quicker build
            "PYTHONPATH": str(ROOT),
        }
        self.workers: list[subprocess.Popen] = []

    def run(self, *args):
        done = subprocess.run(
            [sys.executable, *args], cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=300
        )
        assert done.returncode == 0, done.stderr[-3000:]
        return done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""

    def driver(self, *args):
        return self.run("-m", "tests.reports.worker_driver", *args)

    def start(self, *args):
        log = self.logs / f"{args[0]}.log"  # the worker's output, to read when the test fails
        with log.open("w") as out:
            worker = subprocess.Popen(
                [sys.executable, "-m", "tests.reports.worker_driver", *args],
                cwd=ROOT,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        self.workers.append(worker)
        return worker

    def query(self, sql, *params, every=False):
        if PG_URL:
            import psycopg

            with psycopg.connect(PG_URL) as db:
                found = db.execute(sql.replace("?", "%s").replace("replace(id,", "replace(id::text,"), params)
                return found.fetchall() if every else found.fetchone()
        with sqlite3.connect(self.db, timeout=10) as db:
            found = db.execute(sql, params)
            return found.fetchall() if every else found.fetchone()

    def pack(self, pk):
        return self.query("SELECT state, progress, message, task_id FROM reports_boardpack WHERE id = ?", pk)

    def task(self, task_id):
        return self.query(
            "SELECT status, exception_class_path FROM django_tasks_database_dbtaskresult WHERE replace(id, '-', '') = ?",
            task_id.replace("-", ""),
        )

    def stop_workers(self):
        for worker in self.workers:
            if worker.poll() is None:
                worker.kill()
                worker.wait(timeout=30)


def test_a_worker_killed_mid_build_leaves_nothing_stranded(tmp_path):
    world = World(tmp_path)
    try:
        world.run("manage.py", "migrate", "-v0")
        if PG_URL:
            world.run("manage.py", "flush", "--noinput")
        pack = int(world.driver("setup"))
        assert world.pack(pack)[0] == "queued"

        marker = tmp_path / "building"
        slow = world.start("slow-worker", str(marker))
        wait_for("the slow worker to start building", marker.exists, 120)
        fresh = world.start("worker")
        # Alive for longer than the stale time, watched by a second worker: its heartbeat keeps the pack building.
        time.sleep(STALE_SECONDS * 2)
        state, progress, _, task_id = world.pack(pack)
        assert (state, progress) == ("building", 20) and task_id

        os.kill(slow.pid, signal.SIGKILL)
        slow.wait(timeout=30)
        assert world.task(task_id)[0] == "RUNNING"  # what django_tasks_db leaves behind on its own

        state, _, message, _ = wait_for(
            "the pack to be failed", lambda: world.pack(pack)[0] == "failed" and world.pack(pack), STALE_SECONDS * 10
        )
        assert message == (
            f"The worker building this pack stopped: no sign of life for {STALE_SECONDS} seconds. "
            "Nothing was kept; try again."
        )
        status, exception = world.task(task_id)
        assert status == "FAILED" and exception == "accounts.background.WorkerStopped"

        # A fresh worker goes on with queued work, and the failed pack can be tried again.
        public = int(world.driver("request"))
        world.driver("retry", str(pack))
        wait_for("both packs to be built", lambda: world.pack(pack)[0] == world.pack(public)[0] == "ready", 180)
        assert fresh.poll() is None
        events = world.query(
            "SELECT action FROM frameworks_auditevent WHERE object_type = 'reports.boardpack' AND object_id = ? "
            "ORDER BY id",
            str(pack),
            every=True,
        )
        assert [action for (action,) in events] == [
            "pack.requested",
            "pack.started",
            "pack.failed",
            "pack.retried",
            "pack.started",
            "pack.built",
        ]
        assert "Traceback" not in (tmp_path / "worker.log").read_text()  # the fresh worker's watchdog never failed
    finally:
        world.stop_workers()


def test_the_worker_command_is_ours():
    """``manage.py db_worker`` is reports' worker (django_tasks_db's plus the stopped-work watchdog)."""
    from django.core.management import get_commands

    assert get_commands()["db_worker"] == "reports"
    assert json.loads(json.dumps({"ok": True}))["ok"]


def test_the_worker_imports_weasyprint_when_it_starts(monkeypatch):
    """The worker imports the pack's libraries before it takes work, so the first pack does not wait for
    WeasyPrint's import (seconds)."""
    from django_tasks_db.management.commands.db_worker import Command as DatabaseWorkerCommand

    from reports.management.commands import db_worker

    order = []
    monkeypatch.setattr(db_worker, "warm_up", lambda: order.append("warm up"))
    monkeypatch.setattr(db_worker, "watch", lambda stop, every: None)
    monkeypatch.setattr(DatabaseWorkerCommand, "handle", lambda self, *args, **options: order.append("work"))
    db_worker.Command().handle(reload=False)
    assert order == ["warm up", "work"]


def test_warming_up_imports_weasyprint_and_kaleido():
    script = (
        "import sys, django; django.setup(); "
        "from reports.management.commands.db_worker import warm_up; "
        "assert 'weasyprint' not in sys.modules; warm_up(); "
        "assert {'weasyprint', 'kaleido', 'docx', 'cairosvg'} <= set(sys.modules)"
    )
    env = {**os.environ, "DJANGO_DEBUG": "1", "DJANGO_SETTINGS_MODULE": "pcc_perf.settings", "PYTHONPATH": str(ROOT)}
    subprocess.run([sys.executable, "-c", script], check=True, env=env, cwd=ROOT)

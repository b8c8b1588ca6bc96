"""More than one machine (issue 18, point 6): two app servers and two task workers on one PostgreSQL database.

Started here on one host, on two ports, exactly as two machines would run them (``gunicorn.conf.py``, DEBUG
off, ``manage.py db_worker``), sharing only the database (and Redis, when one answers):
- a session made by logging in on server 1 is a session on server 2 (sessions are rows in the database);
- a file uploaded on server 1 is kept in the database (``ReturnUpload.content``: no local disk involved) and
  checked by whichever worker claims it, once; tasks are claimed with ``SELECT … FOR UPDATE SKIP LOCKED``
  (django_tasks_db), so twenty queued tasks are each run exactly once between the two workers;
- a page cached by server 1 is served by server 2 from the shared cache, and not after an approval: the
  approved-data version (a row in the database) moved on, and the cache key with it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import http.client
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from http.cookies import SimpleCookie
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from accounts.audit import AuditAction
from accounts.models import AuditEvent, User
from accounts.versions import data_changed
from frameworks.models import Area
from metrics.models import Metric, Observation, ReturnUpload, UploadState

from .metrics.returns_setup import GOOD, PERIOD, police_return, setup  # noqa: F401 - the fixture

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
PORTS = (8791, 8792)
REDIS_DB = "redis://127.0.0.1:6379/13"  # a database of its own, emptied here

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def postgres() -> None:
    if connection.vendor != "postgresql":
        pytest.skip(
            "two app servers and two workers share one PostgreSQL database (SQLite is a file on one machine): "
            "run with DATABASE_URL=postgres://…"
        )


def _redis() -> str:
    try:
        import redis

        client = redis.Redis.from_url(REDIS_DB, socket_timeout=1)
        client.flushdb()
    except Exception:
        return ""
    return REDIS_DB


def _environment(redis_url: str) -> dict[str, str]:
    db = connection.settings_dict
    url = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    if db.get("PASSWORD"):
        url = f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    env.update(
        {
            "DATABASE_URL": url,
            "DJANGO_DEBUG": "",
            "DJANGO_SECRET_KEY": "multi-process-test-key",  # the same on every machine: sessions, CSRF
            "DJANGO_ALLOWED_HOSTS": HOST,
            "REDIS_URL": redis_url,
            "PCC_PERF_BACKGROUND_ROWS": "2",  # the test's file is checked by a worker
            "WEB_CONCURRENCY": "1",
            "GUNICORN_THREADS": "2",
            "GUNICORN_ACCESS_LOG": "/dev/null",
            "PCC_PERF_TASK_BACKEND": "django_tasks_db.DatabaseBackend",
        }
    )
    return env


@contextlib.contextmanager
def _processes(env: dict[str, str]) -> Iterator[list[subprocess.Popen[bytes]]]:
    python = sys.executable
    gunicorn = str(Path(python).parent / "gunicorn")
    commands = [[gunicorn, "--config", "gunicorn.conf.py", "--bind", f"{HOST}:{port}"] for port in PORTS] + [
        [python, "manage.py", "db_worker", "--no-reload", "--interval", "0.2", "--worker-id", f"worker-{n}"]
        for n in (1, 2)
    ]
    # Production settings serve hashed static files (the manifest collectstatic writes): as `make serve` does.
    subprocess.run([python, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)
    started: list[subprocess.Popen[bytes]] = []
    logs = [tempfile.TemporaryFile() for _ in commands]  # noqa: SIM115 - closed below
    try:
        for command, log in zip(commands, logs, strict=True):
            started.append(
                subprocess.Popen(
                    command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log, start_new_session=True
                )
            )
        deadline = time.monotonic() + 120
        for port, server, log in zip(PORTS, started, logs, strict=False):
            while True:
                if server.poll() is not None:
                    log.seek(0)
                    raise AssertionError(f"gunicorn on {port} stopped: {log.read().decode()[-2000:]}")
                with contextlib.suppress(OSError), socket.create_connection((HOST, port), timeout=1):
                    break
                assert time.monotonic() < deadline, f"gunicorn on {port} did not start"
                time.sleep(0.3)
        yield started
    finally:
        for process in started:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
        for process in started:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        for log in logs:
            log.close()


class Browser:
    """A person's cookies, sent to whichever server a request goes to (as a load balancer would)."""

    def __init__(self) -> None:
        self.cookies: dict[str, str] = {}

    def request(
        self, port: int, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None
    ) -> tuple[int, dict[str, str], str]:
        conn = http.client.HTTPConnection(HOST, port, timeout=60)
        sent = {
            "Host": HOST,
            "X-Forwarded-Proto": "https",  # behind the proxy that ends TLS
            "Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items()),
            **(headers or {}),
        }
        if method == "POST":
            sent.update(
                {
                    "Origin": f"https://{HOST}",
                    "Referer": f"https://{HOST}{path}",
                    "X-CSRFToken": self.cookies["csrftoken"],
                }
            )
        conn.request(method, path, body=body, headers=sent)
        response = conn.getresponse()
        text = response.read().decode("utf-8", "replace")
        for header in response.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(header).items():
                self.cookies[name] = morsel.value
        conn.close()
        return response.status, dict(response.headers), text

    def log_in(self, port: int, username: str) -> None:
        status, _, text = self.request(port, "GET", "/accounts/login/")
        assert status == 200 and "csrftoken" in self.cookies, (status, text[-800:])
        form = f"username={username}&password=pass-word-123".encode()
        status, _, text = self.request(
            port, "POST", "/accounts/login/", form, {"Content-Type": "application/x-www-form-urlencoded"}
        )
        errors = re.findall(r'class="govuk-error-message"[^>]*>(.*?)<', text, re.S) or [text[-1500:]]
        assert status == 302, (status, errors)
        assert settings.SESSION_COOKIE_NAME in self.cookies


def _multipart(name: str, content: bytes) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
            f"Content-Type: text/csv\r\n\r\n"
        ).encode()
        + content
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return body, f"multipart/form-data; boundary={boundary}"


def _wait(what: str, done: object, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not done():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"{what}: not within {timeout:.0f} s"
        time.sleep(0.3)


def test_two_app_servers_and_two_workers_share_one_database(postgres, setup):  # noqa: F811
    from django.contrib.auth.hashers import PBKDF2PasswordHasher
    from django_tasks_db.backend import DatabaseBackend
    from django_tasks_db.models import DBTaskResult

    from accounts.bulk import analyze_task

    # The servers run with production settings: a password hashed as production hashes it (tests use MD5).
    hashed = PBKDF2PasswordHasher().encode("pass-word-123", PBKDF2PasswordHasher().salt())
    User.objects.filter(username__in=["analyst", "board"]).update(password=hashed)
    ret = police_return(setup)
    home = Area.objects.get(code="staffordshire")
    off01 = Metric.objects.get(code="OFF01")
    shown = Observation.objects.create(
        metric=off01, area=home, period=PERIOD - dt.timedelta(days=91), unit="count", value=5317, status="final"
    )
    redis_url = _redis()
    one, two = PORTS
    with _processes(_environment(redis_url)):
        # 1. A session made on server 1 is a session on server 2.
        analyst = Browser()
        analyst.log_in(one, "analyst")
        status, headers, _ = analyst.request(two, "GET", f"/returns/{ret.pk}/")
        assert status == 200, (status, headers.get("Location"))

        # 2. An upload accepted by server 2 (the file kept in the database), checked by one worker, once.
        body, kind = _multipart("return.csv", GOOD.encode())
        status, headers, text = analyst.request(two, "POST", f"/returns/{ret.pk}/upload/", body, {"Content-Type": kind})
        assert status in (200, 302), (status, text[-500:])
        upload = ReturnUpload.objects.get(return_obj=ret)
        assert upload.content == GOOD.encode()
        _wait("the upload checked", lambda: ReturnUpload.objects.get(pk=upload.pk).state != UploadState.CHECKING)
        upload.refresh_from_db()
        assert upload.state == UploadState.READY, upload.summary
        checks = DBTaskResult.objects.filter(task_path__endswith="check_upload_task")
        assert checks.count() == 1
        (check,) = checks
        assert check.status == "SUCCESSFUL" and len(check.worker_ids) == 1, (check.status, check.worker_ids)
        assert AuditEvent.objects.filter(action=AuditAction.UPLOAD_CHECKED, object_id=str(upload.pk)).count() == 1
        status, _, page = analyst.request(one, "GET", f"/returns/uploads/{upload.pk}/")
        assert status == 200 and "return.csv" in page

        # 3. Twenty tasks queued at once: each run exactly once, by one of the two workers.
        backend = DatabaseBackend(alias="default", params={})
        queued = [backend.enqueue(analyze_task, [["frameworks_area"]], {}).id for _ in range(20)]
        runs = DBTaskResult.objects.filter(id__in=queued)
        _wait("twenty tasks run", lambda: runs.filter(status="SUCCESSFUL").count() == 20)
        assert all(len(ids) == 1 for ids in runs.values_list("worker_ids", flat=True))
        by_worker = {w: runs.filter(worker_ids__contains=[w]).count() for w in ("worker-1", "worker-2")}
        assert sum(by_worker.values()) == 20, by_worker

        # 4. The page cache across processes: shared when Redis answers; never stale after an approval.
        board = Browser()
        board.log_in(two, "board")
        status, _, first = board.request(one, "GET", "/dashboard/")
        assert status == 200 and "5,317" in first
        Observation.objects.filter(pk=shown.pk).update(value=6204)  # behind the cache's back: no version move
        status, _, second = board.request(two, "GET", "/dashboard/")
        if redis_url:
            assert "5,317" in second  # server 2 served what server 1 built, from Redis
        data_changed()  # what an approval does, in its transaction
        for port in PORTS:
            status, _, page = board.request(port, "GET", "/dashboard/")
            assert status == 200 and "6,204" in page and "5,317" not in page, port


def test_uploaded_files_and_packs_are_kept_in_the_database_not_on_local_disk():
    """Nothing a request or a worker writes for another process to read goes to local disk: upload files and
    board packs are database columns, so any server and any worker reads them."""
    from reports.models import BoardPack

    assert ReturnUpload._meta.get_field("content").get_internal_type() == "BinaryField"
    assert BoardPack._meta.get_field("pdf").get_internal_type() == "BinaryField"
    assert re.search(r"PCC_PERF_MEDIA_ROOT", (ROOT / "pcc_perf" / "settings.py").read_text())

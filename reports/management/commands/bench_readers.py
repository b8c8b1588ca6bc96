"""Concurrent logged-in readers against the production server set-up (run after generate_national_dataset).

Starts gunicorn as the README's "Running for real" does (``gunicorn.conf.py``, DEBUG off, persistent database
connections; the page cache in Redis when ``--redis`` is given, else each worker's memory) on 127.0.0.1, logs
in ``--readers`` board members (a session each, made as a log-in makes it), and has each open a dashboard
page (the overview, a priority page or a metric page, at random) every 1–3 s for ``--duration`` seconds, over
its own keep-alive connection, behind a proxy's ``X-Forwarded-Proto: https``. Prints p50/p95/max latency,
requests per second and errors, with the floor measured in the same run: one reader alone, back to back.
Targets (issue 16): p95 < 500 ms, zero errors. Standard library only (threads and http.client)."""

from __future__ import annotations

import contextlib
import http.client
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.models import Role, User
from frameworks.selectors import current_framework
from metrics.models import FrameworkMetric

HOST = "127.0.0.1"


@dataclass
class Tally:
    times: list[float] = field(default_factory=list)  # ms
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, ms: float | None, error: str = "") -> None:
        with self.lock:
            if error:
                self.errors.append(error)
            elif ms is not None:
                self.times.append(ms)


class Command(BaseCommand):
    help = "N concurrent logged-in readers opening dashboard pages on gunicorn; p50/p95/max, req/s, errors."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--readers", type=int, default=50)
        parser.add_argument("--duration", type=float, default=30.0, help="seconds of load")
        parser.add_argument("--port", type=int, default=8765)
        parser.add_argument("--redis", default="", help="REDIS_URL for the server's cache (default: local memory)")
        parser.add_argument("--no-cache", action="store_true", help="serve with the page cache off")
        parser.add_argument("--floor-requests", type=int, default=40)

    def handle(self, *args: Any, **options: Any) -> None:
        framework = current_framework()
        if framework is None:
            raise CommandError("No framework: run generate_national_dataset first.")
        urls = _pages(framework)
        cookies = [_session_cookie(f"bench-reader-{i:02d}") for i in range(options["readers"])]
        env = {
            "REDIS_URL": options["redis"],
            "PCC_PERF_PAGE_CACHE_SECONDS": "0" if options["no_cache"] else "3600",
        }
        cache = "off" if options["no_cache"] else ("Redis" if options["redis"] else "local memory per worker")
        with gunicorn_running(port=options["port"], env=env):
            self.stdout.write(
                f"gunicorn (gunicorn.conf.py, DEBUG off) on {HOST}:{options['port']}; page cache: {cache}; "
                f"{len(urls)} dashboard pages"
            )
            for url in urls:  # each page once, as the first reader of the day would
                _get(_connection(options["port"]), url, cookies[0])
            floor = Tally()
            conn = _connection(options["port"])
            for k in range(options["floor_requests"]):
                _timed(conn, urls[k % len(urls)], cookies[0], floor)
            conn.close()
            self._report("floor: one reader alone, back to back", floor, None)
            load = Tally()
            stop = time.monotonic() + options["duration"]
            threads = [
                threading.Thread(
                    target=_reader,
                    args=(options["port"], urls, cookie, stop, load, random.Random(i)),  # noqa: S311 - think times
                    daemon=True,
                )
                for i, cookie in enumerate(cookies)
            ]
            started = time.monotonic()
            for t in threads:
                t.start()
            for t in threads:
                t.join(options["duration"] + 60)
            elapsed = time.monotonic() - started
            self._report(
                f"{options['readers']} readers, a page every 1-3 s each, {options['duration']:.0f} s",
                load,
                elapsed,
                floor=statistics.median(floor.times) if floor.times else None,
            )

    def _report(self, label: str, tally: Tally, elapsed: float | None, floor: float | None = None) -> None:
        times = sorted(tally.times)
        if not times:
            self.stdout.write(f"{label}: no successful request; errors: {tally.errors[:5]}")
            return
        p50, p95 = statistics.median(times), times[max(0, int(len(times) * 0.95) - 1)]
        rate = f", {len(times) / elapsed:5.1f} req/s" if elapsed else ""
        ratio = f"; p95 {p95 / floor:4.1f}x the floor's p50" if floor else ""
        verdict = ""
        if elapsed:
            ok = p95 < 500 and not tally.errors
            verdict = f" [target p95 < 500 ms and no errors: {'met' if ok else 'NOT met'}]"
        self.stdout.write(
            f"{label}: {len(times)} requests{rate}, p50 {p50:6.1f} ms, p95 {p95:6.1f} ms, max {times[-1]:6.1f} ms, "
            f"{len(tally.errors)} errors{ratio}{verdict}"
        )
        for error in sorted(set(tally.errors))[:5]:
            self.stdout.write(f"  error: {error}")


def _pages(framework: Any) -> list[str]:
    """The overview, every priority page and the first metric of each priority."""
    urls = ["/dashboard/"]
    for priority in framework.priorities.order_by("order"):
        urls.append(f"/dashboard/priority/{priority.code}/")
        first = (
            FrameworkMetric.objects.filter(framework=framework, priority=priority)
            .select_related("metric")
            .order_by("order")
            .first()
        )
        if first is not None:
            urls.append(f"/dashboard/metric/{first.metric.code}/")
    return urls


def _session_cookie(username: str) -> str:
    """A board member's session, as logging in makes it (the session row and its auth keys)."""
    user, _ = User.objects.get_or_create(username=username, defaults={"role": Role.BOARD_MEMBER})
    if user.role != Role.BOARD_MEMBER:
        user.role = Role.BOARD_MEMBER
        user.save(update_fields=["role"])
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.save()
    return f"{settings.SESSION_COOKIE_NAME}={session.session_key}"


def _connection(port: int) -> http.client.HTTPConnection:
    return http.client.HTTPConnection(HOST, port, timeout=30)


def _get(conn: http.client.HTTPConnection, url: str, cookie: str) -> int:
    conn.request(
        "GET",
        url,
        headers={"Cookie": cookie, "X-Forwarded-Proto": "https", "Accept-Encoding": "gzip", "Host": HOST},
    )
    response = conn.getresponse()
    response.read()
    return response.status


def _timed(conn: http.client.HTTPConnection, url: str, cookie: str, tally: Tally) -> http.client.HTTPConnection:
    start = time.perf_counter()
    try:
        status = _get(conn, url, cookie)
    except (OSError, http.client.HTTPException) as exc:
        tally.add(None, f"{url}: {type(exc).__name__}: {exc}")
        conn.close()
        return conn
    if status != 200:
        tally.add(None, f"{url}: HTTP {status}")
    else:
        tally.add((time.perf_counter() - start) * 1000)
    return conn


def _reader(port: int, urls: list[str], cookie: str, stop: float, tally: Tally, rng: random.Random) -> None:
    conn = _connection(port)
    time.sleep(rng.uniform(0, 2))  # readers arrive over the first seconds, not all at once
    while time.monotonic() < stop:
        _timed(conn, rng.choice(urls), cookie, tally)
        time.sleep(rng.uniform(1, 3))
    conn.close()


def _wait_for(port: int, server: subprocess.Popen[bytes], log: Any) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            log.seek(0)
            raise CommandError(f"gunicorn stopped: {log.read().decode()[-2000:]}")
        try:
            with socket.create_connection((HOST, port), timeout=1):
                return
        except OSError:
            time.sleep(0.3)
    raise CommandError("gunicorn did not start within 60 s")


@contextlib.contextmanager
def gunicorn_running(*, port: int, env: dict[str, str]) -> Iterator[None]:
    """gunicorn with gunicorn.conf.py and DEBUG off on 127.0.0.1:``port`` (``env`` added to this process's
    environment) until the block ends; its error log is read back if it fails to start."""
    full = {
        **os.environ,
        "DJANGO_DEBUG": "",
        "DJANGO_ALLOWED_HOSTS": HOST,
        "GUNICORN_BIND": f"{HOST}:{port}",
        "GUNICORN_ACCESS_LOG": "/dev/null",
        **env,
    }
    full.setdefault("DJANGO_SECRET_KEY", "bench-only-not-secret")
    gunicorn = Path(sys.executable).parent / "gunicorn"
    with tempfile.TemporaryFile() as log:
        server = subprocess.Popen(  # noqa: S603 - our own gunicorn and config
            [str(gunicorn), "--config", "gunicorn.conf.py"],
            cwd=settings.BASE_DIR,
            env=full,
            stdout=subprocess.DEVNULL,
            stderr=log,
            start_new_session=True,
        )
        try:
            _wait_for(port, server, log)
            yield
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)

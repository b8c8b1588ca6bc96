"""The production serving set-up: gunicorn's configuration, compressed pages, persistent connections."""

import gzip
import os
import runpy
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

ROOT = Path(__file__).resolve().parent.parent


def test_gunicorn_runs_cores_plus_one_threaded_workers_with_a_keep_alive_longer_than_a_proxys(monkeypatch):
    for name in ("WEB_CONCURRENCY", "GUNICORN_THREADS", "GUNICORN_KEEPALIVE", "GUNICORN_BIND"):
        monkeypatch.delenv(name, raising=False)
    config = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    assert config["wsgi_app"] == "pcc_perf.wsgi:application"
    assert config["workers"] == (os.cpu_count() or 1) + 1
    assert config["worker_class"] == "gthread" and config["threads"] >= 2
    assert config["keepalive"] > 60  # nginx's and load balancers' idle timeout: the proxy closes first


def test_make_serve_runs_gunicorn_with_that_configuration_and_the_task_worker():
    makefile = (ROOT / "Makefile").read_text()
    serve = makefile[makefile.index("\nserve:") : makefile.index("\ntest:")]
    assert "gunicorn --config gunicorn.conf.py" in serve
    assert "db_worker" in serve


def test_the_wsgi_app_settles_its_heap_once_every_view_is_imported():
    """Loading the app (as gunicorn's preload does) imports every view and freezes what is alive then, so the
    garbage collector's full collections no longer walk Django and its libraries on every request's turn."""
    script = (
        "import gc, sys\n"
        "import pcc_perf.wsgi\n"
        "print(gc.get_freeze_count(), 'reports.dashboards.views' in sys.modules, 'metrics.returns.views' in sys.modules)\n"
    )
    env = {**os.environ, "DJANGO_SECRET_KEY": "x", "DATABASE_URL": "sqlite:///:memory:"}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    out = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=True
    )
    frozen, dashboards, returns = out.stdout.split()
    assert int(frozen) > 50_000  # Django, the views and their libraries (120,000 objects here)
    assert dashboards == returns == "True"


def test_database_connections_are_checked_before_reuse():
    assert settings.DATABASES["default"]["CONN_HEALTH_CHECKS"] is True


def test_gzip_comes_after_whitenoise_and_before_anything_that_writes_the_body():
    middleware = settings.MIDDLEWARE
    assert "django.middleware.gzip.GZipMiddleware" in middleware
    assert middleware.index("django.middleware.gzip.GZipMiddleware") < middleware.index(
        "django.contrib.sessions.middleware.SessionMiddleware"
    )


@pytest.mark.django_db
def test_pages_are_gzipped_for_browsers_that_accept_it(client):
    plain = client.get(reverse("login"))
    zipped = client.get(reverse("login"), headers={"accept-encoding": "gzip, deflate, br"})
    assert zipped["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in zipped["Vary"]
    assert len(zipped.content) < len(plain.content)
    assert b"<form" in gzip.decompress(zipped.content)

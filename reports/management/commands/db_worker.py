"""``manage.py db_worker``: django_tasks_db's worker, unchanged (same options), plus a watchdog thread that
fails work whose worker stopped — a board pack or upload with no heartbeat for PCC_PERF_TASK_STALE_SECONDS —
with a message and an audit event, and marks the dead worker's task failed (``reports.tasks.recover_stale_work``).
It runs when the worker starts and then every sixth of that time, so a fresh worker clears what a killed one
left behind, and live workers keep an eye on each other. Queued work is never blocked by a dead worker's
task: a worker claims only tasks that are READY. It imports what a board pack needs (WeasyPrint, kaleido,
python-docx: seconds of imports) when it starts, not while the first pack waits."""

from __future__ import annotations

import logging
import os
import threading
from typing import Any

from django.db import connections
from django.utils.autoreload import DJANGO_AUTORELOAD_ENV
from django_tasks_db.management.commands.db_worker import Command as DatabaseWorkerCommand

from accounts.background import beat_seconds

logger = logging.getLogger("django_tasks_db")


def watch(stop: threading.Event, every: float) -> None:
    """Sweep for stopped work now and then every ``every`` seconds until ``stop`` is set. A round that fails
    (a busy or unreachable database) is logged and tried again at the next: the worker goes on working."""
    from reports.tasks import recover_stale_work

    while True:
        try:
            found = recover_stale_work()
            if found["packs"] or found["uploads"]:
                logger.warning("failed work whose worker stopped: %s", found)
        except Exception:
            logger.exception("stopped-work check not done")
        finally:
            connections.close_all()  # this thread's connections only
        if stop.wait(every):
            return


def warm_up() -> None:
    """Import the board pack's libraries now (WeasyPrint alone takes 2-3 s), so no pack pays for them."""
    import cairosvg  # noqa: F401
    import docx  # noqa: F401
    import kaleido  # noqa: F401
    import weasyprint  # noqa: F401

    import reports.packs.build  # noqa: F401


class Command(DatabaseWorkerCommand):
    help = (
        "Run a database background worker; it also fails board packs and uploads whose worker stopped "
        "(no heartbeat for PCC_PERF_TASK_STALE_SECONDS)"
    )

    def handle(self, *args: Any, **options: Any) -> None:
        # With --reload the parent process only watches files; the child (marked by Django) does the work.
        if not options.get("reload") or os.environ.get(DJANGO_AUTORELOAD_ENV) == "true":
            stop = threading.Event()
            threading.Thread(target=watch, args=(stop, beat_seconds()), name="pcc-perf-watchdog", daemon=True).start()
            warm_up()
        super().handle(*args, **options)

"""Background work that survives its worker (board packs, large uploads; django.tasks on django_tasks_db).

django_tasks_db marks a task RUNNING when a worker claims it and never looks at it again: a worker killed
mid-task leaves it RUNNING for ever (RealOrangeOne/django-tasks-db#5, open in 0.13.0, the latest). It does
not block other work — a worker claims only READY tasks — but the pack or upload it was working on would
stay "building" or "checking" for ever. So the row being worked on carries its task's id and a heartbeat:

- ``heartbeat(rows)`` — while a block runs, a thread sets ``heartbeat_at`` on the row every
  ``beat_seconds()`` (a sixth of ``PCC_PERF_TASK_STALE_SECONDS``).
- ``stale_before()`` — work whose heartbeat is older than this has lost its worker. The domain's sweep
  (``reports.packs.services.packs_recover``, ``metrics.returns.uploads.uploads_recover``) fails it through the
  state-change kit with a message and an audit event, and the page offers to try again.
- ``task_abandoned(task_id, message)`` — marks the dead worker's RUNNING task FAILED, so the task list
  says what happened too.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import DatabaseError, connections
from django.utils import timezone

logger = logging.getLogger(__name__)


class WorkerStopped(Exception):
    """The worker running a task stopped (no heartbeat for ``PCC_PERF_TASK_STALE_SECONDS``)."""


def stale_seconds() -> float:
    return float(settings.PCC_PERF_TASK_STALE_SECONDS)


def beat_seconds() -> float:
    return max(0.1, stale_seconds() / 6)


def stale_before() -> dt.datetime:
    return timezone.now() - dt.timedelta(seconds=stale_seconds())


def stopped_message(what: str) -> str:
    return f"The worker {what} stopped: no sign of life for {stale_seconds():g} seconds. Nothing was kept; try again."


@contextmanager
def heartbeat(rows: Any, *, every: float | None = None) -> Iterator[None]:
    """While the block runs, set ``heartbeat_at`` to now on ``rows`` (a queryset: the row being worked on,
    filtered on its task and state so a superseded attempt beats nothing) every ``every`` seconds, from a
    thread with its own database connection. A beat that fails (a busy database) is tried at the next."""
    stop = threading.Event()
    interval = beat_seconds() if every is None else every

    def beat() -> None:
        try:
            while not stop.wait(interval):
                try:
                    rows.update(heartbeat_at=timezone.now())
                except DatabaseError as exc:  # e.g. SQLite busy while the worker's own write is under way
                    logger.warning("heartbeat not recorded: %s", exc)
        finally:
            connections.close_all()  # this thread's connections only

    thread = threading.Thread(target=beat, name="pcc-perf-heartbeat", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=30)


def task_abandoned(task_id: str, message: str) -> None:
    """Mark the database task ``task_id`` FAILED if it is still RUNNING (its worker stopped)."""
    if not task_id:
        return
    from django_tasks_db.models import DBTaskResult

    try:
        running = DBTaskResult.objects.filter(pk=task_id, status="RUNNING").first()
    except (ValidationError, ValueError):  # not a database task's id (another backend)
        return
    if running is not None:
        running.set_failed(WorkerStopped(message))

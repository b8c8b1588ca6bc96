"""Shared official statistics: one definition and one set of figures for every partnership that uses them.

A metric with no partnership (``Metric.partnership`` empty) is shared reference data: every partnership reads
it, and a partnership's framework may place it. It is written (its definition by a framework file, its figures
by an import) only by the host — a command or the shell (no actor), the system actor, a superuser — or by a
partnership while no *other* partnership's framework places it (``used_elsewhere``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from accounts.access import is_system_actor

from .models import FrameworkMetric


def is_host(actor: Any) -> bool:
    """Whether ``actor`` acts for the installation's host: a command or the shell (no actor), the system
    actor, or a superuser."""
    return actor is None or is_system_actor(actor) or bool(getattr(actor, "is_superuser", False))


def used_elsewhere(*, metric_ids: Iterable[int], partnership_id: int) -> set[int]:
    """Which of the shared metrics ``metric_ids`` a framework of a partnership other than ``partnership_id``
    places (one query)."""
    ids = set(metric_ids)
    if not ids:
        return set()
    return set(
        FrameworkMetric.objects.filter(metric_id__in=ids, metric__partnership__isnull=True)
        .exclude(framework__partnership_id=partnership_id)
        .values_list("metric_id", flat=True)
        .distinct()
    )

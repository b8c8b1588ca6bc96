"""The approved-data version: a counter every change to what the pages show moves on, read in one query.

Services that change approved data (return approval, revisions and imports), snapshots, the framework,
rebases and annotations call ``data_changed()`` inside their transaction; pages cache what every reader of
the same page shares under a key that includes ``data_version()`` (``reports/dashboards/cache.py``), so a
change invalidates every process's cache at once with nothing to delete."""

from __future__ import annotations

from django.db import transaction
from django.db.models import F

from .models import DataVersion


def data_version() -> str:
    """``epoch:number`` of the approved data now (one query; the row is made on first use)."""
    row = DataVersion.objects.filter(pk=1).values_list("epoch", "number").first()
    if row is None:
        version, _ = DataVersion.objects.get_or_create(pk=1)
        row = (version.epoch, version.number)
    return f"{row[0].hex}:{row[1]}"


def data_changed() -> None:
    """Move the version on, in the caller's transaction (a rolled-back change leaves it as it was)."""
    with transaction.atomic():
        if not DataVersion.objects.filter(pk=1).update(number=F("number") + 1):
            DataVersion.objects.get_or_create(pk=1, defaults={"number": 2})

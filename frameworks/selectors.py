"""Reads of frameworks that every layer above needs."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.db.models import QuerySet

from accounts.models import Partnership
from accounts.prepared import prepared_read
from accounts.tenancy import current_partnership

from .models import Area, Framework


def current_framework(*, partnership: Partnership | None = None) -> Framework | None:
    """The framework pages, returns and the API show (the newest one marked current), with its home area, of
    ``partnership``: the partnership of the work in hand (``accounts.tenancy``) when none is given."""
    if partnership is None:
        partnership = current_partnership()
    found = _current_framework.read(partnership_id=partnership.pk)
    return found[0] if found else None


@prepared_read(scoped=False)
def _current_framework(*, partnership_id: Any) -> QuerySet[Any]:
    frameworks = Framework.objects.select_related("home_area", "peer_group").filter(
        is_current=True, partnership_id=partnership_id
    )
    return frameworks.order_by("-updated_at", "code")[:1]


# --- local areas: the areas under the home area ------------------------------------------------------------
def local_areas(framework: Framework) -> list[Area]:
    """The framework's local areas: every area under its home area (``parent``, at any depth), in tree order
    (each area followed by the areas under it; by name among siblings), with ``depth`` set (1: directly
    under the home area). One query whatever the number of areas."""
    children: dict[int | None, list[Area]] = defaultdict(list)
    for area in Area.objects.order_by("name", "code"):
        children[area.parent_id].append(area)
    out: list[Area] = []

    def walk(parent_id: int, depth: int) -> None:
        for area in children.get(parent_id, []):
            area.depth = depth  # type: ignore[attr-defined]
            out.append(area)
            walk(area.pk, depth + 1)

    walk(framework.home_area_id, 1)
    return out


def lowest_local_areas(areas: list[Area]) -> list[Area]:
    """The local areas with no local area under them (districts and unitary authorities): together they cover
    the home area once, so a measure reported by local area is owed for each of them."""
    parents = {a.parent_id for a in areas}
    return [a for a in areas if a.pk not in parents]

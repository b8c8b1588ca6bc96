"""Scoped reads: ``Model.objects.in_scope()`` keeps the rows of the partnership of the work in hand.

Every model that belongs to a partnership (directly, or through its round, snapshot, report …) has a queryset
made by ``scoped``; a read of such rows for a page, export, API call, command or task goes through
``in_scope()``, and a row fetched by its id from a URL is fetched from ``in_scope()`` (so another
partnership's id is simply not found). Imports nothing of the models, so ``accounts.models`` can use it.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.db import models
from django.db.models import Q


class ScopedQuerySet(models.QuerySet[Any]):
    """Rows that belong to a partnership. ``PATH``: the lookup from the model to its partnership
    (``partnership``, ``round__partnership``); ``SHARED``: an empty partnership is shared with every one (a
    shared official statistic), so ``in_scope`` keeps those rows too."""

    PATH: ClassVar[str] = "partnership"
    SHARED: ClassVar[bool] = False

    def in_scope(self, partnership: Any = None) -> Any:
        """The rows of ``partnership`` (a ``Partnership`` or its id; the current one when None), and the shared
        ones where the model has them."""
        if partnership is None:
            from .tenancy import current_partnership_id

            pid = current_partnership_id()
        else:
            pid = getattr(partnership, "pk", partnership)
        q = Q(**{f"{self.PATH}_id": pid})
        if self.SHARED:
            q |= Q(**{f"{self.PATH}__isnull": True})
        return self.filter(q)


def scoped(base: type[models.QuerySet[Any]], path: str, *, shared: bool = False) -> type[ScopedQuerySet]:
    """A queryset class like ``base`` with ``in_scope()`` following ``path`` to the partnership."""
    return type(f"Scoped{base.__name__}", (ScopedQuerySet, base), {"PATH": path, "SHARED": shared})


class MadeInCurrentPartnership:
    """A model mixin: a row saved without a partnership belongs to the partnership of the work in hand
    (``accounts.tenancy``)."""

    partnership: Any
    partnership_id: int | None

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.partnership_id is None:
            from .tenancy import current_partnership

            self.partnership = current_partnership()
        super().save(*args, **kwargs)  # type: ignore[misc]

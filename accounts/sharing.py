"""A partnership's data-sharing setting: whether the other partnerships of its region may read its published
figures (the regional view). Only published snapshots ever cross; the setting is the owner's, changed by a
performance manager of that partnership, and audited."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from .access import Perm, require
from .audit import AuditAction, record
from .models import Partnership
from .versions import data_changed
from .workflow import locked


def partnership_sharing_set(*, actor: Any, partnership: Partnership, shares: bool) -> Partnership:
    """Share ``partnership``'s published figures with its region (``shares=True``) or stop sharing them.

    Permission → one transaction, the partnership's row locked → save → audit event
    (``partnership.sharing_changed``, in ``partnership``'s trail) → the data version moves on with the commit,
    so no cached page keeps showing what was shared. Setting what is already set changes and records nothing.
    The permission is read in ``partnership`` itself: a manager of another partnership may not change it."""
    require(actor, Perm.MANAGE_SHARING, partnership=partnership)
    with transaction.atomic():
        row = locked(Partnership, partnership.pk)
        old = row.shares_published_with_region
        if old == shares:
            return row
        row.shares_published_with_region = shares
        row.save(update_fields=["shares_published_with_region"])
        where = f" ({row.region})" if row.region else ""
        record(
            AuditAction.PARTNERSHIP_SHARING_CHANGED,
            actor=actor,
            obj=row,
            summary=f"{row.name}: published figures {'shared with' if shares else 'no longer shared with'} "
            f"the region{where}",
            old={"shares_published_with_region": old},
            new={"shares_published_with_region": shares},
            partnership=row,
        )
        data_changed()  # in the same transaction: the version moves on exactly when the change commits
    partnership.shares_published_with_region = shares
    return row

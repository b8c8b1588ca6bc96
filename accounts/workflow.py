"""The state-change kit: every status (returns, uploads, reports, snapshots, board packs) changes this way.

A state change reads top to bottom::

    require(actor, Perm.APPROVE_RETURN)
    with transaction.atomic():
        ret = locked(Return, return_id, version=version)        # the row, locked; Conflict if edited meanwhile
        ret.decided_at, ret.decided_by = timezone.now(), actor  # anything else that changes with the state
        change_state(
            ret, to=ReturnState.APPROVED, table=RETURN_TRANSITIONS, actor=actor,
            action=AuditAction.RETURN_APPROVED, fields=["decided_at", "decided_by"],
            on_commit=lambda: notify_return_approved(ret.pk),
        )

``table`` maps each state to the states it may go to, next to the status enum::

    RETURN_TRANSITIONS = {ReturnState.DRAFT: {ReturnState.SUBMITTED}, ...}

A model with a ``version`` field has it bumped by every transition, so a second submit of the same form
(same version) gets ``Conflict`` instead of doing the work twice.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from typing import Any

from django.db import models, transaction
from django.db.transaction import TransactionManagementError

from .audit import AuditAction, record

# Keyed by the status enum (``dict[ReturnState, frozenset[ReturnState]]``); Mapping's key type is invariant.
Transitions = Mapping[Any, Collection[str]]


class IllegalTransition(Exception):
    """The object cannot go from its state to the one asked for. The message says so in plain words."""

    def __init__(self, obj: models.Model, *, field: str, from_state: str, to_state: str) -> None:
        self.obj, self.field, self.from_state, self.to_state = obj, field, from_state, to_state
        name = obj._meta.verbose_name
        super().__init__(
            f"A {_label(obj, field, from_state).lower()} {name} cannot become {_label(obj, field, to_state).lower()}."
        )


class Conflict(Exception):
    """Someone changed the object since the page was loaded (its version moved on)."""

    def __init__(self, obj: models.Model, *, expected: int, found: int) -> None:
        self.obj, self.expected, self.found = obj, expected, found
        super().__init__(
            f"This {obj._meta.verbose_name} was changed by someone else (version {found}, you had {expected}). "
            "Reload the page and try again."
        )


def _label(obj: models.Model, field: str, value: str) -> str:
    choices = dict(obj._meta.get_field(field).flatchoices)  # type: ignore[union-attr]
    return str(choices.get(value, value))


def _require_atomic(what: str, using: str | None = None) -> None:
    # SQLite ignores SELECT … FOR UPDATE; insist on the transaction everywhere so code that passes its
    # tests on SQLite also holds the lock on PostgreSQL.
    if not transaction.get_connection(using).in_atomic_block:
        raise TransactionManagementError(f"{what} must run inside transaction.atomic().")


def locked[M: models.Model](model_or_qs: type[M] | models.QuerySet[M], pk: Any, *, version: int | None = None) -> M:
    """The row ``pk``, locked until the transaction ends (``select_for_update``).

    ``version``: the version the user saw; ``Conflict`` if the row has moved on since.
    """
    qs = model_or_qs if isinstance(model_or_qs, models.QuerySet) else model_or_qs._default_manager.all()
    _require_atomic("locked()", qs.db)
    obj = qs.select_for_update().get(pk=pk)
    if version is not None:
        found = obj.version  # type: ignore[attr-defined]
        if found != version:
            raise Conflict(obj, expected=version, found=found)
    return obj


def transition(obj: models.Model, *, to: str, table: Transitions, field: str = "state") -> str:
    """Move ``obj`` to the state ``to`` if ``table`` allows it (in memory; the caller saves).

    Bumps ``obj.version`` when the model has one. Returns the old state. ``IllegalTransition`` otherwise.
    """
    old = getattr(obj, field)
    if to not in table.get(old, ()):
        raise IllegalTransition(obj, field=field, from_state=old, to_state=to)
    setattr(obj, field, to)
    if _has_version(obj):
        obj.version += 1  # type: ignore[attr-defined]
    return str(old)


def _has_version(obj: models.Model) -> bool:
    return any(f.name == "version" for f in obj._meta.concrete_fields)


def change_state[M: models.Model](
    obj: M,
    *,
    to: str,
    table: Transitions,
    actor: Any,
    action: AuditAction,
    fields: Iterable[str] = (),
    field: str = "state",
    summary: str = "",
    reason: str = "",
    return_id: int | None = None,
    on_commit: Callable[[], object] | None = None,
) -> M:
    """Transition → save the state (plus ``fields``, set by the caller) → audit → queue ``on_commit``.

    Runs inside the caller's ``transaction.atomic()`` (normally right after ``locked``); ``on_commit``
    runs only once that transaction commits, so a rollback sends no e-mail and queues no task.
    """
    _require_atomic("change_state()", obj._state.db)
    old = transition(obj, to=to, table=table, field=field)
    update = [field, *(["version"] if _has_version(obj) else []), *fields]
    obj.save(update_fields=list(dict.fromkeys(update)))
    record(
        action,
        actor=actor,
        obj=obj,
        summary=summary or str(obj),
        old={field: old},
        new={field: str(to)},
        reason=reason,
        return_id=return_id,
    )
    if on_commit is not None:
        transaction.on_commit(on_commit, using=obj._state.db)
    return obj

"""Rows the database itself keeps unchanged: triggers on SQLite and PostgreSQL, and the ORM's clear error.

Published snapshots (with their observations, revisions and frozen framework file), a published report's
content and the audit trail must not change after the fact, whatever writes to the database: the ORM, the
admin, a management shell or raw SQL. Each app declares its ``Guard``s (a table, the operations refused,
the condition under which they are refused); a migration installs them as triggers (``install``) and the
models refuse the same writes before they reach the database (``ImmutableQuerySet``, ``refuse``), so the
ORM raises ``ImmutableError`` with a message a person can read. A write that slips past the ORM (raw SQL,
a cascade) is stopped by the trigger; ``guarded`` turns that database error into ``ImmutableError`` too.

SQLite: ``CREATE TRIGGER … BEGIN SELECT RAISE(ABORT, …)``. PostgreSQL: a PL/pgSQL function per guard
raising SQLSTATE 23001 (restrict_violation), so both arrive in Django as ``IntegrityError``. ``TRUNCATE``
(not a row operation) is not refused: emptying a whole table is a database administrator's act.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.db import DatabaseError, models, transaction
from django.db.backends.base.base import BaseDatabaseWrapper

MARKER = "pcc_perf immutable:"


class ImmutableError(Exception):
    """A write to a row the database keeps unchanged (published snapshot, published report, audit event)."""


@dataclass(frozen=True)
class Guard:
    """Refuse ``operation`` (``UPDATE``, ``DELETE`` or ``INSERT``) on ``table`` when ``when`` holds (SQL over
    ``OLD``/``NEW``, the same in SQLite and PL/pgSQL; empty: always), with ``message``."""

    table: str
    operation: str
    message: str
    when: str = ""

    @property
    def name(self) -> str:
        return f"pcc_guard_{self.table}_{self.operation.lower()}"


def _sql_text(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def install_sql(vendor: str, guard: Guard) -> list[str]:
    """The statements that (re)create ``guard`` on ``vendor`` (``sqlite`` or ``postgresql``)."""
    message = f"{MARKER} {guard.message}"
    if vendor == "sqlite":
        when = f" WHEN {guard.when}" if guard.when else ""
        return [
            f"DROP TRIGGER IF EXISTS {guard.name}",
            f"CREATE TRIGGER {guard.name} BEFORE {guard.operation} ON {guard.table} FOR EACH ROW{when} "
            f"BEGIN SELECT RAISE(ABORT, {_sql_text(message)}); END",
        ]
    if vendor == "postgresql":
        condition = guard.when or "TRUE"
        row = "OLD" if guard.operation == "DELETE" else "NEW"
        return [
            f"CREATE OR REPLACE FUNCTION {guard.name}() RETURNS trigger LANGUAGE plpgsql AS $guard$ "
            f"BEGIN IF {condition} THEN RAISE EXCEPTION USING ERRCODE = '23001', MESSAGE = {_sql_text(message)}; "
            f"END IF; RETURN {row}; END $guard$",
            f"DROP TRIGGER IF EXISTS {guard.name} ON {guard.table}",
            f"CREATE TRIGGER {guard.name} BEFORE {guard.operation} ON {guard.table} FOR EACH ROW "
            f"EXECUTE FUNCTION {guard.name}()",
        ]
    raise NotImplementedError(f"No immutability triggers for the {vendor} database.")


def uninstall_sql(vendor: str, guard: Guard) -> list[str]:
    if vendor == "sqlite":
        return [f"DROP TRIGGER IF EXISTS {guard.name}"]
    if vendor == "postgresql":
        return [f"DROP TRIGGER IF EXISTS {guard.name} ON {guard.table}", f"DROP FUNCTION IF EXISTS {guard.name}()"]
    raise NotImplementedError(f"No immutability triggers for the {vendor} database.")


def install(connection: BaseDatabaseWrapper, guards: Iterable[Guard]) -> None:
    """Create (or replace) the triggers of ``guards``: from a migration, ``install(schema_editor.connection,
    GUARDS)``."""
    with connection.cursor() as cursor:
        for guard in guards:
            for statement in install_sql(connection.vendor, guard):
                cursor.execute(statement)


def uninstall(connection: BaseDatabaseWrapper, guards: Iterable[Guard]) -> None:
    with connection.cursor() as cursor:
        for guard in guards:
            for statement in uninstall_sql(connection.vendor, guard):
                cursor.execute(statement)


def installed(connection: BaseDatabaseWrapper) -> set[str]:
    """Names of the guard triggers present in the database."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'pcc_guard_%'")
        else:
            cursor.execute("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal AND tgname LIKE 'pcc_guard_%%'")
        return {row[0] for row in cursor.fetchall()}


# --- the ORM side ----------------------------------------------------------------------------------------------
def immutable_message(exc: BaseException) -> str | None:
    """The guard's message when ``exc`` is a database error raised by a guard trigger, else None."""
    if not isinstance(exc, DatabaseError):
        return None
    text = str(exc)
    if MARKER not in text:
        return None
    return text.split(MARKER, 1)[1].strip().splitlines()[0].strip()


@contextmanager
def guarded() -> Iterator[None]:
    """Turn a guard trigger's database error into ``ImmutableError`` (other errors pass unchanged). The write
    runs in a savepoint, so a refusal leaves the caller's transaction usable."""
    try:
        with transaction.atomic():
            yield
    except DatabaseError as exc:
        message = immutable_message(exc)
        if message is None:
            raise
        raise ImmutableError(message) from exc


class ImmutableQuerySet(models.QuerySet[Any]):
    """Rows that are written once: ``update``, ``delete`` and ``bulk_update`` are refused before any SQL.
    Subclass it with the model's own ``immutable_message``."""

    immutable_message = "These rows cannot be changed or deleted."

    def update(self, **kwargs: Any) -> int:
        raise ImmutableError(self.immutable_message)

    def delete(self) -> tuple[int, dict[str, int]]:
        raise ImmutableError(self.immutable_message)

    def bulk_update(self, objs: Any, fields: Any, batch_size: int | None = None) -> int:
        raise ImmutableError(self.immutable_message)


class GuardedQuerySet(models.QuerySet[Any]):
    """Rows immutable only in some states (a published report): the database decides; its refusal arrives as
    ``ImmutableError``."""

    def update(self, **kwargs: Any) -> int:
        with guarded():
            return super().update(**kwargs)

    def delete(self) -> tuple[int, dict[str, int]]:
        with guarded():
            return super().delete()

    def bulk_update(self, objs: Any, fields: Any, batch_size: int | None = None) -> int:
        with guarded():
            return super().bulk_update(objs, fields, batch_size=batch_size)

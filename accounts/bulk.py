"""Set-based writes for large imports: many rows in one statement, without building model instances.

PostgreSQL: ``COPY … FROM STDIN`` (psycopg 3 ``cursor.copy``); SQLite: one ``executemany``. Both inside the
caller's transaction, so the write stays all-or-nothing and every constraint and trigger of the table applies.
``analyze`` refreshes PostgreSQL's planner statistics after a large write.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from django.conf import settings
from django.db import connection, models, transaction
from django.tasks import task


def columns_of(model: type[models.Model], fields: Sequence[str]) -> list[str]:
    """The database columns of ``model``'s ``fields`` (``metric`` → ``metric_id``)."""
    return [str(model._meta.get_field(name).column) for name in fields]  # type: ignore[union-attr]


def _preparer(model: type[models.Model], fields: Sequence[str]) -> Callable[[Sequence[Any]], Sequence[Any]]:
    """Raw Python values as the database driver takes them: JSON as text, and on SQLite dates and datetimes
    as Django stores them (text, datetimes in UTC without an offset)."""
    kinds = [model._meta.get_field(name) for name in fields]
    json_at = [i for i, f in enumerate(kinds) if isinstance(f, models.JSONField)]
    sqlite = connection.vendor == "sqlite"
    stamps_at = [i for i, f in enumerate(kinds) if sqlite and isinstance(f, models.DateTimeField)]
    days_at = [i for i, f in enumerate(kinds) if sqlite and type(f) is models.DateField]
    adapted: dict[Any, Any] = {}  # a large write's rows share their timestamps: each adapted once
    last: list[Any] = [object(), None]  # the last value adapted and its form: most rows repeat it

    def adapt(value: Any) -> Any:
        if value is last[0]:
            return last[1]
        if value not in adapted:
            adapted[value] = connection.ops.adapt_datetimefield_value(value)
        last[0], last[1] = value, adapted[value]
        return last[1]

    def prepared(row: Sequence[Any]) -> Sequence[Any]:
        if not (json_at or stamps_at or days_at):
            return row
        out = list(row)
        for i in json_at:
            out[i] = None if out[i] is None else json.dumps(out[i])
        for i in stamps_at:
            out[i] = adapt(out[i])
        for i in days_at:
            out[i] = None if out[i] is None else out[i].isoformat()
        return out

    return prepared


def insert_rows(
    model: type[models.Model], fields: Sequence[str], rows: Iterable[Sequence[Any]], *, table: str = ""
) -> int:
    """Insert ``rows`` (tuples in ``fields``' order of raw values: ids for foreign keys, JSON fields as Python
    values) into ``model``'s table (or ``table``, one with its columns) in one statement. Returns the number of
    rows."""
    quote = connection.ops.quote_name
    table = quote(table or model._meta.db_table)
    cols = ", ".join(quote(c) for c in columns_of(model, fields))
    prepared = _preparer(model, fields)
    count = 0
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(prepared(row))
                    count += 1
        else:
            batch = [prepared(row) for row in rows]
            count = len(batch)
            if batch:
                marks = ", ".join(["%s"] * len(fields))
                cursor.executemany(f"INSERT INTO {table} ({cols}) VALUES ({marks})", batch)  # noqa: S608 (names from the model)
    return count


def update_rows(model: type[models.Model], fields: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """Set ``fields`` of rows by primary key in one statement: ``rows`` are tuples of the fields' values, then
    the key. Returns the number of rows."""
    quote = connection.ops.quote_name
    sets = ", ".join(f"{quote(c)} = %s" for c in columns_of(model, fields))
    key = model._meta.pk
    assert key is not None
    pk = quote(str(key.column))
    prepared = _preparer(model, [*fields, key.name])
    batch = [prepared(row) for row in rows]
    if batch:
        with connection.cursor() as cursor:
            cursor.executemany(f"UPDATE {quote(model._meta.db_table)} SET {sets} WHERE {pk} = %s", batch)  # noqa: S608
    return len(batch)


def analyze(*tables: type[models.Model], rows: int) -> bool:
    """After writing ``rows`` rows: have PostgreSQL's planner statistics of ``tables`` refreshed once the
    transaction commits, when that is at least ``PCC_PERF_ANALYZE_ROWS`` (the planner otherwise plans for the
    tables as they were). ANALYZE samples the whole table (close to a second for 50,000 rows on a busy machine),
    so the background worker runs it (``analyze_task``) and the person writing does not wait for it. True if it
    is to run."""
    if connection.vendor != "postgresql" or rows < settings.PCC_PERF_ANALYZE_ROWS:
        return False
    names = [model._meta.db_table for model in tables]
    transaction.on_commit(lambda: analyze_task.enqueue(names))
    return True


@task()
def analyze_task(tables: list[str]) -> str:
    """ANALYZE ``tables`` (PostgreSQL), for ``analyze``."""
    quote = connection.ops.quote_name
    known = set(connection.introspection.table_names())
    done = [name for name in tables if name in known]
    with connection.cursor() as cursor:
        for name in done:
            cursor.execute(f"ANALYZE {quote(name)}")
    return ", ".join(done)

"""Prepared reads: a fixed-shape queryset compiled to SQL once per connection, then run with new parameters.

A dashboard page runs 15-20 small reads. Each took Django ~0.5 ms of Python to build (``filter`` resolving
lookups and joins) and compile (``as_sql``) before the database saw it: half the page's own time, for SQL that
is the same on every request but for its parameters. ``prepared_read`` builds the queryset once with stand-in
values, compiles it, notes where each stand-in landed among the SQL's parameters, and from then on runs the
kept SQL with the call's values through Django's own iterables (model instances, ``values_list`` rows,
``select_related`` and ``prefetch_related`` as the queryset asked), on the same cursor (query counting,
``execute_wrapper`` and the debug log see it as any other query).

What a builder may depend on: its keyword arguments and the partnership of the work in hand (the kept SQL is
per partnership: ``accounts.tenancy.partnership_key``), nothing else (no request, user, clock or setting read
inside it; an argument is tested only for None or emptiness, never for its value: it is built with stand-ins).
Outside any partnership's scope (a test's direct call, a shell) it is built and run by the ORM
each time, unless it reads no partnership at all (``scoped=False``: it is given every id it needs). Its arguments:

- ``int``, ``str`` and ``date`` values become parameters of the kept SQL;
- a list, tuple or set is a set of such values for an ``__in`` lookup: ``None`` and repeats are dropped, as
  the ORM drops them, and the SQL is kept per length;
- ``None`` and ``bool`` change the SQL itself (``IS NULL``, a filter left out): it is kept per value.

A stand-in the compiled SQL does not carry verbatim (a value a lookup transforms: ``contains``; ``iexact`` on SQLite) is
refused at the first call (``PreparedReadError``): tests run every prepared read, on SQLite and PostgreSQL,
against the same queryset built and run by the ORM (``tests/accounts/test_prepared.py`` and each caller's).

A read returns a list, never a queryset: the kept queryset's filters hold stand-ins, so nothing may chain on it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, overload

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import QuerySet

from .tenancy import in_a_scope, partnership_key, partnership_scope

_INT_BASE = -1_900_000_000  # inside a 32-bit integer column's range (the ORM drops out-of-range lookups)
_DATE_BASE = dt.date(1001, 1, 1)
_STR_BASE = "\u2063Prepared %_\\ read "  # what a LIKE lookup would escape, so it is seen not to be verbatim
KEPT = 1024  # compiled reads kept per connection (~10 KB each; a national site reads 36), the oldest dropped past it


class PreparedReadError(Exception):
    """A builder's queryset cannot be kept as SQL with parameters (see the module's docstring)."""


@dataclass(frozen=True, slots=True)
class _Compiled:
    queryset: QuerySet[Any] | None  # None: the ORM would run no query (an empty ``__in``)
    sql: str
    params: tuple[Any, ...]
    slots: tuple[tuple[int, str, int | None, bool], ...]  # (index in params, argument, index in it, as text)
    state: dict[str, Any]  # what compiling left on the compiler that running it reads


def _normalised(value: Any) -> Any:
    if isinstance(value, (list, tuple, set, frozenset)):
        return tuple(dict.fromkeys(v for v in value if v is not None))
    return value


def _shape(value: Any) -> Any:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, tuple):
        return ("in", len(value))
    if isinstance(value, (int, str, dt.date)):
        return "="
    raise PreparedReadError(f"a prepared read takes int, str, date, None, bool or a set of them, not {type(value)}")


class _StandIns:
    def __init__(self) -> None:
        self.found: dict[Any, tuple[str, int | None, bool]] = {}
        self.count = 0

    def one(self, name: str, index: int | None, like: Any) -> Any:
        k = self.count
        self.count += 1
        if isinstance(like, dt.datetime):
            raise PreparedReadError("a prepared read does not take datetimes")
        if isinstance(like, dt.date):
            stand_in: Any = _DATE_BASE + dt.timedelta(days=k)
        elif isinstance(like, int):
            stand_in = _INT_BASE - k
        elif isinstance(like, str):
            stand_in = f"{_STR_BASE}{k}"
        else:
            raise PreparedReadError(f"a prepared read's set holds int, str or date values, not {type(like)}")
        self.found[(type(stand_in), stand_in)] = (name, index, False)
        if not isinstance(stand_in, str):
            self.found[(str, str(stand_in))] = (name, index, True)
        return stand_in

    def of(self, name: str, value: Any) -> Any:
        if value is None or isinstance(value, bool):
            return value
        if isinstance(value, tuple):
            return [self.one(name, i, v) for i, v in enumerate(value)]
        return self.one(name, None, value)


class PreparedRead:
    """``build(**arguments)`` (a queryset) compiled once per connection, partnership and shape of arguments;
    ``read(**arguments)`` runs it: the list ``list(build(**arguments))`` would give."""

    def __init__(self, build: Callable[..., QuerySet[Any]], *, scoped: bool = True) -> None:
        self.build, self.scoped = build, scoped
        self.name = f"{build.__module__}.{build.__qualname__}"

    def read(self, **arguments: Any) -> list[Any]:
        values = {name: _normalised(v) for name, v in arguments.items()}
        if self.scoped and not in_a_scope():
            # Outside a request's, command's or task's partnership (a test's direct call, a shell) the
            # default partnership's id is read afresh each time: built and run as the ORM would.
            return list(self.build(**values))
        key = (
            self.name,
            partnership_key() if self.scoped else None,
            tuple(sorted((n, _shape(v)) for n, v in values.items())),
        )
        connection = connections["default"]
        kept: dict[Any, _Compiled] = connection.__dict__.setdefault("_pcc_prepared_reads", {})
        compiled = kept.get(key)
        if compiled is None:
            compiled = self._compile(values)
            if len(kept) >= KEPT:
                del kept[next(iter(kept))]
            kept[key] = compiled
        if compiled.queryset is None:
            return []
        params = list(compiled.params)
        for at, name, index, as_text in compiled.slots:
            value = values[name] if index is None else values[name][index]
            params[at] = str(value) if as_text else value
        queryset = compiled.queryset.all()
        query = queryset.query
        query.get_compiler = _Runner(query, compiled, params)  # type: ignore[method-assign]
        return list(queryset)

    def _compile(self, values: dict[str, Any]) -> _Compiled:
        stand_ins = _StandIns()
        arguments = {name: stand_ins.of(name, v) for name, v in values.items()}
        if self.scoped:
            queryset = self.build(**arguments)
        else:  # it must not read the partnership: its SQL is kept for every one
            with partnership_scope(_NoPartnership(self.name)):  # type: ignore[arg-type]
                queryset = self.build(**arguments)
        if not isinstance(queryset, QuerySet):
            raise PreparedReadError(f"{self.name} built {type(queryset)}, not a queryset")
        compiler = queryset.query.get_compiler(using=queryset.db)
        try:
            sql, out = compiler.as_sql()
        except EmptyResultSet:
            return _Compiled(None, "", (), (), {})
        slots = []
        seen: set[tuple[str, int | None]] = set()
        for at, param in enumerate(out):
            try:
                where = stand_ins.found.get((type(param), param))
            except TypeError:  # unhashable (a list a backend passes whole): not a stand-in
                where = None
            if where is not None:
                slots.append((at, *where))
                seen.add(where[:2])
        missing = {(n, i) for n, i, _ in stand_ins.found.values()} - seen
        if missing:
            raise PreparedReadError(
                f"{self.name}: the compiled SQL does not carry {sorted(missing, key=str)} as parameters "
                "(a lookup that transforms its value cannot be prepared)"
            )
        state = {
            name: getattr(compiler, name)
            for name in ("select", "klass_info", "annotation_col_map", "col_count", "has_extra_select")
        }
        return _Compiled(queryset, sql, tuple(out), tuple(slots), state)


class _NoPartnership:
    """The partnership while an unscoped read is built: reading it is an error, not a partnership's SQL kept
    for every partnership."""

    def __init__(self, name: str) -> None:
        self.name = name

    @property
    def pk(self) -> int:
        raise PreparedReadError(f"{self.name} is unscoped (scoped=False) but reads the partnership")


class _Runner:
    """Stands in for ``Query.get_compiler`` on a kept queryset's copy: the backend's own compiler, its
    ``as_sql`` answering with the kept SQL and this call's parameters (what running and reading rows need of
    the compiling is copied over from when it was compiled)."""

    def __init__(self, query: Any, compiled: _Compiled, params: list[Any]) -> None:
        self.query, self.compiled, self.params = query, compiled, params

    def __call__(self, using: str | None = None, connection: Any = None, elide_empty: bool = True) -> Any:
        if connection is None:
            connection = connections[using or "default"]
        compiler = connection.ops.compiler(self.query.compiler)(self.query, connection, using, elide_empty)
        compiler.__dict__.update(self.compiled.state)
        sql, params = self.compiled.sql, tuple(self.params)
        compiler.as_sql = lambda *args, **kwargs: (sql, params)
        return compiler


@overload
def prepared_read(build: Callable[..., QuerySet[Any]]) -> PreparedRead: ...
@overload
def prepared_read(*, scoped: bool) -> Callable[[Callable[..., QuerySet[Any]]], PreparedRead]: ...


def prepared_read(build: Callable[..., QuerySet[Any]] | None = None, *, scoped: bool = True) -> Any:
    """A decorator: ``@prepared_read def areas(*, kind): return Area.objects.filter(type=kind)``, then
    ``areas.read(kind=...)``. ``@prepared_read(scoped=False)``: the builder reads no partnership (it is
    given every id it needs), so its SQL is kept for every partnership and outside any scope too."""
    if build is None:
        return lambda build: PreparedRead(build, scoped=scoped)
    return PreparedRead(build, scoped=scoped)

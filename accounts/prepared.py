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

- ``int``, ``str`` and ``date`` values become parameters of the kept SQL (kept per kind of value; a datetime is
  refused: the ORM would convert it, the kept SQL would not);
- a list, tuple or set is a set of such values for an ``__in`` lookup: ``None`` and repeats are dropped, as
  the ORM drops them, and the SQL is kept per length;
- ``None``, ``bool`` and the empty string change the SQL itself (``IS NULL``, a filter left out): kept per value.

Refused when first built (``PreparedReadError``), so that kept SQL never gives other rows than the ORM would:
a stand-in the compiled SQL does not carry verbatim, or a parameter made from one (a value a lookup
transforms: ``contains``, ``iexact`` on SQLite; arithmetic on an argument); a query the ORM would not run
with the stand-ins (an argument out of its field's range); a ``Prefetch`` queryset holding an argument (the
ORM compiles it when it runs); a database other than ``default``. Tests run every prepared read, on SQLite
and PostgreSQL, against the same queryset built and run by the ORM (``tests/accounts/test_prepared.py`` and
each caller's). Each builder is its own (two of one name, made in a function, never share SQL); at most
``KEPT`` are kept per connection, the least recently used dropped first.

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
KEPT = 1024  # reads kept per connection (~10-20 KB each; a national site keeps 36), least recently used dropped


_KEPT_ON_CONNECTION = "_pcc_prepared_reads"


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
    """What of an argument changes the SQL: None, a bool and the empty string as themselves; a value's kind
    (its stand-in's type); a set's kinds, one a value (its length)."""
    if _literal(value):
        return value
    if isinstance(value, tuple):
        return ("in", tuple(_kind(v) for v in value))
    return ("=", _kind(value))


def _literal(value: Any) -> bool:
    """None, a bool or the empty string: given to the builder as itself (it may change the SQL), no stand-in."""
    return value is None or isinstance(value, bool) or value == ""


def _kind(value: Any) -> str:
    if isinstance(value, (dt.datetime, bool)):
        raise PreparedReadError(f"a prepared read does not take {type(value).__name__} values")
    for kind in (dt.date, int, str):
        if isinstance(value, kind):
            return kind.__name__
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
        if _literal(value):
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
            self,  # its identity: two builders of one name (made in a function) never share SQL
            partnership_key() if self.scoped else None,
            tuple(sorted((n, _shape(v)) for n, v in values.items())),
        )
        connection = connections["default"]
        kept: dict[Any, _Compiled] = connection.__dict__.setdefault(_KEPT_ON_CONNECTION, {})
        compiled = kept.pop(key, None)
        if compiled is not None:
            kept[key] = compiled  # the most recently used last: the least recently used is dropped first
        else:
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
        if queryset.db != "default":  # the kept SQL lives on the default connection
            raise PreparedReadError(f"{self.name} reads database {queryset.db!r}; prepared reads use 'default'")
        self._check_prefetches(queryset)
        compiler = queryset.query.get_compiler(using=queryset.db)
        try:
            sql, out = compiler.as_sql()
        except EmptyResultSet:
            if any(v == () for v in values.values()):
                return _Compiled(None, "", (), (), {})  # an empty set: the ORM runs no query either
            raise PreparedReadError(
                f"{self.name}: the ORM would run no query with stand-in values (an argument out of its field's "
                "range, such as a positive field's): it cannot be prepared"
            ) from None
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
            elif _made_from_a_stand_in(param):
                raise PreparedReadError(
                    f"{self.name}: the compiled SQL carries {param!r}, made from a stand-in (an argument "
                    "transformed before the query: a lookup such as contains, or arithmetic on it); it cannot be "
                    "prepared"
                )
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

    def _check_prefetches(self, queryset: QuerySet[Any]) -> None:
        """A ``Prefetch`` queryset is compiled by the ORM when it runs, so it may not hold an argument."""
        for lookup in getattr(queryset, "_prefetch_related_lookups", ()):
            inner = getattr(lookup, "queryset", None)
            if inner is None:
                continue
            try:
                _, params = inner.query.sql_with_params()
            except EmptyResultSet:
                continue
            if any(_made_from_a_stand_in(p) for p in params):
                raise PreparedReadError(f"{self.name}: a Prefetch queryset holds an argument; it cannot be prepared")


def _made_from_a_stand_in(param: Any) -> bool:
    """A parameter in the stand-ins' ranges: a stand-in, or a value the query made from one."""
    if isinstance(param, bool):
        return False
    if isinstance(param, int):
        return _INT_BASE - 1_000_000 <= param <= _INT_BASE + 1_000_000
    if isinstance(param, dt.date):
        return param.year < 1100
    if isinstance(param, str):
        return _STR_BASE[:8] in param or (
            len(param) >= 10 and param[4] == "-" and param[:4].isdigit() and param[:4] < "1100"
        )
    return False


class _NoPartnership:
    """The partnership while an unscoped read is built: reading it is an error, not a partnership's SQL kept
    for every partnership."""

    def __init__(self, name: str) -> None:
        self._read = name

    @property
    def pk(self) -> int:
        raise PreparedReadError(f"{self._read} is unscoped (scoped=False) but reads the partnership")


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


def forget_prepared_reads() -> None:
    """Drop every read kept on this thread's default connection (tests start each with none kept)."""
    connections["default"].__dict__.pop(_KEPT_ON_CONNECTION, None)


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

"""Queries whose SQL Django builds once per process, not on every request.

Building a statement is most of what a short read costs here: Django takes 0.3–1.7 ms to turn a
queryset of a wide model with its joins into SQL, which PostgreSQL then answers in 0.05–0.3 ms. The
hottest reads of the busiest pages (the survey form, a submission's page) are the same statement
every time with other values. A `Statement` builds its queryset once per shape, keeps the SQL and
the compiler Django made for it, and on each call runs that SQL with the call's values bound in their
places; the rows become model instances (or tuples, for `values_list`) by Django's own iterables, as
if the queryset had been evaluated.

How the values' places are found: the queryset is built three times, with three sets of stand-in
values unlike each other (in length, first character, parity, number of digits). A parameter that
differs between the builds is a value's place (its stand-ins say which); one that is the same in all
three is a constant of the statement. The builds must give the same SQL, every value must have a
place, every differing parameter must be a stand-in, and no constant may hold a piece of one: a
value that Django or the build transforms (a `contains` pattern, a list for `__in`, a slice, a
sum) is refused when the statement is first built, not bound wrongly. Builds should use their
values in plain lookups (`field=value`), as the ones here do.

An int no 64-bit column holds (a URL's `<int:pk>` takes any number of digits) is not bound: that
call runs the queryset the ordinary way, and Django answers it as it always does.

On PostgreSQL a statement is also prepared in the server (`prepared`), once per connection: the
planning of a read with joins and subqueries (0.1–0.6 ms) is then done once, not on every call.

What the build may depend on: its arguments only. `shape` arguments (a scope's kind, a language)
choose the statement's structure and are part of its key; `values` (ints, strings, decimals and
dates) are bound per call. A date's stand-in may also be found as its text: SQLite's driver takes
dates as text (`adapt_datefield_value`), and the call's date is then bound as text too. A build
that reads the clock, the language or a setting would keep what it read at the first call: pass
such things in as values or shape (today's date as a value).

Rows kept while their tables are unchanged: a statement made with `keep=True` — its build reads
through the ORM's own lookups, no raw SQL or `extra()` — and run inside a computation that has read
the versions of the tables it reads (`reviews.freshness.cached`, which sets `table_versions`), keeps
its rows in the process under its values and the versions of every table its SQL names, one entry
per statement and values (the latest), and answers the next call at the same versions from them.
On the busiest day the forms change every few seconds while the provinces, cities, rounds,
thresholds, reference values and designations do not: a dashboard computed again after a
submission then reads only what the submission changed. A version read in the same request as the
rows' use, before them, is what decides: rows are never taken for versions they were not read at.
"""

from __future__ import annotations

import copy
import datetime
import itertools
import re
import threading
import weakref
from collections.abc import Callable, Hashable, Mapping
from contextlib import contextmanager, nullcontext
from contextvars import ContextVar
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import ProgrammingError, connections, transaction
from django.db.models import QuerySet
from django.db.models.query import FlatValuesListIterable, NamedValuesListIterable, ValuesIterable, ValuesListIterable
from django.db.models.sql.where import ExtraWhere


def prepared(connection, name: str, text: str, types: tuple[str, ...] = ()) -> str | None:
    """`EXECUTE name(%s, …)`, to run `text` — SQL with PostgreSQL's own placeholders ($1, $2, …) —
    prepared once per server connection (its plan is made once, not on every call; a prepared
    statement lives as long as its connection, whatever the transactions do). `types` declares the
    parameters' types where the statement's context does not.

    None where it cannot be (the caller runs the SQL itself): another database than PostgreSQL; a
    connection whose server connection is not this client's own — transaction pooling (pgbouncer),
    for which Django's `DISABLE_SERVER_SIDE_CURSORS` is set (docs/scaling.md) — or a statement the
    server refused to prepare."""
    if connection.vendor != "postgresql" or connection.settings_dict.get("DISABLE_SERVER_SIDE_CURSORS"):
        return None
    if name in _UNPREPARABLE:
        return None
    connection.ensure_connection()
    # Which statements this server connection holds: a reconnection starts with none.
    held = getattr(connection, "_gigacity_prepared", None)
    if held is None or held[0]() is not connection.connection:
        held = connection._gigacity_prepared = (weakref.ref(connection.connection), {})
    execute = held[1].get(name)
    if execute is None:
        arguments = f" ({', '.join(types)})" if types else ""
        try:
            # Inside a transaction a refused PREPARE must not abort it: a savepoint keeps it usable.
            savepoint = transaction.atomic(using=connection.alias) if connection.in_atomic_block else nullcontext()
            with savepoint, connection.cursor() as cursor:
                cursor.execute(f"PREPARE {name}{arguments} AS {text}")
        except ProgrammingError:
            _UNPREPARABLE.add(name)
            return None
        count = len(types) or max((int(number) for number in re.findall(r"\$(\d+)", text)), default=0)
        execute = held[1][name] = f"EXECUTE {name}({', '.join(['%s'] * count)})" if count else f"EXECUTE {name}"
    return execute


_UNPREPARABLE: set[str] = set()
_NAMES = itertools.count(1)

# The versions of the tables known to the computation in progress, table name → version (`kept_at`).
table_versions: ContextVar[Mapping[str, str] | None] = ContextVar("gigacity_table_versions", default=None)
# Rows kept under their tables' versions: (statement, values) → (versions, rows), the latest only.
_KEPT: dict[tuple, tuple] = {}
_KEPT_MOST = 4096
_VALUES_ITERABLES = (ValuesIterable, ValuesListIterable, FlatValuesListIterable, NamedValuesListIterable)
_UNCHANGEABLE = frozenset((int, str, Decimal, datetime.date, datetime.datetime, bool, float, type(None)))


def _unchangeable(rows: list) -> bool:
    """Whether every value of `rows` is one no reader can change in place (a JSON column's dict
    could be): only such rows are kept and handed to several readers."""
    for row in rows:
        values = row.values() if type(row) is dict else row if isinstance(row, tuple) else (row,)
        if any(type(value) not in _UNCHANGEABLE for value in values):
            return False
    return True


@contextmanager
def kept_at(versions: Mapping[str, str]):
    """Within the block, statements reading only tables of `versions` keep and reuse their rows at
    those versions (module docstring)."""
    token = table_versions.set(versions)
    try:
        yield
    finally:
        table_versions.reset(token)


def numbered(sql: str) -> str:
    """Django's SQL for psycopg2 (`%s` placeholders, `%%` for a percent sign) with PostgreSQL's own
    placeholders, for `prepared`."""
    numbers = itertools.count(1)
    return re.sub(r"%[s%]", lambda match: f"${next(numbers)}" if match.group() == "%s" else "%", sql)


Value = int | str | Decimal | datetime.date
# The types a statement binds, and each one's type in a prepared statement: an int is declared bigint,
# so that a year no smallint column holds finds nothing, as Django's query would, rather than failing.
_TYPES = {int: "bigint", str: "text", Decimal: "numeric", datetime.date: "date"}


def spread(name: str, items: list[Value]) -> tuple[int, dict[str, Value]]:
    """A list as values a statement binds one by one (`name0`, `name1`, …), for an `__in` lookup that
    the build writes with `gathered`: the statement's shape is the list's length rounded up to a power
    of two, the places beyond the list hold its last item again (an IN list takes a repeated item as it
    takes it once), so a handful of statements serve every length."""
    size = 1 << (len(items) - 1).bit_length() if items else 0
    return size, {f"{name}{index}": items[min(index, len(items) - 1)] for index in range(size)}


def gathered(name: str, size: int, values: dict[str, Value]) -> list[Value]:
    """In a build, the list `spread` bound."""
    return [values[f"{name}{index}"] for index in range(size)]


class StatementError(TypeError):
    """A statement built in a way its values cannot be bound into (a developer's mistake)."""


# Stand-ins of the three builds. Ints small enough for any integer column (Django drops a value out
# of a column's range from the SQL); strings that each hold the mark, which no constant may; decimals
# with a fraction no int has; dates in three far-apart years.
_MARK = "\x1e"
_BIGINT = 2**63


def _stand_in(which: int, index: int, value: Value) -> Value:
    kind = type(value)
    if kind is int:
        return (30_001, 1_000, 7)[which] + 2 * index
    if kind is Decimal:
        return Decimal((30_001, 1_000, 7)[which] + 2 * index) + Decimal("0.375")
    if kind is datetime.date:
        return datetime.date((2201, 2150, 2099)[which], 1, 1) + datetime.timedelta(days=3 * index + which)
    return (f"{_MARK}{index}", f"b{_MARK}{index}-x", f"cc-{_MARK}{index}{index}")[which]


def _places(name: str, stand_in: Value) -> dict[tuple[type, Any], tuple[str, Callable | None]]:
    """Where a parameter equal to `stand_in` is the value `name`: as is, or (a date) as its text."""
    found: dict[tuple[type, Any], tuple[str, Callable | None]] = {(type(stand_in), stand_in): (name, None)}
    if type(stand_in) is datetime.date:
        found[str, str(stand_in)] = (name, str)
    return found


@dataclass(frozen=True, eq=False)
class _Compiled:
    queryset: QuerySet  # the first build: its model, iterable, fields
    compiler: Any  # its compiler, after as_sql (its select, klass_info, annotation_col_map)
    sql: str | None  # None: the statement never returns a row (`none()`)
    # Per parameter: (value's name, None, how it is adapted or None) or (None, constant, None).
    slots: tuple[tuple[str | None, Any, Callable | None], ...]
    # Per parameter, its type in the prepared statement: a value's is declared (`_TYPES`), a
    # constant's found by the server from its place.
    types: tuple[str, ...] = ()
    # How each column's value is converted (`SQLCompiler.get_converters`): for a wide model, finding
    # them again on every call costs as much as running the statement. They may hold the connection
    # they were found for (SQLite's do), and a connection belongs to its thread: kept per thread and
    # connection, they go with the thread.
    per_thread: threading.local = field(default_factory=threading.local)
    name: str = field(default_factory=lambda: f"gigacity_statement_{next(_NAMES)}")  # its prepared name

    @cached_property
    def tables(self) -> frozenset[str]:
        """Every table its SQL reads (subqueries included): Django quotes each one it names."""
        return frozenset(re.findall(r'(?:FROM|JOIN) "(\w+)"', self.sql or ""))

    def executable(self, connection) -> str:
        """What to run on `connection` with the call's parameters: the prepared statement, or the SQL."""
        return prepared(connection, self.name, self.numbered_sql, self.types) or self.sql

    @cached_property
    def numbered_sql(self) -> str:
        return numbered(self.sql)

    def converters(self, compiler) -> dict:
        kept = self.per_thread.__dict__.setdefault("converters", {})
        if compiler.connection not in kept:
            columns = [column for column, _sql, _alias in compiler.select[: compiler.col_count]]
            kept[compiler.connection] = compiler.get_converters(columns)
        return kept[compiler.connection]


class Statement:
    """A read whose SQL is built once per process and shape. `build(*shape, **values)` returns the
    queryset (without prefetches); call the statement with the same arguments for its rows."""

    def __init__(self, build: Callable[..., QuerySet], *, keep: bool = False):
        self.build = build
        self.keep = keep  # rows kept while their tables are unchanged (module docstring)
        self._compiled: dict[Hashable, _Compiled] = {}

    def __call__(self, *shape: Hashable, using: str = "default", **values: Value) -> list:
        for name, value in values.items():
            if type(value) not in _TYPES:
                raise StatementError(f"{name}={value!r}: a statement binds ints, strings, decimals and dates only")
            if type(value) is int and not -_BIGINT <= value < _BIGINT:
                return list(self.build(*shape, **values).using(using))
        key = (using, connections[using].vendor, shape, tuple(sorted((n, type(v)) for n, v in values.items())))
        compiled = self._compiled.get(key)
        if compiled is None:
            compiled = self._compiled[key] = self._compile(shape, values, using)
        if compiled.sql is None:
            return []
        params = tuple(
            constant if name is None else adapt(values[name]) if adapt else values[name]
            for name, constant, adapt in compiled.slots
        )
        versions = table_versions.get()
        # The versions are the default database's (`reviews.freshness` reads them there).
        if versions is None or not self.keep or using != "default" or not compiled.tables <= versions.keys():
            return self._run(compiled, params, using)
        at = tuple(versions[table] for table in sorted(compiled.tables))
        kept_key = (compiled.name, params)
        kept = _KEPT.get(kept_key)
        if kept is not None and kept[0] == at:
            rows = kept[1]
        else:
            read = self._run(compiled, params, using)
            if not _unchangeable(read):
                return read
            rows = tuple(read)
            if len(_KEPT) >= _KEPT_MOST:
                _KEPT.clear()  # values nobody asks for any more: start again
            _KEPT[kept_key] = (at, rows)  # only the latest versions: an older one is never taken again
        # Dictionaries are copied: a reader may add to its row; a tuple cannot be changed.
        return [dict(row) for row in rows] if rows and type(rows[0]) is dict else list(rows)

    @staticmethod
    def _run(compiled: _Compiled, params: tuple, using: str) -> list:
        compiler = copy.copy(compiled.compiler)
        compiler.connection = connections[using]
        sql = compiled.executable(compiler.connection)
        compiler.as_sql = lambda *args, **kwargs: (sql, params)
        converters = compiled.converters(compiler)
        compiler.get_converters = lambda expressions: converters
        template = compiled.queryset
        queryset = QuerySet(model=template.model, query=_Bound(template.query, compiler), using=using)
        queryset._iterable_class = template._iterable_class
        queryset._fields = template._fields
        return list(queryset)

    def first(self, *shape: Hashable, using: str = "default", **values: Value):
        """The first row, or None: for a build that slices (`[:1]`)."""
        rows = self(*shape, using=using, **values)
        return rows[0] if rows else None

    def _compile(self, shape: tuple, values: dict[str, Value], using: str) -> _Compiled:
        builds = []
        for which in (0, 1, 2):
            stand_ins = {name: _stand_in(which, i, value) for i, (name, value) in enumerate(values.items())}
            queryset = self.build(*shape, **stand_ins).using(using)
            if queryset._prefetch_related_lookups:
                raise StatementError("a statement cannot prefetch: read the related rows with a statement of their own")
            compiler = queryset.query.get_compiler(using=using)
            try:
                sql, params = compiler.as_sql()
            except EmptyResultSet:
                sql, params = None, ()
            names = {}
            for name, stand_in in stand_ins.items():
                names.update(_places(name, stand_in))
            builds.append((queryset, compiler, sql, tuple(params), names))
        queryset, compiler, sql, _params, _names = builds[0]
        if any(b[2] != sql or len(b[3]) != len(builds[0][3]) for b in builds):
            raise StatementError("the statement's SQL depends on its values: make that a shape argument")
        slots = []
        for column in zip(*(b[3] for b in builds), strict=True):
            first = column[0]
            if all(type(p) is type(first) and p == first for p in column):
                if isinstance(first, str) and _MARK in first:
                    raise StatementError(f"a constant of the statement is computed from a value ({first!r})")
                slots.append((None, first, None))
                continue
            found = {b[4].get((type(p), p)) if type(p) in _TYPES else None for b, p in zip(builds, column, strict=True)}
            if len(found) != 1 or None in found:
                raise StatementError(
                    f"a parameter of the statement is computed from a value ({first!r}): bind it as is"
                )
            name, adapt = found.pop()
            slots.append((name, None, adapt))
        unbound = set(values) - {name for name, _constant, _adapt in slots if name is not None}
        if sql is not None and unbound:
            raise StatementError(f"values not in the statement: {', '.join(sorted(unbound))}")
        if self.keep:
            query = queryset.query
            if queryset._iterable_class not in _VALUES_ITERABLES:
                raise StatementError("a kept statement reads values: model instances could be changed by a reader")
            if query.extra or query.extra_tables or any(isinstance(w, ExtraWhere) for w in query.where.children):
                raise StatementError("a kept statement reads by the ORM's lookups: its tables are read off its SQL")
        compiler.connection = None  # each call's own thread's, not the first caller's
        types = tuple("unknown" if name is None else _TYPES[type(values[name])] for name, _constant, _adapt in slots)
        return _Compiled(queryset=queryset, compiler=compiler, sql=sql, slots=tuple(slots), types=types)


class _Bound:
    """A query that hands Django's iterables the compiler with the statement's SQL and this call's
    parameters; everything else is the first build's query."""

    def __init__(self, query, compiler):
        self._query = query
        self._compiler = compiler

    def get_compiler(self, using=None, connection=None, elide_empty=True):
        return self._compiler

    def __getattr__(self, name: str):
        return getattr(self._query, name)

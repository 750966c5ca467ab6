"""The data's version, read from the database, and a cache whose entries carry it.

The national dashboard, its API and the summary export are computed from many tables; the ministry
opens them over and over while the data changes a little at a time. Their expensive part (the
figures, or the rendered fragment, or the workbook) is kept in the cache with the version of every
table they read, and taken only while the version is the same, so a change anywhere is seen by the
very next request of every process — whichever process or path made it (a page, the API, the
worker, the admin, a command, plain SQL), because nothing has to remember to bump anything.

The version is one aggregate query, read *before* the figures: a write that commits in between can
only leave newer figures under an older version (recomputed at the next request), never older
figures under a newer one.

What it covers, table by table (the tables the dashboards and exports read, and those the workflow
writes beside them):
- rows that change (forms, cities, provinces, rounds with their settings and tolerance, thresholds,
  reference values, designations, published figures, the indicator catalogue, the operators, evidence requests,
  sample checks): the number of rows and the sum of their PostgreSQL `xmin` — the transaction that
  wrote each row's current version. Any insert or update writes a new xmin and any delete lowers the
  count, whatever the ORM call (`save`, `update()`, `bulk_update`) or the absence of an `updated_at`.
  For every table but the forms, each row's xmin is hashed with its place (`ctid`) before the sum: a
  plain sum can come back to a value it had with other rows, and those tables' rows are also kept in
  the processes under their version (`KEEPABLE`, `gigacity.statements.kept_at`);
- history tables, written once and never changed (workflow events, extensions, operators' figures,
  threshold and tolerance changes, evidence and check events, scores and flags): the latest id, read
  from the primary key's index whatever the table's size. Such rows go only with the form, round or
  city they belong to (a cascade), whose own count then moves.

Narrowed per view, for the forms (the one table written on every draft save, and the one that grows
with every round): each cached view says what it reads of them (`Reads`), and its version covers only
that.
- Which rounds: a view of one round (`cached(…, round_=…)`) covers the forms of that round, and of the
  rounds before it only when it reads them (`earlier_rounds`: the national dashboard's watch list
  judges a Gigabit City's past rounds); never the later rounds'. The round's own forms are an
  index-sized slice (the index on their round); the earlier rounds' are read as a row count and the
  sum of their `xmin`, every column, which costs a scan of them but no hashing.
- Which columns, of the round's own forms: every column of the forms in a reported state (submitted
  or further, the only ones whose figures the dashboards and exports show, `REPORTED_STATES`), and of
  the others (drafts, returned forms) only the columns the view reads of them, as a 64-bit hash per
  row summed over the slice. A draft save (values, `updated_at`, `version`, `updated_by`) then leaves
  the national dashboard's version where it was, so on the deadline day the ministry's repeat views
  are still answered from the cache, while any change of a status (a draft submitted, a form
  returned), a new or deleted form, or any write to a reported form moves it.
A view that says nothing gets the whole table (`EVERYTHING`): when in doubt, include.

On SQLite (a newcomer's first run) there is no xmin: nothing is cached there.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, TypeVar

from django.conf import settings
from django.core.cache import cache
from django.db import connection, models
from django.utils import timezone, translation

from gigacity.models import City, Province, User
from gigacity.statements import Statement, kept_at, prepared
from indicators.models import (
    Designation,
    Indicator,
    Operator,
    PublishedFigure,
    ReferenceValue,
    Round,
    Threshold,
    ThresholdChange,
    ToleranceChange,
)
from submissions.models import (
    REPORTED_STATES,
    Extension,
    Flag,
    OperatorFigure,
    Score,
    Submission,
    SubmissionEvent,
)

from .models import CheckEvent, EvidenceAnswer, EvidenceRequest, SampleDraw, SampleItem

T = TypeVar("T")
M = TypeVar("M", bound=models.Model)

CHANGING = (
    Submission,
    City,
    Province,
    Round,
    Threshold,
    ReferenceValue,
    Designation,
    PublishedFigure,
    Indicator,
    Operator,
    EvidenceRequest,
    SampleDraw,
    SampleItem,
)
APPEND_ONLY = (
    SubmissionEvent,
    Extension,
    OperatorFigure,
    ThresholdChange,
    ToleranceChange,
    EvidenceAnswer,
    CheckEvent,
    Score,
    Flag,
)
# The tables of rows that change in place, but the forms: their versions (`_COUNT_AND_ROWS`) cover every
# row and column, so a computation hands them to the statements it runs (`statements.kept_at`); the
# forms' version covers only what a view reads of them.
KEEPABLE = tuple(model._meta.db_table for model in CHANGING if model is not Submission)


def table_versions(version: str) -> dict[str, str]:
    """The version of each `KEEPABLE` table, from a data version (laid out by `_version_sql`)."""
    parts = version.split("|")
    end = len(parts) - len(APPEND_ONLY)
    return dict(zip(KEEPABLE, parts[end - len(KEEPABLE) : end], strict=True))


# The versions read by the `cached` calls whose computation is running, by what they cover.
_computing: ContextVar[dict[tuple, str] | None] = ContextVar("gigacity_fresh_computing", default=None)
# An entry is never wrong (it is taken only at its version); a day bounds the memory of entries that
# nobody asks for again (a language, a round, a scope, a query).
CACHE_SECONDS = 24 * 60 * 60


@dataclass(frozen=True)
class Reads:
    """What a cached view reads of the forms besides everything of the reported ones of its round: the
    columns (model field names) it reads of a form in any state — a draft's or a returned form's —
    and whether it reads the forms of the rounds before its own (`earlier_rounds`, every column).
    Every form's id and status are always covered (which forms exist, and which are reported).
    `None`: every column of every form."""

    name: str
    of_every_form: tuple[str, ...] | None = None
    earlier_rounds: bool = True


# Every column of every form: for what has not said what it reads.
EVERYTHING = Reads("everything")
# The dashboards — the national one (page and API) and a province's page, which reads the country's
# forms for the national means beside the province's: of its round's forms in any state, their city, round, kind
# and status (counts by status, annual reports, the watch list's status of a city's form) and when
# they were created (the page's burn-up: "started"); figures, scores and flags only of reported forms
# (`reviews.dashboards`, `reviews.lifecycle.watch_list`: a form's improvement_due and shortfall only
# where it was rejected, a reported state). The burn-up's later stages are workflow events. The
# earlier rounds' forms too: the watch list judges a listed city's past rounds (its run on the list)
# and whether each past round has any reported form (`lifecycle.watch_list`, `_watch_rounds`).
DASHBOARDS = Reads("dashboards", ("city", "round", "kind", "created_at"))
# MIIT's summary table: the Gigabit Cities' reported forms of the round (`lifecycle.summary_table`,
# `named_means`), nothing of drafts or returned forms, nothing of other rounds.
SUMMARY_TABLE = Reads("summary", (), earlier_rounds=False)

_COUNT_AND_XMIN = "count(*) || ':' || coalesce(sum(xmin::text::bigint), 0)"
# For the tables whose rows a computation keeps (`KEEPABLE`, `statements.kept_at`): a sum of xmins can
# come back to a value it had, with other rows (transactions numbered 101, 102, 103: 102 updates rows r
# and s, then 103 updates s and 101 updates r — the same count and sum, other data), and kept rows are
# taken again at a version they were kept at. Each row's xmin with its place (a new version of a row is a
# new tuple), hashed, makes that a 64-bit coincidence; these tables are small.
_COUNT_AND_ROWS = "count(*) || ':' || coalesce(sum(hashtextextended(xmin::text || ctid::text, 0)), 0)"


def _forms_sql(reads: Reads, *, of_round: bool) -> str:
    """The forms' part of the version; `of_round`: of the round whose id is the statement's $1 (and
    year its $2), and of the earlier rounds' when `reads` says so."""
    table = Submission._meta.db_table
    if reads.of_every_form is None:
        where = " WHERE round_id = $1" if of_round else ""
        if of_round and reads.earlier_rounds:
            where = f' WHERE round_id IN (SELECT id FROM "{Round._meta.db_table}" WHERE year <= $2)'
        return f'(SELECT {_COUNT_AND_XMIN} FROM "{table}"{where})'
    field = Submission._meta.get_field
    columns = ["id", "status", *(field(name).column for name in reads.of_every_form)]
    reported = ", ".join(f"'{state}'" for state in REPORTED_STATES)
    # A row's hash changes with any covered column, and with the transaction that wrote a reported
    # row last (its xmin); the id in it makes a change of one row unlikely to cancel another's.
    row = ", ".join(f'"{column}"' for column in columns)
    row += f', CASE WHEN "status" IN ({reported}) THEN xmin::text END'
    hashed = f"count(*) || ':' || coalesce(sum(hashtextextended(concat_ws('|', {row}), 0)), 0)"
    if not of_round:
        return f'(SELECT {hashed} FROM "{table}")'
    sql = f'(SELECT {hashed} FROM "{table}" WHERE round_id = $1)'
    if reads.earlier_rounds:
        earlier = f'SELECT id FROM "{Round._meta.db_table}" WHERE year < $2'
        sql += f', (SELECT {_COUNT_AND_XMIN} FROM "{table}" WHERE round_id IN ({earlier}))'
    return sql


@functools.cache
def _version_sql(reads: Reads, of_round: bool) -> str:
    """The version's query: the forms' parts, then each `KEEPABLE` table's, then each append-only
    table's (the order `table_versions` reads them in)."""
    parts = [_forms_sql(reads, of_round=of_round)]
    parts += [f'(SELECT {_COUNT_AND_ROWS} FROM "{table}")' for table in KEEPABLE]
    parts += [
        f'(SELECT coalesce(max("{model._meta.pk.column}"), 0)::text FROM "{model._meta.db_table}")'
        for model in APPEND_ONLY
    ]
    return "SELECT " + ", ".join(parts)


def data_version(reads: Reads = EVERYTHING, round_: Round | None = None) -> str | None:
    """The version of everything the dashboards and exports read — of the forms, what `reads` says of
    those of `round_` (and the rounds before it), or of every round without one — in one query (None
    on SQLite: nothing there is cached)."""
    if not settings.USING_POSTGRES:
        return None
    name = f"gigacity_data_version_{reads.name}{'_of_round' if round_ is not None else ''}"
    sql = _version_sql(reads, round_ is not None)
    # Planning the twenty-odd subqueries costs more than running them: prepared, they are planned
    # once per database connection.
    if round_ is None:
        execute, params = prepared(connection, name, sql) or sql, None
    else:
        params = {"1": round_.pk, "2": round_.year}
        execute = prepared(connection, name, sql, ("integer", "integer"))
        if execute is None:
            execute = re.sub(r"\$(\d)", r"%(\1)s", sql)
        else:
            params = (params["1"], params["2"])
    with connection.cursor() as cursor:
        cursor.execute(execute, params)
        return "|".join(cursor.fetchone())


def as_of_version(instance: M) -> M:
    """`instance` read again, for a computation inside `cached`: an object the request read before
    the version may be older than the version (a round closed in between), and an older figure must
    never be kept under a newer version."""
    rows = _BY_PK(type(instance), pk=instance.pk)
    if not rows:
        raise type(instance).DoesNotExist
    return rows[0]


# A row by its key, of any model (the model is the statement's shape).
_BY_PK = Statement(lambda model, pk: model._default_manager.filter(pk=pk))


def scope_of(user: User) -> tuple:
    """What `visible_to(user)` depends on: the whole country, or the user's role and place."""
    if not user.is_authenticated or not user.is_active:
        return ("none",)
    if user.has_national_scope:
        return ("national",)
    return (user.role, user.province_id or "", user.city_id or "")


def request_parts(request) -> tuple:
    """Everything of a request, besides the data, that changes what a dashboard or export shows:
    who asks (their scope), in which language, on which day (deadlines count down), and every query
    parameter."""
    query = tuple(sorted((key, tuple(request.GET.getlist(key))) for key in request.GET))
    return (scope_of(request.user), translation.get_language(), timezone.localdate().isoformat(), query)


def cached(
    what: str, parts: tuple, compute: Callable[[], T], *, reads: Reads = EVERYTHING, round_: Round | None = None
) -> T:
    """`compute()`, or what it returned before for the same `parts` and the same data version (of the
    forms, what `reads` says `compute` reads of them, of `round_` when it reads one round).

    One entry per `what` and `parts`, holding the version it was computed at: a new version replaces
    it rather than adding one, so on the busiest days (a version a second) the cache does not grow."""
    slice_ = (reads.name, round_.pk if round_ is not None else None)
    outer = _computing.get() or {}
    # Inside the computation of another entry of the same data (the page's fragment computing the
    # figures the API shares): its version was read before either computation began, so it holds for
    # this one too, and the query is not asked twice.
    version = outer[slice_] if slice_ in outer else data_version(reads, round_)  # before computing
    if version is None:
        return compute()
    key = f"gigacity:fresh:{what}:{hashlib.sha256(repr(parts).encode()).hexdigest()}"
    kept: Any = cache.get(key)
    if kept is not None and kept[0] == version:
        return kept[1]
    token = _computing.set({**outer, slice_: version})
    try:
        # What the computation reads of the tables that have not changed since it last ran (the
        # provinces, the rounds' thresholds, the designations…) is answered from the rows kept then.
        with kept_at(table_versions(version)):
            value = compute()
    finally:
        _computing.reset(token)
    # Two processes may store one after the other, the older version last: the next request sees
    # that the version differs and computes again. An entry is never taken for a version it is not.
    cache.set(key, (version, value), CACHE_SECONDS)
    return value

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
  reference values, designations, published figures, the indicator catalogue, evidence requests,
  sample checks): the number of rows and the sum of their PostgreSQL `xmin` — the transaction that
  wrote each row's current version. Any insert or update writes a new xmin and any delete lowers the
  count, whatever the ORM call (`save`, `update()`, `bulk_update`) or the absence of an `updated_at`;
- history tables, written once and never changed (workflow events, extensions, operators' figures,
  threshold and tolerance changes, evidence and check events, scores and flags): the latest id, read
  from the primary key's index whatever the table's size. Such rows go only with the form, round or
  city they belong to (a cascade), whose own count then moves.

Narrowed per view, for the forms (the one table written on every draft save): each cached view says
what it reads of them (`Reads`), and its version covers only that — every column of the forms in a
reported state (submitted or further, the only ones whose figures the dashboards and exports show,
`REPORTED_STATES`), and of the others (drafts, returned forms) only the columns the view reads of
them, as a 64-bit hash per row summed over the table. A draft save (values, `updated_at`, `version`,
`updated_by`) then leaves the national dashboard's version where it was, so on the deadline day the
ministry's repeat views are still answered from the cache, while any change of a status (a draft
submitted, a form returned), a new or deleted form, or any write to a reported form moves it. A view
that says nothing gets the whole table (`EVERYTHING`): when in doubt, include.

On SQLite (a newcomer's first run) there is no xmin: nothing is cached there.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.utils import timezone, translation

from gigacity.models import City, Province, User
from indicators.models import (
    Designation,
    Indicator,
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
# An entry is never wrong (it is taken only at its version); a day bounds the memory of entries that
# nobody asks for again (a language, a round, a scope, a query).
CACHE_SECONDS = 24 * 60 * 60


@dataclass(frozen=True)
class Reads:
    """What a cached view reads of the forms besides everything of the reported ones: the columns
    (model field names) it reads of a form in any state — a draft's or a returned form's. Every
    form's id and status are always covered (which forms exist, and which are reported). `None`:
    every column of every form."""

    name: str
    of_every_form: tuple[str, ...] | None = None


# Every column of every form: for what has not said what it reads.
EVERYTHING = Reads("everything")
# The national dashboard (page and API): of forms in any state, their city, round, kind and status
# (counts by status, annual reports, the watch list's status of a city's form) and when they were
# created (the page's burn-up: "started"); figures, scores and flags only of reported forms
# (`reviews.dashboards`, `reviews.lifecycle.watch_list`: a form's improvement_due and shortfall only
# where it was rejected, a reported state). The burn-up's later stages are workflow events.
NATIONAL_DASHBOARD = Reads("national", ("city", "round", "kind", "created_at"))
# MIIT's summary table: the Gigabit Cities' reported forms (`lifecycle.summary_table`,
# `named_means`), nothing of drafts or returned forms.
SUMMARY_TABLE = Reads("summary", ())


def _forms_sql(reads: Reads) -> str:
    table = Submission._meta.db_table
    if reads.of_every_form is None:
        return f"(SELECT count(*) || ':' || coalesce(sum(xmin::text::bigint), 0) FROM \"{table}\")"
    field = Submission._meta.get_field
    columns = ["id", "status", *(field(name).column for name in reads.of_every_form)]
    reported = ", ".join(f"'{state}'" for state in REPORTED_STATES)
    # A row's hash changes with any covered column, and with the transaction that wrote a reported
    # row last (its xmin); the id in it makes a change of one row unlikely to cancel another's.
    row = ", ".join(f'"{column}"' for column in columns)
    row += f', CASE WHEN "status" IN ({reported}) THEN xmin::text END'
    return f"(SELECT count(*) || ':' || coalesce(sum(hashtextextended(concat_ws('|', {row}), 0)), 0) FROM \"{table}\")"


def _sql(reads: Reads, changing: Iterable, append_only: Iterable) -> str:
    parts = [_forms_sql(reads)]
    parts += [
        f"(SELECT count(*) || ':' || coalesce(sum(xmin::text::bigint), 0) FROM \"{model._meta.db_table}\")"
        for model in changing
        if model is not Submission
    ]
    parts += [
        f'(SELECT coalesce(max("{model._meta.pk.column}"), 0)::text FROM "{model._meta.db_table}")'
        for model in append_only
    ]
    return "SELECT " + ", ".join(parts)


def data_version(reads: Reads = EVERYTHING) -> str | None:
    """The version of everything the dashboards and exports read — of the forms, what `reads` says —
    in one query (None on SQLite: nothing there is cached)."""
    if not settings.USING_POSTGRES:
        return None
    connection.ensure_connection()
    statement = f"gigacity_data_version_{reads.name}"
    with connection.cursor() as cursor:
        # Planning the twenty-odd subqueries costs more than running them: each database connection
        # plans each statement once (a prepared statement lives as long as its connection, whatever
        # the transactions do).
        prepared = getattr(connection, "_gigacity_version_prepared", None)
        if prepared is None or prepared[0] is not connection.connection:
            prepared = connection._gigacity_version_prepared = (connection.connection, set())
        if statement not in prepared[1]:
            cursor.execute(f"PREPARE {statement} AS {_sql(reads, CHANGING, APPEND_ONLY)}")
            prepared[1].add(statement)
        cursor.execute(f"EXECUTE {statement}")
        return "|".join(cursor.fetchone())


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


def cached(what: str, parts: tuple, compute: Callable[[], T], *, reads: Reads = EVERYTHING) -> T:
    """`compute()`, or what it returned before for the same `parts` and the same data version (of the
    forms, what `reads` says `compute` reads of them).

    One entry per `what` and `parts`, holding the version it was computed at: a new version replaces
    it rather than adding one, so on the busiest days (a version a second) the cache does not grow."""
    version = data_version(reads)  # before computing: see the module's docstring
    if version is None:
        return compute()
    key = f"gigacity:fresh:{what}:{hashlib.sha256(repr(parts).encode()).hexdigest()}"
    kept: Any = cache.get(key)
    if kept is not None and kept[0] == version:
        return kept[1]
    value = compute()
    # Two processes may store one after the other, the older version last: the next request sees
    # that the version differs and computes again. An entry is never taken for a version it is not.
    cache.set(key, (version, value), CACHE_SECONDS)
    return value

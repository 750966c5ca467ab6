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

On SQLite (a newcomer's first run) there is no xmin: nothing is cached there.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
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
from submissions.models import Extension, Flag, OperatorFigure, Score, Submission, SubmissionEvent

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


def _sql(changing: Iterable, append_only: Iterable) -> str:
    parts = [
        f"(SELECT count(*) || ':' || coalesce(sum(xmin::text::bigint), 0) FROM \"{model._meta.db_table}\")"
        for model in changing
    ]
    parts += [
        f'(SELECT coalesce(max("{model._meta.pk.column}"), 0)::text FROM "{model._meta.db_table}")'
        for model in append_only
    ]
    return "SELECT " + ", ".join(parts)


_VERSION_SQL = _sql(CHANGING, APPEND_ONLY)


def data_version() -> str | None:
    """The version of everything the dashboards and exports read, in one query (None on SQLite:
    nothing there is cached)."""
    if not settings.USING_POSTGRES:
        return None
    connection.ensure_connection()
    with connection.cursor() as cursor:
        # Planning the twenty-odd subqueries costs more than running them: each database connection
        # plans the statement once (a prepared statement lives as long as its connection, whatever
        # the transactions do).
        if getattr(connection, "_gigacity_version_prepared", None) is not connection.connection:
            cursor.execute(f"PREPARE gigacity_data_version AS {_VERSION_SQL}")
            connection._gigacity_version_prepared = connection.connection
        cursor.execute("EXECUTE gigacity_data_version")
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


def cached(what: str, parts: tuple, compute: Callable[[], T]) -> T:
    """`compute()`, or what it returned before for the same `parts` and the same data version.

    One entry per `what` and `parts`, holding the version it was computed at: a new version replaces
    it rather than adding one, so on the busiest days (a version a second) the cache does not grow."""
    version = data_version()  # before computing: see the module's docstring
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

"""The benchmark's only instrument inside the server (installed by `bench.settings`, never by the
production settings)."""

from __future__ import annotations

import time

from django.db import connection


class _Counter:
    """Counts the statements run, and the time spent waiting for them (the database's share)."""

    def __init__(self) -> None:
        self.count = 0
        self.seconds = 0.0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.seconds += time.perf_counter() - started


class ServerTiming:
    """Outermost middleware: the time from the first middleware to the finished response (body
    rendered; only the streaming of a file response's bytes to the socket comes after) as
    `Server-Timing: app;dur=<ms>, sql;dur=<ms>` (the second: waiting for SQL statements), and the
    number of statements as `X-Bench-Queries`. What it leaves out is gunicorn's own share: parsing
    the request and writing the response."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        counter = _Counter()
        started = time.perf_counter()
        with connection.execute_wrapper(counter):
            response = self.get_response(request)
        elapsed = (time.perf_counter() - started) * 1000
        response["Server-Timing"] = f"app;dur={elapsed:.3f}, sql;dur={counter.seconds * 1000:.3f}"
        response["X-Bench-Queries"] = str(counter.count)
        return response

"""Settings of the benchmark's servers: the production settings (`gigacity.settings`, driven by the
same environment variables) plus what only a benchmark needs, so that no production module carries
a switch for it:

- `bench.middleware.ServerTiming`, outermost, answers every request with the time Django spent on it
  (`Server-Timing: app;dur=<ms>`) and the number of SQL statements it ran (`X-Bench-Queries`);
- the URLconf `bench.urls`: the site's own URLs plus the floor view `/bench/floor/`;
- a Celery queue and cache key prefix of the run's own (`BENCH_QUEUE`), so that a benchmark never
  consumes or disturbs anybody else's tasks or cache entries on a shared Redis;
- cookies without the Secure flag: the benchmark speaks plain HTTP to 127.0.0.1, as the TLS proxy
  in front of the app does, and HTTP clients (requests, locust) rightly never send a Secure cookie
  over plain HTTP. The `__Host-` prefix requires the flag, so the names lose it too. Nothing that
  is measured depends on either.
"""

import os

from gigacity.settings import *  # noqa: F403
from gigacity.settings import CACHES, MIDDLEWARE

MIDDLEWARE = ["bench.middleware.ServerTiming", *MIDDLEWARE]
ROOT_URLCONF = "bench.urls"

SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = False
SESSION_COOKIE_NAME, CSRF_COOKIE_NAME = "sessionid", "csrftoken"

BENCH_QUEUE = os.environ.get("BENCH_QUEUE", "")
if BENCH_QUEUE:
    CELERY_TASK_DEFAULT_QUEUE = BENCH_QUEUE
    CACHES["default"]["KEY_PREFIX"] = BENCH_QUEUE

"""gunicorn's settings, the same for production (Dockerfile, docker-compose.yml: `gunicorn -c
gunicorn.conf.py`) and for the benchmark (`bench.stack.start_gunicorn`), so that what is measured is
what runs. Sizes can be changed per host with GUNICORN_WORKERS and GUNICORN_THREADS.

Threaded workers (gthread), not the sync workers of before: a sync worker is a whole process held by
one request for as long as it lasts, and on deadline day some requests last long without using the
CPU: a form printed to PDF waits seconds for Chromium (a synchronous request), a workbook upload
waits for its bytes, every page waits for PostgreSQL for part of its time. With three sync workers,
three people printing at once stopped every other page, and a burst of fresh browsers asking for
their static files queued behind a dashboard export. With threads, a request waiting on Chromium,
the network or the database lets the process serve others; the GIL still runs one thread's Python
at a time per process, so the CPU work is spread over the processes as before.

- workers: the number of cores plus one (3 on the 2-core server): CPU-bound pages do not go faster
  with more processes than cores, the spare one covers a process whose threads all wait; each
  process holds about 100 MB;
- threads: 4 per process, 12 requests in progress at once, each with its own PostgreSQL connection
  kept between requests (DJANGO_DB_CONN_MAX_AGE): 12 connections, far below PostgreSQL's 100
  (docs/scaling.md says when pgbouncer becomes necessary);
- keepalive: gthread keeps a connection from the proxy open for the next request (5 s);
- timeout 60 s, as before: a request that has not answered in a minute is stuck.
"""

import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
worker_class = "gthread"
workers = int(os.environ.get("GUNICORN_WORKERS", "3"))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
keepalive = 5
timeout = 60
graceful_timeout = 30

"""Real processes for the worker tests: Celery workers and a private Redis server, each started in
its own process group so that a test can kill it whole (kill -9) and a finaliser can always clean
it up, whatever happened to the test."""

from __future__ import annotations

import contextlib
import os
import random
import socket
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import quote, urlparse, urlunparse

from django.db import connection

from gigacity.celery import app as celery_app
from gigacity.processes import Process

ROOT = Path(__file__).resolve().parents[2]
PRIVATE_REDIS_PORTS = range(6400, 6500)


def free_port(ports: range = PRIVATE_REDIS_PORTS) -> int:
    candidates = list(ports)
    random.shuffle(candidates)
    for port in candidates:
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {ports}")


def redis_server(port: int, workdir: Path) -> Process:
    """A throwaway Redis on `port`, without persistence: stopping it loses every queued message."""
    argv = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    argv += ["--dir", str(workdir), "--maxmemory-policy", "noeviction"]
    return Process(f"redis-server:{port}", argv, env=dict(os.environ), log=workdir / f"redis-{port}.log")


def ping(url: str) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname, parsed.port or 6379), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def database_url_for_workers() -> str:
    """The database pytest-django created for this run (test_...), as a URL for another process."""
    db = connection.settings_dict
    auth = quote(db["USER"] or "")
    if db["PASSWORD"]:
        auth += ":" + quote(db["PASSWORD"])
    netloc = f"{auth}@{db['HOST'] or 'localhost'}:{db['PORT'] or 5432}"
    return urlunparse(("postgres", netloc, "/" + db["NAME"], "", "", ""))


def worker(
    *,
    name: str,
    broker_url: str,
    queue: str,
    workdir: Path,
    app: str = "tests.submissions.worker_app",
    beat: bool = False,
    concurrency: int = 2,
    env: dict[str, str] | None = None,
) -> Process:
    """`celery -A <app> worker` against the test database and `broker_url`, consuming `queue`;
    with `beat`, the worker also runs beat (-B) and so the sweep."""
    argv = [sys.executable, "-m", "celery", "-A", app, "worker", "--loglevel", "INFO", "--pool", "prefork"]
    argv += ["--concurrency", str(concurrency), "--queues", queue, "--hostname", f"{name}@%h"]
    argv += ["--without-gossip", "--without-mingle"]
    if beat:
        argv += ["--beat", "--schedule", str(workdir / f"{name}-beat-schedule")]
    full_env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "DATABASE_URL": database_url_for_workers(),
        "CELERY_BROKER_URL": broker_url,
        "GIGACITY_TEST_QUEUE": queue,
        # The notification e-mails that submits send are delivered by the worker too; keep them in memory.
        "DJANGO_EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        **(env or {}),
    }
    return Process(name, argv, env=full_env, log=workdir / f"{name}.log")


@contextlib.contextmanager
def publishing_to(broker_url: str, queue: str) -> Iterator[None]:
    """Make the app in this (the test's) process publish every task (scoring, and the notification
    e-mails a submit sends) to `queue` on `broker_url`."""
    saved = celery_app.conf.get("broker_write_url"), celery_app.conf.task_routes
    _use_broker(broker_url, {"*": {"queue": queue}})
    try:
        yield
    finally:
        _use_broker(*saved)


def _use_broker(url: str | None, routes) -> None:
    # broker_write_url, not broker_url: Celery reads CELERY_BROKER_URL from the environment before
    # any broker_url set in the configuration, and publishing uses the write URL.
    celery_app.conf.update(broker_write_url=url, task_routes=routes)
    # Celery keeps its connection and producer pools for the life of the process; drop its references
    # (as Celery itself does after a fork) so that the next publish takes the pool of the new broker.
    # kombu keeps one pool per broker in a registry, so they are not closed: switching back reuses them.
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


def wait_until(condition: Callable[[], bool], *, timeout: float, what: str, processes=()) -> None:
    """Poll until `condition()` holds; fail with the processes' logs after a generous timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.25)
    logs = "\n".join(p.tail() for p in processes)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting until {what}\n{logs}")

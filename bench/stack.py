"""The real stack the benchmark measures: throwaway databases on the PostgreSQL server of
DATABASE_URL, and gunicorn and Celery worker processes configured as production configures them
(DEBUG off, the compose file's worker counts, static files collected and served by whitenoise),
plus the benchmark's two additions of `bench.settings`.

Every process is started in a session of its own and stopped by its process group id, so nothing
is left behind and nothing else is touched.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse, urlunparse

from gigacity.processes import Process

ROOT = Path(__file__).resolve().parents[1]
PORTS = range(8400, 8500)
# gunicorn's settings file, production's own (Dockerfile and docker-compose.yml start it with it).
GUNICORN_CONF = ROOT / "gunicorn.conf.py"
# As docker-compose.yml runs it in production.
WORKER_CONCURRENCY = 2


def gunicorn_settings() -> dict[str, Any]:
    """What gunicorn.conf.py sets (in this environment: GUNICORN_WORKERS and GUNICORN_THREADS apply)."""
    import runpy

    values = runpy.run_path(str(GUNICORN_CONF))
    return {key: values.get(key) for key in ("worker_class", "workers", "threads", "keepalive", "timeout")}


GUNICORN_WORKERS = gunicorn_settings()["workers"]


# ------------------------------------------------------------------------------------------------
# The environment
# ------------------------------------------------------------------------------------------------
@dataclass
class Environment:
    """The services of the environment and what every process of one run shares."""

    database_url: str
    broker_url: str
    cache_url: str
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:10])
    secret_key: str = field(default_factory=lambda: secrets.token_urlsafe(50))
    workdir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="gigacity-bench-")))

    @classmethod
    def from_os(cls) -> Environment:
        database_url = os.environ.get("DATABASE_URL", "")
        broker_url = os.environ.get("CELERY_BROKER_URL", "")
        if not database_url.startswith(("postgres://", "postgresql://")):
            sys.exit("python -m bench needs PostgreSQL: set DATABASE_URL=postgres://user@host:5432/any-database")
        if not broker_url.startswith("redis://"):
            sys.exit("python -m bench needs Redis: set CELERY_BROKER_URL=redis://host:6379/<db>")
        return cls(database_url, broker_url, os.environ.get("REDIS_CACHE_URL") or broker_url)

    @property
    def queue(self) -> str:
        return f"gigacity-bench-{self.run_id}"

    def url_of(self, database: str) -> str:
        return with_database(self.database_url, database)

    def django_env(self, database: str) -> dict[str, str]:
        """Production settings (DJANGO_DEBUG=0 with a throwaway secret and hosts), on plain HTTP on
        this machine: the TLS redirect belongs to the proxy in front of the app, not to what is
        measured. Mail goes nowhere."""
        return {
            "DJANGO_SETTINGS_MODULE": "bench.settings",
            "DJANGO_DEBUG": "0",
            "DJANGO_SECRET_KEY": self.secret_key,
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DJANGO_SECURE_SSL_REDIRECT": "0",
            "DJANGO_STATIC_ROOT": str(self.workdir / "static"),
            "DJANGO_MEDIA_ROOT": str(self.workdir / "media"),
            "DJANGO_EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
            "DJANGO_LOG_LEVEL": "WARNING",
            "DATABASE_URL": self.url_of(database),
            "CELERY_BROKER_URL": self.broker_url,
            "REDIS_CACHE_URL": self.cache_url,
            "BENCH_QUEUE": self.queue,
        }

    def child_env(self, database: str) -> dict[str, str]:
        return {**os.environ, **self.django_env(database)}


# ------------------------------------------------------------------------------------------------
# Databases
# ------------------------------------------------------------------------------------------------
def with_database(url: str, name: str) -> str:
    """DATABASE_URL with another database name on the same server."""
    return urlunparse(urlparse(url)._replace(path="/" + name))


def admin_sql(database_url: str, *statements: str) -> list[Any]:
    """Run statements on the server of `database_url`, connected to its `postgres` database (so that
    databases can be created and dropped), autocommitting; returns each statement's rows."""
    import psycopg2

    parsed = urlparse(database_url)
    connection = psycopg2.connect(
        dbname="postgres",
        user=parsed.username or "postgres",
        password=parsed.password,
        host=parsed.hostname or "127.0.0.1",
        port=parsed.port or 5432,
    )
    connection.autocommit = True
    rows = []
    with contextlib.closing(connection), connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)
            rows.append(cursor.fetchall() if cursor.description else None)
    return rows


def create_database(database_url: str, name: str, *, template: str | None = None) -> None:
    drop_database(database_url, name)
    copy = f' TEMPLATE "{template}"' if template else ""
    admin_sql(database_url, f'CREATE DATABASE "{name}"{copy}')


def drop_database(database_url: str, name: str) -> None:
    admin_sql(database_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def server_versions(env: Environment) -> dict[str, str]:
    import redis

    (rows,) = admin_sql(env.database_url, "SHOW server_version")
    client = redis.Redis.from_url(env.broker_url)
    try:
        redis_version = client.info("server")["redis_version"]
    finally:
        client.close()
    return {"postgresql": rows[0][0], "redis": redis_version}


def forget_redis_keys(env: Environment) -> int:
    """The run's queue and cache entries, gone."""
    import redis

    removed = 0
    for url in {env.broker_url, env.cache_url}:
        client = redis.Redis.from_url(url)
        try:
            for key in client.scan_iter(match=f"*{env.queue}*"):
                removed += client.delete(key)
        finally:
            client.close()
    return removed


# ------------------------------------------------------------------------------------------------
# Processes
# ------------------------------------------------------------------------------------------------
def free_port() -> int:
    for port in PORTS:
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    sys.exit(f"no free port between {PORTS.start} and {PORTS.stop - 1}")


def manage(env: Environment, database: str, *args: str) -> None:
    subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env.child_env(database),
        check=True,
        stdout=subprocess.DEVNULL,
    )


def collectstatic(env: Environment, database: str) -> None:
    """Static files as production has them: collected, compressed and fingerprinted for whitenoise."""
    manage(env, database, "collectstatic", "--noinput", "--verbosity", "0")


@dataclass
class Server:
    process: Process
    url: str
    database: str


def start_gunicorn(env: Environment, database: str, *, name: str) -> Server:
    """gunicorn with production's settings file, on a free port of this machine."""
    port = free_port()
    argv = [sys.executable, "-m", "gunicorn", "gigacity.wsgi:application", "-c", str(GUNICORN_CONF)]
    argv += ["--bind", f"127.0.0.1:{port}", "--log-level", "warning"]
    process = Process(name, argv, env=env.child_env(database), log=env.workdir / f"{name}.log").start()
    url = f"http://127.0.0.1:{port}"
    _wait_until_up(process, url + "/healthz")
    return Server(process, url, database)


def _wait_until_up(process: Process, url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not process.running:
            sys.exit(f"{process.name} exited:\n{process.tail()}")
        with contextlib.suppress(OSError), urllib.request.urlopen(url, timeout=2) as response:
            if response.status == 200:
                return
        time.sleep(0.2)
    sys.exit(f"{process.name} did not answer {url} within {timeout:.0f} s:\n{process.tail()}")


def start_worker(env: Environment, database: str, *, concurrency: int = WORKER_CONCURRENCY) -> Process:
    """A Celery worker as production runs it, on the run's queue."""
    argv = [sys.executable, "-m", "celery", "-A", "gigacity", "worker", "--queues", env.queue]
    argv += ["--concurrency", str(concurrency), "--loglevel", "WARNING", "--hostname", worker_name(env)]
    argv += ["--without-gossip", "--without-mingle"]
    return Process("worker", argv, env=env.child_env(database), log=env.workdir / "worker.log").start()


def worker_name(env: Environment) -> str:
    return f"{env.queue}@bench"


def wait_for_worker(env: Environment, worker: Process, timeout: float = 90) -> None:
    """Until the worker answers a ping (this process's Django and Celery are set up for the run)."""
    from gigacity.celery import app

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not worker.running:
            sys.exit(f"the Celery worker exited:\n{worker.tail()}")
        if app.control.ping(destination=[worker_name(env)], timeout=1.0):
            return
    sys.exit(f"the Celery worker did not answer within {timeout:.0f} s:\n{worker.tail()}")


# ------------------------------------------------------------------------------------------------
# Django in this process
# ------------------------------------------------------------------------------------------------
def setup_django(env: Environment, database: str) -> None:
    """Django in the benchmark's own process, with exactly the servers' settings (the same secret key,
    so that sessions made here are valid there)."""
    import django

    os.environ.update(env.django_env(database))
    django.setup()


def close_connections() -> None:
    """Close this process's database connections, if Django was set up at all."""
    from django.apps import apps

    if apps.ready:
        from django.db import connections

        connections.close_all()


def use_database(name: str) -> None:
    """Point this process's default connection at another of the run's databases."""
    from django.conf import settings
    from django.db import connections

    connections["default"].close()
    connections["default"].settings_dict["NAME"] = name
    settings.DATABASES["default"]["NAME"] = name

"""Copying the database out of and into the server: PostgreSQL through pg_dump/pg_restore, SQLite
through its online backup API. Both give one consistent snapshot, and the row counts and the files
the rows refer to are read from that same snapshot, so the archive's manifest describes exactly the
dump beside it.

PostgreSQL: a read-only REPEATABLE READ transaction exports its snapshot (`pg_export_snapshot`) and
pg_dump dumps that very snapshot (`--snapshot`); the counts and file names are read inside the same
transaction, which stays open until pg_dump is done. A row committed a moment later is in neither.

Credentials for the client programs go through their environment (PGPASSWORD), never their command
line (which any user of the machine can read) and never the archive.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from django.apps import apps
from django.db import connections, models
from django.utils.translation import gettext as _

# Rows that are credentials rather than data: sessions (a restored cookie would sign somebody in
# again) and API tokens (stored as the bearer secret itself). After a restore people sign in again
# and scripts ask for a new token; the tables themselves are restored, empty.
EXCLUDED_DATA = ("django_session", "authtoken_token")


class DatabaseError(Exception):
    """The database could not be copied out or in; the message says why."""


@dataclass
class Snapshot:
    """What was dumped, as seen by the same snapshot as the dump."""

    dump: Path
    tables: dict[str, int]
    files: list[str]
    migrations: list[str]
    server_version: str
    tool: str = ""
    excluded_data: list[str] = field(default_factory=lambda: list(EXCLUDED_DATA))


@dataclass
class TargetState:
    tables: int
    migrations: list[str] | None  # None: no django_migrations table


def file_columns() -> list[tuple[str, str]]:
    """(table, column) of every file field: where rows name the media files they need."""
    return sorted(
        (model._meta.db_table, field.column)
        for model in apps.get_models()
        for field in model._meta.concrete_fields
        if isinstance(field, models.FileField)
    )


def engine_for(alias: str = "default") -> PostgresEngine | SqliteEngine:
    connection = connections[alias]
    if connection.vendor == "postgresql":
        return PostgresEngine(alias)
    if connection.vendor == "sqlite":
        return SqliteEngine(alias)
    raise DatabaseError(_("Backups support PostgreSQL and SQLite, not %(vendor)s.") % {"vendor": connection.vendor})


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _read_snapshot(cursor, tables: list[str]) -> tuple[dict[str, int], list[str], list[str]]:
    counts = {}
    for table in tables:
        cursor.execute(f"SELECT count(*) FROM {_quote(table)}")
        counts[table] = cursor.fetchone()[0]
    names: set[str] = set()
    for table, column in file_columns():
        if table in counts:
            cursor.execute(
                f"SELECT DISTINCT {_quote(column)} FROM {_quote(table)} "
                f"WHERE {_quote(column)} IS NOT NULL AND {_quote(column)} <> ''"
            )
            names.update(row[0] for row in cursor.fetchall())
    migrations: list[str] = []
    if "django_migrations" in counts:
        cursor.execute("SELECT app, name FROM django_migrations")
        migrations = sorted(f"{app}.{name}" for app, name in cursor.fetchall())
    return counts, sorted(names), migrations


# ------------------------------------------------------------------------------------------------
# PostgreSQL
# ------------------------------------------------------------------------------------------------
class PostgresEngine:
    vendor = "postgresql"
    dump_name = "database.pgdump"

    def __init__(self, alias: str):
        self.alias = alias

    @property
    def settings(self) -> dict:
        return connections[self.alias].settings_dict

    def _raw(self):
        connection = connections[self.alias]
        raw = connection.get_new_connection(connection.get_connection_params())
        raw.autocommit = True
        return raw

    def _client_env(self) -> dict[str, str]:
        s = self.settings
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env.update(
            PGHOST=str(s.get("HOST") or "localhost"),
            PGPORT=str(s.get("PORT") or 5432),
            PGUSER=str(s.get("USER") or ""),
            PGDATABASE=str(s["NAME"]),
            PGCONNECT_TIMEOUT="10",
        )
        if s.get("PASSWORD"):
            env["PGPASSWORD"] = str(s["PASSWORD"])
        if sslmode := (s.get("OPTIONS") or {}).get("sslmode"):
            env["PGSSLMODE"] = str(sslmode)
        return env

    def _program(self, name: str) -> str:
        found = shutil.which(name)
        if not found:
            raise DatabaseError(
                _("%(program)s is not installed: install the PostgreSQL client (Debian: postgresql-client-15).")
                % {"program": name}
            )
        return found

    def _run(self, argv: list[str]) -> None:
        finished = subprocess.run(argv, env=self._client_env(), capture_output=True, text=True, check=False)
        if finished.returncode != 0:
            # The client's own message (it names the problem: disk full, version mismatch, …).
            raise DatabaseError(f"{Path(argv[0]).name}: {finished.stderr.strip()[-2000:]}")

    def tool_version(self, program: str = "pg_dump") -> str:
        finished = subprocess.run([self._program(program), "--version"], capture_output=True, text=True, check=False)
        return finished.stdout.strip()

    @contextmanager
    def snapshot(self, workdir: Path) -> Iterator[Snapshot]:
        dump = workdir / self.dump_name
        with closing(self._raw()) as raw, raw.cursor() as cursor:
            cursor.execute("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            try:
                cursor.execute("SELECT pg_export_snapshot(), current_setting('server_version')")
                snapshot_id, server_version = cursor.fetchone()
                cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY 1")
                tables = [row[0] for row in cursor.fetchall()]
                counts, files, migrations = _read_snapshot(cursor, tables)
                argv = [
                    self._program("pg_dump"),
                    "--format=custom",
                    "--no-owner",
                    "--no-privileges",
                    f"--snapshot={snapshot_id}",
                    f"--file={dump}",
                    *(f"--exclude-table-data={table}" for table in EXCLUDED_DATA),
                ]
                self._run(argv)
            finally:
                cursor.execute("ROLLBACK")
        for table in EXCLUDED_DATA:
            if table in counts:
                counts[table] = 0
        yield Snapshot(
            dump=dump,
            tables=counts,
            files=files,
            migrations=migrations,
            server_version=server_version,
            tool=self.tool_version(),
        )

    def target_state(self) -> TargetState:
        with closing(self._raw()) as raw, raw.cursor() as cursor:
            cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
            tables = {row[0] for row in cursor.fetchall()}
            migrations = None
            if "django_migrations" in tables:
                cursor.execute("SELECT app, name FROM django_migrations")
                migrations = sorted(f"{app}.{name}" for app, name in cursor.fetchall())
        return TargetState(tables=len(tables), migrations=migrations)

    def restore(self, dump: Path, *, replace: bool) -> None:
        connections[self.alias].close()
        argv = [
            self._program("pg_restore"),
            f"--dbname={self.settings['NAME']}",
            "--no-owner",
            "--no-privileges",
            # All or nothing: a failure half-way leaves the database as it was.
            "--single-transaction",
            "--exit-on-error",
        ]
        if replace:
            argv += ["--clean", "--if-exists"]
        self._run([*argv, str(dump)])

    def row_counts(self, tables: list[str]) -> dict[str, int]:
        with closing(self._raw()) as raw, raw.cursor() as cursor:
            cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
            present = {row[0] for row in cursor.fetchall()}
            counts, _files, _migrations = _read_snapshot(cursor, [t for t in tables if t in present])
        return counts


# ------------------------------------------------------------------------------------------------
# SQLite
# ------------------------------------------------------------------------------------------------
class SqliteEngine:
    """The online backup API copies every page in one step under a read lock: one consistent
    snapshot of what is committed, also of a database in use. A restore copies the archived
    database into the live one the same way, in one transaction (it works for a file and for the
    test suite's in-memory database alike). Neither may run inside a transaction of this process:
    SQLite would wait for it forever."""

    vendor = "sqlite"
    dump_name = "database.sqlite3"

    def __init__(self, alias: str):
        self.alias = alias

    def _live(self) -> sqlite3.Connection:
        connection = connections[self.alias]
        if connection.in_atomic_block:
            raise DatabaseError(_("A backup or a restore cannot run inside a database transaction."))
        connection.ensure_connection()
        return connection.connection

    def _source(self) -> sqlite3.Connection:
        self._live()  # the same guard
        name = str(connections[self.alias].settings_dict["NAME"])
        return sqlite3.connect(name, uri=True, timeout=60)

    @staticmethod
    def _tables(db: sqlite3.Connection) -> list[str]:
        rows = db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
        ).fetchall()
        return [row[0] for row in rows]

    @contextmanager
    def snapshot(self, workdir: Path) -> Iterator[Snapshot]:
        dump = workdir / self.dump_name
        with closing(sqlite3.connect(dump)) as copy:
            try:
                with closing(self._source()) as source:
                    source.backup(copy)
            except sqlite3.Error as exc:
                raise DatabaseError(f"sqlite: {exc}") from exc
            tables = self._tables(copy)
            for table in EXCLUDED_DATA:
                if table in tables:
                    copy.execute(f"DELETE FROM {_quote(table)}")
            copy.commit()
            # One self-contained file, and no deleted credentials left in free pages.
            copy.execute("PRAGMA journal_mode = DELETE")
            copy.execute("VACUUM")
            counts, files, migrations = _read_snapshot(copy.cursor(), tables)
            server_version = sqlite3.sqlite_version
        yield Snapshot(
            dump=dump,
            tables=counts,
            files=files,
            migrations=migrations,
            server_version=server_version,
            tool=f"sqlite3 {sqlite3.sqlite_version} backup API",
        )

    def target_state(self) -> TargetState:
        live = self._live()
        tables = self._tables(live)
        migrations = None
        if "django_migrations" in tables:
            migrations = sorted(f"{a}.{n}" for a, n in live.execute("SELECT app, name FROM django_migrations"))
        return TargetState(tables=len(tables), migrations=migrations)

    def restore(self, dump: Path, *, replace: bool) -> None:
        with closing(sqlite3.connect(f"file:{dump}?mode=ro", uri=True)) as archived:
            try:
                archived.backup(self._live())
            except sqlite3.Error as exc:
                raise DatabaseError(f"sqlite: {exc}") from exc

    def row_counts(self, tables: list[str]) -> dict[str, int]:
        live = self._live()
        present = set(self._tables(live))
        counts, _files, _migrations = _read_snapshot(live.cursor(), [t for t in tables if t in present])
        return counts

"""Backups that restore: `backup_create` writes one archive of the database and the media files
with a manifest; `backup_restore` puts an archive back into an empty database and media folder and
proves that everything came back; `backups_prune` keeps a number of days of archives.

What an archive holds (see `archive.py` for how it is written safely):

- `database.pgdump` (pg_dump, custom format) or `database.sqlite3` (SQLite's online backup);
- `media/<name>` for every file a row of the dump refers to (attachments, export files). The list
  comes from the dump's own snapshot, so a file uploaded while the backup runs is in the archive
  together with its row, or not at all (its row is not in the dump either). Files no row refers to
  (a workbook waiting for its import to be confirmed) are left out: nothing could reach them;
- `manifest.json`, last: when, the schema version (every applied migration), the row count of every
  table, and the size and SHA-256 of every other member. No setting and nothing from the
  environment: no password, no key, no host name.
"""

from __future__ import annotations

import datetime
import errno
import re
import secrets
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import django
from django.conf import settings
from django.core.files.storage import default_storage
from django.utils import timezone
from django.utils.translation import gettext as _

from gigacity.models import AuditKind

from .archive import (
    FORMAT,
    FORMAT_VERSION,
    MEDIA_PREFIX,
    ArchiveRefused,
    ArchiveWriter,
    remove_tree,
    sha256_of,
    unpack,
)
from .databases import DatabaseError, engine_for
from .schema import code_migrations, difference, schema_version

ARCHIVE_PATTERN = re.compile(r"^gigacity-(\d{8}T\d{6}Z)(?:-\d+)?\.tar$")
STAGING_PREFIX = ".restore-"
WORK_PREFIX = ".backup-work-"


class BackupFailed(Exception):
    """No archive was written; the message says why."""


class RestoreRefused(Exception):
    """Nothing was restored; the message says why."""


class RestoreFailed(Exception):
    """The restore ran but what came back differs from the manifest; the message says how."""


@dataclass
class BackupResult:
    path: Path
    size: int
    seconds: float
    tables: int
    rows: int
    files: int
    media_bytes: int
    missing: list[str] = field(default_factory=list)
    schema: str = ""


@dataclass
class RestoreResult:
    archive: Path
    created_at: str
    schema: str
    tables: int
    rows: int
    files: int
    media_bytes: int
    seconds: float
    missing: list[str] = field(default_factory=list)


# ------------------------------------------------------------------------------------------------
# Backup
# ------------------------------------------------------------------------------------------------
def _archive_path(directory: Path, now: datetime.datetime) -> Path:
    stem = f"gigacity-{now.astimezone(datetime.UTC):%Y%m%dT%H%M%SZ}"
    path, n = directory / f"{stem}.tar", 1
    while path.exists() or path.with_name(path.name + ".partial").exists():
        n += 1
        path = directory / f"{stem}-{n}.tar"
    return path


def _application_version() -> str:
    try:
        from importlib.metadata import version

        return version("gigacity")
    except Exception:
        return "unknown"


def backup_create(*, directory: Path | None = None, now: datetime.datetime | None = None) -> BackupResult:
    """Write one archive into `directory` (GIGACITY_BACKUP_DIR). Raises BackupFailed, leaving no
    archive and no partial file behind."""
    started = time.perf_counter()
    now = now or timezone.now()
    directory = Path(directory or settings.GIGACITY_BACKUP_DIR)
    directory.mkdir(parents=True, exist_ok=True)
    engine = engine_for("default")
    final = _archive_path(directory, now)
    writer = None
    try:
        with (
            tempfile.TemporaryDirectory(dir=directory, prefix=WORK_PREFIX) as work,
            engine.snapshot(Path(work)) as snapshot,
        ):
            writer = ArchiveWriter(final)
            writer.add_file(snapshot.dump, snapshot.dump.name)
            copied, missing, media_bytes = 0, [], 0
            for name in snapshot.files:
                entry = writer.add_file(Path(default_storage.path(name)), MEDIA_PREFIX + name)
                if entry is None:
                    # Its row was deleted after the snapshot and the file with it (an attachment
                    # removed, an old export swept) while the backup ran.
                    missing.append(name)
                else:
                    copied += 1
                    media_bytes += entry["size"]
            manifest = {
                "format": FORMAT,
                "format_version": FORMAT_VERSION,
                "created_at": now.astimezone(datetime.UTC).isoformat(),
                "created_epoch": int(now.timestamp()),
                "application": {"gigacity": _application_version(), "django": django.get_version()},
                "database": {
                    "vendor": engine.vendor,
                    "file": snapshot.dump.name,
                    "server_version": snapshot.server_version,
                    "tool": snapshot.tool,
                    "excluded_data": snapshot.excluded_data,
                },
                "schema": {"version": schema_version(snapshot.migrations), "migrations": snapshot.migrations},
                "tables": snapshot.tables,
                "media": {"files": copied, "bytes": media_bytes, "missing": missing, "root": "media/"},
                "files": writer.entries,
            }
            path = writer.commit(manifest)
            writer = None
    except (OSError, DatabaseError) as exc:
        if writer is not None:
            writer.abort()
        if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
            raise BackupFailed(
                _("The disk is full at %(dir)s: no archive was written. Free some space and run the backup again.")
                % {"dir": directory}
            ) from exc
        raise BackupFailed(_("No archive was written: %(error)s") % {"error": exc}) from exc
    except BaseException:
        if writer is not None:
            writer.abort()
        raise
    result = BackupResult(
        path=path,
        size=path.stat().st_size,
        seconds=time.perf_counter() - started,
        tables=len(manifest["tables"]),
        rows=sum(manifest["tables"].values()),
        files=copied,
        media_bytes=media_bytes,
        missing=missing,
        schema=manifest["schema"]["version"],
    )
    _record(
        AuditKind.BACKUP_MADE,
        {"archive": path.name, "bytes": result.size, "rows": result.rows, "files": result.files},
    )
    return result


def _record(kind: AuditKind, details: dict[str, Any]) -> None:
    from gigacity.audit import audit_record

    audit_record(kind=kind, actor=None, target_label=details.get("archive", ""), details=details)


def backups_prune(
    *, directory: Path | None = None, keep_days: int | None = None, now: datetime.datetime | None = None
) -> list[str]:
    """Remove archives older than `keep_days` (GIGACITY_BACKUP_KEEP_DAYS), always keeping the newest,
    and what an interrupted backup or restore left behind a day ago or more. Returns the names."""
    directory = Path(directory or settings.GIGACITY_BACKUP_DIR)
    keep_days = settings.GIGACITY_BACKUP_KEEP_DAYS if keep_days is None else keep_days
    now = now or timezone.now()
    if not directory.is_dir():
        return []
    archives = []
    for path in directory.iterdir():
        if match := ARCHIVE_PATTERN.match(path.name):
            made = datetime.datetime.strptime(match.group(1), "%Y%m%dT%H%M%SZ").replace(tzinfo=datetime.UTC)
            archives.append((made, path))
    archives.sort()
    removed = []
    cutoff = now - datetime.timedelta(days=keep_days)
    for made, path in archives[:-1]:  # never the newest, however old: it may be the only good one
        if made < cutoff:
            path.unlink(missing_ok=True)
            removed.append(path.name)
    stale = now.timestamp() - 86400
    for path in directory.iterdir():
        leftover = path.name.endswith(".partial") or path.name.startswith(WORK_PREFIX)
        if leftover and path.stat().st_mtime < stale:
            if path.is_dir():
                remove_tree(path)
            else:
                path.unlink(missing_ok=True)
            removed.append(path.name)
    return removed


def latest_archive(directory: Path | None = None) -> Path | None:
    directory = Path(directory or settings.GIGACITY_BACKUP_DIR)
    if not directory.is_dir():
        return None
    found = sorted(p for p in directory.iterdir() if ARCHIVE_PATTERN.match(p.name))
    return found[-1] if found else None


# ------------------------------------------------------------------------------------------------
# Restore
# ------------------------------------------------------------------------------------------------
def _media_entries(media_root: Path) -> list[Path]:
    if not media_root.is_dir():
        return []
    return [p for p in media_root.iterdir() if not p.name.startswith(STAGING_PREFIX)]


def archive_verify(*, archive: Path) -> dict[str, Any]:
    """Check an archive completely (every member against the manifest) without restoring anything;
    returns its manifest. Raises RestoreRefused."""
    with tempfile.TemporaryDirectory(prefix=STAGING_PREFIX) as staging:
        try:
            return unpack(Path(archive), Path(staging))
        except ArchiveRefused as exc:
            raise RestoreRefused(str(exc)) from exc


def backup_restore(*, archive: Path, force: bool = False) -> RestoreResult:
    """Restore `archive` into the configured database and MEDIA_ROOT.

    Refused, with nothing changed, when: the database or the media folder is not empty (unless
    `force`, which replaces them); the archive is incomplete, damaged or does not match its manifest;
    its schema version is not this installation's, or not the target database's. Then the database
    is restored in one transaction, the media files are moved in, and the row counts and every file's
    checksum are compared with the manifest (RestoreFailed if they differ)."""
    started = time.perf_counter()
    archive = Path(archive)
    if not archive.is_file():
        raise RestoreRefused(_("There is no archive at %(path)s.") % {"path": archive})
    engine = engine_for("default")
    media_root = Path(settings.MEDIA_ROOT)

    try:
        target = engine.target_state()
    except Exception as exc:
        raise RestoreRefused(_("The database cannot be reached: %(error)s") % {"error": exc}) from exc
    if not force:
        if target.tables:
            raise RestoreRefused(
                _(
                    "The database is not empty (%(n)s tables). Restore into an empty database, or "
                    "give --force to replace everything in it."
                )
                % {"n": target.tables}
            )
        if _media_entries(media_root):
            raise RestoreRefused(
                _(
                    "The media folder %(path)s is not empty. Restore into an empty folder, or give "
                    "--force to replace its contents."
                )
                % {"path": media_root}
            )

    media_root.mkdir(parents=True, exist_ok=True)
    for leftover in media_root.glob(STAGING_PREFIX + "*"):
        remove_tree(leftover)  # an interrupted restore's
    # Inside the media folder, so that moving the files in is a rename on the same file system.
    staging = media_root / f"{STAGING_PREFIX}{secrets.token_hex(6)}"
    staging.mkdir()
    try:
        try:
            manifest = unpack(archive, staging)
        except ArchiveRefused as exc:
            raise RestoreRefused(str(exc)) from exc
        archived = manifest["schema"]["migrations"]
        archived_version = manifest["schema"]["version"]
        installed = code_migrations()
        if set(archived) != set(installed):
            raise RestoreRefused(
                _(
                    "The archive's schema version is %(archive)s; this installation's is %(here)s "
                    "(%(difference)s). Restore it with the release that made it, then migrate."
                )
                % {
                    "archive": archived_version,
                    "here": schema_version(installed),
                    "difference": difference(installed, archived),
                }
            )
        if target.migrations is not None and set(target.migrations) != set(archived):
            raise RestoreRefused(
                _(
                    "The database's schema version is %(target)s; the archive's is %(archive)s "
                    "(%(difference)s). Restore into an empty database."
                )
                % {
                    "target": schema_version(target.migrations),
                    "archive": archived_version,
                    "difference": difference(target.migrations, archived),
                }
            )
        if manifest["database"]["vendor"] != engine.vendor:
            raise RestoreRefused(
                _("The archive is of a %(archive)s database; this installation uses %(here)s.")
                % {"archive": manifest["database"]["vendor"], "here": engine.vendor}
            )

        # From here on the target changes.
        try:
            engine.restore(staging / manifest["database"]["file"], replace=force and bool(target.tables))
        except DatabaseError as exc:
            raise RestoreRefused(
                _("The database could not be restored and was left as it was: %(error)s") % {"error": exc}
            ) from exc
        if force:
            for entry in _media_entries(media_root):
                if entry.is_dir() and not entry.is_symlink():
                    remove_tree(entry)
                else:
                    entry.unlink()
        staged_media = staging / MEDIA_PREFIX.rstrip("/")
        if staged_media.is_dir():
            for entry in staged_media.iterdir():
                entry.rename(media_root / entry.name)
    finally:
        remove_tree(staging)

    problems = _compare(engine, manifest, media_root)
    if problems:
        raise RestoreFailed(
            _("The restored data differ from the archive's manifest: %(problems)s") % {"problems": "; ".join(problems)}
        )
    excluded = set(manifest["database"]["excluded_data"])
    result = RestoreResult(
        archive=archive,
        created_at=manifest["created_at"],
        schema=manifest["schema"]["version"],
        tables=len(manifest["tables"]),
        rows=sum(n for t, n in manifest["tables"].items() if t not in excluded),
        files=manifest["media"]["files"],
        media_bytes=manifest["media"]["bytes"],
        seconds=time.perf_counter() - started,
        missing=manifest["media"].get("missing", []),
    )
    _record(
        AuditKind.RESTORED,
        {"archive": archive.name, "made": result.created_at, "schema": result.schema, "rows": result.rows},
    )
    return result


def _compare(engine, manifest: dict[str, Any], media_root: Path) -> list[str]:
    problems = []
    expected = manifest["tables"]
    found = engine.row_counts(list(expected))
    for table, count in sorted(expected.items()):
        if found.get(table) != count:
            problems.append(
                _("table %(table)s has %(found)s rows, the archive %(expected)s")
                % {"table": table, "found": found.get(table, _("no table")), "expected": count}
            )
    for entry in manifest["files"]:
        if not entry["path"].startswith(MEDIA_PREFIX):
            continue
        path = media_root / entry["path"][len(MEDIA_PREFIX) :]
        if not path.is_file():
            problems.append(_("file %(name)s is missing") % {"name": entry["path"]})
        elif path.stat().st_size != entry["size"] or sha256_of(path) != entry["sha256"]:
            problems.append(_("file %(name)s differs") % {"name": entry["path"]})
    return problems[:20]

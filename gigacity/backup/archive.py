"""The archive: one tar file holding the database dump, the media files and, last, the manifest.

Written so that nothing half-written ever looks like a backup: the tar is written under a temporary
name (`….tar.partial`), flushed to disk (fsync), and only then renamed to its final name, with the
directory flushed too; the manifest, which lists every other member with its size and checksum, is
the last member. A backup that stops part-way (the disk is full, the machine goes down) leaves at
most a `.partial` file, which nothing reads and the next backup removes; an archive cut short or
damaged any other way lacks its manifest or fails a checksum, and a restore refuses it before it
touches anything.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import posixpath
import shutil
import tarfile
from pathlib import Path
from typing import IO, Any

from django.utils.translation import gettext as _

FORMAT = "gigacity-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
DATABASE_NAMES = ("database.pgdump", "database.sqlite3")
MEDIA_PREFIX = "media/"
MAX_MANIFEST_BYTES = 256 * 2**20
CHUNK = 1024 * 1024


class ArchiveRefused(Exception):
    """The archive is incomplete, damaged or not ours; nothing has been restored."""


def _open_for_writing(path: Path) -> IO[bytes]:
    # "x": never overwrite anything; a separate function so that tests can make the disk "fill up".
    return open(path, "xb")


def fsync_directory(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class _Hashing(io.RawIOBase):
    """Reads through to `source`, hashing what tarfile copies into the archive."""

    def __init__(self, source: IO[bytes]):
        self.source, self.sha256, self.count = source, hashlib.sha256(), 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        data = self.source.read(size)
        self.sha256.update(data)
        self.count += len(data)
        return data


class ArchiveWriter:
    def __init__(self, final: Path):
        self.final = final
        self.partial = final.with_name(final.name + ".partial")
        self.entries: list[dict[str, Any]] = []
        self._file = _open_for_writing(self.partial)
        self._tar = tarfile.open(fileobj=self._file, mode="w", format=tarfile.PAX_FORMAT)  # noqa: SIM115

    def add_file(self, source: Path, name: str) -> dict[str, Any] | None:
        """Copy `source` in as `name`, hashing it on the way. Returns None if it no longer exists."""
        try:
            handle = open(source, "rb")  # noqa: SIM115 - closed below
        except FileNotFoundError:
            return None
        with handle:
            stat = os.fstat(handle.fileno())
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = stat.st_size, int(stat.st_mtime), 0o600
            reader = _Hashing(handle)
            # tarfile copies exactly info.size bytes and fails if the file is shorter by then.
            self._tar.addfile(info, reader)
        entry = {"path": name, "size": info.size, "sha256": reader.sha256.hexdigest()}
        self.entries.append(entry)
        return entry

    def commit(self, manifest: dict[str, Any]) -> Path:
        data = json.dumps(manifest, ensure_ascii=False, indent=1, sort_keys=True).encode("utf-8")
        info = tarfile.TarInfo(MANIFEST)
        info.size, info.mode, info.mtime = len(data), 0o600, int(manifest.get("created_epoch", 0))
        self._tar.addfile(info, io.BytesIO(data))
        self._tar.close()
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        os.replace(self.partial, self.final)
        fsync_directory(self.final.parent)
        return self.final

    def abort(self) -> None:
        for close in (self._tar.close, self._file.close):
            # The disk may be full: closing may fail too; the partial file is removed all the same.
            with contextlib.suppress(Exception):
                close()
        self.partial.unlink(missing_ok=True)


def _member_problem(member: tarfile.TarInfo) -> str | None:
    name = member.name
    if not member.isreg():
        return _("%(name)s is not a regular file") % {"name": name}
    normal = posixpath.normpath(name)
    if name.startswith("/") or normal != name or normal.startswith("..") or "\\" in name or "\0" in name:
        return _("%(name)s is not a safe path") % {"name": name}
    if name != MANIFEST and name not in DATABASE_NAMES and not name.startswith(MEDIA_PREFIX):
        return _("%(name)s does not belong in a backup") % {"name": name}
    return None


def unpack(archive: Path, staging: Path) -> dict[str, Any]:
    """Extract every member into `staging`, checking each one against the manifest; return the
    manifest. Raises ArchiveRefused, with what is wrong, for anything short of a complete, intact
    archive of ours."""
    manifest: dict[str, Any] | None = None
    seen: dict[str, dict[str, Any]] = {}
    try:
        with tarfile.open(archive, mode="r:") as tar:
            for member in tar:
                if manifest is not None:
                    raise ArchiveRefused(_("There is data after the manifest: this is not an archive of ours."))
                if problem := _member_problem(member):
                    raise ArchiveRefused(problem)
                if member.name in seen:
                    raise ArchiveRefused(_("%(name)s appears twice") % {"name": member.name})
                source = tar.extractfile(member)
                if member.name == MANIFEST:
                    if member.size > MAX_MANIFEST_BYTES:
                        raise ArchiveRefused(_("The manifest is too large."))
                    manifest = json.loads(source.read().decode("utf-8"))
                    continue
                target = staging / member.name
                target.parent.mkdir(parents=True, exist_ok=True)
                sha256, size = hashlib.sha256(), 0
                with open(target, "xb") as out:
                    while chunk := source.read(CHUNK):
                        sha256.update(chunk)
                        size += len(chunk)
                        out.write(chunk)
                seen[member.name] = {"size": size, "sha256": sha256.hexdigest()}
    except ArchiveRefused:
        raise
    except (tarfile.TarError, EOFError, OSError, UnicodeDecodeError, ValueError) as exc:
        raise ArchiveRefused(
            _("The archive is damaged or incomplete (%(error)s).") % {"error": f"{type(exc).__name__}: {exc}"}
        ) from exc
    if manifest is None:
        raise ArchiveRefused(
            _("The archive has no manifest: it is incomplete (a backup that did not finish, or a cut copy).")
        )
    if (
        not isinstance(manifest, dict)
        or manifest.get("format") != FORMAT
        or manifest.get("format_version") != FORMAT_VERSION
        or not _well_formed(manifest)
    ):
        raise ArchiveRefused(_("This is not a gigacity backup archive of a format this release reads."))
    listed = {entry["path"]: entry for entry in manifest["files"]}
    missing = sorted(set(listed) - set(seen))
    extra = sorted(set(seen) - set(listed))
    damaged = sorted(
        name
        for name, found in seen.items()
        if name in listed and (found["size"] != listed[name]["size"] or found["sha256"] != listed[name]["sha256"])
    )
    if missing or extra or damaged:
        details = []
        if missing:
            details.append(_("missing: %(names)s") % {"names": ", ".join(missing[:5])})
        if damaged:
            details.append(_("checksum differs: %(names)s") % {"names": ", ".join(damaged[:5])})
        if extra:
            details.append(_("not in the manifest: %(names)s") % {"names": ", ".join(extra[:5])})
        raise ArchiveRefused(
            _("The archive does not match its manifest (%(details)s).") % {"details": "; ".join(details)}
        )
    database = manifest.get("database", {}).get("file")
    if database not in DATABASE_NAMES or database not in seen:
        raise ArchiveRefused(_("The archive holds no database."))
    return manifest


def _well_formed(manifest: dict[str, Any]) -> bool:
    """The parts a restore reads are there and of the right type."""
    try:
        return (
            all(
                isinstance(e["path"], str) and isinstance(e["size"], int) and isinstance(e["sha256"], str)
                for e in manifest["files"]
            )
            and all(isinstance(t, str) and isinstance(n, int) for t, n in manifest["tables"].items())
            and all(isinstance(m, str) for m in manifest["schema"]["migrations"])
            and isinstance(manifest["schema"]["version"], str)
            and isinstance(manifest["database"]["vendor"], str)
            and isinstance(manifest["database"]["excluded_data"], list)
            and isinstance(manifest["media"]["files"], int)
            and isinstance(manifest["created_at"], str)
        )
    except (KeyError, TypeError, AttributeError):
        return False


def sha256_of(path: Path) -> str:
    sha256 = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            sha256.update(chunk)
    return sha256.hexdigest()


def remove_tree(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)

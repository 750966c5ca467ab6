"""Uploaded workbooks on the pages: the size limit while the file is received, and the file kept
between the dry run and the person's confirmation.

Kept, not uploaded again: asking for the same file twice is error-prone (the wrong copy, an edited
copy) and slow on a provincial bureau's line. The file is stored privately under MEDIA_ROOT (never
served) with a generated name; the session holds the only reference to it, with the user, the form
(or province), the versions the dry run was computed against and the file's hash. It expires after
an hour, and is deleted once applied or cancelled.
"""

from __future__ import annotations

import datetime
import hashlib
import secrets
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.http import HttpRequest
from django.utils import timezone

from gigacity import uploads

from .imports import ImportResult

TTL = datetime.timedelta(hours=1)
SESSION_KEY = "gigacity_excel_uploads"
MAX_PENDING = 5  # per session: older ones are dropped (and their files deleted)
TEXT_KEPT = 400  # characters of a changed text kept for the report; the file has the rest


def limit_upload(request: HttpRequest) -> None:
    """The workbook size limit, while the upload is received (see gigacity.uploads)."""
    uploads.limit_upload(request, settings.GIGACITY_MAX_WORKBOOK_BYTES)


too_large = uploads.too_large


# ------------------------------------------------------------------------------------------------
# Pending uploads
# ------------------------------------------------------------------------------------------------
@dataclass
class PendingUpload:
    token: str
    kind: str  # "city" or "province"
    target: str  # the submission's id, or the province's code
    user: int
    name: str  # the user's file name: metadata only
    created: str
    stored: str | None = None  # the generated name under excel-uploads/, None for a refused file
    sha256: str | None = None
    versions: dict[str, int | None] = field(default_factory=dict)  # city code → version of the dry run
    result: dict[str, Any] = field(default_factory=dict)

    @property
    def import_result(self) -> ImportResult:
        return ImportResult.from_dict(self.result)

    @property
    def created_at(self) -> datetime.datetime:
        return datetime.datetime.fromisoformat(self.created)

    @property
    def expired(self) -> bool:
        return timezone.now() - self.created_at > TTL

    @property
    def expires_at(self) -> datetime.datetime:
        return self.created_at + TTL


def _storage() -> FileSystemStorage:
    # Resolved on each call: tests point MEDIA_ROOT elsewhere.
    return FileSystemStorage(location=Path(settings.MEDIA_ROOT) / "excel-uploads")


def pending_save(
    request: HttpRequest, *, kind: str, target: str | int, upload: IO[bytes], name: str, result: ImportResult
) -> str:
    """Keep the uploaded file (unless it was refused) and the dry run's result; returns the token."""
    purge_expired_files()
    stored = digest = None
    if not result.rejected:
        upload.seek(0)
        stored = _storage().save(f"{uuid.uuid4().hex}.xlsx", upload)
        with _storage().open(stored, "rb") as kept:
            digest = _sha256(kept)
    pending = PendingUpload(
        token=secrets.token_urlsafe(16),
        kind=kind,
        target=str(target),
        user=request.user.pk,
        name=(name or "").replace("\\", "/").rsplit("/", 1)[-1][:120],
        created=timezone.now().isoformat(),
        stored=stored,
        sha256=digest,
    )
    _set_result(pending, result)
    entries = dict(request.session.get(SESSION_KEY) or {})
    for token in sorted(entries, key=lambda t: entries[t]["created"])[: max(0, len(entries) - MAX_PENDING + 1)]:
        _delete_file(entries.pop(token).get("stored"))
    entries[pending.token] = asdict(pending)
    request.session[SESSION_KEY] = entries
    return pending.token


def pending_get(request: HttpRequest, *, token: str | None, kind: str, target: str | int) -> PendingUpload | None:
    """The pending upload of this user for this form (or province), None when unknown or expired."""
    entry = (request.session.get(SESSION_KEY) or {}).get(token or "")
    if not entry:
        return None
    pending = PendingUpload(**entry)
    if pending.user != request.user.pk or pending.kind != kind or pending.target != str(target):
        return None
    if pending.expired:
        pending_discard(request, pending)
        return None
    return pending


def pending_update(request: HttpRequest, pending: PendingUpload, result: ImportResult) -> None:
    """A new dry-run result for the same file (after the form changed in between)."""
    _set_result(pending, result)
    entries = dict(request.session.get(SESSION_KEY) or {})
    entries[pending.token] = asdict(pending)
    request.session[SESSION_KEY] = entries


def pending_file(pending: PendingUpload) -> IO[bytes] | None:
    """The kept file, or None when it is gone or not the file that was checked."""
    if not pending.stored or not _storage().exists(pending.stored):
        return None
    handle = _storage().open(pending.stored, "rb")
    if _sha256(handle) != pending.sha256:
        handle.close()
        return None
    handle.seek(0)
    return handle


def pending_discard(request: HttpRequest, pending: PendingUpload) -> None:
    entries = dict(request.session.get(SESSION_KEY) or {})
    entries.pop(pending.token, None)
    request.session[SESSION_KEY] = entries
    _delete_file(pending.stored)


def purge_expired_files() -> None:
    """Delete kept files older than the TTL (their sessions may never come back)."""
    storage = _storage()
    try:
        _dirs, files = storage.listdir("")
    except FileNotFoundError:
        return
    cutoff = timezone.now() - TTL
    for name in files:
        try:
            if storage.get_modified_time(name) < cutoff:
                storage.delete(name)
        except FileNotFoundError:
            continue  # deleted meanwhile by another request


def _set_result(pending: PendingUpload, result: ImportResult) -> None:
    pending.versions = {plan.city: plan.base_version for plan in result.plans}
    pending.result = _shorten(result.as_dict())


def _shorten(value: Any) -> Any:
    """Long texts cut for the session: the report shows the start of a changed description."""
    if isinstance(value, str) and len(value) > TEXT_KEPT:
        return value[:TEXT_KEPT] + "…"
    if isinstance(value, list):
        return [_shorten(v) for v in value]
    if isinstance(value, dict):
        return {k: _shorten(v) for k, v in value.items()}
    return value


def _sha256(handle: IO[bytes]) -> str:
    digest = hashlib.sha256()
    handle.seek(0)
    while chunk := handle.read(1 << 16):
        digest.update(chunk)
    handle.seek(0)
    return digest.hexdigest()


def _delete_file(name: str | None) -> None:
    if name:
        _storage().delete(name)

"""Backups that restore: one archive of the database and the media files with its manifest; the
restore drill (seed, back up, drop everything, restore, the app works as before); archives that are
incomplete, damaged or of another schema version are refused with nothing restored; a backup while
people work is one snapshot; a full disk leaves no half archive.

The drill runs on PostgreSQL (marked, so CI always runs it) in a database of its own, created and
dropped by the test; the same drill also runs on SQLite everywhere."""

from __future__ import annotations

import contextlib
import errno
import hashlib
import io
import json
import os
import secrets
import shutil
import subprocess
import tarfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import connection, connections
from django.test import Client
from rest_framework.authtoken.models import Token

from gigacity import backup
from gigacity.backup import (
    BackupFailed,
    RestoreRefused,
    archive_verify,
    backup_create,
    backup_restore,
    backups_prune,
    latest_archive,
)
from gigacity.backup import archive as archive_module
from gigacity.backup.schema import code_migrations, schema_version
from gigacity.models import AuditEvent, AuditKind, City, User
from submissions.models import Attachment, Score, Status, SubmissionEvent
from submissions.services import attachment_add, attachment_delete


@pytest.fixture(autouse=True)
def _in_english():
    # The refusals are translated; these tests read them in English (test_i18n checks the Chinese).
    from django.utils import translation

    with translation.override("en"):
        yield


STATES = [
    ("370200", Status.DRAFT),
    ("370100", Status.SUBMITTED),
    ("370300", Status.RETURNED),
    ("370400", Status.RECOMMENDED),
    ("370500", Status.APPROVED),
    ("370600", Status.REJECTED),
    ("370700", Status.SENT_BACK),
]


def pdf(text: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(f"{text}.pdf", b"%PDF-1.4 " + text.encode() + os.urandom(2048))


def seed_round(round_, ministry_user) -> dict:
    """A round with forms in every state (with their events and scores), attachments on the forms
    that can still take them, and an export file."""
    from reviews.exports import export_request, export_run
    from tests.factories import make_submission

    forms = {state: make_submission(City.objects.get(code=code), round_, state) for code, state in STATES}
    attachments = []
    for state in (Status.DRAFT, Status.RETURNED):
        form = forms[state]
        official = User.objects.get(city=form.city_id)
        for n in range(2):
            attachments.append(
                attachment_add(submission_id=form.pk, case_id=None, upload=pdf(f"证明-{state}-{n}"), actor=official)
            )
    job = export_request(user=ministry_user, kind="cities", round_=round_)
    export_run(job_id=str(job.pk))
    return {"forms": forms, "attachments": attachments}


def table_counts() -> dict[str, int]:
    with connection.cursor() as cursor:
        counts = {}
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f'SELECT count(*) FROM "{table}"')
            counts[table] = cursor.fetchone()[0]
    return counts


def members(path: Path) -> list[str]:
    with tarfile.open(path) as tar:
        return tar.getnames()


def manifest_of(path: Path) -> dict:
    with tarfile.open(path) as tar:
        return json.loads(tar.extractfile("manifest.json").read())


def rewrite(path: Path, target: Path, *, manifest=None, change=None, drop=None) -> Path:
    """A copy of the archive with its manifest edited, a member's bytes changed, or a member left out."""
    with tarfile.open(path) as source, tarfile.open(target, "w", format=tarfile.PAX_FORMAT) as out:
        for member in source:
            data = source.extractfile(member).read()
            if member.name == drop:
                continue
            if member.name == "manifest.json" and manifest:
                data = json.dumps(manifest(json.loads(data))).encode()
            if member.name == change:
                data = data[:-1] + bytes([data[-1] ^ 0xFF])
            member.size = len(data)
            out.addfile(member, io.BytesIO(data))
    return target


def all_bytes(path: Path) -> bytes:
    """Every byte of the archive's members, the PostgreSQL dump as the SQL it holds."""
    chunks = []
    with tarfile.open(path) as tar:
        for member in tar:
            data = tar.extractfile(member).read()
            if member.name == "database.pgdump":
                data = subprocess.run(["pg_restore", "--file=-"], input=data, capture_output=True, check=True).stdout
            chunks.append(data)
    return b"".join(chunks)


# ------------------------------------------------------------------------------------------------
# The archive
# ------------------------------------------------------------------------------------------------
@pytest.mark.django_db(transaction=True)
def test_a_backup_is_one_archive_with_the_database_the_files_and_the_manifest_last(open_round, ministry_user, tmp_path):
    world = seed_round(open_round, ministry_user)
    counts = table_counts()

    result = backup_create(directory=tmp_path / "backups")

    names = members(result.path)
    assert names[0] in ("database.pgdump", "database.sqlite3") and names[-1] == "manifest.json"
    manifest = manifest_of(result.path)
    assert manifest["schema"]["migrations"] == code_migrations()
    assert manifest["schema"]["version"] == schema_version(code_migrations())
    assert datetime.fromisoformat(manifest["created_at"]) <= datetime.now(UTC)
    for table, count in counts.items():
        expected = 0 if table in ("django_session", "authtoken_token") else count
        assert manifest["tables"][table] == expected, table
    by_path = {entry["path"]: entry for entry in manifest["files"]}
    assert set(by_path) == set(names) - {"manifest.json"}
    for attachment in world["attachments"]:
        entry = by_path["media/" + attachment.file.name]
        assert (entry["sha256"], entry["size"]) == (attachment.sha256, attachment.size)
    assert manifest["media"]["files"] == len(world["attachments"]) + 1  # and the export
    assert result.path.name.startswith("gigacity-") and not list(result.path.parent.glob("*.partial"))
    assert AuditEvent.objects.filter(kind=AuditKind.BACKUP_MADE, details__archive=result.path.name).exists()


@pytest.mark.django_db(transaction=True)
def test_the_archive_holds_no_secret_from_the_environment_and_no_credentials(
    open_round, city_user, tmp_path, settings, client
):
    secret = "S3cret-" + secrets.token_hex(8)
    settings.SECRET_KEY = secret + "-key"
    settings.EMAIL_HOST_PASSWORD = secret + "-mail"
    token = Token.objects.create(user=city_user)
    client.force_login(city_user)
    session_key = client.session.session_key

    result = backup_create(directory=tmp_path)

    content = all_bytes(result.path)
    assert secret.encode() not in content
    assert token.key.encode() not in content and session_key.encode() not in content
    manifest_text = json.dumps(manifest_of(result.path))
    for value in (
        connection.settings_dict.get("PASSWORD"),
        connection.settings_dict.get("HOST"),
        str(settings.BASE_DIR),
    ):
        if value:
            assert value not in manifest_text


# ------------------------------------------------------------------------------------------------
# The drill
# ------------------------------------------------------------------------------------------------
def what_people_see(world, city_user_of, ministry, round_) -> dict:
    """What the drill compares before and after: the national dashboard's figures, every form as
    the API gives it, a city opening its form, every attachment's bytes."""
    ministry_client = Client()
    ministry_client.force_login(ministry)
    seen = {
        "dashboard": ministry_client.get(f"/api/v1/dashboard/national/?round={round_.year}").json(),
        "forms": {s.pk: ministry_client.get(f"/api/v1/submissions/{s.pk}/").json() for s in world["forms"].values()},
        "scores": {
            s.pk: ministry_client.get(f"/api/v1/submissions/{s.pk}/score/").json() for s in world["forms"].values()
        },
    }
    draft = world["forms"][Status.DRAFT]
    city = Client()
    city.force_login(city_user_of(draft))
    opened = city.get("/city/form/", follow=True)
    assert opened.status_code == 200 and draft.city.name in opened.content.decode()
    seen["opened"] = opened.redirect_chain[-1][0]
    seen["attachments"] = {}
    for attachment in world["attachments"]:
        official = Client()
        official.force_login(city_user_of(attachment.submission))
        response = official.get(f"/attachments/{attachment.pk}/")
        seen["attachments"][attachment.pk] = b"".join(response.streaming_content)
    return seen


def drill(open_round, ministry_user, tmp_path, empty_database) -> None:
    world = seed_round(open_round, ministry_user)
    assert {s.status for s in world["forms"].values()} == set(Status.values)
    assert Score.objects.exists() and SubmissionEvent.objects.exists() and Attachment.objects.count() == 4

    def official(submission):
        return User.objects.get(city=submission.city_id)

    before = what_people_see(world, official, ministry_user, open_round)
    before_counts = table_counts()
    original_bytes = {a.pk: a.file.open("rb").read() for a in world["attachments"]}
    assert before["attachments"] == original_bytes
    archive = backup_create(directory=tmp_path / "backups").path

    # Drop everything: a new, empty database and no media folder.
    shutil.rmtree(settings.MEDIA_ROOT)
    with empty_database():
        assert table_counts() == {}
        out = io.StringIO()
        call_command("restore", str(archive), stdout=out)
        assert "every row count and file checksum matches" in out.getvalue()

        after_counts = table_counts()
        assert set(after_counts) == set(before_counts)
        for table, count in before_counts.items():
            if table in ("django_session", "authtoken_token"):
                assert after_counts[table] == 0  # credentials are not backed up
            elif table == "gigacity_auditevent":
                # The backup's own record came after its snapshot; the restore records itself.
                assert after_counts[table] == count + 1
            else:
                assert after_counts[table] == count, table
        after = what_people_see(world, official, ministry_user, open_round)
        assert after["dashboard"] == before["dashboard"]
        assert after["forms"] == before["forms"]
        assert after["scores"] == before["scores"]
        assert after["opened"] == before["opened"]
        assert after["attachments"] == original_bytes
        for attachment in Attachment.objects.all():
            assert hashlib.sha256(attachment.file.open("rb").read()).hexdigest() == attachment.sha256
        assert AuditEvent.objects.filter(kind=AuditKind.RESTORED, details__archive=archive.name).exists()


@pytest.fixture
def empty_postgres_database():
    """Point the app at a new, empty PostgreSQL database for the duration; drop it afterwards. Only
    ever drops the database it created."""
    import psycopg2

    default = connections["default"]
    params = default.get_connection_params()
    name = f"{default.settings_dict['NAME']}_drill_{secrets.token_hex(4)}"[:63]
    admin_params = {**params, "dbname": "postgres"}
    admin_params.pop("database", None)

    def admin(sql: str) -> None:
        with contextlib.closing(psycopg2.connect(**admin_params)) as conn:
            conn.autocommit = True
            with conn.cursor() as cursor:
                cursor.execute(sql)

    @contextlib.contextmanager
    def use():
        admin(f'CREATE DATABASE "{name}"')
        original = default.settings_dict["NAME"]
        default.close()
        default.settings_dict["NAME"] = name
        try:
            yield name
        finally:
            default.close()
            default.settings_dict["NAME"] = original
            admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return use


@pytest.mark.postgres
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_restore_drill_on_postgresql(open_round, ministry_user, tmp_path, empty_postgres_database):
    drill(open_round, ministry_user, tmp_path, empty_postgres_database)


@pytest.fixture
def empty_sqlite_database():
    """Empty the (in-memory) SQLite test database for the duration, then put back what was there."""
    import sqlite3

    @contextlib.contextmanager
    def use():
        connection.ensure_connection()
        saved = sqlite3.connect(":memory:")
        connection.connection.backup(saved)
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA foreign_keys = OFF")
            for table in connection.introspection.table_names(cursor):
                cursor.execute(f'DROP TABLE "{table}"')
        try:
            yield
        finally:
            saved.backup(connection.connection)
            saved.close()

    return use


@pytest.mark.django_db(transaction=True)
def test_restore_drill_on_sqlite(open_round, ministry_user, tmp_path, empty_sqlite_database):
    if connection.vendor != "sqlite":
        pytest.skip("the SQLite drill; PostgreSQL has its own")
    drill(open_round, ministry_user, tmp_path, empty_sqlite_database)


# ------------------------------------------------------------------------------------------------
# Refusals: nothing is restored
# ------------------------------------------------------------------------------------------------
@pytest.fixture
def archive(transactional_db, reference, city_user, tmp_path) -> Path:
    """A small archive of this database (a backup sees committed data only, as in real life)."""
    return backup_create(directory=tmp_path / "backups").path


def test_a_database_that_is_not_empty_is_refused_unless_told(archive):
    before = table_counts()
    with pytest.raises(RestoreRefused, match="--force"):
        backup_restore(archive=archive)
    assert table_counts() == before


def test_a_media_folder_that_is_not_empty_is_refused(archive, empty_target):
    media = Path(settings.MEDIA_ROOT)
    media.mkdir(parents=True, exist_ok=True)
    (media / "left-over.pdf").write_bytes(b"%PDF")
    with empty_target(), pytest.raises(RestoreRefused, match="media"):
        backup_restore(archive=archive)


def test_an_incomplete_or_damaged_archive_is_refused_and_nothing_is_restored(archive, tmp_path):
    data = archive.read_bytes()
    damages = {
        "truncated": (lambda bad: bad.write_bytes(data[: len(data) * 2 // 3]), "incomplete"),
        "no manifest": (lambda bad: rewrite(archive, bad, drop="manifest.json"), "no manifest"),
        "changed byte": (lambda bad: rewrite(archive, bad, change=members(archive)[0]), "checksum differs"),
        "missing member": (lambda bad: rewrite(archive, bad, drop=members(archive)[0]), "missing"),
        "not a tar": (lambda bad: bad.write_bytes(b"not an archive at all" * 100), "damaged or incomplete"),
    }
    before = table_counts()
    for damage, (make, message) in damages.items():
        bad = tmp_path / f"{damage}.tar"
        make(bad)
        with pytest.raises(RestoreRefused, match=message):
            archive_verify(archive=bad)
        with pytest.raises(RestoreRefused, match=message):
            backup_restore(archive=bad, force=True)
        assert table_counts() == before, damage
        assert not list(Path(settings.MEDIA_ROOT).glob(".restore-*")), damage


def test_every_prefix_of_an_archive_is_refused_as_incomplete(archive, tmp_path):
    # Whatever a full disk or a crash leaves behind, cut anywhere before the manifest's last byte,
    # never passes for a backup (after it come only the tar format's zero blocks).
    data = archive.read_bytes()
    with tarfile.open(archive) as tar:
        manifest = tar.getmember("manifest.json")
        end = manifest.offset_data + manifest.size
    assert not data[end:].strip(b"\0")
    cuts = [*range(0, end, max(1, end // 40)), end - 1]
    for cut in cuts:
        partial = tmp_path / f"cut-{cut}.tar"
        partial.write_bytes(data[:cut])
        with pytest.raises(RestoreRefused):
            archive_verify(archive=partial)
        partial.unlink()


def test_another_schema_version_is_refused_with_a_message_naming_both(archive, tmp_path):
    # An archive made before this release's last gigacity migration.
    latest = max(m for m in code_migrations() if m.startswith("gigacity."))
    older_migrations = [m for m in code_migrations() if m != latest]
    older = rewrite(
        archive,
        tmp_path / "older.tar",
        manifest=lambda m: {
            **m,
            "schema": {"migrations": older_migrations, "version": schema_version(older_migrations)},
        },
    )
    before = table_counts()

    with pytest.raises(RestoreRefused) as refused:
        backup_restore(archive=older, force=True)

    message = str(refused.value)
    assert schema_version(older_migrations) in message and schema_version(code_migrations()) in message
    assert latest in message
    assert table_counts() == before


def test_a_database_of_another_schema_version_is_refused(archive):
    from django.db.migrations.recorder import MigrationRecorder

    latest = max(m for m in code_migrations() if m.startswith("reviews."))
    app, name = latest.split(".", 1)
    recorder = MigrationRecorder(connection)
    recorder.record_unapplied(app, name)  # as if this database had not been migrated to the end
    try:
        with pytest.raises(RestoreRefused) as refused:
            backup_restore(archive=archive, force=True)
    finally:
        recorder.record_applied(app, name)  # django_migrations outlives the test
    target = schema_version(m for m in code_migrations() if m != latest)
    assert target in str(refused.value) and schema_version(code_migrations()) in str(refused.value)


@pytest.fixture
def empty_target(empty_postgres_database, empty_sqlite_database):
    return empty_postgres_database if connection.vendor == "postgresql" else empty_sqlite_database


# ------------------------------------------------------------------------------------------------
# A backup while people work; a full disk
# ------------------------------------------------------------------------------------------------
@pytest.mark.django_db(transaction=True)
def test_a_file_written_during_the_backup_is_in_it_with_its_row_or_not_at_all(
    open_round, ministry_user, city_user, tmp_path, monkeypatch
):
    from tests.factories import make_submission

    form = make_submission(city_user.city, open_round, Status.DRAFT)
    kept = attachment_add(submission_id=form.pk, case_id=None, upload=pdf("kept"), actor=city_user)
    removed = attachment_add(submission_id=form.pk, case_id=None, upload=pdf("removed"), actor=city_user)
    late = {}
    original_init = archive_module.ArchiveWriter.__init__

    def people_keep_working(self, final):
        # Right after the snapshot, before any file is copied: one upload, one removal, committed.
        late["attachment"] = attachment_add(submission_id=form.pk, case_id=None, upload=pdf("late"), actor=city_user)
        attachment_delete(attachment_id=removed.pk, actor=city_user)
        original_init(self, final)

    monkeypatch.setattr(backup.ArchiveWriter, "__init__", people_keep_working)
    result = backup_create(directory=tmp_path)

    names = set(members(result.path))
    manifest = manifest_of(result.path)
    assert "media/" + kept.file.name in names
    assert "media/" + late["attachment"].file.name not in names  # the file written during the backup…
    assert manifest["tables"]["submissions_attachment"] == 2  # …and its row are not in it
    # The removed attachment's row is in the snapshot; its file went while the backup ran, and the
    # manifest says so.
    assert manifest["media"]["missing"] == [removed.file.name]
    assert result.missing == [removed.file.name]


class FullDisk(io.RawIOBase):
    """A file on a disk that fills up after `room` bytes (ENOSPC, as the kernel reports it)."""

    def __init__(self, path: Path, room: int):
        self.real, self.room = open(path, "xb"), room  # noqa: SIM115

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        if len(data) > self.room:
            self.real.write(bytes(data[: self.room]))
            self.room = 0
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        self.room -= len(data)
        return self.real.write(data)

    def fileno(self) -> int:
        return self.real.fileno()

    def tell(self) -> int:
        return self.real.tell()

    def flush(self) -> None:
        self.real.flush()

    def close(self) -> None:
        self.real.close()
        super().close()


@pytest.mark.parametrize("room", [0, 700, 60_000])
def test_a_full_disk_leaves_no_archive_and_no_partial_file(transactional_db, reference, tmp_path, monkeypatch, room):
    monkeypatch.setattr(archive_module, "_open_for_writing", lambda path: FullDisk(path, room))
    target = tmp_path / "backups"

    with pytest.raises(BackupFailed, match="disk is full"):
        backup_create(directory=target)

    assert list(target.iterdir()) == []  # no archive, no .partial, no work directory
    assert latest_archive(target) is None


def test_a_partial_file_is_never_taken_for_an_archive_and_is_cleaned_up(db, reference, tmp_path):
    directory = tmp_path / "backups"
    directory.mkdir()
    partial = directory / "gigacity-20260101T020000Z.tar.partial"
    partial.write_bytes(b"half")
    old = (datetime.now(UTC) - timedelta(days=2)).timestamp()
    os.utime(partial, (old, old))

    assert latest_archive(directory) is None
    assert backups_prune(directory=directory, keep_days=7) == [partial.name]


# ------------------------------------------------------------------------------------------------
# Retention and the commands
# ------------------------------------------------------------------------------------------------
def test_old_archives_are_pruned_and_the_newest_is_always_kept(tmp_path):
    now = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
    names = [f"gigacity-{(now - timedelta(days=d)):%Y%m%dT%H%M%SZ}.tar" for d in (40, 20, 8, 6, 1)]
    for name in names:
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / "notes.txt").write_text("not ours")

    removed = backups_prune(directory=tmp_path, keep_days=7, now=now)

    assert sorted(removed) == sorted(names[:3])
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([*names[3:], "notes.txt"])
    # However old, the last archive stays.
    assert backups_prune(directory=tmp_path, keep_days=0, now=now + timedelta(days=30)) == [names[3]]
    assert (tmp_path / names[4]).exists()


def test_the_commands_say_what_they_did(transactional_db, reference, tmp_path):
    out = io.StringIO()
    call_command("backup", "--output", str(tmp_path), "--keep-days", "7", stdout=out)
    made = latest_archive(tmp_path)
    assert str(made) in out.getvalue() and "schema" in out.getvalue()

    out = io.StringIO()
    call_command("restore", str(made), "--verify-only", stdout=out)
    assert "complete and intact" in out.getvalue()

    with pytest.raises(CommandError, match="--force"):
        call_command("restore", str(made), stdout=io.StringIO())
    with pytest.raises(CommandError):
        call_command("restore", str(tmp_path / "nothing.tar"), stdout=io.StringIO())


def test_the_daily_schedule_waits_for_the_next_time_in_the_sites_time_zone():
    from gigacity.management.commands.backup import seconds_until

    # 01:30 in Beijing (17:30 UTC the day before): the 02:00 backup is half an hour away.
    now = datetime(2026, 11, 30, 17, 30, tzinfo=UTC)
    assert seconds_until(datetime.strptime("02:00", "%H:%M").time(), now) == 1800
    assert seconds_until(datetime.strptime("01:00", "%H:%M").time(), now) == 23.5 * 3600


def test_a_manifest_that_is_not_ours_is_refused(archive, tmp_path):
    mangled = rewrite(archive, tmp_path / "mangled.tar", manifest=lambda m: {**m, "tables": ["not", "a", "mapping"]})
    with pytest.raises(RestoreRefused, match="not a gigacity backup"):
        archive_verify(archive=mangled)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_row_committed_while_pg_dump_runs_is_in_neither_the_dump_nor_the_manifest(
    open_round, city_user, tmp_path, monkeypatch, empty_postgres_database
):
    from gigacity.backup.databases import PostgresEngine
    from tests.factories import make_submission

    form = make_submission(city_user.city, open_round, Status.DRAFT)
    attachment_add(submission_id=form.pk, case_id=None, upload=pdf("before"), actor=city_user)
    original_run = PostgresEngine._run
    late = {}

    def commit_then_dump(self, argv):
        # The snapshot is exported and counted; before pg_dump starts, somebody uploads a file.
        late["attachment"] = attachment_add(submission_id=form.pk, case_id=None, upload=pdf("late"), actor=city_user)
        return original_run(self, argv)

    monkeypatch.setattr(PostgresEngine, "_run", commit_then_dump)
    archive = backup_create(directory=tmp_path / "backups").path
    monkeypatch.undo()
    assert Attachment.objects.count() == 2  # committed, for everybody else

    manifest = manifest_of(archive)
    assert manifest["tables"]["submissions_attachment"] == 1
    assert "media/" + late["attachment"].file.name not in members(archive)
    shutil.rmtree(settings.MEDIA_ROOT)
    with empty_postgres_database():
        backup_restore(archive=archive)  # checks every count against the manifest
        assert list(Attachment.objects.values_list("original_name", flat=True)) == ["before.pdf"]

"""manage.py restore ARCHIVE: put a backup back into an empty database and media folder.

python manage.py restore /backups/gigacity-20261201T180000Z.tar [--force]
python manage.py restore ARCHIVE --verify-only      # check the archive, restore nothing
"""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from gigacity.backup import RestoreFailed, RestoreRefused, archive_verify, backup_restore


class Command(BaseCommand):
    help = (
        "Restore an archive of `manage.py backup` into an empty database and media folder, then check "
        "every row count and file checksum against its manifest."
    )

    def add_arguments(self, parser):
        parser.add_argument("archive", type=Path)
        parser.add_argument(
            "--force",
            action="store_true",
            help="replace a database and media folder that are not empty (everything in them is lost)",
        )
        parser.add_argument("--verify-only", action="store_true", help="check the archive completely, restore nothing")

    def handle(self, *args, archive, force, verify_only, **options):
        if verify_only:
            try:
                manifest = archive_verify(archive=archive)
            except RestoreRefused as exc:
                raise CommandError(str(exc)) from exc
            self.stdout.write(
                self.style.SUCCESS(
                    f"{archive}: complete and intact; made {manifest['created_at']}, schema "
                    f"{manifest['schema']['version']}, {len(manifest['tables'])} tables, "
                    f"{manifest['media']['files']} files"
                )
            )
            return
        try:
            result = backup_restore(archive=archive, force=force)
        except (RestoreRefused, RestoreFailed) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"Restored {result.archive.name} (made {result.created_at}, schema {result.schema}) in "
                f"{result.seconds:.1f} s: {result.tables} tables, {result.rows} rows, {result.files} files "
                f"({result.media_bytes / 2**20:.1f} MiB); every row count and file checksum matches the manifest."
            )
        )
        if result.missing:
            self.stdout.write(
                self.style.WARNING(
                    f"{len(result.missing)} files had been deleted while that backup ran; their rows were "
                    f"deleted just after it: {', '.join(result.missing[:5])}"
                )
            )
        self.stdout.write("Sessions and API tokens are not in backups: everyone signs in again.")

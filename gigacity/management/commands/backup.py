"""manage.py backup: one archive of the database and the media files, then old archives pruned.

python manage.py backup [--output DIR] [--keep-days N]
python manage.py backup --daily-at 02:00      # the compose file's backup service: forever, nightly
"""

from __future__ import annotations

import datetime
import logging
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from gigacity.backup import BackupFailed, backup_create, backups_prune, latest_archive

logger = logging.getLogger("gigacity.backup")


def seconds_until(at: datetime.time, now: datetime.datetime) -> float:
    """Seconds from `now` (aware) until the next `at` in the site's time zone."""
    local = timezone.localtime(now)
    target = local.replace(hour=at.hour, minute=at.minute, second=0, microsecond=0)
    if target <= local:
        target += datetime.timedelta(days=1)
    return (target - local).total_seconds()


class Command(BaseCommand):
    help = "Write one archive of the database and the media files (with a manifest), then prune old archives."

    def add_arguments(self, parser):
        parser.add_argument(
            "--output", type=Path, help=f"directory of the archives (default {settings.GIGACITY_BACKUP_DIR})"
        )
        parser.add_argument(
            "--keep-days",
            type=int,
            default=settings.GIGACITY_BACKUP_KEEP_DAYS,
            help="remove archives older than this many days (the newest is always kept)",
        )
        parser.add_argument(
            "--daily-at",
            metavar="HH:MM",
            help="keep running and make a backup every day at this time (site time zone); one at once if "
            "the newest archive is more than a day old",
        )

    def handle(self, *args, output, keep_days, daily_at, **options):
        directory = output or settings.GIGACITY_BACKUP_DIR
        if daily_at:
            try:
                at = datetime.time.fromisoformat(daily_at)
            except ValueError:
                raise CommandError(f"--daily-at takes a time such as 02:00, not {daily_at!r}") from None
            self.run_daily(directory, keep_days, at)
            return
        self.run_once(directory, keep_days)

    def run_once(self, directory: Path, keep_days: int) -> None:
        try:
            result = backup_create(directory=directory)
        except BackupFailed as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"{result.path} ({result.size / 2**20:.1f} MiB in {result.seconds:.1f} s): "
                f"{result.tables} tables, {result.rows} rows, {result.files} files "
                f"({result.media_bytes / 2**20:.1f} MiB), schema {result.schema}"
            )
        )
        if result.missing:
            self.stdout.write(
                self.style.WARNING(
                    f"{len(result.missing)} files were deleted while the backup ran (with rows deleted after its "
                    f"snapshot): {', '.join(result.missing[:5])}"
                )
            )
        for name in backups_prune(directory=directory, keep_days=keep_days):
            self.stdout.write(f"removed {name}")

    def run_daily(self, directory: Path, keep_days: int, at: datetime.time) -> None:
        self.stdout.write(f"backups every day at {at:%H:%M} into {directory}, kept {keep_days} days")
        while True:
            newest = latest_archive(directory)
            overdue = newest is None or time.time() - newest.stat().st_mtime > 86400
            if not overdue:
                time.sleep(seconds_until(at, timezone.now()))
            try:
                self.run_once(directory, keep_days)
            except CommandError as exc:
                # Logged and tried again tomorrow (or at once after a restart); the service's health
                # check reports an archive that is too old.
                logger.error("backup failed: %s", exc)
                time.sleep(seconds_until(at, timezone.now()))

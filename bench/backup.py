"""Backup and restore of the national and the large data set: how long each takes and how large the
archive is. Not a test: it prints figures.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres python -m bench.backup [--json] [--evidence-kb 256]

Standalone it seeds its own two throwaway databases (`gigacity_bench_backup_national`, `…_large`,
as `bench.dashboard` does) and drops them at the end; `python -m bench` runs `measure` on its own
databases as the stage `backup`. For each data set it:

1. adds evidence files: one attachment per form of the current round that has left the city, of
   `--evidence-kb` random bytes each (incompressible, as PDFs and photos are), so that the archive
   holds media as production's does (the seeded data sets have none);
2. backs it up with the service behind `manage.py backup` (pg_dump of one snapshot, the files, the
   manifest, fsync);
3. restores the archive into a new, empty database and media folder with the service behind
   `manage.py restore`, which also counts every table and hashes every file against the manifest,
   and drops that database again.

The target is reliability.md D-7's recovery time: a restore well under an hour.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from .stack import create_database, drop_database, use_database

BENCH_DB = "gigacity_bench_backup"
RESTORE_DB = "gigacity_bench_restore"
MAX_RESTORE_SECONDS = 3600.0  # reliability.md D-7: the measured RTO is under one hour


def add_evidence(*, kilobytes: int, seed: int = 2021) -> dict[str, int]:
    """One attachment of `kilobytes` random bytes per reported form of the current round."""
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    from gigacity.models import User
    from indicators.models import Round
    from submissions.models import REPORTED_STATES, Attachment, Submission, attachment_path

    rng = random.Random(seed)
    current = Round.objects.current()
    forms = list(Submission.objects.filter(round=current, status__in=REPORTED_STATES).order_by("pk"))
    uploader = User.objects.filter(role="city").order_by("pk").first()
    rows, total = [], 0
    for form in forms:
        content = b"%PDF-1.4\n" + rng.randbytes(kilobytes * 1024)
        attachment = Attachment(
            submission=form,
            original_name=f"{form.city_id}-证明材料.pdf",
            content_type="application/pdf",
            size=len(content),
            sha256="",
            uploaded_by=uploader,
        )
        attachment.file.name = default_storage.save(attachment_path(attachment, "evidence.pdf"), ContentFile(content))
        rows.append(attachment)
        total += len(content)
    Attachment.objects.bulk_create(rows, batch_size=500)
    return {"files": len(rows), "bytes": total}


def measure(*, database_url: str, database: str, evidence_kb: int, workdir: Path) -> dict[str, Any]:
    """Back up `database` (with evidence files added first), restore it into a fresh database and
    media folder, and return the figures."""
    from django.test.utils import override_settings

    from gigacity.backup import backup_create, backup_restore

    use_database(database)
    media = workdir / f"media-{database}"
    media.mkdir(parents=True, exist_ok=True)
    figures: dict[str, Any] = {"database": database}
    with override_settings(MEDIA_ROOT=media):
        figures["evidence"] = add_evidence(kilobytes=evidence_kb) if evidence_kb else {"files": 0, "bytes": 0}
        made = backup_create(directory=workdir / "backups")
    manifest_files = {entry["path"]: entry["size"] for entry in _manifest(made.path)["files"]}
    dump_bytes = sum(size for path, size in manifest_files.items() if path.startswith("database."))
    figures["backup"] = {
        "seconds": round(made.seconds, 2),
        "archive_bytes": made.size,
        "dump_bytes": dump_bytes,
        "tables": made.tables,
        "rows": made.rows,
        "files": made.files,
        "media_bytes": made.media_bytes,
    }
    create_database(database_url, RESTORE_DB)
    restored_media = workdir / "media-restored"
    try:
        use_database(RESTORE_DB)
        with override_settings(MEDIA_ROOT=restored_media):
            result = backup_restore(archive=made.path)
        figures["restore"] = {"seconds": round(result.seconds, 2), "rows": result.rows, "files": result.files}
    finally:
        use_database(database)
        drop_database(database_url, RESTORE_DB)
        shutil.rmtree(restored_media, ignore_errors=True)
        made.path.unlink(missing_ok=True)
    return figures


def _manifest(path: Path) -> dict[str, Any]:
    import tarfile

    with tarfile.open(path) as tar:
        return json.loads(tar.extractfile("manifest.json").read())


def run(*, database_url: str, databases: dict[str, str], evidence_kb: int, workdir: Path) -> dict[str, Any]:
    """`measure` for each data set (national, large), one after the other."""
    return {
        size: measure(database_url=database_url, database=name, evidence_kb=evidence_kb, workdir=workdir)
        for size, name in databases.items()
    }


def print_figures(results: dict[str, Any]) -> None:
    for size, r in results.items():
        b, restore, e = r["backup"], r["restore"], r["evidence"]
        print(
            f"  {size:<8} {b['rows']:>8} rows in {b['tables']} tables, dump {b['dump_bytes'] / 2**20:.1f} MiB; "
            f"{e['files']} evidence files {e['bytes'] / 2**20:.1f} MiB → archive {b['archive_bytes'] / 2**20:.1f} MiB"
        )
        print(
            f"           backup {b['seconds']:.1f} s, restore (with every count and checksum verified) "
            f"{restore['seconds']:.1f} s (target ≤ {MAX_RESTORE_SECONDS:.0f} s)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--evidence-kb", type=int, default=256, help="size of each evidence file (0: none)")
    parser.add_argument("--large-units", type=int, default=3000)
    parser.add_argument("--large-rounds", type=int, default=10)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    server = os.environ.get("DATABASE_URL", "")
    if not server.startswith(("postgres://", "postgresql://")):
        raise SystemExit("bench.backup needs PostgreSQL: set DATABASE_URL=postgres://user@host:5432/name")
    workdir = Path(tempfile.mkdtemp(prefix="gigacity-bench-backup-"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gigacity.settings")
    os.environ["DJANGO_MEDIA_ROOT"] = str(workdir / "media")
    databases = {"national": f"{BENCH_DB}_national", "large": f"{BENCH_DB}_large"}
    for name in databases.values():
        create_database(server, name)
    try:
        import django

        django.setup()
        from django.core.management import call_command

        from .seed import seed_large, seed_national

        seeded = {}
        for size, seeder in (
            ("national", seed_national),
            ("large", lambda: seed_large(units=args.large_units, rounds=args.large_rounds)),
        ):
            use_database(databases[size])
            call_command("migrate", interactive=False, verbosity=0)
            started = time.perf_counter()
            seeded[size] = {**seeder().as_dict(), "seconds": round(time.perf_counter() - started, 1)}
        results = run(database_url=server, databases=databases, evidence_kb=args.evidence_kb, workdir=workdir)
        for size in results:
            results[size]["data"] = seeded[size]
    finally:
        from django.db import connections

        connections.close_all()
        for name in databases.values():
            drop_database(server, name)
        shutil.rmtree(workdir, ignore_errors=True)
    if args.json:
        print(json.dumps(results, ensure_ascii=False, indent=2))
    else:
        print(f"Backup and restore (databases {', '.join(databases.values())}, dropped)")
        print_figures(results)


if __name__ == "__main__":
    main()

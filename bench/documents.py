"""Benchmark of the documents of a national round: the draft circular and the case collection (Word),
and one form printed to PDF. Not a test: it prints figures.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres python -m bench.documents [--json] [--keep]

Against the PostgreSQL server of DATABASE_URL, in a throwaway database (`gigacity_bench_docs`) that it
creates, migrates, seeds with the national data set (`bench.seed.seed_national`: every real unit, the
last three rounds, forms in every state with 5–20 cases each) and drops at the end. It then writes,
in this process as the export worker does, for the latest round that named cities: the draft
circular, the case collection of the excellent cases and of every case, and beside them their floor,
MIIT's summary table as the Excel export writes it (the same rows as the circular's 附件1). The
figures that count are the ratios document ÷ floor of the medians; absolute times on a shared machine
are noise. The form's PDF (Chromium) is timed on its own, when Chromium is installed.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import time
from typing import Any

from .stack import create_database, drop_database, use_database

BENCH_DB = "gigacity_bench_docs"


def _time(write, *, repeat: int) -> tuple[list[float], int, int]:
    samples, size, rows = [], 0, 0
    for _ in range(repeat):
        out = io.BytesIO()
        started = time.perf_counter()
        rows = write(out)
        samples.append((time.perf_counter() - started) * 1000)
        size = len(out.getvalue())
    return samples, size, rows


def _summary(samples: list[float]) -> dict[str, float]:
    samples = sorted(samples)
    return {"median_ms": round(statistics.median(samples), 1), "max_ms": round(samples[-1], 1), "runs": len(samples)}


def run(*, repeat: int = 5, keep: bool = False, database_url: str | None = None) -> dict[str, Any]:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gigacity.settings")
    server = database_url or os.environ.get("DATABASE_URL", "")
    if not server.startswith(("postgres://", "postgresql://")):
        raise SystemExit("bench.documents needs PostgreSQL: set DATABASE_URL=postgres://user@host:5432/name")
    create_database(server, BENCH_DB)
    try:
        import django

        django.setup()
        use_database(BENCH_DB)
        from django.core.management import call_command
        from django.db import connection
        from django.test import RequestFactory
        from django.test.utils import override_settings
        from django.utils.translation import override

        from bench.seed import seed_national
        from gigacity import pdf
        from gigacity.models import User
        from indicators.models import Designation, Round
        from reviews.casebook import casebook_document
        from reviews.circular import circular_document
        from reviews.exports import summary_workbook
        from submissions import printing, selectors
        from submissions.models import Status, Submission

        call_command("migrate", interactive=False, verbosity=0)
        started = time.perf_counter()
        report = seed_national()
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        seeded = round(time.perf_counter() - started, 1)
        ministry = User.objects.get(username="bench-miit")
        round_ = Round.objects.filter(pk__in=Designation.objects.values("round")).order_by("-year").first()
        writers = {
            "floor: summary table (xlsx)": lambda out: summary_workbook(
                user=ministry, round_=round_, cumulative=True, out=out
            ),
            "draft circular (docx)": lambda out: circular_document(user=ministry, round_=round_, out=out),
            "case collection, excellent (docx)": lambda out: casebook_document(
                user=ministry, round_=round_, out=out, excellent_only=True
            ),
            "case collection, all (docx)": lambda out: casebook_document(
                user=ministry, round_=round_, out=out, excellent_only=False
            ),
        }
        results: dict[str, Any] = {"database": BENCH_DB, "round": round_.year, "data": report.as_dict()}
        results["seed_seconds"] = seeded
        figures: dict[str, dict[str, Any]] = {name: {"samples": []} for name in writers}
        with override_settings(DEBUG=False), override("zh-hans"):
            # The documents take turns, so that whatever else the machine does weighs on all alike.
            for _ in range(repeat):
                for name, write in writers.items():
                    samples, size, rows = _time(write, repeat=1)
                    figures[name]["samples"] += samples
                    figures[name].update(bytes=size, rows=rows)
            floor = statistics.median(figures["floor: summary table (xlsx)"]["samples"])
            for figure in figures.values():
                samples = figure.pop("samples")
                figure.update(_summary(samples), ratio=round(statistics.median(samples) / floor, 2))
            results["documents"] = figures
            if pdf.available():
                form = Submission.objects.filter(round=round_, status=Status.APPROVED).order_by("-cases_count").first()
                request = RequestFactory().get("/")
                request.user = ministry
                detail = selectors.submission_detail(user=ministry, pk=form.pk)
                samples = []
                for _ in range(max(2, repeat // 2)):
                    started = time.perf_counter()
                    content = printing.form_pdf(request, detail)
                    samples.append((time.perf_counter() - started) * 1000)
                results["form_pdf"] = {**_summary(samples), "bytes": len(content), "cases": form.cases_count}
        return results
    finally:
        from django.db import connections

        connections.close_all()
        if not keep:
            drop_database(server, BENCH_DB)


def _print(results: dict[str, Any]) -> None:
    d = results["data"]
    print(
        f"Documents of the {results['round']} round; database {results['database']} (dropped unless --keep); "
        f"{d['units']} units, {d['submissions']} forms, {d['cases']} cases, {d['designations']} designations "
        f"(seeded in {results['seed_seconds']} s)"
    )
    for name, f in results["documents"].items():
        print(
            f"  {name:<36} median {f['median_ms']:>8} ms  max {f['max_ms']:>8} ms  {f['rows']:>5} rows  "
            f"{f['bytes'] // 1024:>6} KiB  × floor {f['ratio']}"
        )
    if "form_pdf" in results:
        f = results["form_pdf"]
        print(
            f"  {'one form as PDF (Chromium)':<36} median {f['median_ms']:>8} ms  max {f['max_ms']:>8} ms  "
            f"{f['cases']:>5} cases {f['bytes'] // 1024:>6} KiB"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=5, help="times each document is written")
    parser.add_argument("--keep", action="store_true", help="keep the database")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    results = run(repeat=args.repeat, keep=args.keep)
    if args.json:
        print(json.dumps(results, ensure_ascii=False, indent=2, default=str))
    else:
        _print(results)


if __name__ == "__main__":
    main()

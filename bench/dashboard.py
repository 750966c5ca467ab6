"""Benchmark of the national dashboard at national and at large size. Not a test: it prints figures.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/gigacity python -m bench.dashboard [--json]

Against the PostgreSQL server of DATABASE_URL, in two throwaway databases (`gigacity_bench_dash_national`
and `gigacity_bench_dash_large`) that it creates, migrates and drops at the end (`--keep` leaves them
for EXPLAIN ANALYZE). It seeds the national data set (every real unit, the last three rounds, forms
in every state) and the large one (3 000 units × 10 rounds, every unit reporting every year), then
times the dashboard page and its API through Django's test client, the two sizes taking turns. The
figure that counts is the ratio large ÷ national of the medians (target ≤ 2: the cost must not grow
with history and units); absolute times on a shared machine are noise.

A quick check in one process, without servers; `python -m bench` measures the same ratio on
gunicorn, with everything else.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from typing import Any

from .stack import create_database, drop_database, use_database

BENCH_DB = "gigacity_bench_dash"
TARGET_RATIO = 2.0


def _use_database(name: str) -> None:
    """Point Django's default connection at the throwaway database (also when Django was set up
    before this module ran)."""
    import django

    django.setup()  # does nothing the second time
    use_database(name)


def _analyze() -> None:
    """Statistics, as a production database has them: right after a bulk load the planner would
    otherwise guess (two rows where there are two thousand) and choose nested loops."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def _sample(client, url: str, *, repeat: int, warmup: int) -> list[float]:
    for _ in range(warmup):
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        response = client.get(url)
        samples.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    return samples


def _queries(client, url: str) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        client.get(url)
    return len(captured)


def _summary(samples: list[float]) -> dict[str, float]:
    samples = sorted(samples)
    return {
        "median_ms": round(statistics.median(samples), 1),
        "p95_ms": round(samples[min(len(samples) - 1, round(0.95 * (len(samples) - 1)))], 1),
        "requests": len(samples),
    }


VIEWS = {"page": "/ministry/?round={year}", "api": "/api/v1/dashboard/national/?round={year}"}


def _measure(databases: dict[str, str], *, repeat: int, warmup: int, passes: int) -> dict[str, Any]:
    """Time both data sets side by side: the sizes take turns (national, large, national, …) so that
    whatever else the machine is doing weighs on both alike."""
    from django.test import Client
    from django.test.utils import override_settings

    from gigacity.models import User
    from indicators.models import Round

    samples: dict[str, dict[str, list[float]]] = {size: {view: [] for view in VIEWS} for size in databases}
    queries: dict[str, dict[str, int]] = {size: {} for size in databases}
    # DEBUG off: with it on, Django records every query, which is not what production pays.
    with override_settings(DEBUG=False):
        for _ in range(passes):
            for size, name in databases.items():
                _use_database(name)
                year = Round.objects.current().year
                client = Client(HTTP_HOST="localhost")
                client.force_login(User.objects.get(username="bench-miit"))
                for view, url in VIEWS.items():
                    url = url.format(year=year)
                    samples[size][view] += _sample(client, url, repeat=repeat, warmup=warmup)
                    queries[size][view] = _queries(client, url)
    return {
        size: {view: {**_summary(samples[size][view]), "queries": queries[size][view]} for view in VIEWS}
        for size in databases
    }


def run(
    *,
    repeat: int = 15,
    warmup: int = 3,
    passes: int = 4,
    database_url: str | None = None,
    keep: bool = False,
    large_units: int = 3000,
    large_rounds: int = 10,
) -> dict[str, Any]:
    """Seed both data sets, each in its own throwaway database, and time the national dashboard
    (page and API) on each, `passes` × `repeat` requests per view and size, the sizes taking turns.
    Returns per size the data set and median/p95 server time and queries per view, and the ratios
    large ÷ national of the medians."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gigacity.settings")
    server = database_url or os.environ.get("DATABASE_URL", "")
    if not server.startswith(("postgres://", "postgresql://")):
        raise SystemExit("bench.dashboard needs PostgreSQL: set DATABASE_URL=postgres://user@host:5432/name")
    databases = {"national": f"{BENCH_DB}_national", "large": f"{BENCH_DB}_large"}
    for name in databases.values():
        create_database(server, name)
    try:
        _use_database(databases["national"])  # sets Django up, before anything imports a model
        from django.core.management import call_command

        from bench.seed import seed_large, seed_national

        results: dict[str, Any] = {"databases": list(databases.values())}
        seeders = {"national": seed_national, "large": lambda: seed_large(units=large_units, rounds=large_rounds)}
        for size, name in databases.items():
            _use_database(name)
            call_command("migrate", interactive=False, verbosity=0)
            started = time.perf_counter()
            report = seeders[size]()
            _analyze()
            results[size] = {"data": report.as_dict(), "seed_seconds": round(time.perf_counter() - started, 1)}
        for size, figures in _measure(databases, repeat=repeat, warmup=warmup, passes=passes).items():
            results[size].update(figures)
        for view in VIEWS:
            ratio = results["large"][view]["median_ms"] / results["national"][view]["median_ms"]
            results[f"ratio_{view}"] = round(ratio, 2)
        results["target_ratio"] = TARGET_RATIO
        results["meets_target"] = all(results[f"ratio_{view}"] <= TARGET_RATIO for view in VIEWS)
        return results
    finally:
        from django.db import connections

        connections.close_all()
        if not keep:
            for name in databases.values():
                drop_database(server, name)


def _print(results: dict[str, Any]) -> None:
    print(f"National dashboard; databases {', '.join(results['databases'])} (dropped unless --keep)")
    for size in ("national", "large"):
        r = results[size]
        d = r["data"]
        print(
            f"  {size:<8} {d['units']:>5} units, {len(d['rounds'])} rounds, {d['submissions']:>6} forms, "
            f"{d['cases']:>6} cases, {d['designations']:>5} designations (seeded in {r['seed_seconds']} s)"
        )
        for view in ("page", "api"):
            v = r[view]
            print(
                f"           {view:<4} median {v['median_ms']:>7} ms   p95 {v['p95_ms']:>7} ms   {v['queries']} queries"
            )
    verdict = "meets" if results["meets_target"] else "MISSES"
    print(
        f"  ratio large/national (medians): page {results['ratio_page']}, api {results['ratio_api']} "
        f"→ {verdict} the target ≤ {results['target_ratio']}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=15, help="timed requests per view, size and pass")
    parser.add_argument("--passes", type=int, default=4, help="times the two sizes take turns")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--keep", action="store_true", help="keep the two databases (for EXPLAIN ANALYZE)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    results = run(repeat=args.repeat, warmup=args.warmup, passes=args.passes, keep=args.keep)
    if args.json:
        print(json.dumps(results, ensure_ascii=False, indent=2))
    else:
        _print(results)


if __name__ == "__main__":
    main()

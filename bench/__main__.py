"""python -m bench: the whole benchmark, on the real stack, as ratios measured in one run.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres CELERY_BROKER_URL=redis://127.0.0.1:6379/10 \\
        .venv/bin/python -m bench [--publish] [--quick] [--keep] [--only pages,excel,scoring,load,backup]

Against the PostgreSQL server of DATABASE_URL (whose own database is never touched) and the Redis
of CELERY_BROKER_URL (a queue and cache prefix of the run's own, removed at the end), it:

1. seeds the national data set (every unit, 3 rounds, forms in every state with their history,
   5–20 cases each) and the large one (3 000 units × 10 rounds) into the throwaway databases
   gigacity_bench_national and gigacity_bench_large, and copies the national one to
   gigacity_bench_excel for the imports;
2. collects the static files and serves each data set with gunicorn (production's gunicorn.conf.py:
   3 processes of 4 threads, DEBUG off, whitenoise), and runs a Celery worker on the national one;
3. measures, each beside its floor (`bench.views.floor`), the pages and API calls of `bench.pages`;
   the Excel imports of `bench.excel`; the scoring worker with `bench.scoring` (in a process and
   database of its own); the deadline day with locust (`bench.load`: 400 users for five minutes,
   the server's CPU, the worst page profiled) and the load curve (p95 and errors from 50 to 400
   users); and a backup and a restore of each data set (`bench.backup`);
4. prints every target with its verdict, writes bench/results/bench-<time>.json and .md (git-ignored),
   and with --publish replaces the figures in docs/benchmarks.md.

It never fails because a target is missed: the verdicts are information, not a test.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from typing import Any

from . import backup, excel, load, pages, report
from .stack import (
    GUNICORN_WORKERS,
    ROOT,
    WORKER_CONCURRENCY,
    Environment,
    close_connections,
    collectstatic,
    create_database,
    drop_database,
    forget_redis_keys,
    gunicorn_settings,
    server_versions,
    setup_django,
    start_gunicorn,
    start_worker,
    use_database,
    wait_for_worker,
)
from .web import make_session

DATABASES = {"national": "gigacity_bench_national", "large": "gigacity_bench_large", "excel": "gigacity_bench_excel"}
STAGES = ("pages", "whatif", "excel", "scoring", "load", "backup")


_START = time.monotonic()


def log(message: str) -> None:
    print(f"[{time.monotonic() - _START:6.1f} s] {message}", flush=True)


def seed(args) -> dict[str, Any]:
    from django.core.management import call_command
    from django.db import connection

    from .seed import seed_large, seed_national

    data = {}
    seeders = {
        "national": lambda: seed_national(),
        "large": lambda: seed_large(units=args.large_units, rounds=args.large_rounds),
    }
    for size, seeder in seeders.items():
        use_database(DATABASES[size])
        call_command("migrate", interactive=False, verbosity=0)
        started = time.perf_counter()
        data[size] = seeder().as_dict()
        with connection.cursor() as cursor:
            # Statistics, as a production database has them (right after a bulk load the planner guesses).
            cursor.execute("ANALYZE")
        log(f"seeded {size}: {data[size]} in {time.perf_counter() - started:.1f} s")
    return data


def _rounded(values) -> list[float]:
    return [round(value, 2) for value in values]


def measure_scoring(args, original_env: dict[str, str]) -> dict[str, Any]:
    """`bench.scoring` in a process of its own (it configures Django for its own database)."""
    argv = [sys.executable, "-m", "bench.scoring", "--json", "--submissions", str(args.scoring_submissions)]
    argv += ["--empty-tasks", str(args.empty_tasks), "--concurrency", str(WORKER_CONCURRENCY)]
    finished = subprocess.run(argv, cwd=ROOT, env=original_env, capture_output=True, text=True, check=False)
    if finished.returncode != 0:
        raise SystemExit(f"bench.scoring failed:\n{finished.stdout[-2000:]}\n{finished.stderr[-4000:]}")
    return json.loads(finished.stdout)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--samples", type=int, default=60, help="timed requests per page (default 60)")
    parser.add_argument("--warmup", type=int, default=6, help="unmeasured rounds of requests first")
    parser.add_argument("--excel-samples", type=int, default=12, help="imports of each kind (default 12)")
    parser.add_argument("--scoring-submissions", type=int, default=200)
    parser.add_argument("--empty-tasks", type=int, default=300)
    parser.add_argument(
        "--load-users", type=int, default=load.USERS, help=f"the deadline day's users (default {load.USERS})"
    )
    parser.add_argument(
        "--load-ramp", type=int, default=load.RAMP_SECONDS, help="seconds to start them all (default 60)"
    )
    parser.add_argument(
        "--load-hold", type=int, default=load.HOLD_SECONDS, help="seconds held at full strength (default 300)"
    )
    parser.add_argument(
        "--curve-steps",
        default=",".join(map(str, load.CURVE_STEPS)),
        help="users at each step of the load curve, or 'none' (default 50,100,150,200,300,400)",
    )
    parser.add_argument(
        "--curve-hold", type=int, default=load.CURVE_HOLD_SECONDS, help="seconds each step is held (default 45)"
    )
    parser.add_argument("--evidence-kb", type=int, default=256, help="size of each evidence file of the backup stage")
    parser.add_argument("--large-units", type=int, default=3000)
    parser.add_argument("--large-rounds", type=int, default=10)
    parser.add_argument("--only", default=",".join(STAGES), help=f"stages to run, of {','.join(STAGES)}")
    parser.add_argument("--quick", action="store_true", help="few samples, a short load: to try the suite out")
    parser.add_argument("--keep", action="store_true", help="keep the databases (for EXPLAIN ANALYZE)")
    parser.add_argument(
        "--db-suffix", default="", help="appended to the throwaway databases' names (two runs on one server)"
    )
    parser.add_argument("--publish", action="store_true", help="write this run's figures into docs/benchmarks.md")
    args = parser.parse_args(argv)
    if args.quick:
        args.samples, args.warmup, args.excel_samples = 10, 2, 3
        args.scoring_submissions, args.empty_tasks = 30, 60
        args.load_users, args.load_ramp, args.load_hold = 40, 5, 20
        args.curve_steps, args.curve_hold = "10,40", 15
    if args.db_suffix:
        for key in DATABASES:
            DATABASES[key] += f"_{args.db_suffix}"
    stages = [stage for stage in args.only.split(",") if stage]
    steps = (
        ()
        if args.curve_steps.strip().lower() in ("", "none", "0")
        else tuple(int(users) for users in args.curve_steps.split(",") if users.strip())
    )
    unknown = set(stages) - set(STAGES)
    if unknown:
        parser.error(f"unknown stage(s): {', '.join(sorted(unknown))}")

    original_env = dict(os.environ)
    env = Environment.from_os()
    started, clock = report.now_iso(), time.perf_counter()
    results: dict[str, Any] = {
        "started": started,
        # What else the machine was doing (1, 5, 15 min): on a shared machine it explains a slow run.
        "load_average_at_start": _rounded(os.getloadavg()),
        "command": "python -m bench " + " ".join(argv if argv is not None else sys.argv[1:]),
        "stack": {
            "gunicorn_workers": GUNICORN_WORKERS,
            "gunicorn": gunicorn_settings(),
            "worker_concurrency": WORKER_CONCURRENCY,
        },
        "samples": args.samples,
    }
    processes = []
    log(f"run {env.run_id}: databases {', '.join(DATABASES.values())}; logs in {env.workdir}")
    finished = False
    try:
        for name in ("national", "large"):
            create_database(env.database_url, DATABASES[name])
        setup_django(env, DATABASES["national"])
        from django.contrib.auth import get_user_model
        from django.db import connections

        results["machine"] = report.machine(server_versions(env))
        results["data"] = seed(args)
        use_database(DATABASES["national"])
        subjects = pages.choose_subjects()
        results["subjects"] = subjects.as_dict()
        use_database(DATABASES["large"])
        large_ministry = make_session(get_user_model().objects.get(username="bench-miit"))
        # A database is copied only while nobody is connected to it.
        connections.close_all()
        create_database(env.database_url, DATABASES["excel"], template=DATABASES["national"])
        use_database(DATABASES["national"])

        collectstatic(env, DATABASES["national"])
        national = start_gunicorn(env, DATABASES["national"], name="gunicorn-national")
        processes.append(national.process)
        large = start_gunicorn(env, DATABASES["large"], name="gunicorn-large")
        processes.append(large.process)
        worker = start_worker(env, DATABASES["national"])
        processes.append(worker)
        wait_for_worker(env, worker)
        log(f"serving national at {national.url}, large at {large.url}; worker on queue {env.queue}")

        forget = pages.cache_forgetter(env.cache_url, f"*{env.queue}*gigacity:fresh:*")
        if "pages" in stages:
            log(f"pages: {args.samples} samples each")
            items = pages.endpoints(national.url, large.url, subjects, large_ministry, forget)
            results["pages"] = pages.measure(items, samples=args.samples, warmup=args.warmup)
        if "whatif" in stages:
            log(f"what-if: {args.samples} samples each, beside the dashboard API")
            items = pages.whatif_endpoints(national.url, large.url, subjects, large_ministry, forget)
            results["whatif"] = pages.measure(items, samples=args.samples, warmup=args.warmup)
        if "excel" in stages:
            log(f"excel: {args.excel_samples} imports of each kind")
            use_database(DATABASES["excel"])
            results["excel"] = excel.run(
                province_code=subjects.province, city_user_name=subjects.city_user.username, samples=args.excel_samples
            )
            use_database(DATABASES["national"])
        if "scoring" in stages:
            log(f"scoring: {args.scoring_submissions} submissions, {args.empty_tasks} empty tasks")
            results["scoring"] = measure_scoring(args, original_env)
        if "load" in stages:
            log(f"load: deadline day, {args.load_users} users, {args.load_ramp} s ramp, {args.load_hold} s held")
            before, load_clock = os.getloadavg(), time.perf_counter()
            results["load"] = load.run(
                env,
                server=national,
                worker_group=worker.popen.pid,
                year=subjects.year,
                users=args.load_users,
                ramp=args.load_ramp,
                hold=args.load_hold,
            )
            results["load"]["load_average"] = {"before": _rounded(before), "after": _rounded(os.getloadavg())}
            if steps:
                results["load_curve"] = load.curve(
                    env, server=national, year=subjects.year, steps=steps, hold=args.curve_hold, log=log
                )
            results["load_stage_seconds"] = round(time.perf_counter() - load_clock, 1)
            log(f"load stage: {results['load_stage_seconds']} s")
        if "backup" in stages:
            # Last: it adds evidence files to both data sets (while the servers keep serving).
            log(f"backup: both data sets with {args.evidence_kb} KB of evidence per reported form, then restores")
            results["backup"] = backup.run(
                database_url=env.database_url,
                databases={size: DATABASES[size] for size in ("national", "large")},
                evidence_kb=args.evidence_kb,
                workdir=env.workdir,
            )
        finished = True
    finally:
        for process in reversed(processes):
            process.stop()
        close_connections()
        forget_redis_keys(env)
        if not args.keep:
            for name in DATABASES.values():
                drop_database(env.database_url, name)
        if finished and not args.keep:
            shutil.rmtree(env.workdir, ignore_errors=True)

    results["seconds"] = round(time.perf_counter() - clock, 1)
    results["targets"] = report.targets(results)
    report.print_targets(results["targets"])
    json_path, md_path = report.write(results)
    log(f"results: {json_path.relative_to(ROOT)} and {md_path.relative_to(ROOT)}")
    if args.publish:
        log(f"published in {report.publish(results).relative_to(ROOT)}")


if __name__ == "__main__":
    main()

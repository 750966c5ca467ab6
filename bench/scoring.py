"""Benchmark of the scoring worker, against the PostgreSQL and Redis of the environment.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/gigacity CELERY_BROKER_URL=redis://127.0.0.1:6379/0 \\
        .venv/bin/python -m bench.scoring [--submissions 200] [--empty-tasks 300] [--concurrency 2]

What it measures, with one real `celery -A gigacity worker` process:
- the round trip of an empty Celery task (Celery's built-in `celery.accumulate`, result through
  Redis): one at a time (median, p95) and a burst (tasks per second);
- the time from a city's submit (once the request has committed and published) until its score is
  committed and visible, one submission at a time (median, p95), and how long the submit call took;
  and that time in parts: the task's delivery (until the worker claimed it) and the scoring itself;
- scoring throughput: the ministry changes a threshold and the whole round is scored again in the
  background (submissions per second);
and the ratios of the two, which say what scoring costs on top of Celery itself on this machine.

It never touches the data of DATABASE_URL: it creates the throwaway database
`gigacity_bench_scoring` on the same server (dropped at the end), and uses a queue of its own on the
broker. Django is configured for that database, so `run()` wants a process of its own (as
`python -m bench.scoring` gives it) in which Django is not set up yet.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from .stack import create_database, drop_database, with_database

ROOT = Path(__file__).resolve().parents[1]
BENCH_DATABASE = "gigacity_bench_scoring"
PRODUCTION_LIKE = {
    # Production settings for both processes (DEBUG off: no query log, no console e-mail).
    "DJANGO_DEBUG": "0",
    "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
    "DJANGO_ALLOWED_HOSTS": "localhost",
    "DJANGO_EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
    "DJANGO_LOG_LEVEL": "WARNING",
}


def run(*, submissions: int = 200, empty_tasks: int = 300, concurrency: int = 2, keep_database: bool = False) -> dict:
    """Run the benchmark and return its figures (times in milliseconds, rates per second)."""
    database_url, broker_url = _environment()
    bench_url = with_database(database_url, BENCH_DATABASE)
    queue = f"gigacity-bench-{uuid.uuid4().hex[:12]}"
    _recreate_database(database_url)
    worker = None
    try:
        _setup_django(bench_url, broker_url)
        started = time.perf_counter()
        world = _seed(submissions)
        seed_seconds = time.perf_counter() - started

        from gigacity.celery import app

        app.conf.update(task_routes={"*": {"queue": queue}})
        worker = _start_worker(bench_url, broker_url, queue, concurrency)
        empty = app.tasks["celery.accumulate"]
        _wait_for_worker(empty, worker)

        empty_round_trips = [_empty_round_trip(empty) for _ in range(empty_tasks)]
        empty_rate = _empty_burst(empty, empty_tasks)
        submit_calls, latencies, deliveries, work = _submit_one_at_a_time(world)
        scoring_rate = _rescore_round(world)
    finally:
        if worker is not None:
            _stop(worker)
        _cleanup(broker_url, queue)
        if not keep_database:
            _drop_database(database_url)

    result = {
        "submissions": submissions,
        "empty_tasks": empty_tasks,
        "concurrency": concurrency,
        "seed_seconds": round(seed_seconds, 1),
        "empty_round_trip_ms": _summary(empty_round_trips),
        "empty_tasks_per_second": round(empty_rate, 1),
        "submit_call_ms": _summary(submit_calls),
        "submit_to_scored_ms": _summary(latencies),
        "delivery_ms": _summary(deliveries),
        "scoring_work_ms": _summary(work),
        "scored_per_second": round(scoring_rate, 1),
    }
    result["ratios"] = {
        "submit_to_scored_vs_empty_round_trip_median": _ratio(
            result["submit_to_scored_ms"]["median"], result["empty_round_trip_ms"]["median"]
        ),
        "submit_to_scored_vs_empty_round_trip_p95": _ratio(
            result["submit_to_scored_ms"]["p95"], result["empty_round_trip_ms"]["p95"]
        ),
        "empty_tasks_vs_scored_per_second": _ratio(empty_rate, scoring_rate),
        "delivery_vs_empty_round_trip_p95": _ratio(result["delivery_ms"]["p95"], result["empty_round_trip_ms"]["p95"]),
    }
    return result


# ------------------------------------------------------------------------------------------------
# Environment, database, Django
# ------------------------------------------------------------------------------------------------
def _environment() -> tuple[str, str]:
    database_url = os.environ.get("DATABASE_URL", "")
    broker_url = os.environ.get("CELERY_BROKER_URL", "")
    if not database_url.startswith(("postgres://", "postgresql://")):
        sys.exit("bench.scoring needs PostgreSQL: set DATABASE_URL=postgres://user@host:5432/any-database")
    if not broker_url.startswith("redis://"):
        sys.exit("bench.scoring needs Redis: set CELERY_BROKER_URL=redis://host:6379/0")
    return database_url, broker_url


def _recreate_database(database_url: str) -> None:
    create_database(database_url, BENCH_DATABASE)


def _drop_database(database_url: str) -> None:
    drop_database(database_url, BENCH_DATABASE)


def _setup_django(bench_url: str, broker_url: str) -> None:
    import django
    from django.apps import apps

    if apps.ready:
        from django.db import connection

        if connection.settings_dict["NAME"] != BENCH_DATABASE:
            raise RuntimeError("bench.scoring.run() needs a process where Django is not set up yet")
        return
    os.environ.update({**PRODUCTION_LIKE, "DATABASE_URL": bench_url, "CELERY_BROKER_URL": broker_url})
    # The empty task's round trip needs a result; scoring itself stores none.
    os.environ["CELERY_RESULT_BACKEND"] = broker_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gigacity.settings")
    django.setup()


def _seed(count: int) -> dict:
    """An open round and `count` cities with complete drafts, made through the services; users are
    created directly, without password hashing, which would otherwise take most of the time."""
    from django.core.management import call_command
    from django.utils import timezone

    from gigacity.models import City, Role, User
    from indicators.reference import open_round_now, reference_load
    from reviews.demo import demo_data
    from submissions.services import submission_get_or_create, submission_update

    call_command("migrate", verbosity=0, interactive=False)
    reference_load()
    round_ = open_round_now(timezone.localdate())
    cities = list(City.objects.select_related("province").order_by("code")[:count])
    if len(cities) < count:
        sys.exit(f"only {len(cities)} cities exist; ask for at most that many submissions")
    bureaus = {}
    for city in cities:
        if city.province_id not in bureaus:
            bureaus[city.province_id] = User.objects.create_user(
                f"bench-bureau-{city.province_id}", role=Role.BUREAU, province=city.province
            )
    ministry = User.objects.create_user("bench-ministry", role=Role.MINISTRY)
    drafts = []
    for city in cities:
        official = User.objects.create_user(f"bench-city-{city.code}", role=Role.CITY, city=city)
        draft = submission_get_or_create(city=city, round_=round_, actor=official)
        data, cases = demo_data(city, random.Random(city.code))
        draft = submission_update(
            submission_id=draft.pk, actor=official, data=data, cases=cases, expected_version=draft.version
        )
        drafts.append((draft.pk, official))
    return {"round": round_, "drafts": drafts, "ministry": ministry}


# ------------------------------------------------------------------------------------------------
# The worker
# ------------------------------------------------------------------------------------------------
def _start_worker(bench_url: str, broker_url: str, queue: str, concurrency: int) -> subprocess.Popen:
    log = tempfile.NamedTemporaryFile(prefix="bench-scoring-worker-", suffix=".log", delete=False)  # noqa: SIM115
    argv = [sys.executable, "-m", "celery", "-A", "gigacity", "worker", "--queues", queue]
    argv += ["--pool", "prefork", "--concurrency", str(concurrency), "--loglevel", "WARNING"]
    argv += ["--hostname", f"{queue}@%h", "--without-gossip", "--without-mingle"]
    env = {**os.environ, **PRODUCTION_LIKE, "DATABASE_URL": bench_url, "CELERY_BROKER_URL": broker_url}
    env["CELERY_RESULT_BACKEND"] = broker_url
    process = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    process.log_path = log.name
    log.close()
    return process


def _wait_for_worker(empty, worker: subprocess.Popen, timeout: float = 120) -> None:
    from celery.exceptions import TimeoutError as CeleryTimeout

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if worker.poll() is not None:
            sys.exit(f"the worker exited; see {worker.log_path}")
        result = empty.apply_async(ignore_result=False)
        try:
            result.get(timeout=5)
        except CeleryTimeout:
            continue
        finally:
            result.forget()
        for _ in range(20):  # warm up: connections, imported code, the pool children
            _empty_round_trip(empty)
        return
    sys.exit(f"the worker did not answer within {timeout:.0f} s; see {worker.log_path}")


def _stop(worker: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(worker.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        worker.wait(timeout=60)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(worker.pid, signal.SIGKILL)
    worker.wait(timeout=60)
    from django.db import connections

    connections.close_all()


def _cleanup(broker_url: str, queue: str) -> None:
    import redis

    client = redis.Redis.from_url(broker_url)
    for key in client.scan_iter(match=f"*{queue}*"):
        client.delete(key)
    client.close()


# ------------------------------------------------------------------------------------------------
# Measurements
# ------------------------------------------------------------------------------------------------
def _empty_round_trip(empty) -> float:
    started = time.perf_counter()
    result = empty.apply_async(ignore_result=False)
    result.get(timeout=60)
    elapsed = time.perf_counter() - started
    result.forget()
    return elapsed * 1000


def _empty_burst(empty, count: int) -> float:
    started = time.perf_counter()
    results = [empty.apply_async(ignore_result=False) for _ in range(count)]
    for result in results:
        result.get(timeout=120)
    elapsed = time.perf_counter() - started
    for result in results:
        result.forget()
    return count / elapsed


def _wait_scored(submission_id: int, timeout: float = 120) -> None:
    from submissions.models import ScoringState, Submission

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = Submission.objects.filter(pk=submission_id).values_list("scoring_state", flat=True).get()
        if state == ScoringState.SCORED:
            return
        if state == ScoringState.FAILED:
            sys.exit(f"submission {submission_id} could not be scored")
        time.sleep(0.002)
    sys.exit(f"submission {submission_id} was not scored within {timeout:.0f} s")


def _submit_one_at_a_time(world: dict) -> tuple[list[float], list[float], list[float], list[float]]:
    """Each city submits once the previous one is scored: the time the submit call takes, and the
    time from its return (committed, published) until the score is committed; and that time in two
    parts, from the clocks the rows keep: delivery (until the worker claimed the task) and the
    scoring itself (from the claim until the score row was made; committing it and noticing that
    here make up the rest)."""
    from submissions.models import Score, Submission
    from submissions.services import submission_submit

    calls, latencies, deliveries, work = [], [], [], []
    for submission_id, official in world["drafts"]:
        started = time.perf_counter()
        submission_submit(submission_id=submission_id, actor=official)
        returned, returned_at = time.perf_counter(), time.time()
        _wait_scored(submission_id)
        calls.append((returned - started) * 1000)
        latencies.append((time.perf_counter() - returned) * 1000)
        claimed = Submission.objects.values_list("scoring_touched_at", flat=True).get(pk=submission_id)
        scored = Score.objects.filter(submission_id=submission_id).latest("created_at").created_at
        deliveries.append((claimed.timestamp() - returned_at) * 1000)
        work.append((scored - claimed).total_seconds() * 1000)
    return calls, latencies, deliveries, work


def _rescore_round(world: dict, timeout: float = 600) -> float:
    """The ministry changes a threshold; every submission of the round is scored again."""
    from reviews.services import thresholds_update
    from submissions.models import Score

    round_ = world["round"]
    count = len(world["drafts"])
    started = time.perf_counter()
    thresholds_update(round_=round_, values={"pon_10g_share": "31"}, reason="benchmark", actor=world["ministry"])
    version = round_.threshold_version + 1
    deadline = time.monotonic() + timeout
    while Score.objects.filter(submission__round=round_, threshold_version=version).count() < count:
        if time.monotonic() > deadline:
            sys.exit(f"the round was not scored again within {timeout:.0f} s")
        time.sleep(0.01)
    return count / (time.perf_counter() - started)


def _summary(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    p95 = statistics.quantiles(ordered, n=100, method="inclusive")[94] if len(ordered) > 1 else ordered[0]
    return {"median": round(statistics.median(ordered), 2), "p95": round(p95, 2), "n": len(ordered)}


def _ratio(a: float, b: float) -> float:
    return round(a / b, 2) if b else float("nan")


# ------------------------------------------------------------------------------------------------
# Command line
# ------------------------------------------------------------------------------------------------
def report(result: dict) -> str:
    empty, latency, calls = result["empty_round_trip_ms"], result["submit_to_scored_ms"], result["submit_call_ms"]
    ratios = result["ratios"]
    return "\n".join(
        [
            f"scoring benchmark: {result['submissions']} submissions, {result['empty_tasks']} empty tasks, "
            f"worker concurrency {result['concurrency']} (seeded in {result['seed_seconds']} s)",
            f"  empty Celery task round trip   median {empty['median']:8.2f} ms   p95 {empty['p95']:8.2f} ms",
            f"  submit to scored               median {latency['median']:8.2f} ms   p95 {latency['p95']:8.2f} ms"
            f"   (ratio {ratios['submit_to_scored_vs_empty_round_trip_median']} / "
            f"{ratios['submit_to_scored_vs_empty_round_trip_p95']})",
            f"    of which delivery            median {result['delivery_ms']['median']:8.2f} ms   "
            f"p95 {result['delivery_ms']['p95']:8.2f} ms   (submit returned → worker claimed the task)",
            f"    and the scoring itself       median {result['scoring_work_ms']['median']:8.2f} ms   "
            f"p95 {result['scoring_work_ms']['p95']:8.2f} ms   (claimed → score row made)",
            f"  the submit call itself         median {calls['median']:8.2f} ms   p95 {calls['p95']:8.2f} ms",
            f"  empty tasks, burst             {result['empty_tasks_per_second']:8.1f} /s",
            f"  scoring, whole round again     {result['scored_per_second']:8.1f} submissions/s"
            f"   (empty tasks are {ratios['empty_tasks_vs_scored_per_second']}× as many per second)",
        ]
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.scoring", description=__doc__.split("\n\n")[0])
    parser.add_argument("--submissions", type=int, default=200)
    parser.add_argument("--empty-tasks", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--keep-database", action="store_true", help=f"leave {BENCH_DATABASE} for inspection")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    result = run(
        submissions=args.submissions,
        empty_tasks=args.empty_tasks,
        concurrency=args.concurrency,
        keep_database=args.keep_database,
    )
    print(json.dumps(result, indent=2) if args.json else report(result))


if __name__ == "__main__":
    main()

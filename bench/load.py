"""The load: deadline day on the production stack, with locust, headless, against the national
server with the worker running; then the wait until the worker has scored everything submitted
during it (reliability.md P-19: a load test that stops at the last HTTP answer says nothing about the
queue it left behind).

Two parts:

- **the deadline day**: 400 users (339 city officials, 31 bureaus, 30 ministry users, as the country
  has them) started evenly over a minute and held for five, the server's CPU sampled every second
  (gunicorn, the worker and the PostgreSQL backends of the run's database, from /proc), and after
  it the worst page profiled with pyinstrument, one request at a time in this process against the
  same database;
- **the load curve**: steps of more and more users (50, 100, 150, 200, 300, 400 by default), each
  started at the deadline day's pace (its users in a minute: 6.7 a second, at least 10 s) and held
  for 45 s, with the open round put back in its deadline-day state and the queue drained between two
  steps: p95 and errors per step, and the number of users at which the p95 first crosses 300 ms.

Before either, `prepare` puts the open round in its deadline-day state: every unit has a form it can
work on (a draft or a returned form), since the seed's open round has forms in every state and
units without one.
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from .stack import ROOT, Environment, Server
from .web import bureau_username, city_username, make_session, summary

# The country: 339 evaluated units, 31 provincial bureaus, and the ministry's staff on the deadline day.
MIX = {"city": 339, "bureau": 31, "ministry": 30}
USERS = sum(MIX.values())
RAMP_SECONDS = 60
HOLD_SECONDS = 300
CURVE_STEPS = (50, 100, 150, 200, 300, 400)
# Each step of the curve starts its users at the deadline day's pace (400 in a minute: 6.7 a second),
# so that a step of 400 users is the deadline day's load, held shorter; no step in less than this.
CURVE_MIN_RAMP_SECONDS = 10
CURVE_HOLD_SECONDS = 45
MAX_P95_MS = 300.0
MAX_DRAIN_SECONDS = 60.0
PROFILE_REQUESTS = 5


def mix(users: int) -> dict[str, int]:
    """The country's mix of roles, scaled to `users` (at least one of each)."""
    bureau = max(1, round(users * MIX["bureau"] / USERS))
    ministry = max(1, round(users * MIX["ministry"] / USERS))
    return {"city": max(1, users - bureau - ministry), "bureau": bureau, "ministry": ministry}


# ------------------------------------------------------------------------------------------------
# The data
# ------------------------------------------------------------------------------------------------
def prepare(year: int) -> dict[str, int]:
    """The open round as the days before its deadline: every unit with a form it can work on. A unit
    without a form gets a draft (a copy of the round's largest draft, with its cases, as
    `bench.excel.prepare_province` does); a form already submitted or decided is returned to its
    city (it keeps its history and scores: a bureau sent it back), and the round's designations go
    with the decisions. Run again between two steps of the curve, it undoes what the last step
    submitted."""
    from django.db import transaction

    from gigacity.models import City
    from indicators.models import Designation, Round
    from submissions.models import EDITABLE_STATES, Case, Status, Submission

    round_ = Round.objects.get(year=year)
    with transaction.atomic():
        forms = Submission.objects.filter(round=round_)
        returned = forms.exclude(status__in=EDITABLE_STATES).update(status=Status.RETURNED)
        Designation.objects.filter(round=round_, source=Designation.Source.APPROVED).delete()
        model = forms.filter(status=Status.DRAFT).order_by("-cases_count", "pk").first()
        cases = list(model.cases.order_by("position"))
        titles = [case.title.removeprefix(model.city.name) for case in cases]
        created = 0
        for city in City.objects.exclude(submissions__round=round_).order_by("code"):
            form = Submission.objects.get(pk=model.pk)
            form.pk, form.id, form.city, form.version = None, None, city, 1
            form.contact_email = f"gigabit{city.code}@example.gov.cn"
            form.save()
            for case, title in zip(cases, titles, strict=True):
                case.pk, case.id, case.submission, case.title = None, None, form, f"{city.name}{title}"
            Case.objects.bulk_create(cases)
            created += 1
    return {"returned": returned, "created": created, "forms": forms.count()}


def plan(*, year: int, workdir: Path, users: int) -> dict[str, Any]:
    """Who the simulated users are (this process connected to the national database): every unit's
    official with its form of the open round, taken province by province in turn (so that a smaller
    run still spreads over the country), each province's bureau (the largest provinces first) with
    its forms, and the ministry, one session per person, with last round's recommended and approved
    forms to read until this round has any."""
    from django.db.models import Count

    from gigacity.models import Province, User
    from indicators.models import Round
    from submissions.excel.layout import COL_VALUE, DATA_FIELD_ROWS, SHEET_DATA
    from submissions.models import Status, Submission

    round_ = Round.objects.get(year=year)
    forms = Submission.objects.filter(round=round_).select_related("city")
    by_province: dict[str, list[Submission]] = {}
    for form in forms.order_by("city__province_id", "city_id"):
        by_province.setdefault(form.city.province_id, []).append(form)
    # One city of each province in turn: the first N cities of the plan are spread over the country.
    queues = list(by_province.values())
    cities = [queue[i] for i in range(max(map(len, queues), default=0)) for queue in queues if i < len(queue)]
    accounts = {u.username: u for u in User.objects.filter(username__startswith="bench-")}
    provinces = list(Province.objects.annotate(units=Count("cities")).order_by("-units", "code"))
    previous = Submission.objects.filter(
        round__year__lt=year, status__in=(Status.RECOMMENDED, Status.APPROVED)
    ).order_by("-round__year", "pk")
    reviews = list(previous.values_list("pk", flat=True)[:100])
    ministry = accounts["bench-miit"]
    wanted = mix(users)
    return {
        "year": year,
        "mix": wanted,
        "server_times": str(workdir / "load-server-times.json"),
        "workbook_cell": {"sheet": SHEET_DATA, "row": DATA_FIELD_ROWS["bs5g_count"], "column": COL_VALUE},
        "city": [
            {
                "session": make_session(accounts[city_username(form.city_id)]),
                "draft": form.pk,
                "province": form.city.province_id,
            }
            for form in cities[: wanted["city"]]
        ],
        "bureau": [
            {
                "session": make_session(accounts[bureau_username(p.code)]),
                "province": p.code,
                "forms": [form.pk for form in by_province.get(p.code, [])],
            }
            for p in provinces[: wanted["bureau"]]
        ],
        "ministry": [
            {"session": make_session(ministry), "reviews": reviews, "provinces": [p.code for p in provinces]}
            for _ in range(wanted["ministry"])
        ],
    }


# ------------------------------------------------------------------------------------------------
# The server's CPU
# ------------------------------------------------------------------------------------------------
_TICKS = os.sysconf("SC_CLK_TCK")


def _process_table() -> dict[int, tuple[int, int]]:
    """pid → (process group, CPU ticks used so far), for every process of the machine."""
    table = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            text = Path(entry.path, "stat").read_text()
        except OSError:
            continue
        fields = text[text.rindex(")") + 2 :].split()
        # After the name: state, ppid, pgrp, ..., utime (14th field of the line), stime (15th).
        table[int(entry.name)] = (int(fields[2]), int(fields[11]) + int(fields[12]))
    return table


def _machine_ticks() -> tuple[int, int]:
    """(busy, total) CPU ticks of the whole machine (every core) so far."""
    values = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


class CpuSampler:
    """Every second, the CPU used since the last sample by the server's processes: gunicorn (master
    and workers), the Celery worker, and the PostgreSQL backends connected to the run's database,
    in cores (1.0 = one core busy); locust's beside them (it shares the machine), and the whole
    machine's. A thread of this process; /proc only."""

    def __init__(self, *, groups: dict[str, int], database_url: str, database: str, interval: float = 1.0):
        self.groups = groups  # name → process group id (the gunicorn and worker processes' own)
        self.database_url, self.database, self.interval = database_url, database, interval
        self.samples: list[dict[str, float]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="cpu-sampler", daemon=True)

    def __enter__(self) -> CpuSampler:
        self._thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _postgres_pids(self, cursor) -> set[int]:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()", [self.database]
        )
        return {row[0] for row in cursor.fetchall()}

    def _run(self) -> None:
        import psycopg2

        from .stack import with_database

        connection = psycopg2.connect(with_database(self.database_url, "postgres"))
        connection.autocommit = True
        with contextlib.closing(connection), connection.cursor() as cursor:
            before, machine_before, clock = _process_table(), _machine_ticks(), time.monotonic()
            while not self._stop.wait(self.interval):
                postgres = self._postgres_pids(cursor)
                now, machine_now, tick = _process_table(), _machine_ticks(), time.monotonic()
                seconds = (tick - clock) * _TICKS
                sample = {"t": round(tick, 1)}
                for name, group in {**self.groups, "postgres": None}.items():
                    used = 0
                    for pid, (pgrp, ticks) in now.items():
                        if (pgrp == group) if group is not None else (pid in postgres):
                            used += ticks - before.get(pid, (pgrp, ticks))[1]
                    sample[name] = round(used / seconds, 3)
                busy = machine_now[0] - machine_before[0]
                sample["machine"] = round(busy / seconds, 3)
                self.samples.append(sample)
                before, machine_before, clock = now, machine_now, tick

    def summary(self, *, server: tuple[str, ...], since: float, until: float) -> dict[str, Any]:
        """Mean and p95 of each group, in cores, over the samples between `since` and `until`
        (monotonic time)."""
        samples = [s for s in self.samples if since <= s["t"] <= until]
        if not samples:
            return {}
        for s in samples:
            s["server"] = round(sum(s[name] for name in server), 3)
        names = ["server", *server, *(k for k in samples[0] if k not in ("t", "server", *server))]
        out: dict[str, Any] = {"samples": len(samples), "cores": os.cpu_count()}
        for name in names:
            values = sorted(s[name] for s in samples)
            out[name] = {
                "mean": round(sum(values) / len(values), 2),
                "p95": round(values[min(len(values) - 1, int(0.95 * len(values)))], 2),
                "max": round(values[-1], 2),
            }
        return out


# ------------------------------------------------------------------------------------------------
# One run of locust
# ------------------------------------------------------------------------------------------------
def _locust(
    env: Environment, *, url: str, the_plan: dict[str, Any], users: int, ramp: int, hold: int, name: str
) -> dict[str, Any]:
    """locust for `ramp` + `hold` seconds, users started evenly over the ramp; the statistics are
    the hold's (reset when the last user has started), the failures the whole run's."""
    plan_file = env.workdir / f"{name}-plan.json"
    the_plan = {**the_plan, "server_times": str(env.workdir / f"{name}-server-times.json")}
    plan_file.write_text(json.dumps(the_plan), encoding="utf-8")
    prefix = env.workdir / name
    rate = max(1.0, users / max(ramp, 1))
    argv = [sys.executable, "-m", "locust", "-f", str(ROOT / "bench" / "locustfile.py"), "--headless"]
    argv += ["--users", str(users), "--spawn-rate", f"{rate:.2f}", "--run-time", f"{ramp + hold}s", "--host", url]
    argv += ["--csv", str(prefix), "--only-summary", "--loglevel", "WARNING", "--stop-timeout", "30"]
    argv += ["--reset-stats"]
    log = env.workdir / f"{name}.log"
    with log.open("wb") as out:
        locust = subprocess.Popen(
            argv, cwd=ROOT, env={**os.environ, "BENCH_LOAD_PLAN": str(plan_file)}, stdout=out, stderr=subprocess.STDOUT
        )
        try:
            code = locust.wait(timeout=ramp + hold + 180)
        except subprocess.TimeoutExpired:
            locust.kill()
            code = locust.wait()
    stats = _stats(Path(f"{prefix}_stats.csv"))
    # A page asked for only during the ramp has no figures of the hold.
    for page_name in [k for k, row in stats.get("pages", {}).items() if not row["requests"]]:
        del stats["pages"][page_name]
    if not stats:
        raise SystemExit(f"locust wrote no statistics (exit {code}); see {log}")
    written = Path(the_plan["server_times"])
    server = json.loads(written.read_text(encoding="utf-8")) if written.exists() else {}
    for page_name, row in stats["pages"].items():
        row["server_ms"] = server.get("server_ms", {}).get(page_name)
    stats["failures"] = _failures(Path(f"{prefix}_failures.csv"))
    stats["failures_from_start"] = sum(server.get("failures_from_start", {}).values())
    stats["examples"] = server.get("examples", {})
    stats["locust_pid"] = locust.pid
    return stats


def worst_page(pages: dict[str, Any]) -> tuple[str | None, float | None]:
    """The page with the highest client p95 (static files aside)."""
    rows = [(row["p95_ms"], name) for name, row in pages.items() if name != "static file" and row["p95_ms"]]
    if not rows:
        return None, None
    p95, name = max(rows)
    return name, p95


# ------------------------------------------------------------------------------------------------
# The deadline day
# ------------------------------------------------------------------------------------------------
def run(
    env: Environment,
    *,
    server: Server,
    worker_group: int,
    year: int,
    users: int = USERS,
    ramp: int = RAMP_SECONDS,
    hold: int = HOLD_SECONDS,
) -> dict[str, Any]:
    """The deadline day: `users` users (the country's mix) started over `ramp` seconds and held for
    `hold`; then the wait for the queue, and the worst page profiled. Returns per page requests,
    failures, client p50/p95 (locust's) and server p50/p95 (the app's own) of the hold, the server's
    CPU, the scoring that followed and the profile."""
    from django.db import connection
    from django.utils import timezone

    prepared = prepare(year)
    the_plan = plan(year=year, workdir=env.workdir, users=users)
    connection.close()  # this process sits idle through the load
    groups = {"gunicorn": server.process.popen.pid, "worker": worker_group}
    started = timezone.now()
    with CpuSampler(groups=groups, database_url=env.database_url, database=server.database) as sampler:
        hold_from = time.monotonic() + ramp
        stats = _locust(env, url=server.url, the_plan=the_plan, users=users, ramp=ramp, hold=hold, name="load")
        scoring = drain(started)
    cpu = sampler.summary(server=("gunicorn", "worker", "postgres"), since=hold_from, until=hold_from + hold)
    worst, worst_p95 = worst_page(stats["pages"])
    # A form's POST is not replayed in process (it changes the data): then the worst page one opens.
    examples = stats["examples"]
    profiled, _p95 = worst_page({k: v for k, v in stats["pages"].items() if k in examples})
    return {
        "users": users,
        "mix": the_plan["mix"],
        "ramp_seconds": ramp,
        "seconds": hold,
        "prepared": prepared,
        **{k: v for k, v in stats.items() if k not in ("examples", "locust_pid")},
        "cpu": cpu,
        "scoring": scoring,
        "worst_page": {"name": worst, "p95_ms": worst_p95},
        "profile": profile(examples.get(profiled or ""), name=profiled),
    }


def curve(
    env: Environment,
    *,
    server: Server,
    year: int,
    steps: tuple[int, ...] = CURVE_STEPS,
    arrivals_per_second: float = USERS / RAMP_SECONDS,
    hold: int = CURVE_HOLD_SECONDS,
    log=print,
) -> dict[str, Any]:
    """p95 and errors at each number of users, started `arrivals_per_second` (the deadline day's
    pace: a step of 400 users is its load) and held `hold` seconds; the first step whose p95 is over
    300 ms, for all requests together and for the worst page. (Started all within 10 s, 400 users
    are the whole country logging in at once, which no deadline day sees: their first pages and
    static files queue behind each other, and the p95 measures that stampede, not how many people
    the server holds.)"""
    from django.db import connection
    from django.utils import timezone

    rows = []
    for users in steps:
        ramp = max(CURVE_MIN_RAMP_SECONDS, round(users / arrivals_per_second))
        prepare(year)
        the_plan = plan(year=year, workdir=env.workdir, users=users)
        connection.close()
        started = timezone.now()
        log(f"load curve: {users} users ({ramp} s ramp, {hold} s held)")
        stats = _locust(env, url=server.url, the_plan=the_plan, users=users, ramp=ramp, hold=hold, name=f"step-{users}")
        worst, worst_p95 = worst_page(stats["pages"])
        scoring = drain(started)
        total = stats["total"]
        rows.append(
            {
                "users": users,
                "ramp_seconds": ramp,
                "requests": total["requests"],
                "rps": total["rps"],
                "errors": max(stats["failures_from_start"], total["failures"]),
                "p50_ms": total["median_ms"],
                "p95_ms": total["p95_ms"],
                "worst_page": worst,
                "worst_page_p95_ms": worst_p95,
                "drained_after_s": scoring["drained_after_s"],
                "failures": stats["failures"][:5],
            }
        )
    first = next((row["users"] for row in rows if (row["p95_ms"] or 0) > MAX_P95_MS), None)
    first_page = next((row["users"] for row in rows if (row["worst_page_p95_ms"] or 0) > MAX_P95_MS), None)
    return {
        "arrivals_per_second": arrivals_per_second,
        "seconds": hold,
        "limit_ms": MAX_P95_MS,
        "steps": rows,
        "crosses_at_users": first,
        "worst_page_crosses_at_users": first_page,
    }


# ------------------------------------------------------------------------------------------------
# Where the time goes
# ------------------------------------------------------------------------------------------------
def profile(example: dict[str, str] | None, *, name: str | None, requests: int = PROFILE_REQUESTS) -> dict[str, Any]:
    """The page, asked for `requests` times in this process by Django's test client with the same
    session, against the same database and settings as the servers, under pyinstrument (two
    requests first, unprofiled, to warm the caches as a running server has them). Returns the
    profile's top frames as text."""
    if not example:
        return {"page": name, "text": "", "note": "no GET of this page was recorded; not profiled"}
    from django.db import connection
    from django.test import Client
    from pyinstrument import Profiler

    client = Client(HTTP_HOST="127.0.0.1")
    client.cookies["sessionid"] = example["session"]
    for _ in range(2):
        client.get(example["path"])
    profiler = Profiler(interval=0.0005)
    durations = []
    profiler.start()
    for _ in range(requests):
        started = time.perf_counter()
        response = client.get(example["path"])
        durations.append((time.perf_counter() - started) * 1000)
    profiler.stop()
    connection.close()
    text = profiler.output_text(unicode=True, color=False, show_all=False)
    return {
        "page": name,
        "path": example["path"],
        "status": response.status_code,
        "requests": requests,
        "ms": summary(durations),
        "text": top_frames(text),
    }


_FRAME = re.compile(r"([\d.]+) (\S+)\s+(\S+):\d+$")
# The frames above the view: the test client, Django's handler, the middleware (the same on every page).
_ABOVE_THE_VIEW = ("django/", "whitenoise/", "axes/", "bench/", "gigacity/middleware", "gigacity/audit/")


def top_frames(text: str, lines: int = 45) -> str:
    """pyinstrument's tree from the view down (the middleware above it is every page's), with the
    profile's duration first."""
    rows = [row for row in text.splitlines() if row.strip()]
    head = next((row[row.index("Duration:") :].strip() for row in rows if "Duration:" in row), "")
    for index, row in enumerate(rows):
        frame = _FRAME.search(row)
        if frame and not frame[3].startswith(_ABOVE_THE_VIEW) and not frame[2].endswith("__call__"):
            indent = frame.start()
            body = [r[indent:] if len(r) > indent else r.strip() for r in rows[index : index + lines]]
            return "\n".join([head, *body])
    return "\n".join([head, *rows[:lines]])


# ------------------------------------------------------------------------------------------------
# locust's files and the queue
# ------------------------------------------------------------------------------------------------
def _stats(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    pages: dict[str, Any] = {}
    total: dict[str, Any] = {}
    with path.open(encoding="utf-8") as rows:
        for row in csv.DictReader(rows):
            figures = {
                "requests": int(row["Request Count"]),
                "failures": int(row["Failure Count"]),
                "rps": round(float(row["Requests/s"]), 2),
                "median_ms": _number(row["50%"]),
                "p95_ms": _number(row["95%"]),
                "max_ms": _number(row["Max Response Time"]),
            }
            if row["Name"] == "Aggregated":
                total = figures
            else:
                pages[row["Name"]] = {"method": row["Type"], **figures}
    return {"total": total, "pages": pages}


def _failures(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    with path.open(encoding="utf-8") as rows:
        return [
            {"name": row["Name"], "error": row["Error"], "occurrences": int(row["Occurrences"])}
            for row in csv.DictReader(rows)
        ]


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def drain(since, timeout: float = 300) -> dict[str, Any]:
    """Until nothing is pending any more: how long that took after the load ended, and for each form
    submitted during the load, the time from its submit to its committed score."""
    from django.db import connection

    from submissions.models import Score, ScoringState, Submission

    connection.close()  # a fresh connection: this process sat idle through the load
    ended = time.monotonic()
    deadline = ended + timeout
    pending = Submission.objects.filter(scoring_state=ScoringState.PENDING)
    while pending.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    left = pending.count()
    drained_after = time.monotonic() - ended
    submitted = Submission.objects.filter(submitted_at__gte=since)
    latencies = []
    for form in submitted:
        # The first score after its (last) submit: a recommendation asks for another one, minutes later.
        score = Score.objects.filter(submission=form, created_at__gte=form.submitted_at).order_by("created_at").first()
        if score is not None:
            latencies.append((score.created_at - form.submitted_at).total_seconds() * 1000)
    failed = Submission.objects.filter(scoring_state=ScoringState.FAILED, submitted_at__gte=since).count()
    return {
        "submitted": submitted.count(),
        "scored": len(latencies),
        "failed": failed,
        "still_pending": left,
        "drained_after_s": round(drained_after, 2),
        "submit_to_scored_ms": summary(latencies),
    }

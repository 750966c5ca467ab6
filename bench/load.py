"""The load: locust, headless, against the national server with the worker running, then the wait
until the worker has scored everything submitted during it (reliability.md P-19: a load test that
stops at the last HTTP answer says nothing about the queue it left behind)."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from .stack import ROOT, Environment
from .web import bureau_username, city_username, make_session, summary

USERS = {"city": 30, "bureau": 15, "ministry": 5}
SPAWN_RATE = 10  # users started per second, as reliability.md L-1 ramps


def plan(*, year: int, workdir: Path) -> dict[str, Any]:
    """Who the simulated users are (this process connected to the national database): 30 cities
    with a draft in the open round, spread over the provinces; the bureaus of the 15 largest
    provinces with their submitted forms; the ministry in 5 sessions with the recommended forms."""
    from django.db.models import Count

    from gigacity.models import Province, User
    from indicators.models import Round
    from submissions.models import Status, Submission

    round_ = Round.objects.get(year=year)
    forms = Submission.objects.filter(round=round_)
    drafts = list(forms.filter(status=Status.DRAFT).order_by("city__province_id", "city_id"))
    # Every other province first, so that the 30 cities are not all neighbours.
    drafts = (drafts[::2] + drafts[1::2])[: USERS["city"]]
    users = {u.username: u for u in User.objects.filter(username__startswith="bench-")}
    provinces = list(Province.objects.annotate(units=Count("cities")).order_by("-units", "code")[: USERS["bureau"]])
    recommended = list(forms.filter(status=Status.RECOMMENDED).values_list("pk", flat=True))
    ministry = users["bench-miit"]
    return {
        "year": year,
        "server_times": str(workdir / "load-server-times.json"),
        "city": [{"session": make_session(users[city_username(d.city_id)]), "draft": d.pk} for d in drafts],
        "bureau": [
            {
                "session": make_session(users[bureau_username(p.code)]),
                "province": p.code,
                "reviews": list(
                    forms.filter(city__province=p, status__in=(Status.SUBMITTED, Status.RECOMMENDED)).values_list(
                        "pk", flat=True
                    )
                ),
            }
            for p in provinces
        ],
        "ministry": [
            {
                "session": make_session(ministry),
                "reviews": recommended,
                "provinces": [p.code for p in provinces],
            }
            for _ in range(USERS["ministry"])
        ],
    }


def run(env: Environment, *, url: str, year: int, seconds: int, users: int = 50) -> dict[str, Any]:
    """Run the load and wait for the queue to drain; returns per page requests, failures, client
    p50/p95 (locust's), server p50/p95 (the app's own), and the scoring that followed."""
    from django.utils import timezone

    the_plan = plan(year=year, workdir=env.workdir)
    plan_file = env.workdir / "load-plan.json"
    plan_file.write_text(json.dumps(the_plan), encoding="utf-8")
    prefix = env.workdir / "load"
    argv = [sys.executable, "-m", "locust", "-f", str(ROOT / "bench" / "locustfile.py"), "--headless"]
    argv += ["--users", str(users), "--spawn-rate", str(SPAWN_RATE), "--run-time", f"{seconds}s", "--host", url]
    argv += ["--csv", str(prefix), "--only-summary", "--loglevel", "WARNING", "--stop-timeout", "10"]
    started = timezone.now()
    log = env.workdir / "locust.log"
    with log.open("wb") as out:
        finished = subprocess.run(
            argv,
            cwd=ROOT,
            env={**os.environ, "BENCH_LOAD_PLAN": str(plan_file)},
            stdout=out,
            stderr=subprocess.STDOUT,
            check=False,
            timeout=seconds + 180,
        )
    stats = _stats(Path(f"{prefix}_stats.csv"))
    if not stats:
        raise SystemExit(f"locust wrote no statistics (exit {finished.returncode}); see {log}")
    server = json.loads(Path(the_plan["server_times"]).read_text(encoding="utf-8"))
    for name, row in stats["pages"].items():
        row["server_ms"] = server.get(name)
    failures = _failures(Path(f"{prefix}_failures.csv"))
    return {
        "users": users,
        "mix": USERS,
        "seconds": seconds,
        "think_seconds": [1, 3],
        **stats,
        "failures": failures,
        "scoring": drain(started),
    }


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
        score = Score.objects.filter(submission=form).order_by("created_at").last()
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

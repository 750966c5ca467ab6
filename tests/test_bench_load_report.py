"""The load part of `python -m bench`'s report: what the integrator reads after a run (the verdicts
of the deadline day and the load curve) is right, whatever the figures (no server here)."""

from __future__ import annotations

from bench import load, report


def _results(*, failures_from_start=0, still_pending=0, steps=((50, 120.0, 150.0), (400, 250.0, 420.0))):
    page = {"method": "GET", "requests": 500, "failures": 0, "rps": 2.0, "median_ms": 40.0, "max_ms": 500.0}
    return {
        "started": "2026-12-07T02:00:00+00:00",
        "command": "python -m bench --only load",
        "seconds": 900,
        "machine": {"cpu": "x", "cores": 2, "ram_gb": 8, "os": "Linux", "python": "3.11", "django": "5.2"}
        | {"postgresql": "15", "redis": "7"},
        "stack": {"gunicorn_workers": 3, "gunicorn": {"worker_class": "gthread", "workers": 3, "threads": 4}}
        | {"worker_concurrency": 2},
        "load": {
            "users": 400,
            "mix": load.mix(400),
            "ramp_seconds": 60,
            "seconds": 300,
            "total": {"requests": 6000, "failures": 0, "rps": 20.0, "median_ms": 40.0, "p95_ms": 200.0},
            "failures_from_start": failures_from_start,
            "pages": {"survey form page": {**page, "p95_ms": 180.0}, "summary export": {**page, "p95_ms": 350.0}},
            "failures": [],
            "cpu": {},
            "scoring": {
                "submitted": 100,
                "scored": 100 - still_pending,
                "failed": 0,
                "still_pending": still_pending,
                "drained_after_s": 300.0 if still_pending else 2.5,
                "submit_to_scored_ms": {"median": 30.0, "p95": 80.0, "n": 100},
            },
            "worst_page": {"name": "summary export", "p95_ms": 350.0},
            "profile": {"page": "summary export", "text": ""},
        },
        "load_curve": {
            "arrivals_per_second": 400 / 60,
            "seconds": 45,
            "limit_ms": 300.0,
            "steps": [
                {"users": users, "ramp_seconds": max(10, round(users * 60 / 400)), "requests": 100, "rps": 2.0}
                | {"errors": 0, "p50_ms": 30.0, "p95_ms": p95}
                | {"worst_page": "survey form page", "worst_page_p95_ms": worst, "drained_after_s": 1.0}
                for users, p95, worst in steps
            ],
            "crosses_at_users": next((u for u, p95, _w in steps if p95 > 300), None),
            "worst_page_crosses_at_users": next((u for u, _p, worst in steps if worst > 300), None),
        },
    }


def verdicts(results):
    return {row["what"]: row["met"] for row in report.targets(results)}


def test_the_country_s_mix_of_roles_and_a_smaller_run_keeps_every_role():
    assert load.mix(400) == {"city": 339, "bureau": 31, "ministry": 30}
    small = load.mix(50)
    assert sum(small.values()) == 50 and min(small.values()) >= 1


def test_every_page_s_p95_errors_from_the_first_user_and_the_queue_each_have_a_verdict():
    rows = verdicts(_results())
    assert rows["p95 survey form page"] is True
    assert rows["p95 summary export"] is False
    assert rows["errors"] is True
    assert rows["queue drained after the load (s)"] is True
    # An error during the ramp counts, although locust's statistics of the hold do not show it.
    assert verdicts(_results(failures_from_start=2))["errors"] is False
    # Forms still waiting for their score when the wait gave up: the queue did not drain.
    assert verdicts(_results(still_pending=3))["queue drained after the load (s)"] is False


def test_the_load_curve_must_not_cross_300_ms_below_the_deadline_day_s_users():
    crossed = [row for row in report.targets(_results()) if row["group"] == "load curve"]
    assert [row["met"] for row in crossed] == [True, False]  # all requests never; the worst page at 400
    assert crossed[1]["figure"] == 400


def test_the_published_section_shows_the_curve_picture_and_lists_each_missed_target_for_its_cause():
    text = report.markdown(_results(), picture="load-curve.png")
    assert "![Load curve: users → p95 and errors](load-curve.png)" in text
    assert "3 gthread workers × 4 threads" in text
    missed = text.split("Missed load targets", 1)[1]
    assert "p95 summary export" in missed and "worst page" in missed
    assert "p95 survey form page" not in missed


def test_the_load_curve_says_at_what_pace_its_steps_started_their_users():
    text = "\n".join(report.load_markdown(_results(), picture=None))
    assert "users started at the deadline day's pace, 6.7 a second, 45 s held per step" in text
    assert "| 400 | 60 | 100 |" in text  # 400 users started in a minute, as on the deadline day

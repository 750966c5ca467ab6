"""The scoring worker as it runs in production: real `celery worker` processes against Redis and the
PostgreSQL test database, cities submitting through the services, and the faults the design must
survive (reliability.md Q-2 … Q-4, Q-9): a worker killed with kill -9 in the middle of a batch, Redis
stopped while cities submit, and submissions that crash their worker or raise.

Each test has its own queue on the Redis of CELERY_BROKER_URL (or its own Redis server where the
test stops Redis), and every process it starts is stopped by a finaliser even when the test fails.
"""

from __future__ import annotations

import json
import os
import threading
import uuid

import pytest
import redis
from django.db import connection
from django.db.models import Count

from gigacity.models import City, Role, User
from submissions.models import Score, ScoringState, Status, Submission
from submissions.services import submission_submit
from tests.factories import make_submission

from .processes import free_port, ping, publishing_to, redis_server, wait_until, worker

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
]

QINGDAO, JINAN, YANTAI = "370200", "370100", "370600"
TIMEOUT = 180  # seconds; generous, for a loaded two-core machine


@pytest.fixture
def broker_url() -> str:
    return os.environ["CELERY_BROKER_URL"]


@pytest.fixture
def queue(broker_url):
    """A queue of this test's own on the machine's Redis, which the test process publishes to.
    Afterwards its keys go, and so do messages a killed worker left unacknowledged on it."""
    name = f"gigacity-test-{uuid.uuid4().hex[:12]}"
    with publishing_to(broker_url, name):
        yield name
    client = redis.Redis.from_url(broker_url)
    for key in client.scan_iter(match=f"*{name}*"):  # the queue and kombu's bindings for it
        client.delete(key)
    for tag, raw in client.hgetall("unacked").items():
        _message, _exchange, routing_key = json.loads(raw)
        if routing_key == name:
            client.hdel("unacked", tag)
            client.zrem("unacked_index", tag)
    client.close()


@pytest.fixture
def processes(queue):
    """Processes the test starts; all stopped (process group and all) when it ends, however it ends,
    and before its queue is cleaned up (a stopping worker hands its reserved messages back)."""
    started = []
    yield started
    # Workers first, so that they do not spend their last moments reconnecting to a stopped Redis.
    for process in sorted(reversed(started), key=lambda p: p.name.startswith("redis-server")):
        process.stop()


def start(processes, process):
    processes.append(process)
    return process.start()


def cities(n: int, first: tuple[str, ...] = ()) -> list[City]:
    chosen = list(City.objects.filter(pk__in=first))
    chosen += list(City.objects.exclude(pk__in=first).order_by("code")[: n - len(chosen)])
    return chosen


def scored(ids) -> int:
    return Submission.objects.filter(pk__in=ids, scoring_state=ScoringState.SCORED).count()


def pending(ids) -> int:
    return Submission.objects.filter(pk__in=ids, scoring_state=ScoringState.PENDING).count()


def assert_scored_exactly_once(ids) -> None:
    submissions = list(Submission.objects.filter(pk__in=ids).select_related("round"))
    assert len(submissions) == len(ids)
    assert {s.scoring_state for s in submissions} == {ScoringState.SCORED}
    assert Score.objects.filter(submission__in=ids).count() == len(ids)
    per_version = Score.objects.filter(submission__in=ids).values("submission", "version", "threshold_version")
    assert {row["submission"]: (row["version"], row["threshold_version"]) for row in per_version} == {
        s.pk: (s.version, s.round.threshold_version) for s in submissions
    }
    assert not Score.objects.values("submission", "version").annotate(n=Count("pk")).filter(n__gt=1).exists()


def test_a_real_worker_scores_a_batch_of_twenty_submissions_exactly_once(
    open_round, processes, tmp_path, broker_url, queue
):
    # Given the production app's worker (celery -A gigacity) on its own queue
    running = start(
        processes, worker(name="batch", app="gigacity", broker_url=broker_url, queue=queue, workdir=tmp_path)
    )

    # When twenty cities submit their forms
    ids = [make_submission(city, open_round, Status.SUBMITTED).pk for city in cities(20)]

    # Then every one is scored, once
    wait_until(lambda: scored(ids) == len(ids), timeout=TIMEOUT, what="20 scored", processes=[running])
    assert_scored_exactly_once(ids)
    assert Submission.objects.filter(pk__in=ids, scoring_attempts=1).count() == len(ids)


def test_kill_9_of_the_worker_in_the_middle_of_a_batch_and_a_new_worker_scores_everything_once(
    open_round, processes, tmp_path, broker_url, queue
):
    # Given twenty submitted forms and a worker taking a second over each
    ids = [make_submission(city, open_round, Status.SUBMITTED).pk for city in cities(20)]
    first = start(
        processes,
        worker(
            name="first",
            broker_url=broker_url,
            queue=queue,
            workdir=tmp_path,
            env={"GIGACITY_TEST_SCORING_DELAY": "1"},
        ),
    )

    def in_flight():
        return Submission.objects.filter(pk__in=ids, scoring_state=ScoringState.PENDING, scoring_attempts__gte=1)

    wait_until(
        lambda: scored(ids) >= 3 and in_flight().exists(),
        timeout=TIMEOUT,
        what="a few scored and one being scored",
        processes=[first],
    )

    # When the whole worker (main process and pool children) is killed with kill -9
    first.kill()
    scored_before = scored(ids)
    interrupted = list(in_flight().values_list("pk", flat=True))
    assert scored_before < len(ids), "the batch was over before the kill; the test proves nothing"
    assert interrupted, "no task was running when the worker died; the test proves nothing"

    # And a new worker starts (with a short visibility timeout and sweep lease, so that the tasks the
    # dead worker held come back within the test)
    second = start(
        processes,
        worker(
            name="second",
            broker_url=broker_url,
            queue=queue,
            workdir=tmp_path,
            beat=True,
            env={
                "CELERY_VISIBILITY_TIMEOUT": "5",
                "GIGACITY_SWEEP_SECONDS": "1",
                "GIGACITY_SCORING_LEASE_SECONDS": "3",
            },
        ),
    )

    # Then every submission is scored exactly once, including those killed mid-task
    wait_until(lambda: scored(ids) == len(ids), timeout=TIMEOUT, what="all 20 scored", processes=[first, second])
    assert_scored_exactly_once(ids)
    assert all(
        attempts >= 2
        for attempts in Submission.objects.filter(pk__in=interrupted).values_list("scoring_attempts", flat=True)
    )


def test_with_redis_stopped_cities_still_submit_at_once_and_are_scored_when_it_is_back(
    open_round, processes, tmp_path, queue, caplog
):
    # Given a Redis of the test's own (the machine's is not to be disturbed), a worker running beat
    # with a short sweep, and one submission scored through it
    port = free_port()
    url = f"redis://127.0.0.1:{port}/0"
    server = start(processes, redis_server(port, tmp_path))
    wait_until(lambda: ping(url), timeout=60, what=f"redis-server on {port} answers", processes=[server])
    running = start(
        processes,
        worker(
            name="outage",
            broker_url=url,
            queue=queue,
            workdir=tmp_path,
            beat=True,
            env={"GIGACITY_SWEEP_SECONDS": "1", "GIGACITY_SCORING_LEASE_SECONDS": "2"},
        ),
    )
    first_city, *others = cities(9)
    drafts = [make_submission(city, open_round, Status.DRAFT) for city in others]
    with publishing_to(url, queue):
        before = make_submission(first_city, open_round, Status.SUBMITTED).pk
        wait_until(lambda: scored([before]) == 1, timeout=TIMEOUT, what="the first scored", processes=[running])

        # When Redis stops (crashes: nothing queued survives) and eight cities submit
        server.kill()
        outcome: dict[str, object] = {}

        def submit_all():
            try:
                for draft in drafts:
                    city_official = User.objects.get(role=Role.CITY, city_id=draft.city_id)
                    submission_submit(submission_id=draft.pk, actor=city_official)
                outcome["submitted"] = True
            except Exception as exc:  # reported by the assertion below
                outcome["error"] = exc
            finally:
                connection.close()

        submitting = threading.Thread(target=submit_all, daemon=True)
        submitting.start()
        submitting.join(timeout=120)

        # Then every submit returned without an error: accepted, waiting as pending
        assert not submitting.is_alive(), "submitting hung while Redis was down"
        assert outcome == {"submitted": True}
        ids = [draft.pk for draft in drafts]
        failed_publishes = [r for r in caplog.records if r.getMessage().startswith("could not publish scoring")]
        assert len(failed_publishes) == len(ids), "the publishes did not go to the stopped Redis"
        rows = Submission.objects.filter(pk__in=ids)
        assert {(s.status, s.scoring_state) for s in rows} == {(Status.SUBMITTED, ScoringState.PENDING)}
        assert not Score.objects.filter(submission__in=ids).exists()

        # And once Redis is back (empty), the worker reconnects, the sweep publishes them again, and
        # each is scored exactly once
        server = start(processes, redis_server(port, tmp_path))
        wait_until(lambda: ping(url), timeout=60, what=f"redis-server on {port} answers again", processes=[server])
        wait_until(
            lambda: scored(ids) == len(ids), timeout=TIMEOUT, what="all 8 scored after the outage", processes=[running]
        )
    assert_scored_exactly_once([before, *ids])


def test_a_poison_submission_ends_failed_with_a_reason_and_the_rest_are_scored(
    open_round, processes, tmp_path, broker_url, queue
):
    # Given a worker allowed 3 attempts, where scoring 济南 raises (a bug), scoring 烟台 kills the pool
    # child every time, and scoring 青岛 kills it the first time only
    faults = {JINAN: "raise", YANTAI: "kill", QINGDAO: "kill-once"}
    running = start(
        processes,
        worker(
            name="poison",
            broker_url=broker_url,
            queue=queue,
            workdir=tmp_path,
            env={"GIGACITY_TEST_FAULTS": json.dumps(faults), "GIGACITY_SCORING_MAX_ATTEMPTS": "3"},
        ),
    )

    # When ten cities submit
    by_city = {city.pk: make_submission(city, open_round, Status.SUBMITTED).pk for city in cities(10, tuple(faults))}
    ids = list(by_city.values())
    wait_until(lambda: pending(ids) == 0, timeout=TIMEOUT, what="nothing pending", processes=[running])

    def row(code: str) -> Submission:
        return Submission.objects.get(pk=by_city[code])

    # Then the bug fails its submission at once, with the error as the reason (no retry)
    raised = row(JINAN)
    assert (raised.scoring_state, raised.scoring_attempts) == (ScoringState.FAILED, 1)
    assert raised.scoring_error == f"RuntimeError: injected fault for {JINAN}"
    # The submission that kills every worker is redelivered each time, then given up after 3 attempts
    killer = row(YANTAI)
    assert (killer.scoring_state, killer.scoring_attempts) == (ScoringState.FAILED, 4)
    assert killer.scoring_error == "gave up after 3 attempts"
    assert not Score.objects.filter(submission__in=[raised.pk, killer.pk]).exists()
    # A task whose worker died once is delivered again, not marked failed, and scored once
    assert row(QINGDAO).scoring_attempts == 2
    healthy = [pk for code, pk in by_city.items() if code not in (JINAN, YANTAI)]
    assert_scored_exactly_once(healthy)

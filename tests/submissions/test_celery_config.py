"""The Celery configuration the reliability of scoring rests on (reliability.md Q-1, P-8 … P-12).
Each line here is a setting whose default loses or duplicates work, or hangs a request."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from importlib.metadata import version
from pathlib import Path

import pytest
from celery.worker.request import Request as CeleryRequest
from django.conf import settings
from django.db import OperationalError
from kombu import Connection, Queue

from gigacity.celery import app
from reviews.tasks import send_deadline_reminders
from submissions.tasks import score_submission, sweep_stale_scoring

ROOT = Path(__file__).resolve().parents[2]


def major_minor(text: str) -> tuple[int, int]:
    major, minor = text.split(".")[:2]
    return int(major), int(minor)


def test_a_task_is_acknowledged_only_after_it_ran_and_redelivered_when_its_worker_dies():
    assert app.conf.task_acks_late is True
    assert app.conf.task_reject_on_worker_lost is True
    assert score_submission.acks_late is True and score_submission.reject_on_worker_lost is True
    # One message at a time per process: a dying worker takes no queued work down with it.
    assert app.conf.worker_prefetch_multiplier == 1


def test_messages_are_json_only():
    assert app.conf.task_serializer == "json" and app.conf.result_serializer == "json"
    assert app.conf.accept_content == ["json"]
    assert app.conf.result_accept_content in (None, ["json"])


def test_the_visibility_timeout_is_the_same_in_all_three_places_and_outlasts_the_longest_task():
    timeout = app.conf.broker_transport_options["visibility_timeout"]
    assert app.conf.result_backend_transport_options["visibility_timeout"] == timeout
    assert app.conf.visibility_timeout == timeout
    assert app.conf.task_soft_time_limit < app.conf.task_time_limit
    # A margin of a minute at least, or a slow task is delivered again while it still runs.
    assert timeout >= app.conf.task_time_limit + 60
    # The sweep must not publish again what a worker may still be scoring.
    assert app.conf.task_time_limit < settings.GIGACITY_SCORING_LEASE_SECONDS


def test_waiting_on_the_broker_is_short_and_publishing_retries_a_bounded_number_of_times():
    options = app.conf.broker_transport_options
    assert 0 < app.conf.broker_connection_timeout <= 5
    assert 0 < options["socket_connect_timeout"] <= 5 and 0 < options["socket_timeout"] <= 5
    assert options["max_retries"] <= 2 and options["interval_start"] == 0 and options["interval_max"] <= 1
    policy = app.conf.task_publish_retry_policy
    assert app.conf.task_publish_retry is True
    assert 0 < policy["max_retries"] <= 3 and policy["interval_max"] <= 1
    # Worst case for a request while Redis is down: every connection attempt times out.
    attempts = (policy["max_retries"] + 1) * (options["max_retries"] + 1)
    assert attempts * options["socket_connect_timeout"] + policy["max_retries"] * policy["interval_max"] <= 15


def test_retries_are_for_transient_errors_only_with_backoff_and_a_cap_below_the_attempt_limit():
    assert OperationalError in score_submission.autoretry_for
    assert not any(issubclass(Exception, kind) for kind in score_submission.autoretry_for)
    assert score_submission.retry_backoff and score_submission.retry_jitter is True
    assert 0 < score_submission.retry_backoff_max <= 300
    assert 0 < score_submission.max_retries < settings.GIGACITY_SCORING_MAX_ATTEMPTS


def test_a_stopping_worker_gets_time_to_finish_and_kombu_keeps_consuming_after_a_redis_restart():
    assert app.conf.worker_soft_shutdown_timeout > 0
    assert major_minor(version("kombu")) >= (5, 4)  # celery#8990: earlier kombu stops consuming
    assert major_minor(version("celery")) >= (5, 5)  # soft shutdown exists from 5.5


def test_beat_runs_the_sweep_every_gigacity_sweep_seconds():
    sweep = app.conf.beat_schedule["sweep-stale-scoring"]
    assert sweep["task"] == "submissions.tasks.sweep_stale_scoring"
    assert sweep["task"] in app.tasks
    assert sweep["schedule"] == settings.GIGACITY_SWEEP_SECONDS == 60

    env = {**os.environ, "GIGACITY_SWEEP_SECONDS": "7", "DJANGO_SETTINGS_MODULE": "gigacity.settings"}
    probe = "from gigacity.celery import app; print(app.conf.beat_schedule['sweep-stale-scoring']['schedule'])"
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=True
    )
    assert result.stdout.strip() == "7.0"


@pytest.mark.redis
@pytest.mark.parametrize("task", [score_submission, sweep_stale_scoring, send_deadline_reminders])
def test_a_task_finishing_just_after_redis_was_lost_does_not_stop_the_worker(task, caplog):
    # Given a task message a worker took from a real Redis queue and has not acknowledged (acks_late)
    queue = Queue(f"gigacity-test-{uuid.uuid4().hex[:12]}")
    connection = Connection(os.environ["CELERY_BROKER_URL"])
    headers, properties, body, _sent = app.amqp.as_task_v2(str(uuid.uuid4()), task.name, args=())
    connection.Producer().publish(
        body, routing_key=queue.name, declare=[queue], headers=headers, serializer="json", **properties
    )
    message = connection.SimpleQueue(queue).get(timeout=10)
    errors = connection.connection_errors + connection.channel_errors
    connection.default_channel.client.delete(queue.name)

    # When the task finishes after the worker lost Redis and tore its connection down: the channel's
    # connection pools dropped and the transport without its connection parameters (the state in
    # which CI saw a worker stop, kombu 5.7)
    message.channel._disconnect_pools()
    connection._do_close_transport()

    # Then Celery's own request raises (AttributeError, outside kombu's connection errors), which in
    # the worker's event loop is an unrecoverable error that stops the worker for good…
    celery_request = CeleryRequest(message, app=app, task=task, connection_errors=errors, on_ack=message.ack_log_error)
    with pytest.raises(AttributeError):
        celery_request.acknowledge()
    # …while the app's request logs that it could not acknowledge, and the worker goes on reconnecting
    request = task.Request(message, app=app, task=task, connection_errors=errors, on_ack=message.ack_log_error)
    request.acknowledge()
    assert request.acknowledged
    assert [r.getMessage()[:13] for r in caplog.records if r.levelname == "CRITICAL"] == ["Couldn't ack "]
    message.channel.qos._on_collect.cancel()  # nothing to hand back to Redis when the test process exits

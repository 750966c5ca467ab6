"""The production Celery app as the worker tests run it (`celery -A tests.submissions.worker_app`):
the same app, settings and tasks, with two test-only additions read from the environment.

- GIGACITY_TEST_QUEUE: the test's own queue, so that nothing else on the Redis database (an earlier
  run, another test) reaches this worker, and what its beat publishes comes back to it.
- GIGACITY_TEST_FAULTS: JSON {city code: fault} injected into scoring, where a fault is
  "raise" (a bug: a deterministic exception), "kill" (the pool child dies with SIGKILL every time,
  as under the OOM killer) or "kill-once" (it dies on the first attempt only).
- GIGACITY_TEST_SCORING_DELAY: seconds each scoring takes, so that a test can kill a worker while it
  is in the middle of a batch.
"""

from __future__ import annotations

import json
import os
import signal
import time

import django

from gigacity.celery import app

django.setup()

from submissions import scoring  # noqa: E402  (needs the app registry)

QUEUE = os.environ["GIGACITY_TEST_QUEUE"]
FAULTS: dict[str, str] = json.loads(os.environ.get("GIGACITY_TEST_FAULTS") or "{}")
DELAY = float(os.environ.get("GIGACITY_TEST_SCORING_DELAY") or 0)

app.conf.task_default_queue = QUEUE
_real_compute_score = scoring.compute_score


def compute_score(submission, thresholds):
    fault = FAULTS.get(submission.city_id)
    if fault == "kill" or (fault == "kill-once" and submission.scoring_attempts == 1):
        os.kill(os.getpid(), signal.SIGKILL)
    if fault == "raise":
        raise RuntimeError(f"injected fault for {submission.city_id}")
    if DELAY:
        time.sleep(DELAY)
    return _real_compute_score(submission, thresholds)


scoring.compute_score = compute_score

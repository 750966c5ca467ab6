"""Celery tasks of the submissions app: thin interfaces that take ids and call a service."""

from __future__ import annotations

from celery import shared_task
from django.db import InterfaceError, OperationalError

# Transient errors only: a lost database connection or a deadlock is worth another try; a bug or
# bad data is not (it ends `failed` through the attempt counter instead).
TRANSIENT_ERRORS = (OperationalError, InterfaceError)


def _give_up(task, exc, task_id, args, kwargs, einfo):
    from .scoring import mark_failed

    if args:
        mark_failed(submission_id=args[0], reason=f"{type(exc).__name__}: {exc}"[:500])


@shared_task(
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=TRANSIENT_ERRORS,
    retry_backoff=2,
    retry_backoff_max=60,
    retry_jitter=True,
    max_retries=3,  # below GIGACITY_SCORING_MAX_ATTEMPTS: retries pass the claim step too
    on_failure=_give_up,
)
def score_submission(self, submission_id: int) -> str:
    from .scoring import submission_score

    return submission_score(submission_id=submission_id)


@shared_task(acks_late=True)
def sweep_stale_scoring() -> int:
    from .scoring import sweep_stale_scoring as sweep

    return len(sweep())

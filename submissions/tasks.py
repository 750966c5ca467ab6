"""Celery tasks of the submissions app: thin interfaces that take ids and call a service."""

from __future__ import annotations

import logging

from celery import shared_task

from . import scoring
from .scoring import TRANSIENT_ERRORS

logger = logging.getLogger(__name__)


def _on_scoring_failure(task, exc, task_id, args, kwargs, einfo) -> None:
    """Celery calls this in the pool child when the task raised and will not be retried.

    It is *not* called when the child itself dies, and the row must not be failed then: after a kill
    (SIGKILL, the OOM killer) the worker's main process rejects the message back to the queue
    (`reject_on_worker_lost`); if the whole worker died, Redis delivers it again after the visibility
    timeout; after a hard time limit Celery acknowledges it and the sweep publishes the submission
    again after the lease. The claim step has counted the attempt each time, so a submission that
    kills every child still ends `failed` (tests/submissions/test_worker.py shows it)."""
    submission_id = kwargs.get("submission_id", args[0] if args else None)
    if submission_id is None:
        return
    try:
        scoring.submission_scoring_error(submission_id=submission_id, error=exc)
    except TRANSIENT_ERRORS:
        # The database is gone as well: the row stays pending and the sweep publishes it again.
        logger.warning("could not record the scoring error of submission %s", submission_id, exc_info=True)


@shared_task(
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=TRANSIENT_ERRORS,
    retry_backoff=2,
    retry_backoff_max=60,
    retry_jitter=True,
    max_retries=3,  # below GIGACITY_SCORING_MAX_ATTEMPTS: retries pass the claim step too
    on_failure=_on_scoring_failure,
)
def score_submission(self, submission_id: int) -> str:
    return scoring.submission_score(submission_id=submission_id)


@shared_task(acks_late=True)
def sweep_stale_scoring() -> int:
    return len(scoring.sweep_stale_scoring())

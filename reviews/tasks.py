"""Celery tasks of the reviews app."""

from __future__ import annotations

from celery import shared_task


@shared_task(acks_late=True, autoretry_for=(OSError,), retry_backoff=30, max_retries=5)
def send_notification_emails(notification_ids: list[int]) -> int:
    from .emails import send_notification_emails as send

    return send(notification_ids)


@shared_task(acks_late=True)
def send_deadline_reminders() -> int:
    """The periodic reminders: deadlines of forms not submitted, and evidence requests overdue."""
    from .reminders import send_deadline_reminders as send
    from .reminders import send_evidence_reminders

    return send() + send_evidence_reminders()


# An export of the whole country's cases can take minutes: its own limits, below the Redis
# visibility timeout (so an unacknowledged task is not handed out twice) and the sweep's lease.
@shared_task(acks_late=True, reject_on_worker_lost=True, soft_time_limit=300, time_limit=360)
def run_export(job_id: str) -> str:
    from .exports import export_run

    return export_run(job_id=job_id)


@shared_task(acks_late=True)
def sweep_exports() -> int:
    from .exports import sweep_exports as sweep

    return sweep()

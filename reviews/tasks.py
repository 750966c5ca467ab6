"""Celery tasks of the reviews app."""

from __future__ import annotations

from celery import shared_task


@shared_task(acks_late=True, autoretry_for=(OSError,), retry_backoff=30, max_retries=5)
def send_notification_emails(notification_ids: list[int]) -> int:
    from .emails import send_notification_emails as send

    return send(notification_ids)


@shared_task(acks_late=True)
def send_deadline_reminders() -> int:
    from .reminders import send_deadline_reminders as send

    return send()

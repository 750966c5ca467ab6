"""Celery tasks of the foundation: the audit trail's housekeeping (run by beat)."""

from __future__ import annotations

from celery import shared_task


@shared_task(acks_late=True)
def prune_audit_trail() -> int:
    from .audit.services import audit_prune

    return audit_prune()


@shared_task(acks_late=True)
def sweep_expired_sessions() -> int:
    from .audit.services import sessions_expired_sweep

    return sessions_expired_sweep()

"""Work of the foundation done by the worker: the password reset e-mail, and the audit trail's
housekeeping (run by beat)."""

from __future__ import annotations

from celery import shared_task
from django.utils import translation

from .services import user_password_reset_send


@shared_task(acks_late=True)
def send_password_reset(email: str, language: str) -> int:
    # The address as typed, not an account id: which accounts it matches is decided here, so that the
    # page that asked cannot tell (nor take longer) whether any does. Django's form logs a failed send.
    with translation.override(language):
        return user_password_reset_send(email=email)


@shared_task(acks_late=True)
def prune_audit_trail() -> int:
    from .audit.services import audit_prune

    return audit_prune()


@shared_task(acks_late=True)
def sweep_expired_sessions() -> int:
    from .audit.services import sessions_expired_sweep

    return sessions_expired_sweep()

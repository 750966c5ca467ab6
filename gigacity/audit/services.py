"""Housekeeping of the audit trail: pruning what is past its keeping time, and recording the
sessions that ended by idling out (nobody is there to see that happen, so a task finds them)."""

from __future__ import annotations

import datetime
from datetime import timedelta

from django.conf import settings
from django.contrib.sessions.models import Session
from django.db import transaction
from django.utils import timezone

from gigacity.models import AuditEvent, AuditKind, User

from .receivers import SESSION_CLIENT_KEY
from .record import audit_record

# The database refuses to delete a record younger than this (migration gigacity 0002); the
# retention setting may be longer, never shorter (system check gigacity.E002).
MINIMUM_RETENTION_DAYS = 180
SESSIONS_PER_SWEEP = 5000


def audit_prune(*, now: datetime.datetime | None = None) -> int:
    """Delete the records older than GIGACITY_AUDIT_RETENTION_DAYS, and record that it was done.
    Never a younger record: the cutoff is computed from the setting, and the database checks it."""
    now = now or timezone.now()
    days = max(settings.GIGACITY_AUDIT_RETENTION_DAYS, MINIMUM_RETENTION_DAYS)
    cutoff = now - timedelta(days=days)
    with transaction.atomic():
        removed, _by_model = AuditEvent.objects.filter(at__lt=cutoff).delete()
        if removed:
            audit_record(
                kind=AuditKind.AUDIT_PRUNED,
                actor=None,
                details={"removed": removed, "older_than": cutoff.isoformat(), "retention_days": days},
            )
    return removed


def sessions_expired_sweep(*, now: datetime.datetime | None = None) -> int:
    """Record every signed-in session that has expired by idling out, then delete it (as
    `clearsessions` would). Returns how many sign-ins were recorded."""
    if settings.SESSION_ENGINE != "django.contrib.sessions.backends.db":
        return 0
    now = now or timezone.now()
    recorded = 0
    with transaction.atomic():
        expired = list(
            Session.objects.select_for_update(skip_locked=True)
            .filter(expire_date__lt=now)
            .order_by("expire_date")[:SESSIONS_PER_SWEEP]
        )
        signed_in = []
        for session in expired:
            data = session.get_decoded()
            if user_id := data.get("_auth_user_id"):
                signed_in.append((session, str(user_id), data.get(SESSION_CLIENT_KEY) or {}))
        users = {str(u.pk): u for u in User.objects.filter(pk__in=[user_id for _s, user_id, _c in signed_in])}
        for session, user_id, client in signed_in:
            user = users.get(user_id)
            audit_record(
                kind=AuditKind.SESSION_EXPIRED,
                actor=user,
                username="" if user else f"#{user_id}",
                at=session.expire_date,
                # Where the session was signed in from, as kept with it at sign-in.
                address=client.get("ip") or "",
                user_agent=client.get("ua") or "",
                details={"reason": "idle", "found": now.isoformat()},
            )
            recorded += 1
        Session.objects.filter(pk__in=[s.pk for s in expired]).delete()
    return recorded

"""Deadline reminders to cities that have not submitted: 7 days and 1 day before the deadline, each
sent once (a unique row per city, round and reminder), even if the periodic task runs many times
or missed a day. And evidence requests past their answer-by date and still waiting on the city: the
city is reminded and the reviewer who asked is told, once per request (the request is claimed)."""

from __future__ import annotations

import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from gigacity.models import City, Role
from indicators.models import Round, RoundStatus
from submissions.kinds import kind_for
from submissions.models import EDITABLE_STATES, Submission, deadline_expression

from .evidence import notification_extra
from .models import EvidenceRequest, EvidenceState, NotificationKind, Reminder
from .notifications import city_officials, notify

REMINDER_DAYS = (7, 1)


def due_reminder(days_left: int) -> int | None:
    """The reminder due with this many days left: the smallest one not below it (7 for 2..7 days
    left, 1 for the last day and the deadline day itself)."""
    if days_left < 0:
        return None
    candidates = [d for d in REMINDER_DAYS if d >= days_left]
    return min(candidates) if candidates else None


def send_deadline_reminders(today: datetime.date | None = None) -> int:
    """Remind the officials of every city that has not submitted, counting from the city's own
    deadline (an extension moves its reminders with it)."""
    today = today or timezone.localdate()
    sent = 0
    for round_ in Round.objects.filter(status=RoundStatus.OPEN):
        done = Submission.objects.filter(round=round_).exclude(status__in=EDITABLE_STATES).values("city_id")
        cities = (
            City.objects.filter(officials__role=Role.CITY, officials__is_active=True)
            .exclude(pk__in=done)
            .annotate(deadline=deadline_expression(round_))
            .filter(deadline__isnull=False, deadline__gte=today)
            .distinct()
        )
        already = set(Reminder.objects.filter(round=round_).values_list("city_id", "days_before"))
        for city in cities:
            days_left = (city.deadline - today).days
            days = due_reminder(days_left)
            if days is None or (city.pk, days) in already:
                continue
            try:
                with transaction.atomic():
                    Reminder.objects.create(city=city, round=round_, days_before=days)
                    submission = Submission.objects.filter(city=city, round=round_).first()
                    notify(
                        city_officials(city.pk),
                        kind=NotificationKind.REMINDER,
                        city_id=city.pk,
                        round_id=round_.pk,
                        submission=submission,
                        extra={
                            "days": days_left,
                            "deadline": city.deadline.isoformat(),
                            # Without a form yet, the reminder still names the form the city owes.
                            "kind": submission.kind if submission else kind_for(city.pk, round_),
                        },
                    )
                    sent += 1
            except IntegrityError:
                continue  # sent before (by an earlier run, or a moment ago by another)
    return sent


# Requests waiting on the city: asked and not answered, or answered and not accepted (to answer again).
# One answered waits on the reviewer, whom the queue already shows it.
WAITING_ON_CITY = (EvidenceState.OPEN, EvidenceState.REJECTED)


def send_evidence_reminders(today: datetime.date | None = None) -> int:
    """Remind the city of every evidence request past its answer-by date (the date itself is still in
    time) and still waiting on it, and tell the reviewer who asked; once per request. Returns how many
    requests were reminded. Rounds already published are left alone: nothing can be answered there."""
    today = today or timezone.localdate()
    overdue = (
        EvidenceRequest.objects.filter(
            state__in=WAITING_ON_CITY,
            due_on__lt=today,
            overdue_reminded_at__isnull=True,
            submission__round__status__in=(RoundStatus.OPEN, RoundStatus.CLOSED),
        )
        .select_related("submission__city", "submission__round", "asked_by")
        .order_by("pk")
    )
    sent = 0
    for request in overdue:
        with transaction.atomic():
            # The claim: a run going on at the same moment (or a retried one) finds nothing to send.
            claimed = EvidenceRequest.objects.filter(
                pk=request.pk, overdue_reminded_at__isnull=True, state__in=WAITING_ON_CITY
            ).update(overdue_reminded_at=timezone.now())
            if not claimed:
                continue
            submission = request.submission
            common = {
                "city_id": submission.city_id,
                "round_id": submission.round_id,
                "submission": submission,
                "text": request.question,
                "extra": {**notification_extra(request), "days_late": (today - request.due_on).days},
            }
            notify(city_officials(submission.city_id), kind=NotificationKind.EVIDENCE_OVERDUE, **common)
            asker = [request.asked_by] if request.asked_by.is_active else []
            notify(asker, kind=NotificationKind.EVIDENCE_UNANSWERED, **common)
            sent += 1
    return sent

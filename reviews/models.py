"""What reviewers and the ministry work with beyond the submission itself: notifications and the
deadline reminders already sent."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gigacity.models import City
from indicators.models import Round
from submissions.models import Submission


class NotificationKind(models.TextChoices):
    SUBMITTED = "submitted", _("Submitted")  # to the bureau: a city submitted for the first time
    RESUBMITTED = "resubmitted", _("Resubmitted")  # to the bureau: a returned form came back
    RETURNED = "returned", _("Returned")  # to the city: fix what the bureau commented on
    RECOMMENDED = "recommended", _("Recommended")  # to the ministry and the city
    APPROVED = "approved", _("Approved")  # to the city and the bureau
    REJECTED = "rejected", _("Rejected")  # to the city and the bureau
    SENT_BACK = "sent_back", _("Sent back")  # to the bureau
    EXTENSION = "extension", _("Extension granted")  # to the city
    REMINDER = "reminder", _("Deadline reminder")  # to cities still in draft


class NotificationQuerySet(models.QuerySet):
    def unread(self) -> NotificationQuerySet:
        return self.filter(read_at__isnull=True)


class Notification(models.Model):
    """An in-app message for one person (the bell), also sent by e-mail when the person has an address.
    The text is built when shown, in the reader's language, from the kind and its subjects."""

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=20, choices=NotificationKind.choices)
    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    city = models.ForeignKey(City, on_delete=models.CASCADE, related_name="+")
    round = models.ForeignKey(Round, on_delete=models.CASCADE, related_name="+")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    text = models.TextField(blank=True)  # the reason or note the actor gave, as typed
    extra = models.JSONField(default=dict, blank=True)  # e.g. {"days": 7, "until": "2026-12-31"}
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["recipient", "read_at"])]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")

    def __str__(self) -> str:
        return f"{self.kind} {self.city} → {self.recipient}"


class Reminder(models.Model):
    """A deadline reminder already sent to a city, so each one goes out exactly once."""

    city = models.ForeignKey(City, on_delete=models.CASCADE, related_name="+")
    round = models.ForeignKey(Round, on_delete=models.CASCADE, related_name="+")
    days_before = models.PositiveSmallIntegerField()
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["city", "round", "days_before"], name="reminder_once_per_city")]

    def __str__(self) -> str:
        return f"{self.city} {self.round.year} T-{self.days_before}"

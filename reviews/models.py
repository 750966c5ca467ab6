"""What reviewers and the ministry work with beyond the submission itself: notifications, the
deadline reminders already sent, and exports prepared in the background."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gigacity.models import City, Province
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
    CONFIRMED = "confirmed", _("Annual report confirmed")  # to the city and the bureau
    NOT_CONFIRMED = "not_confirmed", _("Annual report not confirmed")  # to the city and the bureau
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


class ExportKind(models.TextChoices):
    SUMMARY = "summary", _("Summary table of key indicators")  # 关键指标情况汇总表, MIIT's shape
    CASES = "cases", _("Case collection")  # 案例集: the excellent cases the bureaus recommended
    CITIES = "cities", _("City list")  # every unit in scope with its status and indicators
    CIRCULAR = "circular", _("Draft circular (Word)")  # 通报（征求意见稿）: the ministry's only
    CASEBOOK = "casebook", _("Case collection (Word)")  # 案例集 as a document: cover, contents, cases


# Kinds written as Word documents; the others are workbooks.
DOCUMENT_KINDS = (ExportKind.CIRCULAR, ExportKind.CASEBOOK)


class ExportState(models.TextChoices):
    PENDING = "pending", _("Queued")  # requested; a worker will pick it up (the sweep makes sure)
    RUNNING = "running", _("Being written")  # a worker is writing the file
    DONE = "done", _("Ready to download")  # the file can be downloaded
    FAILED = "failed", _("Could not be produced")  # the reason is kept for the administrators


class ExportJobQuerySet(models.QuerySet):
    def visible_to(self, user) -> ExportJobQuerySet:
        # An export holds what its requester may see, so only the requester may download it.
        if not user.is_authenticated or not user.is_active:
            return self.none()
        return self.filter(requested_by=user)


def export_path(instance: ExportJob, filename: str) -> str:
    return f"exports/{instance.pk}{instance.suffix}"


class ExportJob(models.Model):
    """A workbook produced in the background for one person: what was asked for, how far the worker
    has got, and the file when it is ready. The contents follow the requester's scope at the time the
    file is written."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(_("export"), max_length=10, choices=ExportKind.choices)
    round = models.ForeignKey(Round, on_delete=models.CASCADE, related_name="+", verbose_name=_("round"))
    province = models.ForeignKey(
        Province, on_delete=models.CASCADE, null=True, blank=True, related_name="+", verbose_name=_("province")
    )
    cumulative = models.BooleanField(_("all Gigabit Cities so far"), default=False)
    # The case collection as a document: only the cases the bureaus recommended as excellent, or every
    # case of the recommended forms with the excellent ones first.
    excellent_only = models.BooleanField(_("excellent cases only"), default=True)
    # The workbook is written in the language of the page that asked for it.
    language = models.CharField(max_length=10, default="zh-hans")
    state = models.CharField(max_length=10, choices=ExportState.choices, default=ExportState.PENDING)
    progress = models.PositiveSmallIntegerField(default=0)  # percent
    rows = models.PositiveIntegerField(default=0)
    attempts = models.PositiveSmallIntegerField(default=0)
    file = models.FileField(upload_to=export_path, max_length=200, blank=True)
    filename = models.CharField(max_length=200, blank=True)
    error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = ExportJobQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["requested_by", "created_at"]),
            models.Index(fields=["state", "created_at"]),
        ]
        verbose_name = _("export")
        verbose_name_plural = _("exports")

    def __str__(self) -> str:
        return f"{self.kind} {self.round.year} → {self.requested_by}"

    @property
    def suffix(self) -> str:
        return ".docx" if self.kind in DOCUMENT_KINDS else ".xlsx"

"""What reviewers and the ministry work with beyond the submission itself: notifications, the
deadline reminders already sent, and exports prepared in the background."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gigacity.models import City, Province, Role
from gigacity.statements import Statement
from indicators.models import Round
from submissions.models import AppendOnly, Submission


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
    # Evidence requests (核实材料): to the city when asked, rejected or withdrawn; to the reviewer who
    # asked when the city answers; to the city when accepted.
    EVIDENCE_REQUESTED = "evidence_requested", _("Evidence requested")
    EVIDENCE_ANSWERED = "evidence_answered", _("Evidence answered")
    EVIDENCE_ACCEPTED = "evidence_accepted", _("Evidence accepted")
    EVIDENCE_REJECTED = "evidence_rejected", _("Evidence not accepted")
    EVIDENCE_WITHDRAWN = "evidence_withdrawn", _("Evidence request withdrawn")
    # An evidence request past its answer-by date and still waiting on the city: to the city, once.
    EVIDENCE_OVERDUE = "evidence_overdue", _("Evidence overdue")
    # The same, to the reviewer who asked (the city has not answered in time).
    EVIDENCE_UNANSWERED = "evidence_unanswered", _("Evidence not answered in time")
    # A sample check (抽查核验) found a problem and reopened the form: to its bureau and city.
    REOPENED = "reopened", _("Reopened after a sample check")


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

    @classmethod
    def unread_count(cls, user) -> int:
        """How many of the user's notifications are unread: the menu of every page shows it, so its
        statement is built once per process (`gigacity.statements`; the ORM took six times longer to
        build it than PostgreSQL took to answer, issue 16)."""
        counted = _UNREAD_COUNT(recipient=user.pk)
        return counted[0] if counted else 0


# One row (the recipient's count) or none; `.count()` is not a statement's rows.
_UNREAD_COUNT = Statement(
    lambda recipient: (
        Notification.objects.filter(recipient_id=recipient)
        .unread()
        .order_by()
        .values("recipient")
        .annotate(n=Count("pk"))
        .values_list("n", flat=True)
    )
)


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


# ------------------------------------------------------------------------------------------------
# Evidence requests (核实材料) and sample checks (抽查核验): checking that the numbers are true
# ------------------------------------------------------------------------------------------------
class EvidenceState(models.TextChoices):
    OPEN = "open", _("Awaiting answer")  # asked; waiting for the city's answer
    ANSWERED = "answered", _("Answered")  # the city answered; waiting for the reviewer's judgement
    ACCEPTED = "accepted", _("Accepted")  # the reviewer is satisfied: settled
    # The reviewer is not satisfied: back with the city, which answers again (→ answered). A rejection
    # is not an end: the question still stands, and only the reviewer settles it (accept or withdraw).
    REJECTED = "rejected", _("Not accepted, to answer again")
    WITHDRAWN = "withdrawn", _("Withdrawn")  # the reviewer took the question back, with a reason: settled


# Requests still waiting on somebody. Any of them stops the form from being recommended or approved:
# an answer the reviewer has not judged yet is no more a check than no answer (reviews.evidence).
UNSETTLED_EVIDENCE_STATES = (EvidenceState.OPEN, EvidenceState.ANSWERED, EvidenceState.REJECTED)


class EvidenceRequestQuerySet(models.QuerySet):
    def visible_to(self, user) -> EvidenceRequestQuerySet:
        """The requests on the forms the user may see."""
        return self.filter(submission__in=Submission.objects.visible_to(user))

    def unsettled(self) -> EvidenceRequestQuerySet:
        return self.filter(state__in=UNSETTLED_EVIDENCE_STATES)


class EvidenceRequest(models.Model):
    """A reviewer's (bureau or ministry) question to the city about one field or one case of its form,
    with the date by which to answer; the city answers with text and attachments, the reviewer accepts
    or rejects the answer, or withdraws the question. Each step is a `CheckEvent` in the form's history."""

    submission = models.ForeignKey(Submission, on_delete=models.PROTECT, related_name="evidence_requests")
    # A data field's model name, "cases", "attachments" or "case:<id>" (as field comments).
    field = models.CharField(_("field or case"), max_length=60)
    question = models.TextField(_("question"))
    due_on = models.DateField(_("answer by"))
    state = models.CharField(_("state"), max_length=10, choices=EvidenceState.choices, default=EvidenceState.OPEN)
    asked_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    asked_role = models.CharField(max_length=10, choices=Role.choices)
    created_at = models.DateTimeField(default=timezone.now)
    # The last judgement: why the answer was not accepted, or why the question was withdrawn.
    closing_reason = models.TextField(_("reason"), blank=True)
    updated_at = models.DateTimeField(default=timezone.now)
    # When the city (and the reviewer) were told the request is past its date: once per request,
    # whatever the number of runs of the periodic reminders (reviews.reminders).
    overdue_reminded_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = EvidenceRequestQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["submission", "state"])]
        verbose_name = _("evidence request")
        verbose_name_plural = _("evidence requests")

    def __str__(self) -> str:
        return f"{self.submission} {self.field}: {self.question[:30]}"

    @property
    def is_unsettled(self) -> bool:
        return self.state in UNSETTLED_EVIDENCE_STATES


class EvidenceAnswer(AppendOnly):
    """One answer of the city to a request (a rejected request is answered again: each answer stays)."""

    request = models.ForeignKey(EvidenceRequest, on_delete=models.PROTECT, related_name="answers")
    text = models.TextField(_("answer"))
    answered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("evidence answer")
        verbose_name_plural = _("evidence answers")

    def __str__(self) -> str:
        return self.text[:40]


class SampleStratum(models.TextChoices):
    NONE = "", _("Not stratified")  # one draw over the whole population
    PROVINCE = "province", _("By province")  # each province gets its proportional share
    REGION = "region", _("By region")  # 东部 / 中部 / 西部 each get their proportional share


class SampleDrawQuerySet(models.QuerySet):
    def visible_to(self, user) -> SampleDrawQuerySet:
        # Sample checks are the ministry's own work (and the administrators', who see everything).
        if not user.is_authenticated or not user.is_active or not user.has_national_scope:
            return self.none()
        return self


class SampleDraw(models.Model):
    """A draw of forms for verification from a round's recommended or approved forms: its parameters,
    its seed and the population it was drawn from (the ids, in order), so that the same draw can be
    repeated and shown identical (`reviews.sampling.draw`)."""

    round = models.ForeignKey(Round, on_delete=models.PROTECT, related_name="sample_draws", verbose_name=_("round"))
    size = models.PositiveIntegerField(_("sample size"), null=True, blank=True)
    share = models.DecimalField(_("share (%)"), max_digits=6, decimal_places=2, null=True, blank=True)
    stratify = models.CharField(_("stratified"), max_length=10, choices=SampleStratum.choices, blank=True)
    # The strata chosen (province codes or regions); empty: all of them.
    strata = models.JSONField(_("strata"), default=list, blank=True)
    seed = models.BigIntegerField(_("seed"))
    # [[submission id, stratum], ...] in id order: the population at the moment of the draw.
    population = models.JSONField(default=list)
    note = models.TextField(_("note"), blank=True)
    drawn_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    objects = SampleDrawQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("sample draw")
        verbose_name_plural = _("sample draws")

    def __str__(self) -> str:
        return f"{self.round.year} #{self.pk} seed {self.seed}"


class VerificationOutcome(models.TextChoices):
    PENDING = "", _("Not verified yet")
    PASSED = "passed", _("Verified")  # 核验通过
    PROBLEMS = "problems", _("Problems found")  # 核验发现问题


class SampleItem(models.Model):
    """One sampled form and the verifier's outcome (核验通过 / 核验发现问题 with findings per
    indicator and attachments)."""

    draw = models.ForeignKey(SampleDraw, on_delete=models.CASCADE, related_name="items")
    submission = models.ForeignKey(Submission, on_delete=models.PROTECT, related_name="sample_items")
    stratum = models.CharField(max_length=20, blank=True)
    outcome = models.CharField(_("outcome"), max_length=10, choices=VerificationOutcome.choices, blank=True, default="")
    # [{"indicator": code, "text": "..."}]
    findings = models.JSONField(_("findings"), default=list, blank=True)
    note = models.TextField(_("note"), blank=True)
    reopened = models.BooleanField(_("reopened to the bureau"), default=False)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    verified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["draw", "submission_id"]
        constraints = [models.UniqueConstraint(fields=["draw", "submission"], name="sample_item_once_per_draw")]
        verbose_name = _("sampled form")
        verbose_name_plural = _("sampled forms")

    def __str__(self) -> str:
        return f"{self.draw_id}: {self.submission}"


def check_file_path(instance: CheckFile, filename: str) -> str:
    # The name on disk is generated; the user's file name is only metadata (as for attachments).
    suffix = ("." + filename.rsplit(".", 1)[-1].lower())[:10] if "." in filename else ""
    return f"checks/{instance.submission_id}/{uuid.uuid4().hex}{suffix}"


class CheckFileQuerySet(models.QuerySet):
    def visible_to(self, user) -> CheckFileQuerySet:
        """An evidence answer's files: whoever sees the form. A verification's files: the ministry."""
        visible = Submission.objects.visible_to(user)
        files = self.filter(submission__in=visible)
        if not (user.is_authenticated and user.has_national_scope):
            files = files.filter(sample_item__isnull=True)
        return files


class CheckFile(AppendOnly):
    """A file given with an evidence answer or a verification outcome: stored privately and downloaded
    only through a view that checks the caller's scope. Checked as attachments are (types, size,
    content)."""

    submission = models.ForeignKey(Submission, on_delete=models.PROTECT, related_name="+")
    answer = models.ForeignKey(EvidenceAnswer, on_delete=models.PROTECT, null=True, blank=True, related_name="files")
    sample_item = models.ForeignKey(SampleItem, on_delete=models.PROTECT, null=True, blank=True, related_name="files")
    file = models.FileField(upload_to=check_file_path, max_length=200)
    original_name = models.CharField(_("file name"), max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(default=timezone.now)

    objects = CheckFileQuerySet.as_manager()

    class Meta:
        ordering = ["uploaded_at", "pk"]
        verbose_name = _("check file")
        verbose_name_plural = _("check files")

    def __str__(self) -> str:
        return self.original_name


class CheckEventKind(models.TextChoices):
    EVIDENCE_REQUESTED = "evidence_requested", _("asked for evidence")
    EVIDENCE_ANSWERED = "evidence_answered", _("answered an evidence request")
    EVIDENCE_ACCEPTED = "evidence_accepted", _("accepted the evidence")
    EVIDENCE_REJECTED = "evidence_rejected", _("did not accept the evidence")
    EVIDENCE_WITHDRAWN = "evidence_withdrawn", _("withdrew an evidence request")
    SAMPLED = "sampled", _("drew the form for a sample check")
    VERIFIED = "verified", _("recorded the sample check's outcome")


class CheckEvent(AppendOnly):
    """One step of an evidence request or a sample check, in the form's history: who, in which role,
    what, when, and the text they gave."""

    submission = models.ForeignKey(Submission, on_delete=models.PROTECT, related_name="check_events")
    kind = models.CharField(max_length=20, choices=CheckEventKind.choices)
    request = models.ForeignKey(EvidenceRequest, on_delete=models.PROTECT, null=True, blank=True, related_name="events")
    sample_item = models.ForeignKey(SampleItem, on_delete=models.PROTECT, null=True, blank=True, related_name="events")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    actor_role = models.CharField(max_length=10, choices=Role.choices)
    text = models.TextField(blank=True)
    details = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("check event")
        verbose_name_plural = _("check events")

    def __str__(self) -> str:
        return f"{self.submission} {self.kind}"

    @property
    def is_check(self) -> bool:
        return True

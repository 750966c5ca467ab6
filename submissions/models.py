"""A city's survey form (千兆城市总结评估调查表) for one round, everything that happens to it, and its
scores. The rules that compute and judge the numbers live in `indicators.rules`; the writes live in
`submissions.services` and `submissions.workflow`."""

from __future__ import annotations

import uuid
from pathlib import PurePosixPath

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import Exists, Expression, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gigacity.errors import ApplicationError, Conflict, RoleNotAllowed
from gigacity.i18n import pick
from gigacity.models import City, Role, reader_scope
from indicators.catalogue import (
    CASE_DOMAINS,
    INDICATOR_CODES,
    INPUT_NAMES,
    KEY_SITE_FIELDS,
    OPERATOR_INPUTS,
)
from indicators.models import Operator, Round, RoundStatus


class Status(models.TextChoices):
    DRAFT = "draft", _("Draft")  # the city is filling it in; nobody else acts on it yet
    SUBMITTED = "submitted", _("Submitted")  # waiting for the provincial bureau's check
    RETURNED = "returned", _("Returned")  # the bureau sent it back to the city with comments
    RECOMMENDED = "recommended", _("Recommended")  # the bureau recommends it to the ministry
    SENT_BACK = "sent_back", _("Sent back to bureau")  # the ministry asks the bureau to look again
    APPROVED = "approved", _("Approved")  # named a Gigabit City of the round's year
    REJECTED = "rejected", _("Rejected")  # not named this round


# A city without a form in the round yet: not a state of a submission, but shown beside them.
NOT_STARTED = "not_started"


class FormKind(models.TextChoices):
    """Which question a form answers: the same form, scoring, flags and bureau review either way; the
    ministry's decision differs."""

    EVALUATION = "evaluation", _("Evaluation")  # 评估申报: a city not yet named asks to be named
    ANNUAL_REPORT = "annual_report", _("Annual report")  # 年度复核: a Gigabit City reports again


# The decided states read differently for each kind: an evaluation is approved (the city is named)
# or rejected; an annual report is confirmed (复核通过) or not confirmed (复核未通过).
DECISION_LABELS = {
    (FormKind.ANNUAL_REPORT, Status.APPROVED): _("Confirmed"),
    (FormKind.ANNUAL_REPORT, Status.REJECTED): _("Not confirmed"),
}


def status_label(status: str, kind: str = FormKind.EVALUATION) -> str:
    """A form's state in words that fit its kind."""
    return str(DECISION_LABELS.get((kind, status)) or Status(status).label)


# The city may change the data only in these states (the bureau may, on its behalf, too).
EDITABLE_STATES = (Status.DRAFT, Status.RETURNED)
# Decided by the ministry: the end of the workflow for the round.
FINAL_STATES = (Status.APPROVED, Status.REJECTED)
# Forms that have left the city's hands and are not back with it: their data count. They are the
# ones scored, compared with each other for outliers, shown as last year's values and averaged on
# the dashboards.
REPORTED_STATES = (Status.SUBMITTED, Status.RECOMMENDED, Status.SENT_BACK, *FINAL_STATES)


class ScoringState(models.TextChoices):
    IDLE = "idle", _("Not requested")  # drafts are not scored
    PENDING = "pending", _("Pending")  # requested; the worker will pick it up (the sweep makes sure)
    SCORED = "scored", _("Scored")
    FAILED = "failed", _("Failed")  # could not be scored; the reason is kept


class FiguresCheck(models.TextChoices):
    """How the form's counts compare with the operators' figures, as of its latest score."""

    CONSISTENT = "consistent", _("Consistent with the operators")  # every compared count within tolerance
    MISMATCH = "mismatch", _("Inconsistent with the operators")  # a count outside the tolerance
    UNREPORTED = "unreported", _("Operators' figures missing")  # within tolerance where compared, some not reported


class SubmissionQuerySet(models.QuerySet):
    def visible_to(self, user) -> SubmissionQuerySet:
        """Every submission the user may see: a city official its own city's, a bureau its
        province's, ministry staff and administrators all."""
        kind, key = reader_scope(user)
        return self.in_scope(kind, **key)

    def in_scope(self, kind: str, scope: str = "") -> SubmissionQuerySet:
        """The submissions of a scope as `reader_scope` gives it (a statement's build takes the
        scope's kind and key apart: `gigacity.statements`)."""
        if kind == "all":
            return self
        if kind == "province":
            return self.filter(city__province_id=scope)
        if kind == "city":
            return self.filter(city_id=scope)
        return self.none()

    def with_latest_score(self) -> SubmissionQuerySet:
        """Annotate the latest score's data version and threshold version, and whether the data have
        changed since it (`Submission.score_outdated` reads them). Workflow steps move the version
        too, so a later version alone does not make a score old: only a data change after it does."""
        latest = Score.objects.filter(submission=OuterRef("pk")).order_by("-created_at", "-pk")
        return self.annotate(
            scored_version=Subquery(latest.values("version")[:1]),
            scored_threshold_version=Subquery(latest.values("threshold_version")[:1]),
            data_changed_since_score=Exists(
                DataChange.objects.filter(submission=OuterRef("pk"), version__gt=OuterRef("scored_version"))
            ),
        )


def _input_field(name: str) -> models.PositiveBigIntegerField:
    return models.PositiveBigIntegerField(name, null=True, blank=True)


class Submission(models.Model):
    """One city's survey form in one round: raw inputs, computed indicators, practices, contact,
    its place in the workflow and the state of its scoring."""

    city = models.ForeignKey(City, on_delete=models.PROTECT, related_name="submissions", verbose_name=_("city"))
    round = models.ForeignKey(Round, on_delete=models.PROTECT, related_name="submissions", verbose_name=_("round"))
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.DRAFT)
    # An annual report when the city was named in an earlier round, else an evaluation; set when the
    # form is opened and kept in step with the designations until the ministry decides
    # (`submissions.kinds`).
    kind = models.CharField(_("kind of form"), max_length=14, choices=FormKind.choices, default=FormKind.EVALUATION)
    # Optimistic lock: every write bumps it; a save based on an older version is refused.
    version = models.PositiveIntegerField(_("version"), default=1)

    # 基本情况
    data_as_of = models.DateField(_("data as of"), null=True, blank=True)
    contact_name = models.CharField(_("contact person"), max_length=50, blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=30, blank=True)
    contact_email = models.EmailField(_("contact e-mail"), blank=True)

    # Raw inputs (public names of PRODUCT.md); the indicators are computed from them.
    gigabit_capable_households = _input_field("gigabit_capable_households")
    urban_households = _input_field("urban_households")
    pon_10g_ports = _input_field("pon_10g_ports")
    pon_ports_total = _input_field("pon_ports_total")
    key_sites_5g_covered = _input_field("key_sites_5g_covered")
    key_sites_total = _input_field("key_sites_total")
    bs5g_count = _input_field("bs5g_count")
    resident_population = _input_field("resident_population")
    users_500m_plus = _input_field("users_500m_plus")
    broadband_users_total = _input_field("broadband_users_total")
    users_1000m = _input_field("users_1000m")
    users_5g = _input_field("users_5g")
    mobile_users_total = _input_field("mobile_users_total")

    # Key sites per category; when filled in, key_sites_total/key_sites_5g_covered are their sums.
    ks_hospital_total = _input_field("ks_hospital_total")
    ks_hospital_covered = _input_field("ks_hospital_covered")
    ks_university_total = _input_field("ks_university_total")
    ks_university_covered = _input_field("ks_university_covered")
    ks_tourism_total = _input_field("ks_tourism_total")
    ks_tourism_covered = _input_field("ks_tourism_covered")
    ks_railway_total = _input_field("ks_railway_total")
    ks_railway_covered = _input_field("ks_railway_covered")
    ks_airport_total = _input_field("ks_airport_total")
    ks_airport_covered = _input_field("ks_airport_covered")
    ks_road_total = _input_field("ks_road_total")
    ks_road_covered = _input_field("ks_road_covered")

    # 典型做法 and 支持政策
    practice_network = models.TextField(_("practices in network building"), blank=True)
    practice_users = models.TextField(_("practices in user adoption"), blank=True)
    practice_applications = models.TextField(_("practices in applications"), blank=True)
    support_policies = models.TextField(_("local support policies"), blank=True)

    # Computed by the server on every save (the server's value is the truth); kept as columns so
    # that dashboards aggregate in the database.
    value_fiber_gigabit_coverage = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    value_pon_10g_share = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    value_key_sites_5g_reach = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    value_bs5g_per_10k = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    value_users_500m_share = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    value_users_1000m = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    value_users_5g_share = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    cases_count = models.PositiveSmallIntegerField(default=0)

    recommend_note = models.TextField(_("recommendation note"), blank=True)
    # An annual report the ministry did not confirm: the indicators that fell short (codes of the
    # catalogue, "applications" for the cases) and the date by which the city is to improve.
    shortfall = models.JSONField(_("indicators that fell short"), default=list, blank=True)
    improvement_due = models.DateField(_("improvement due"), null=True, blank=True)
    # The form this one started from (the city's last form): contact, practices and cases carried over.
    carried_from = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("carried over from")
    )

    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)

    # Scoring (reliability.md §4.3): the row is the truth, the broker only wakes the worker.
    scoring_state = models.CharField(max_length=10, choices=ScoringState.choices, default=ScoringState.IDLE)
    scoring_attempts = models.PositiveSmallIntegerField(default=0)
    scoring_requested_at = models.DateTimeField(null=True, blank=True)
    scoring_touched_at = models.DateTimeField(null=True, blank=True)
    scoring_error = models.CharField(max_length=500, blank=True)
    # The latest score, copied here so that queues sort and filter without a join.
    meets_all = models.BooleanField(null=True, blank=True)
    missed_count = models.PositiveSmallIntegerField(null=True, blank=True)
    flag_severity = models.PositiveSmallIntegerField(default=0)  # 0 none, 1 info, 2 warning, 3 critical
    flags_count = models.PositiveSmallIntegerField(default=0)
    # The latest score's comparison with the operators' figures (issue 13), for the queue's filter.
    figures_check = models.CharField(max_length=12, choices=FiguresCheck.choices, blank=True)

    objects = SubmissionQuerySet.as_manager()

    class Meta:
        ordering = ["round", "city"]
        verbose_name = _("submission")
        verbose_name_plural = _("submissions")
        constraints = [
            models.UniqueConstraint(fields=["city", "round"], name="submission_unique_per_city_round"),
            models.CheckConstraint(condition=Q(status__in=Status.values), name="submission_status_valid"),
        ]
        indexes = [
            models.Index(fields=["round", "status"]),
            models.Index(fields=["scoring_state", "scoring_touched_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.city} {self.round.year}"

    @property
    def is_annual_report(self) -> bool:
        return self.kind == FormKind.ANNUAL_REPORT

    @property
    def status_label(self) -> str:
        return status_label(self.status, self.kind)

    @property
    def inputs(self) -> dict[str, int | None]:
        return {name: getattr(self, name) for name in INPUT_NAMES}

    @property
    def key_site_counts(self) -> dict[str, int | None]:
        return {name: getattr(self, name) for name in KEY_SITE_FIELDS}

    @property
    def checked_inputs(self) -> dict:
        """The inputs and the key-site counts by category: everything the consistency rules check
        (a category's sites reached by 5G above its sites is as contradictory as 5G users above
        mobile users), at submission, in scoring and in an Excel import alike."""
        return {**self.inputs, **self.key_site_counts}

    @property
    def indicator_values(self) -> dict:
        return {code: getattr(self, f"value_{code}") for code in INDICATOR_CODES}

    def edit_refusal(self, user) -> ApplicationError | None:
        """The one rule of who may change the form now, and why not: the city, or its provincial
        bureau on its behalf, while the form is a draft or returned and its round is open. None when
        `user` may; otherwise the refusal to raise or show. (Scope is not judged here: a form outside
        the user's scope is not found at all.)"""
        if user.role not in (Role.CITY, Role.BUREAU):
            return RoleNotAllowed(_("Only the city, or its provincial bureau on its behalf, can change the form."))
        if self.round.status != RoundStatus.OPEN:
            return Conflict(
                _("The %(year)s round is not open; the form can no longer be changed.") % {"year": self.round.year}
            )
        if self.status not in EDITABLE_STATES:
            return Conflict(
                _(
                    "The form is “%(status)s” and cannot be changed now. It can be changed again if the bureau "
                    "returns it."
                )
                % {"status": Status(self.status).label}
            )
        return None

    def can_edit(self, user) -> bool:
        return self.edit_refusal(user) is None

    @property
    def score_outdated(self) -> bool:
        """Whether the latest score no longer describes the form. Only on a row read through
        `with_latest_score()`."""
        return score_outdated(
            scored_version=self.scored_version,
            scored_threshold_version=self.scored_threshold_version,
            data_changed_since_score=self.data_changed_since_score,
            threshold_version=self.round.threshold_version,
        )


def score_outdated(
    *,
    scored_version: int | None,
    scored_threshold_version: int | None,
    data_changed_since_score: bool,
    threshold_version: int,
) -> bool:
    """Whether a form's latest score (its annotations from `with_latest_score()`) no longer describes
    it: its data changed after it, or the round's thresholds (now `threshold_version`) did."""
    if scored_version is None:
        return False
    return data_changed_since_score or scored_threshold_version != threshold_version


class CaseDomain(models.TextChoices):
    CONSUMER = "consumer", _("Information consumption")  # 信息消费
    INDUSTRY = "industry", _("Vertical industries")  # 垂直行业
    LIVELIHOOD = "livelihood", _("Public services and livelihood")  # 社会民生
    GOVERNMENT = "government", _("Digital government")  # 数字政府
    OTHER = "other", _("Other")  # 其他


assert [d[0] for d in CASE_DOMAINS] == CaseDomain.values, "one list of case domains"


class Case(models.Model):
    """A "双千兆" collaborative application case (应用创新); at least 5 are needed to submit."""

    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="cases")
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    # Blank is allowed while the form is a draft; submitting requires both.
    title = models.CharField(_("title"), max_length=200, blank=True)
    domain = models.CharField(_("domain"), max_length=20, choices=CaseDomain.choices, blank=True)
    description = models.TextField(_("description"), blank=True)
    pain_points = models.TextField(_("difficulties, pain points or bottlenecks solved"), blank=True)
    replicability = models.TextField(_("why it can be replicated"), blank=True)
    partners = models.CharField(_("partners"), max_length=500, blank=True)
    # Set by the bureau when it recommends the submission: recommended as an excellent case (优秀案例).
    is_excellent = models.BooleanField(_("recommended as excellent"), default=False)
    # Carried over from the city's form of that year when this year's form was opened; cleared as soon
    # as the city changes the case (it is then this year's).
    carried_from_year = models.PositiveSmallIntegerField(_("carried over from"), null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["submission", "position", "pk"]
        verbose_name = _("application case")
        verbose_name_plural = _("application cases")

    def __str__(self) -> str:
        return self.title


def attachment_path(instance: Attachment, filename: str) -> str:
    # The name on disk is generated; the user's file name is only metadata (ASVS 5.3.2).
    suffix = PurePosixPath(filename).suffix.lower()[:10]
    return f"attachments/{instance.submission_id}/{uuid.uuid4().hex}{suffix}"


class AttachmentQuerySet(models.QuerySet):
    def visible_to(self, user) -> AttachmentQuerySet:
        """The attachments of the submissions the user may see."""
        return self.filter(submission__in=Submission.objects.visible_to(user))


class AttachmentKind(models.TextChoices):
    EVIDENCE = "evidence", _("Evidence")  # supports a case or the form
    COVER_LETTER = "cover_letter", _("Stamped cover letter")  # 盖章报送函: at most one per form


class Attachment(models.Model):
    """Evidence attached to a case (or to the submission), or the form's stamped cover letter: stored
    privately, downloaded only through a view that checks the caller's scope."""

    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="attachments")
    kind = models.CharField(_("kind"), max_length=20, choices=AttachmentKind.choices, default=AttachmentKind.EVIDENCE)
    case = models.ForeignKey(Case, on_delete=models.CASCADE, null=True, blank=True, related_name="attachments")
    file = models.FileField(upload_to=attachment_path, max_length=200)
    original_name = models.CharField(_("file name"), max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(default=timezone.now)

    objects = AttachmentQuerySet.as_manager()

    class Meta:
        ordering = ["uploaded_at", "pk"]
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")

    def __str__(self) -> str:
        return self.original_name


class AppendOnly(models.Model):
    """A record of history: written once, never changed or deleted through the application."""

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if self.pk is not None and not self._state.adding:
            raise PermissionDenied("history records cannot be changed")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionDenied("history records cannot be deleted")


class Action(models.TextChoices):
    SUBMIT = "submit", _("Submit")
    RETURN = "return", _("Return to city")
    RECOMMEND = "recommend", _("Recommend")
    APPROVE = "approve", _("Approve")
    REJECT = "reject", _("Reject")
    SEND_BACK = "send-back", _("Send back to bureau")
    CONFIRM = "confirm", _("Confirm")  # an annual report: the city still meets the standard (复核通过)
    NOT_CONFIRM = "not-confirm", _("Not confirm")  # an annual report: it fell short (复核未通过)
    REOPEN = "reopen", _("Reopen to bureau")  # a sample check found a problem (抽查核验发现问题)


class SubmissionEvent(AppendOnly):
    """One step of the workflow: who (in which role), from which state to which, why, and when, with
    a snapshot of the data at that moment (the bureau's diff since a return compares snapshots)."""

    submission = models.ForeignKey(Submission, on_delete=models.PROTECT, related_name="events")
    action = models.CharField(max_length=12, choices=Action.choices)
    from_status = models.CharField(max_length=12, choices=Status.choices)
    to_status = models.CharField(max_length=12, choices=Status.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    actor_role = models.CharField(max_length=10, choices=Role.choices)
    reason = models.TextField(blank=True)
    details = models.JSONField(default=dict, blank=True)
    snapshot = models.JSONField(default=dict, blank=True)
    version = models.PositiveIntegerField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("workflow event")
        verbose_name_plural = _("workflow events")

    def __str__(self) -> str:
        return f"{self.submission} {self.from_status} → {self.to_status}"


class ChangeSource(models.TextChoices):
    FORM = "form", _("Web form")
    API = "api", _("API")
    EXCEL = "excel", _("City Excel template")
    PROVINCE_EXCEL = "province_excel", _("Province workbook")
    SYSTEM = "system", _("System")


class DataChange(AppendOnly):
    """One save of the data: every field that changed with its value before and after."""

    submission = models.ForeignKey(Submission, on_delete=models.PROTECT, related_name="data_changes")
    version = models.PositiveIntegerField(help_text=_("The submission's version after this change."))
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    actor_role = models.CharField(max_length=10, choices=Role.choices)
    source = models.CharField(max_length=20, choices=ChangeSource.choices)
    # {field: [before, after]}; cases appear as "case:<id>.title", and "case:<id>" when added or removed;
    # attachments as "attachment:<id>".
    changes = models.JSONField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("data change")
        verbose_name_plural = _("data changes")

    def __str__(self) -> str:
        return f"{self.submission} v{self.version}"

    @property
    def on_behalf(self) -> bool:
        """Made by the bureau for the city (代填)."""
        return self.actor_role == Role.BUREAU


class FieldComment(AppendOnly):
    """A reviewer's comment on one field or one case, given with a return; the city sees it next to
    the field it concerns. `field` is an input or form field name, or "case:<id>"."""

    submission = models.ForeignKey(Submission, on_delete=models.PROTECT, related_name="field_comments")
    event = models.ForeignKey(SubmissionEvent, on_delete=models.PROTECT, related_name="field_comments")
    field = models.CharField(max_length=60)
    message = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("field comment")
        verbose_name_plural = _("field comments")

    def __str__(self) -> str:
        return f"{self.field}: {self.message[:40]}"


class Extension(AppendOnly):
    """A later deadline the bureau granted one city for one round; the latest one applies."""

    city = models.ForeignKey(City, on_delete=models.PROTECT, related_name="extensions")
    round = models.ForeignKey(Round, on_delete=models.PROTECT, related_name="extensions")
    until = models.DateField(_("extended until"))
    reason = models.TextField(_("reason"))
    granted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("deadline extension")
        verbose_name_plural = _("deadline extensions")

    def __str__(self) -> str:
        return f"{self.city} {self.round.year} → {self.until}"


def latest_extension(round_: Round | OuterRef, city: str = "pk") -> Subquery:
    """SQL: the date of the latest extension the city (the outer row's `city`) got in the round."""
    return Subquery(
        Extension.objects.filter(city=OuterRef(city), round=round_).order_by("-created_at", "-pk").values("until")[:1],
        output_field=models.DateField(),
    )


def _later(extended: Expression, deadline: Expression) -> Expression:
    """SQL: the later of a round's deadline and a city's extension, either of which may be NULL. On
    SQLite Greatest is NULL as soon as one side is; each Coalesce stands in for the other side."""
    return Greatest(Coalesce(extended, deadline), Coalesce(deadline, extended), output_field=models.DateField())


def deadline_expression(round_: Round, city: str = "pk") -> Expression:
    """SQL: a city's deadline in the round, the one rule of it: the round's deadline, or the city's
    latest extension when that is later. Python asks it through `submissions.services.effective_deadline`,
    the dashboards and reminders annotate their rows with it."""
    extended = latest_extension(round_, city)
    if round_.deadline is None:
        return extended
    return _later(extended, Value(round_.deadline, output_field=models.DateField()))


def form_deadline_expression() -> Expression:
    """SQL: `deadline_expression` of the outer form's city in the form's round, for a query of forms
    (the form's pages read it with the form)."""
    return _later(latest_extension(OuterRef("round_id"), "city_id"), models.F("round__deadline"))


class Score(models.Model):
    """The result of scoring one version of a submission against one version of its round's
    thresholds. Exactly one per (submission, version, threshold version): a re-score under new
    thresholds is a new row, never an overwrite."""

    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="scores")
    version = models.PositiveIntegerField()
    threshold_version = models.PositiveIntegerField()
    results = models.JSONField()  # [{code, value, threshold, passed, margin, margin_relative}]
    cases_count = models.PositiveSmallIntegerField()
    case_domains = models.JSONField(default=list)
    meets_all = models.BooleanField()
    missed = models.PositiveSmallIntegerField()
    max_severity = models.PositiveSmallIntegerField(default=0)
    # Which operators' figures and tolerance the comparison used ("<latest figure id>:<tolerance>"):
    # new figures or a new tolerance make a new score, like a new threshold version does.
    figures_key = models.CharField(max_length=40, default="", blank=True)
    # The comparison with the operators' figures (indicators.crosscheck.Comparison.as_dicts()).
    comparison = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]
        get_latest_by = "created_at"
        constraints = [
            models.UniqueConstraint(
                fields=["submission", "version", "threshold_version", "figures_key"], name="score_once_per_version"
            )
        ]

    def __str__(self) -> str:
        return f"{self.submission} v{self.version}/t{self.threshold_version}"


class Flag(models.Model):
    """Something a reviewer should look at, raised by scoring."""

    class Severity(models.IntegerChoices):
        INFO = 1, _("Info")
        WARNING = 2, _("Warning")
        CRITICAL = 3, _("Critical")

    score = models.ForeignKey(Score, on_delete=models.CASCADE, related_name="flags")
    code = models.CharField(max_length=40)
    severity = models.PositiveSmallIntegerField(choices=Severity.choices)
    indicator = models.CharField(max_length=40, blank=True)
    message_zh = models.CharField(max_length=500)
    message_en = models.CharField(max_length=500)
    # The numbers behind the flag where a person wants them (the comparison: both figures, the
    # operators missing).
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-severity", "pk"]

    def __str__(self) -> str:
        return f"{self.code} ({self.severity})"

    @property
    def message(self) -> str:
        return pick(self.message_zh, self.message_en)

    @property
    def severity_label(self) -> str:
        return self.Severity(self.severity).name.lower()


class OperatorFigureSource(models.TextChoices):
    PAGE = "page", _("Web page")
    EXCEL = "excel", _("Excel workbook")
    API = "api", _("API")


class OperatorFigureQuerySet(models.QuerySet):
    def visible_to(self, user) -> OperatorFigureQuerySet:
        """An operator's branch sees its own operator's figures in its province; a bureau every
        operator's in its province; ministry staff all; city officials none (they are the ones checked)."""
        if not user.is_authenticated or not user.is_active:
            return self.none()
        if user.has_national_scope:
            return self
        if user.role == Role.OPERATOR and user.province_id and user.operator_id:
            return self.filter(city__province_id=user.province_id, operator_id=user.operator_id)
        if user.role == Role.BUREAU and user.province_id:
            return self.filter(city__province_id=user.province_id)
        return self.none()

    def current(self) -> OperatorFigureQuerySet:
        """The latest report of each (round, city, operator): the figures that count."""
        latest = (
            OperatorFigure.objects.filter(
                round_id=OuterRef("round_id"), city_id=OuterRef("city_id"), operator_id=OuterRef("operator_id")
            )
            .order_by("-pk")
            .values("pk")[:1]
        )
        return self.filter(pk=Subquery(latest))


def _figure_field(name: str) -> models.PositiveBigIntegerField:
    return models.PositiveBigIntegerField(name, null=True, blank=True)


class OperatorFigure(AppendOnly):
    """The counts one operator reported for one city in one round (issue 13). Append-only: a new report
    is a new row and the latest one counts, so every figure ever reported stays on record. An empty
    column is a count the operator did not report."""

    round = models.ForeignKey(Round, on_delete=models.PROTECT, related_name="operator_figures")
    city = models.ForeignKey(City, on_delete=models.PROTECT, related_name="operator_figures")
    operator = models.ForeignKey(Operator, on_delete=models.PROTECT, related_name="figures")
    pon_10g_ports = _figure_field("pon_10g_ports")
    pon_ports_total = _figure_field("pon_ports_total")
    bs5g_count = _figure_field("bs5g_count")
    users_500m_plus = _figure_field("users_500m_plus")
    broadband_users_total = _figure_field("broadband_users_total")
    users_1000m = _figure_field("users_1000m")
    users_5g = _figure_field("users_5g")
    mobile_users_total = _figure_field("mobile_users_total")
    reported_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    # A bureau entered the operator's figures for it (e.g. uploaded the workbook the operator e-mailed).
    on_behalf = models.BooleanField(default=False)
    source = models.CharField(max_length=8, choices=OperatorFigureSource.choices)
    reported_at = models.DateTimeField(default=timezone.now)

    objects = OperatorFigureQuerySet.as_manager()

    class Meta:
        ordering = ["round", "city", "operator", "-pk"]
        verbose_name = _("operator's figures")
        verbose_name_plural = _("operators' figures")
        indexes = [models.Index(fields=["round", "city", "operator", "-id"], name="operator_figure_latest")]

    def __str__(self) -> str:
        return f"{self.round.year} {self.city} {self.operator}"

    @property
    def values(self) -> dict[str, int | None]:
        return {name: getattr(self, name) for name in OPERATOR_INPUTS}

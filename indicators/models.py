"""The evaluation's yardsticks: the indicator catalogue, the yearly rounds with their thresholds (and
the history of every change to them), national reference values, and the cities named Gigabit
Cities. Nothing here knows about submissions or reviews."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gigacity.i18n import pick
from gigacity.models import City
from gigacity.statements import Statement

from .catalogue import INDICATOR_CODES, Category, Kind
from .rules import FlagSettings


class Indicator(models.Model):
    """One of the 7 quantitative indicators, or the application-case requirement (code
    `applications`). The formulas are fixed in `indicators.catalogue`; this row makes them readable
    in the admin and gives thresholds something to point at."""

    code = models.CharField(_("code"), max_length=40, primary_key=True)
    name_zh = models.CharField(_("Chinese name"), max_length=60)
    name_en = models.CharField(_("English name"), max_length=80)
    unit_zh = models.CharField(_("unit (Chinese)"), max_length=20)
    unit_en = models.CharField(_("unit (English)"), max_length=30)
    kind = models.CharField(_("kind"), max_length=10, choices=[(k.value, k.value) for k in Kind])
    category = models.CharField(_("category"), max_length=20, choices=[(c.value, c.value) for c in Category])
    formula_zh = models.CharField(_("formula (Chinese)"), max_length=200)
    formula_en = models.CharField(_("formula (English)"), max_length=200)
    inputs = models.JSONField(_("raw inputs"), default=list)
    decimals = models.PositiveSmallIntegerField(_("decimals"), default=1)
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        ordering = ["order"]
        verbose_name = _("indicator")
        verbose_name_plural = _("indicators")

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return pick(self.name_zh, self.name_en)

    @property
    def unit(self) -> str:
        return pick(self.unit_zh, self.unit_en)

    @property
    def formula(self) -> str:
        return pick(self.formula_zh, self.formula_en)


class Operator(models.Model):
    """A basic telecom operator (基础电信企业) whose provincial branches report the counts they hold
    for each city (reference data, loaded with `load_reference`; the codes are ours, short and
    stable: `telecom`, `mobile`, `unicom`, `broadnet`)."""

    code = models.CharField(_("code"), max_length=12, primary_key=True)
    name_zh = models.CharField(_("Chinese name"), max_length=20, unique=True)
    name_en = models.CharField(_("English name"), max_length=40)
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        ordering = ["order", "code"]
        verbose_name = _("telecom operator")
        verbose_name_plural = _("telecom operators")

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return pick(self.name_zh, self.name_en)


# A city's count may differ from the operators' sum by this share (%) before it is flagged. Operators
# count from their own systems at month end and the city copies them, usually some weeks later and
# sometimes for a slightly different area: one month's growth of 5G users was about 3 % in 2021-2023,
# so a tolerance well below that flags honest timing differences, and one far above it lets a typing
# error that moves an indicator across its threshold pass. Ministry staff change it per round.
DEFAULT_OPERATOR_TOLERANCE = Decimal("5")


class RoundStatus(models.TextChoices):
    DRAFT = "draft", _("Being prepared")  # not yet visible to cities
    OPEN = "open", _("Open")  # cities fill in and submit, bureaus review, the ministry decides
    CLOSED = "closed", _("Closed")  # no more submissions; decisions may still be taken
    PUBLISHED = "published", _("Published")  # the year's list is out; decisions are frozen


class RoundQuerySet(models.QuerySet):
    def visible_to(self, user) -> RoundQuerySet:
        """Rounds being prepared are the ministry's business; everyone else sees the others."""
        return self.in_scope(national=getattr(user, "has_national_scope", False))

    def in_scope(self, *, national: bool) -> RoundQuerySet:
        """`visible_to`'s rule by the reader's scope alone (a statement's build takes it as its shape)."""
        return self if national else self.exclude(status=RoundStatus.DRAFT)

    def open(self) -> Round | None:
        """The round cities fill in now (the latest open one)."""
        return self.filter(status=RoundStatus.OPEN).order_by("-year").first()

    def current(self) -> Round | None:
        """The open round; failing that, the latest round that is not being prepared."""
        return current_among(self.exclude(status=RoundStatus.DRAFT))


def current_among(rounds: Iterable[Round]) -> Round | None:
    """`RoundQuerySet.current()` among rounds read already (a page's round list, say): the latest
    open one; failing that, the latest one that is not being prepared."""
    latest_first = sorted(rounds, key=lambda round_: round_.year, reverse=True)
    return next((r for r in latest_first if r.status == RoundStatus.OPEN), None) or next(
        (r for r in latest_first if r.status != RoundStatus.DRAFT), None
    )


# What ministry staff may edit on a round (the round page, the admin); its status changes only
# through open, close and publish, which follow the allowed steps.
ROUND_SETTINGS = (
    "notice",
    "opens_on",
    "deadline",
    "data_as_of",
    "thresholds_provisional",
    "borderline_margin",
    "jump_ratio",
    "population_change_limit",
    "outlier_z",
    "cover_letter_required",
    "circular_policies",
)


class Round(models.Model):
    """An evaluation round (年度): its dates, status and its own threshold set."""

    year = models.PositiveSmallIntegerField(_("year"), unique=True)
    status = models.CharField(_("status"), max_length=10, choices=RoundStatus.choices, default=RoundStatus.DRAFT)
    notice = models.CharField(_("notice"), max_length=120, blank=True, help_text=_("e.g. 工信厅通信函〔2021〕172号"))
    opens_on = models.DateField(_("opening date"), null=True, blank=True)
    deadline = models.DateField(_("deadline"), null=True, blank=True)
    data_as_of = models.DateField(_("data as of"), null=True, blank=True)
    published_on = models.DateField(_("results published on"), null=True, blank=True)
    thresholds_provisional = models.BooleanField(
        _("thresholds provisional"),
        default=False,
        help_text=_("The thresholds come from public reports and are still to be confirmed by ministry staff."),
    )
    # Bumped by every threshold change; a score records the version it was computed against.
    threshold_version = models.PositiveIntegerField(_("threshold version"), default=1)
    borderline_margin = models.DecimalField(
        _("borderline margin"),
        max_digits=5,
        decimal_places=3,
        default=Decimal("0.03"),
        help_text=_("A value that passes by less than this share of the threshold is flagged as borderline."),
    )
    jump_ratio = models.DecimalField(
        _("jump ratio"),
        max_digits=5,
        decimal_places=3,
        default=Decimal("0.5"),
        help_text=_("A change against the city's previous round larger than this share is flagged."),
    )
    population_change_limit = models.DecimalField(
        _("population change limit"),
        max_digits=5,
        decimal_places=3,
        default=Decimal("0.1"),
        help_text=_("A change of resident population larger than this share is flagged."),
    )
    outlier_z = models.DecimalField(
        _("outlier cut-off"),
        max_digits=4,
        decimal_places=2,
        default=Decimal("3.5"),
        help_text=_("Robust z-score (median/MAD) above which a value is flagged as an outlier."),
    )

    # Documents (issue 14): what a city sends with its form, and the shape of the circular's 附件1.
    cover_letter_required = models.BooleanField(
        _("stamped cover letter required"),
        default=False,
        help_text=_("Cities must upload their stamped cover letter (盖章报送函, PDF or image) before they submit."),
    )
    circular_policies = models.BooleanField(
        _("support policies in the circular's table"),
        default=True,
        help_text=_(
            "Annex 1 of the circular lists each Gigabit City's support policies beside its key indicators "
            "(MIIT's table from 2023 on)."
        ),
    )

    # Issue 13: how far a city's count may be from the operators' sum (a percentage of that sum).
    # Changed only through `submissions.operators.round_tolerance_set`, which keeps the history.
    operator_tolerance = models.DecimalField(
        _("tolerance against the operators' figures (%)"),
        max_digits=5,
        decimal_places=2,
        default=DEFAULT_OPERATOR_TOLERANCE,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
        help_text=_("A city's count that differs from the sum of the operators' counts by more than this is flagged."),
    )

    objects = RoundQuerySet.as_manager()

    class Meta:
        ordering = ["-year"]
        verbose_name = _("evaluation round")
        verbose_name_plural = _("evaluation rounds")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(operator_tolerance__gte=0, operator_tolerance__lte=100),
                name="round_operator_tolerance_percentage",
            )
        ]

    def __str__(self) -> str:
        return _("%(year)s round") % {"year": self.year}

    @property
    def flag_settings(self) -> FlagSettings:
        return FlagSettings(
            borderline_margin=self.borderline_margin,
            jump_ratio=self.jump_ratio,
            population_change_limit=self.population_change_limit,
            outlier_z=self.outlier_z,
        )

    @property
    def is_frozen(self) -> bool:
        return self.status == RoundStatus.PUBLISHED

    def days_to_deadline(self, today: datetime.date | None = None) -> int | None:
        if self.deadline is None:
            return None
        return (self.deadline - (today or timezone.localdate())).days

    def threshold_map(self) -> dict[str, Decimal]:
        """The round's thresholds, code → value (from `prefetch_related("thresholds")` when the
        round was read with them)."""
        if "thresholds" in getattr(self, "_prefetched_objects_cache", {}):
            return {t.indicator_id: t.value for t in self.thresholds.all()}
        return round_thresholds(self.pk).values


class Threshold(models.Model):
    """The line an indicator must reach in one round (value ≥ threshold passes)."""

    round = models.ForeignKey(Round, on_delete=models.CASCADE, related_name="thresholds", verbose_name=_("round"))
    indicator = models.ForeignKey(Indicator, on_delete=models.PROTECT, verbose_name=_("indicator"))
    value = models.DecimalField(_("threshold"), max_digits=14, decimal_places=2)

    class Meta:
        ordering = ["round", "indicator__order"]
        verbose_name = _("threshold")
        verbose_name_plural = _("thresholds")
        constraints = [
            models.UniqueConstraint(fields=["round", "indicator"], name="threshold_unique_per_round"),
            models.CheckConstraint(condition=models.Q(value__gte=0), name="threshold_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.round.year} {self.indicator_id} ≥ {self.value}"


@dataclass(frozen=True)
class RoundThresholds:
    version: int  # Round.threshold_version the values belong to
    values: dict[str, Decimal]  # indicator code → threshold


# Every page of a form and every dashboard reads its round's thresholds (`gigacity.statements`).
_THRESHOLDS_OF_ROUND = Statement(
    lambda round_: Threshold.objects.filter(round_id=round_).values_list(
        "indicator_id", "value", "round__threshold_version"
    ),
    keep=True,
)


def round_thresholds(round_id: int) -> RoundThresholds:
    """The one loader of a round's thresholds, with their version, read in one statement: a change
    committed in between must not give values under the other version's number (a score records
    which version it was judged against)."""
    rows = _THRESHOLDS_OF_ROUND(round_=round_id)
    if not rows:
        return RoundThresholds(Round.objects.values_list("threshold_version", flat=True).get(pk=round_id), {})
    return RoundThresholds(rows[0][2], {code: value for code, value, _version in rows})


def thresholds_at_version(round_id: int, version: int) -> dict[str, Decimal] | None:
    """The round's thresholds as they were at a saved version (code → value), or None when the
    round never had that version: the current values with every later change undone, newest first,
    from the history (the history is the record; nothing else keeps old versions)."""
    current = round_thresholds(round_id)
    if not 1 <= version <= current.version:
        return None
    values = dict(current.values)
    later = ThresholdChange.objects.filter(round_id=round_id, version__gt=version).order_by("-version", "-pk")
    for code, old_value in later.values_list("indicator_id", "old_value"):
        if old_value is None:
            values.pop(code, None)
        else:
            values[code] = old_value
    return values


class ThresholdChange(models.Model):
    """One change of one threshold: who, when, from what to what, and why. Never edited."""

    round = models.ForeignKey(Round, on_delete=models.CASCADE, related_name="threshold_changes")
    indicator = models.ForeignKey(Indicator, on_delete=models.PROTECT)
    old_value = models.DecimalField(max_digits=14, decimal_places=2, null=True)
    new_value = models.DecimalField(max_digits=14, decimal_places=2)
    version = models.PositiveIntegerField(help_text=_("The round's threshold version after this change."))
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True)
    reason = models.CharField(_("reason"), max_length=500, blank=True)
    changed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["changed_at", "pk"]
        verbose_name = _("threshold change")
        verbose_name_plural = _("threshold changes")

    def __str__(self) -> str:
        return f"{self.round.year} {self.indicator_id}: {self.old_value} → {self.new_value}"


class ToleranceChange(models.Model):
    """One change of a round's tolerance against the operators' figures: who, when, from what to
    what, and why. Never edited."""

    round = models.ForeignKey(Round, on_delete=models.CASCADE, related_name="tolerance_changes")
    old_value = models.DecimalField(max_digits=5, decimal_places=2)
    new_value = models.DecimalField(max_digits=5, decimal_places=2)
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True)
    reason = models.CharField(_("reason"), max_length=500, blank=True)
    changed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["changed_at", "pk"]
        verbose_name = _("tolerance change")
        verbose_name_plural = _("tolerance changes")

    def __str__(self) -> str:
        return f"{self.round.year}: {self.old_value} % → {self.new_value} %"


class ReferenceValue(models.Model):
    """A national reference value of an indicator for a round (e.g. 2022: 15.7 base stations per
    10 000 people nationally), shown beside the averages of the named cities."""

    round = models.ForeignKey(Round, on_delete=models.CASCADE, related_name="reference_values")
    indicator = models.ForeignKey(Indicator, on_delete=models.PROTECT)
    value = models.DecimalField(_("value"), max_digits=14, decimal_places=2)
    source = models.CharField(_("source"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("national reference value")
        verbose_name_plural = _("national reference values")
        constraints = [models.UniqueConstraint(fields=["round", "indicator"], name="reference_unique_per_round")]

    def __str__(self) -> str:
        return f"{self.round.year} {self.indicator_id} = {self.value}"


class DesignationQuerySet(models.QuerySet):
    def visible_to(self, user) -> DesignationQuerySet:
        # The list of Gigabit Cities is published; scope still follows the caller's cities so that
        # a bureau's dashboard and exports show its own province only.
        return self.filter(city__in=City.objects.visible_to(user))


class Designation(models.Model):
    """A city named a Gigabit City (千兆城市) in a round; the round's year is its batch (批次, 备注 in
    MIIT's tables). A city is named once: from the next round on it files annual reports, which the
    ministry confirms or records as not confirmed, and it is never named again (one row per city,
    enforced by the database)."""

    class Source(models.TextChoices):
        PUBLISHED = "published", _("Published list")  # loaded from the published results
        APPROVED = "approved", _("Approved in gigacity")  # a ministry approval in this system

    city = models.ForeignKey(City, on_delete=models.PROTECT, related_name="designations", verbose_name=_("city"))
    round = models.ForeignKey(Round, on_delete=models.PROTECT, related_name="designations", verbose_name=_("round"))
    source = models.CharField(_("source"), max_length=12, choices=Source.choices)
    designated_on = models.DateField(_("designated on"), null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = DesignationQuerySet.as_manager()

    class Meta:
        ordering = ["round__year", "city"]
        verbose_name = _("Gigabit City designation")
        verbose_name_plural = _("Gigabit City designations")
        constraints = [
            models.UniqueConstraint(
                fields=["city"],
                name="designation_once_per_city",
                violation_error_message=_("This city is a Gigabit City already: a city is named only once."),
            )
        ]

    def __str__(self) -> str:
        return f"{self.round.year} {self.city}"

    @property
    def batch(self) -> int:
        return self.round.year


class PublishedFigureQuerySet(models.QuerySet):
    def visible_to(self, user) -> PublishedFigureQuerySet:
        return self.filter(city__in=City.objects.visible_to(user))


def _published_value(code: str) -> models.DecimalField:
    return models.DecimalField(code, max_digits=14, decimal_places=2, null=True, blank=True)


class PublishedFigure(models.Model):
    """A Gigabit City's key indicators as MIIT published them for a round (附件1
    千兆城市关键指标情况汇总表), loaded from that table: kept apart from the forms cities submit, and
    used where a round has no reported form of the city (rounds before gigacity, say). The columns
    are named like the submission's computed values so that both read the same way."""

    round = models.ForeignKey(Round, on_delete=models.CASCADE, related_name="published_figures")
    city = models.ForeignKey(City, on_delete=models.PROTECT, related_name="published_figures")
    value_fiber_gigabit_coverage = _published_value("fiber_gigabit_coverage")
    value_pon_10g_share = _published_value("pon_10g_share")
    value_key_sites_5g_reach = _published_value("key_sites_5g_reach")
    value_bs5g_per_10k = _published_value("bs5g_per_10k")
    value_users_500m_share = _published_value("users_500m_share")
    value_users_1000m = _published_value("users_1000m")
    value_users_5g_share = _published_value("users_5g_share")
    batch = models.PositiveSmallIntegerField(_("batch"), help_text=_("备注 of the published table: the year named."))
    source = models.CharField(_("source"), max_length=200, blank=True)
    row = models.PositiveIntegerField(_("row in the file"), default=0)
    loaded_at = models.DateTimeField(default=timezone.now)
    loaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    objects = PublishedFigureQuerySet.as_manager()

    class Meta:
        ordering = ["round__year", "city"]
        verbose_name = _("published figure")
        verbose_name_plural = _("published figures")
        constraints = [models.UniqueConstraint(fields=["round", "city"], name="published_once_per_round")]

    def __str__(self) -> str:
        return f"{self.round.year} {self.city} ({_('published')})"

    @property
    def indicator_values(self) -> dict[str, Decimal | None]:
        return {code: getattr(self, f"value_{code}") for code in INDICATOR_CODES}

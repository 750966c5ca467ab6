"""Who uses gigacity and where they belong: users with roles, provinces and cities.

These are the foundation every app builds on; the scope rules (`visible_to`) live here so that a
list, a detail page, an export and a dashboard all start from the same filter.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from django.contrib.auth.models import AbstractUser, UserManager
from django.core.exceptions import PermissionDenied
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .i18n import pick
from .statements import Statement


class Role(models.TextChoices):
    CITY = "city", _("City official")  # fills in the survey form of one city
    BUREAU = "bureau", _("Provincial bureau reviewer")  # reviews the cities of one province
    MINISTRY = "ministry", _("Ministry staff")  # national view, decides, manages rounds
    # A telecom operator's provincial branch (基础电信企业省级公司): reports the counts it holds for the
    # cities of one province; sees its own figures and nothing of the cities' forms (issue 13).
    OPERATOR = "operator", _("Telecom operator (provincial branch)")
    ADMIN = "admin", _("Administrator")  # Django admin: users, cities, rounds


class Region(models.TextChoices):
    # The three economic regions as MIIT's statistics count them (辽宁 is 东部; 吉林 and 黑龙江 are 中部).
    EAST = "east", _("Eastern")
    CENTRAL = "central", _("Central")
    WEST = "west", _("Western")


class ProvinceQuerySet(models.QuerySet):
    def visible_to(self, user) -> ProvinceQuerySet:
        kind, key = reader_scope(user)
        return self.in_scope(kind, **key)

    def in_scope(self, kind: str, scope: str = "") -> ProvinceQuerySet:
        """The provinces of a scope as `reader_scope` gives it: a city official's is the city's."""
        if kind == "all":
            return self
        if kind == "province":
            return self.filter(code=scope)
        if kind == "city":
            return self.filter(cities__code=scope)
        return self.none()


class Province(models.Model):
    """A provincial-level division (省、自治区、直辖市) with its GB/T 2260 code, e.g. 370000 山东省."""

    code = models.CharField(_("code"), max_length=6, primary_key=True)
    name = models.CharField(_("name"), max_length=30, unique=True)
    short_name = models.CharField(_("short name"), max_length=10, help_text=_("As on the map, e.g. 内蒙古"))
    name_en = models.CharField(_("English name"), max_length=40)
    region = models.CharField(_("region"), max_length=10, choices=Region.choices)

    objects = ProvinceQuerySet.as_manager()

    class Meta:
        ordering = ["code"]  # the standard province order of MIIT's tables follows the codes
        verbose_name = _("province")
        verbose_name_plural = _("provinces")

    def __str__(self) -> str:
        return self.name

    @property
    def display_name(self) -> str:
        return pick(self.name, self.name_en)


class CityKind(models.TextChoices):
    PREFECTURE = "prefecture", _("Prefecture-level city or region")  # 地级市、地区、自治州、盟
    MUNICIPALITY = "municipality", _("Municipality")  # 直辖市, evaluated as one unit
    SPECIAL = "special", _("Other evaluated unit")  # not 地级: 雄安新区, 济源


def reader_scope(user) -> tuple[str, dict[str, str]]:
    """Whose cities' data the user may see, as a kind ("all", "province", "city", "none") and the key
    of its province or city (`{"scope": code}`, empty for "all" and "none"): the rule of the
    `visible_to` of cities, provinces and submissions, in a form a statement binds
    (`gigacity.statements`). Not an operator's branch: dashboards, exports and the cities' forms
    start from this scope and are none of its business; its figures' pages list its province's
    cities themselves."""
    if not user.is_authenticated or not user.is_active:
        return "none", {}
    if user.has_national_scope:
        return "all", {}
    if user.role == Role.BUREAU and user.province_id:
        return "province", {"scope": user.province_id}
    if user.role == Role.CITY and user.city_id:
        return "city", {"scope": user.city_id}
    return "none", {}


class CityQuerySet(models.QuerySet):
    def visible_to(self, user) -> CityQuerySet:
        kind, key = reader_scope(user)
        return self.in_scope(kind, **key)

    def in_scope(self, kind: str, scope: str = "", province: str = "") -> CityQuerySet:
        """The cities of a scope as `reader_scope` gives it, of `province` only when one is given."""
        condition = scope_condition(kind, scope, province)
        return self.none() if condition is None else self.filter(condition)


def scope_condition(kind: str, scope: str = "", province: str = "", *, city: str = "") -> Q | None:
    """The condition on a row's city (`city`: the path to it, "city__" from a form; "" for a city
    itself) that it is in a scope as `reader_scope` gives it, and of `province` when one is given;
    None where no city is. A condition on the row's own columns where it can be: a form's city's key
    is the form's own column, so a city reader's forms are found without a join."""
    if kind == "all":
        condition = Q()
    elif kind == "province":
        condition = Q(**{f"{city}province_id": scope})
    elif kind == "city":
        condition = Q(**{f"{city}pk": scope})
    else:
        return None
    return condition & Q(**{f"{city}province_id": province}) if province else condition


@dataclass(frozen=True)
class CityScope:
    """Which cities a read covers, as a value a statement is built from: a reader's scope (`of`),
    narrowed to one province (`within`). `shape` and `values` are what a statement's build takes
    (its structure and the values bound per call), which `scoped_cities` turns into the queryset."""

    kind: str
    scope: str = ""
    province: str = ""

    @classmethod
    def of(cls, user) -> CityScope:
        kind, key = reader_scope(user)
        return cls(kind, **key)

    def within(self, province: str) -> CityScope:
        """The scope's cities of `province` only; "" leaves the scope whole."""
        return replace(self, province=province)

    @property
    def shape(self) -> tuple[str, bool]:
        return self.kind, bool(self.province)

    def values(self) -> dict[str, str]:
        bound = {"scope": self.scope} if self.kind in ("province", "city") else {}
        return {**bound, "province": self.province} if self.province else bound

    def provinces(self) -> list[dict[str, str]]:
        """The scope's provinces in code order: code, name, name_en, short_name and region of each."""
        return _PROVINCES(*self.shape, **self.values())

    def units_by_province(self) -> dict[str, int]:
        """The number of the scope's cities (evaluated units) in each of its provinces."""
        return dict(_UNITS(*self.shape, **self.values()))


def scoped_cities(kind: str, narrowed: bool, **values: str) -> CityQuerySet:
    """The cities of a `CityScope`, from a statement build's arguments (its `shape` and `values`)."""
    return City.objects.in_scope(kind, values.get("scope", ""), values.get("province", "") if narrowed else "")


def of_scope(queryset: models.QuerySet, kind: str, narrowed: bool, **values: str) -> models.QuerySet:
    """The rows of `queryset` (of a model with a `city`) of the cities of a `CityScope`, from a
    statement build's arguments: a condition on the rows' own city, not `city__in` a subquery of
    cities (which PostgreSQL answers by reading every city in scope first)."""
    scope, province = values.get("scope", ""), values.get("province", "") if narrowed else ""
    condition = scope_condition(kind, scope, province, city="city__")
    return queryset.none() if condition is None else queryset.filter(condition)


_PROVINCES = Statement(
    lambda kind, narrowed, **values: (
        Province.objects.in_scope(kind, values.get("scope", ""))
        .filter(**({"code": values["province"]} if narrowed else {}))
        .values("code", "name", "name_en", "short_name", "region")
    ),
    keep=True,
)
_UNITS = Statement(
    lambda kind, narrowed, **values: (
        scoped_cities(kind, narrowed, **values).order_by().values_list("province").annotate(units=models.Count("pk"))
    ),
    keep=True,
)


class City(models.Model):
    """A unit that can be evaluated: every prefecture-level unit, each municipality as one unit, and
    units such as 雄安新区 (133100) and 济源 (419001) that are evaluated although not 地级市."""

    code = models.CharField(_("code"), max_length=6, primary_key=True)
    province = models.ForeignKey(Province, on_delete=models.PROTECT, related_name="cities", verbose_name=_("province"))
    name = models.CharField(_("name"), max_length=40)
    kind = models.CharField(_("kind"), max_length=20, choices=CityKind.choices, default=CityKind.PREFECTURE)

    objects = CityQuerySet.as_manager()

    class Meta:
        ordering = ["code"]
        verbose_name = _("city")
        verbose_name_plural = _("cities")
        constraints = [models.UniqueConstraint(fields=["province", "name"], name="city_unique_name_in_province")]

    def __str__(self) -> str:
        return self.name


class GigacityUserManager(UserManager):
    def create_superuser(self, username, email=None, password=None, **extra_fields):
        extra_fields.setdefault("role", Role.ADMIN)
        return super().create_superuser(username, email, password, **extra_fields)


class User(AbstractUser):
    """An account with exactly one role; city officials belong to a city, bureau reviewers to a
    province. Ministry staff and administrators see the whole country."""

    role = models.CharField(_("role"), max_length=10, choices=Role.choices, default=Role.CITY)
    city = models.ForeignKey(
        City,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="officials",
        verbose_name=_("city"),
    )
    province = models.ForeignKey(
        Province,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reviewers",
        verbose_name=_("province"),
    )
    # Only for the operator role: which operator's provincial branch the account speaks for.
    operator = models.ForeignKey(
        "indicators.Operator",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="accounts",
        verbose_name=_("telecom operator"),
    )
    full_name = models.CharField(_("full name"), max_length=50, blank=True)
    phone = models.CharField(_("phone"), max_length=30, blank=True)

    objects = GigacityUserManager()

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            models.CheckConstraint(
                name="user_scope_matches_role",
                condition=(
                    Q(role=Role.CITY, city__isnull=False, province__isnull=True, operator__isnull=True)
                    | Q(role=Role.BUREAU, province__isnull=False, city__isnull=True, operator__isnull=True)
                    | Q(role=Role.OPERATOR, province__isnull=False, operator__isnull=False, city__isnull=True)
                    | Q(
                        role__in=[Role.MINISTRY, Role.ADMIN],
                        province__isnull=True,
                        city__isnull=True,
                        operator__isnull=True,
                    )
                ),
                violation_error_message=_(
                    "A city official needs a city, a bureau reviewer a province, an operator's account an "
                    "operator and a province, and ministry staff or administrators none of them."
                ),
            ),
            # Least privilege: the admin and every permission at once are for administrators only, so
            # a city or bureau account cannot be given ministry powers by a stray tick.
            models.CheckConstraint(
                name="user_admin_rights_only_for_administrators",
                condition=Q(role=Role.ADMIN) | Q(is_staff=False, is_superuser=False),
                violation_error_message=_(
                    "Only an administrator may have staff or superuser status; change the role to administrator first."
                ),
            ),
        ]

    def __str__(self) -> str:
        return self.full_name or self.username

    @property
    def has_national_scope(self) -> bool:
        return self.role in (Role.MINISTRY, Role.ADMIN) or self.is_superuser

    @property
    def scope_label(self) -> str:
        if self.role == Role.CITY and self.city_id:
            return str(self.city)
        if self.role == Role.BUREAU and self.province_id:
            return str(self.province)
        if self.role == Role.OPERATOR and self.province_id and self.operator_id:
            return f"{self.operator} · {self.province}"
        return str(_("Nationwide"))


class AuditKind(models.TextChoices):
    # Signing in and out
    LOGIN = "login", _("Signed in")
    LOGIN_FAILED = "login_failed", _("Sign-in failed")
    LOCKOUT = "lockout", _("Locked out after failed sign-ins")  # also every attempt while locked out
    LOGOUT = "logout", _("Signed out")
    SESSION_EXPIRED = "session_expired", _("Session expired")
    # Credentials
    TOKEN_CREATED = "token_created", _("API token created")
    TOKEN_REVOKED = "token_revoked", _("API token revoked")
    PASSWORD_CHANGED = "password_changed", _("Password changed by its owner")
    PASSWORD_RESET = "password_reset", _("Password reset through an e-mailed link")
    PASSWORD_RESET_REQUESTED = "password_reset_requested", _("Password reset requested")
    PASSWORD_SET = "password_set", _("Password set by an administrator")  # or on the command line
    # Accounts, roles and scopes
    ACCOUNT_CREATED = "account_created", _("Account created")
    ACCOUNT_CHANGED = "account_changed", _("Account changed")
    ACCOUNT_DELETED = "account_deleted", _("Account deleted")
    PERMISSIONS_CHANGED = "permissions_changed", _("Account permissions or groups changed")
    # The Django admin: every change, with before and after
    ADMIN_ADDED = "admin_added", _("Added in the admin")
    ADMIN_CHANGED = "admin_changed", _("Changed in the admin")
    ADMIN_DELETED = "admin_deleted", _("Deleted in the admin")
    # Rounds and thresholds
    THRESHOLDS_CHANGED = "thresholds_changed", _("Thresholds changed")
    ROUND_STATUS_CHANGED = "round_status_changed", _("Round opened, closed or published")
    ROUND_CHANGED = "round_changed", _("Round settings changed")
    # Whole-country data leaving the system
    EXPORT = "export", _("Whole-country export or download")
    # The system itself
    BACKUP_MADE = "backup_made", _("Backup made")
    RESTORED = "restored", _("Restored from a backup")
    AUDIT_PRUNED = "audit_pruned", _("Old audit records removed")


class AuditEventQuerySet(models.QuerySet):
    def visible_to(self, user) -> AuditEventQuerySet:
        from .audit.access import may_browse_audit

        return self if may_browse_audit(user) else self.none()


class AuditEvent(models.Model):
    """One entry of the security audit trail (等保 2.0 安全审计): who did what, from which address
    and program, to what, with the values before and after. Written once and never changed; on
    PostgreSQL a trigger refuses UPDATE, and DELETE of any row younger than the 180 days that the
    retention task may never go below (migration 0002)."""

    at = models.DateTimeField(_("time"), default=timezone.now, db_index=True)
    kind = models.CharField(_("event"), max_length=32, choices=AuditKind.choices, db_index=True)
    # Not a constraint: the record outlives the account, and deleting an account must not touch it.
    actor = models.ForeignKey(
        "User",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("who"),
    )
    # As it was at the time; for a failed sign-in, the name that was typed.
    username = models.CharField(_("username"), max_length=150, blank=True, db_index=True)
    role = models.CharField(_("role"), max_length=10, blank=True)
    ip_address = models.GenericIPAddressField(_("address"), null=True, blank=True)
    user_agent = models.CharField(_("browser or program"), max_length=300, blank=True)
    path = models.CharField(_("page"), max_length=300, blank=True)
    target_type = models.CharField(_("object type"), max_length=100, blank=True)
    target_id = models.CharField(_("object id"), max_length=64, blank=True)
    target_label = models.CharField(_("object"), max_length=200, blank=True)
    before = models.JSONField(_("before"), null=True, blank=True, encoder=DjangoJSONEncoder)
    after = models.JSONField(_("after"), null=True, blank=True, encoder=DjangoJSONEncoder)
    details = models.JSONField(_("details"), default=dict, blank=True, encoder=DjangoJSONEncoder)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name = _("audit record")
        verbose_name_plural = _("audit records")
        # Nobody may be given the right to add, change or delete audit records; reading them is the
        # security officer's permission, granted to a ministry account (not a role of its own).
        default_permissions = ()
        permissions = [("browse_audit", _("Can browse and export the security audit trail"))]
        indexes = [models.Index(fields=["target_type", "target_id"], name="audit_target")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.kind} {self.username}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not self._state.adding:
            raise PermissionDenied("audit records cannot be changed")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionDenied("audit records cannot be deleted")

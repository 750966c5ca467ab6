"""Accounts: provisioning (one function behind `manage.py add_user`, the admin and the user workbook),
and a user's own password (changed on its page, or reset by a link sent by e-mail)."""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from axes.utils import reset as axes_reset
from django.conf import settings
from django.contrib.auth.forms import PasswordResetForm
from django.contrib.auth.models import Permission
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from .audit import audit_record
from .models import AuditKind, City, Province, Role, User

# Password changes and resets in the log too; the audit trail (gigacity.audit) is their record.
logger = logging.getLogger("gigacity.accounts")


@transaction.atomic
def user_provision(
    *,
    username: str,
    password: str | None,
    role: str,
    city_code: str | None = None,
    province_code: str | None = None,
    operator_code: str | None = None,
    full_name: str = "",
    email: str = "",
    phone: str = "",
    security_officer: bool | None = None,
) -> tuple[User, bool]:
    """Create or update one account. Returns (user, created). A new account needs a password; an
    existing one keeps its password unless a new one is given. The role and the scope must agree: a
    code that the role does not take is refused, never dropped, so that a mistyped role cannot turn
    a city's account into a national one. `security_officer` gives (True) or takes (False) the
    permission to read the security audit trail, for ministry staff and administrators only."""
    errors: dict[str, list[str]] = {}
    username = (username or "").strip()
    city_code, province_code = (city_code or "").strip(), (province_code or "").strip()
    operator_code = (operator_code or "").strip()
    if not username:
        errors["username"] = [_("Required")]
    if role not in Role.values:
        errors["role"] = [_("Must be one of: %(roles)s") % {"roles": ", ".join(Role.values)}]
    city = province = operator = None
    if operator_code and role != Role.OPERATOR:
        errors["operator"] = [_("Only an operator's account belongs to a telecom operator; leave the operator empty.")]
    if role == Role.CITY:
        city = City.objects.filter(code=city_code).first()
        if city is None:
            errors["city"] = [_("A city official needs the 6-digit code of an existing city, e.g. 370200")]
        elif province_code and province_code != city.province_id:
            errors["province"] = [
                _("%(city)s is not in province %(code)s; a city official's scope is the city alone.")
                % {"city": city.name, "code": province_code}
            ]
    elif role == Role.BUREAU:
        province = Province.objects.filter(code=province_code).first()
        if province is None:
            errors["province"] = [_("A bureau reviewer needs the 6-digit code of a province, e.g. 370000")]
        if city_code:
            errors["city"] = [_("A bureau reviewer covers a whole province; leave the city empty.")]
    elif role == Role.OPERATOR:
        from indicators.models import Operator

        province = Province.objects.filter(code=province_code).first()
        if province is None:
            errors["province"] = [_("An operator's account needs the 6-digit code of a province, e.g. 370000")]
        operator = Operator.objects.filter(code=operator_code).first()
        if operator is None:
            errors["operator"] = [
                _("An operator's account needs the code of a telecom operator: %(codes)s")
                % {"codes": ", ".join(Operator.objects.values_list("code", flat=True))}
            ]
        if city_code:
            errors["city"] = [_("An operator's account covers a whole province; leave the city empty.")]
    elif role in (Role.MINISTRY, Role.ADMIN) and (city_code or province_code):
        errors["role"] = [
            _(
                "Ministry staff and administrators see the whole country: an account with a city or "
                "province must have the role city or bureau."
            )
        ]
    if security_officer and role not in (Role.MINISTRY, Role.ADMIN):
        errors["security_officer"] = [_("Only ministry staff can be the security officer.")]
    user = User.objects.filter(username=username).first() if username else None
    if user is None and not password:
        errors["password"] = [_("A new account needs a password")]
    if errors:
        raise ValidationError(errors)

    created = user is None
    user = user or User(username=username)
    user.role, user.city, user.province, user.operator = role, city, province, operator
    user.is_staff = user.is_superuser = role == Role.ADMIN
    user.full_name = full_name or user.full_name
    user.email = email or user.email
    user.phone = phone or user.phone
    if password:
        try:
            validate_password(password, user)
        except ValidationError as exc:
            raise ValidationError({"password": exc.messages}) from None
        user.set_password(password)
    user.full_clean(exclude=["password"])
    user.save()
    if security_officer is not None:
        permission = Permission.objects.get(content_type__app_label="gigacity", codename="browse_audit")
        if security_officer:
            user.user_permissions.add(permission)
        else:
            user.user_permissions.remove(permission)
    return user, created


def user_password_set(*, user: User, password: str, ip: str, reason: str) -> User:
    """Give a user a new password (already validated by the form), by their own change or a reset link.

    Every session of the user ends, because Django ties a session to the password hash (after a
    change the caller keeps their own with update_session_auth_hash), and every API token is revoked
    (the receiver in gigacity.authentication). Failed logins on record for the account are cleared: a
    user who locked themselves out and then reset the password can log in at once."""
    user.set_password(password)
    user.save(update_fields=["password"])
    axes_reset(username=user.get_username())
    logger.info("password %s: user %s (id %s) from %s", reason, user.get_username(), user.pk, ip)
    return user


def user_password_reset_request(*, email: str, ip: str, language: str) -> None:
    """Have the worker send a reset link to each active account with this e-mail address.

    The page answers the same whether or not any account has the address, and in the same time:
    looking the accounts up and talking to the mail server happen in the worker."""
    from .tasks import send_password_reset

    logger.info("password reset requested from %s", ip)
    audit_record(kind=AuditKind.PASSWORD_RESET_REQUESTED, actor=None, details={"email": email}, address=ip)

    def enqueue() -> None:
        try:
            send_password_reset.apply_async((email, language), retry=False)
        except Exception:  # the broker is down: the person may ask again; nothing else depends on it
            logger.warning("could not enqueue a password reset e-mail requested from %s", ip, exc_info=True)

    transaction.on_commit(enqueue, robust=True)


def user_password_reset_send(*, email: str) -> int:
    """Send the reset links for one e-mail address; returns how many accounts got one. Django's form
    picks the accounts (active, with a usable password, the address compared case-insensitively) and
    makes the one-use token that expires after PASSWORD_RESET_TIMEOUT."""
    form = PasswordResetForm({"email": email})
    if not form.is_valid():
        return 0
    users = list(form.get_users(form.cleaned_data["email"]))
    form.save(
        domain_override=urlsplit(settings.GIGACITY_SITE_URL).netloc,
        subject_template_name="registration/password_reset_subject.txt",
        email_template_name="registration/password_reset_email.txt",
        extra_email_context={
            "site_url": settings.GIGACITY_SITE_URL,
            "system_name": settings.GIGACITY_SYSTEM_NAME,
            "minutes": settings.PASSWORD_RESET_TIMEOUT // 60,
        },
    )
    for user in users:
        logger.info("password reset link sent: user %s (id %s)", user.get_username(), user.pk)
    return len(users)

"""Provisioning accounts: one function behind `manage.py add_user`, the admin and the user workbook."""

from __future__ import annotations

from django.contrib.auth.models import Permission
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from .models import City, Province, Role, User


@transaction.atomic
def user_provision(
    *,
    username: str,
    password: str | None,
    role: str,
    city_code: str | None = None,
    province_code: str | None = None,
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
    if not username:
        errors["username"] = [_("Required")]
    if role not in Role.values:
        errors["role"] = [_("Must be one of: %(roles)s") % {"roles": ", ".join(Role.values)}]
    city = province = None
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
    user.role, user.city, user.province = role, city, province
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

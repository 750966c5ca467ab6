"""Page access by role. Scope (which objects) is the queryset's job; this only says which pages a
role may open at all."""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied


def role_required(*roles: str):
    def decorator(view):
        @wraps(view)
        @login_required
        def wrapper(request, *args, **kwargs):
            if request.user.role not in roles:
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


def share_scope(user, city) -> None:
    """Every page's header names the user's city or province (`User.scope_label`), a read of its
    own. Where the page has read that city (with its province) already, the user takes it from
    there: the same rows, one query fewer."""
    if city is None or not getattr(user, "is_authenticated", False):
        return
    if user.city_id is not None and user.city_id == city.pk:
        user.city = city
    if user.province_id is not None and user.province_id == city.province_id and "province" in city._state.fields_cache:
        user.province = city.province

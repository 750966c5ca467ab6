"""Login, logout, the lockout page and the role-based landing redirect."""

from __future__ import annotations

from django import forms
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from .models import Role
from .viewsets import lockout_minutes

HOME_BY_ROLE = {
    Role.CITY: "submissions:home",
    Role.BUREAU: "reviews:bureau_home",
    Role.MINISTRY: "reviews:ministry_home",
    Role.ADMIN: "admin:index",
}


class LoginForm(AuthenticationForm):
    # One message for a wrong username and a wrong password: no hint which part was wrong.
    error_messages = {
        "invalid_login": _("Wrong username or password. Both are case-sensitive."),
        "inactive": _("This account has been disabled. Please contact your administrator."),
    }

    username = forms.CharField(
        label=_("Username"),
        max_length=150,
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "username"}),
    )
    password = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class LoginView(auth_views.LoginView):
    template_name = "registration/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True


def lockout(request, credentials=None, *args, **kwargs):
    """What django-axes answers after too many failed attempts, for the cool-off period only: the login
    page with a clear message, or JSON for the API; HTTP 429 either way."""
    if request.path.startswith("/api/"):
        return JsonResponse(
            {
                "detail": _("Too many failed attempts. Try again in %(minutes)s minutes.")
                % {"minutes": lockout_minutes()},
                "code": "locked_out",
            },
            status=429,
        )
    form = LoginForm(request, data=None, initial={"username": (credentials or {}).get("username", "")})
    message = _(
        "Too many failed attempts. This account is locked on this computer for %(minutes)s minutes; "
        "try again later or ask your administrator to unlock it."
    ) % {"minutes": lockout_minutes()}
    return render(request, "registration/login.html", {"form": form, "lockout_message": message}, status=429)


@require_GET
@login_required
def home(request):
    if request.user.is_superuser and request.user.role not in HOME_BY_ROLE:
        return redirect("admin:index")
    return redirect(HOME_BY_ROLE.get(request.user.role, "admin:index"))


@require_GET
def healthz(request):
    """For the container healthcheck: 200 when the app can reach its database."""
    from django.db import connection
    from django.http import HttpResponse, JsonResponse

    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception:
        return JsonResponse({"status": "database unavailable"}, status=503)
    return HttpResponse("ok", content_type="text/plain")

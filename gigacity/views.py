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

from .lockout import ADDRESS_LOCKED, remember_device
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

    def form_valid(self, form):
        response = super().form_valid(form)
        remember_device(self.request, response, form.get_user().get_username())
        return response


# What the refusal says, by where it is shown and whether the account or the address is locked.
LOCKOUT_MESSAGES = {
    ("api", False): _("Too many failed attempts. Try again in %(minutes)s minutes."),
    ("api", True): _(
        "Too many accounts failed to log in from this network address; "
        "logins from it are paused for %(minutes)s minutes."
    ),
    ("page", False): _(
        "Too many failed attempts. This account is locked on this computer for %(minutes)s minutes; "
        "try again later or ask your administrator to unlock it."
    ),
    ("page", True): _(
        "Too many accounts failed to log in from this network address. To protect them, logins from this "
        "address are paused for %(minutes)s minutes. If you have logged in on this browser before, you can "
        "still log in here; otherwise try again later or ask your administrator."
    ),
}


def lockout(request, original_response=None, credentials=None):
    """What django-axes answers after too many failed attempts, for the cool-off period only: the login
    page with a clear message, or JSON for the API; HTTP 429 either way, with Retry-After."""
    address = getattr(request, ADDRESS_LOCKED, False)
    api = request.path.startswith("/api/")
    message = LOCKOUT_MESSAGES["api" if api else "page", address] % {"minutes": lockout_minutes()}
    if api:
        response = JsonResponse(
            {"detail": message, "code": "address_locked_out" if address else "locked_out"}, status=429
        )
    else:
        form = LoginForm(request, data=None, initial={"username": (credentials or {}).get("username", "")})
        response = render(request, "registration/login.html", {"form": form, "lockout_message": message}, status=429)
    response["Retry-After"] = str(lockout_minutes() * 60)
    return response


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

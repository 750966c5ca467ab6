"""Login, logout, the lockout page, the role-based landing redirect, and a user's own password:
the change page and the reset by a link sent by e-mail (Django's views, with our limits and services)."""

from __future__ import annotations

import logging

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from django.views import defaults
from django.views.decorators.http import require_GET

from .lockout import ADDRESS_LOCKED, remember_device
from .models import Role
from .security import Limit, client_ip
from .services import user_password_reset_request, user_password_set
from .viewsets import lockout_minutes

logger = logging.getLogger("gigacity.accounts")

HOME_BY_ROLE = {
    Role.CITY: "submissions:home",
    Role.BUREAU: "reviews:bureau_home",
    Role.OPERATOR: "submissions:operator_figures",
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


# Guessing the current password in a session left open: as many tries as at login, per account and
# per address (across accounts, as many as the login allows before it pauses an address).
CHANGE_PER_ACCOUNT = Limit("password-change-account", 5, 15 * 60)
CHANGE_PER_ADDRESS = Limit("password-change-address", 20, 15 * 60)
# Reset e-mails: a few per typed address an hour, so that nobody's mailbox can be flooded, and more
# per network address, where a whole office may forget its passwords on the first day. Counted for
# the address typed, whether or not an account has it, so the limit says nothing about accounts.
RESET_PER_EMAIL = Limit("password-reset-email", 3, 60 * 60)
RESET_PER_ADDRESS = Limit("password-reset-address", 10, 60 * 60)


class LimitedFormMixin:
    """A form page refused with 429 and a message while one of its limits is reached; a form with
    errors is shown again with 400, as on every page."""

    def limits(self) -> list[tuple[Limit, str]]:
        raise NotImplementedError

    def reached_limit(self) -> Limit | None:
        for limit, key in self.limits():
            if limit.reached(key):
                logger.warning("%s refused from %s: %s reached", self.request.path, client_ip(self.request), limit.name)
                return limit
        return None

    def record_attempt(self) -> None:
        for limit, key in self.limits():
            limit.record(key)

    def refuse(self, limit: Limit, form):
        message = _("Too many attempts. Try again in %(minutes)s minutes.") % {"minutes": limit.minutes}
        response = self.render_to_response(self.get_context_data(form=form, refused=message), status=429)
        response["Retry-After"] = str(limit.seconds)
        return response

    def form_invalid(self, form):
        return self.render_to_response(self.get_context_data(form=form), status=400)


class PasswordChangeView(LimitedFormMixin, auth_views.PasswordChangeView):
    """Every logged-in user changes their own password; their other sessions end and their API tokens
    are revoked, this session goes on."""

    template_name = "registration/password_change_form.html"
    success_url = reverse_lazy("home")

    def limits(self) -> list[tuple[Limit, str]]:
        return [(CHANGE_PER_ACCOUNT, str(self.request.user.pk)), (CHANGE_PER_ADDRESS, client_ip(self.request))]

    def post(self, request, *args, **kwargs):
        if limit := self.reached_limit():
            return self.refuse(limit, self.form_class(request.user))
        form = self.get_form()
        if form.is_valid():
            return self.form_valid(form)
        if form.has_error("old_password"):  # only a wrong current password counts as a guess
            self.record_attempt()
        return self.form_invalid(form)

    def form_valid(self, form):
        user = user_password_set(
            user=form.user,
            password=form.cleaned_data["new_password1"],
            ip=client_ip(self.request),
            reason="changed by the user",
        )
        update_session_auth_hash(self.request, user)
        messages.success(
            self.request,
            _(
                "Your password has been changed. You stay logged in here; on other computers you need to log in "
                "again, and API tokens must be requested again."
            ),
        )
        return HttpResponseRedirect(self.get_success_url())


class PasswordResetView(LimitedFormMixin, auth_views.PasswordResetView):
    """Ask for a reset link by e-mail. The answer is the same whether or not an account has the
    address."""

    template_name = "registration/password_reset_form.html"

    def limits(self) -> list[tuple[Limit, str]]:
        email = self.request.POST.get("email", "").strip().casefold()
        return [(RESET_PER_EMAIL, email), (RESET_PER_ADDRESS, client_ip(self.request))]

    def get_context_data(self, **kwargs):
        return super().get_context_data(minutes=settings.PASSWORD_RESET_TIMEOUT // 60, **kwargs)

    def form_valid(self, form):
        if limit := self.reached_limit():
            return self.refuse(limit, form)
        self.record_attempt()
        user_password_reset_request(
            email=form.cleaned_data["email"], ip=client_ip(self.request), language=get_language()
        )
        return HttpResponseRedirect(self.get_success_url())


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "registration/password_reset_done.html"

    def get_context_data(self, **kwargs):
        return super().get_context_data(minutes=settings.PASSWORD_RESET_TIMEOUT // 60, **kwargs)


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """The link from the e-mail: once, and only until PASSWORD_RESET_TIMEOUT. A new password ends every
    session of the user, in every browser, and revokes their API tokens."""

    template_name = "registration/password_reset_confirm.html"

    def form_valid(self, form):
        user_password_set(
            user=self.user,
            password=form.cleaned_data["new_password1"],
            ip=client_ip(self.request),
            reason="reset by e-mail link",
        )
        del self.request.session[auth_views.INTERNAL_RESET_SESSION_TOKEN]
        return HttpResponseRedirect(self.get_success_url())

    def form_invalid(self, form):
        return self.render_to_response(self.get_context_data(form=form), status=400)


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "registration/password_reset_complete.html"


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


# Django's own error answers (a URL that matches no route, a request Django refuses before any view,
# an unexpected error): under /api/ the API's JSON error body, elsewhere the site's pages.
def _api_error(request, status: int, detail: str, code: str):
    return JsonResponse({"detail": detail, "code": code}, status=status, json_dumps_params={"ensure_ascii": False})


def bad_request(request, exception=None):
    if request.path.startswith("/api/"):
        return _api_error(request, 400, _("The request could not be read."), "bad_request")
    return defaults.bad_request(request, exception)


def page_not_found(request, exception=None):
    if request.path.startswith("/api/"):
        return _api_error(request, 404, _("Not found, or not yours to see."), "not_found")
    return defaults.page_not_found(request, exception)


def permission_denied(request, exception=None):
    if request.path.startswith("/api/"):
        return _api_error(request, 403, str(exception or "") or _("You may not do this."), "forbidden")
    return defaults.permission_denied(request, exception)


def server_error(request):
    if request.path.startswith("/api/"):
        return _api_error(request, 500, _("Something went wrong on our side; it has been logged."), "server_error")
    return defaults.server_error(request)

"""An absolute session lifetime since login, on top of Django's idle timeout (ASVS 7.3.2).

Django already ends a user's other sessions when the password changes (the session auth hash), and
SESSION_COOKIE_AGE with SESSION_SAVE_EVERY_REQUEST is the idle timeout; what it lacks is a cap on how
long one login lasts however active it is.
"""

import time

from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.shortcuts import render

from .errors import ApplicationError

LOGIN_TIME_KEY = "gigacity_login_time"


class SessionLifetimeMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated:
            started = request.session.setdefault(LOGIN_TIME_KEY, time.time())
            if time.time() - started > settings.SESSION_ABSOLUTE_SECONDS:
                request.gigacity_session_expired = True  # the audit trail records an expiry, not a logout
                logout(request)
                if not request.path.startswith("/api/"):
                    return redirect_to_login(request.get_full_path())
        return self.get_response(request)


class ApplicationErrorMiddleware:
    """The last guard of the pages: an ApplicationError (a conflict, a role that may not act) that a
    view let through is shown as its message with its status, never as a server error. The API has
    its own handler (gigacity.api)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, ApplicationError) or request.path.startswith("/api/"):
            return None
        return render(request, "application_error.html", {"message": exception.message}, status=exception.status_code)

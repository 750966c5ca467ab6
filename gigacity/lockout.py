"""Password guessing at login, on top of django-axes: one account on one address (axes itself), and
one address across accounts (credential stuffing: a list of usernames tried from one place).

Both ways in, the login page and POST /api/v1/auth/token/, call authenticate(), so both are counted
and refused here; gigacity.views.lockout words the refusal.

Why the address limit counts *usernames*, and only failures:
- City offices and bureaus sit behind one NAT address, so the limit per address must not be reached
  by ordinary use. A username is counted only while it has failures on record within the cool-off
  and has not logged in since (AXES_RESET_ON_SUCCESS clears it): a colleague who mistypes and then
  gets it right is not counted, and successful logins never are.
- One person retrying the same account counts once, however often: that account's own lock (per
  username and address, after AXES_FAILURE_LIMIT) stops them, and they cannot pause the office.
- A stuffing run fails for a new username each time; GIGACITY_LOGIN_ADDRESS_LIMIT different
  usernames failing within the cool-off from one address does not happen in an office.
- While an address is paused, a browser in which an account has logged in before may still log in
  to that account (a signed "device cookie", OWASP's answer to lockouts hurting real users): the
  colleagues at their own desks keep working, while the attacker, who has no such cookie, is refused
  even the right password. The account's own lock still applies to that browser.
"""

from __future__ import annotations

import json
import logging

from axes.attempts import get_cool_off_threshold
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username
from axes.models import AccessAttempt
from axes.signals import user_locked_out
from django.conf import settings
from django.core import signing

logger = logging.getLogger(__name__)

# Set on the request when it is refused because of its address rather than its account.
ADDRESS_LOCKED = "gigacity_address_locked"
DEVICE_SALT = "gigacity.lockout.device"
DEVICE_ACCOUNTS = 5  # accounts one browser remembers (a shared office computer)


def failed_usernames(ip_address: str, since) -> int:
    """How many different usernames failed to log in from this address since then and have not
    logged in since (one AccessAttempt row per username, address and browser)."""
    return (
        AccessAttempt.objects.filter(ip_address=ip_address, attempt_time__gte=since)
        .values("username")
        .distinct()
        .count()
    )


def device_accounts(request) -> list[str]:
    """The usernames that have logged in on this browser, from its signed cookie."""
    try:
        raw = request.get_signed_cookie(
            settings.GIGACITY_DEVICE_COOKIE_NAME, salt=DEVICE_SALT, max_age=settings.GIGACITY_DEVICE_COOKIE_AGE
        )
        names = json.loads(raw)
    except (KeyError, signing.BadSignature, ValueError):
        return []
    return [name for name in names if isinstance(name, str)] if isinstance(names, list) else []


def remember_device(request, response, username: str) -> None:
    """After a successful login in a browser: this browser may log in to this account while its
    address is paused."""
    names = [username, *(name for name in device_accounts(request) if name != username)][:DEVICE_ACCOUNTS]
    response.set_signed_cookie(
        settings.GIGACITY_DEVICE_COOKIE_NAME,
        json.dumps(names),
        salt=DEVICE_SALT,
        max_age=settings.GIGACITY_DEVICE_COOKIE_AGE,
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )


class LockoutHandler(AxesDatabaseHandler):
    """axes' database handler, also refusing an address on which too many usernames failed."""

    def is_locked(self, request, credentials: dict | None = None) -> bool:
        return super().is_locked(request, credentials) or self.address_locked(request, credentials)

    def user_login_failed(self, sender, credentials: dict, request=None, **kwargs):
        super().user_login_failed(sender, credentials, request=request, **kwargs)
        # The failure that reaches the limit is refused at once, as axes does for an account.
        if request is None or getattr(request, "axes_locked_out", False):
            return
        if self.address_locked(request, credentials):
            logger.warning(
                "login paused for address %s: failed logins for %s or more different usernames",
                request.axes_ip_address,
                settings.GIGACITY_LOGIN_ADDRESS_LIMIT,
            )
            request.axes_locked_out = True
            request.axes_credentials = credentials
            user_locked_out.send(
                "axes",
                request=request,
                username=get_client_username(request, credentials),
                ip_address=request.axes_ip_address,
            )

    def address_locked(self, request, credentials: dict | None = None) -> bool:
        if get_client_username(request, credentials) in device_accounts(request):
            return False
        since = get_cool_off_threshold(request)
        locked = failed_usernames(request.axes_ip_address, since) >= settings.GIGACITY_LOGIN_ADDRESS_LIMIT
        setattr(request, ADDRESS_LOCKED, locked)
        return locked

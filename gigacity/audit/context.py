"""The request being served, for records made far from the view (a signal on the user's password,
a token deleted by a service), and an optional reason that the code causing a change can give.

A context variable, not a thread-local: it is also right under ASGI, and Celery tasks and commands
simply have none (their records carry no address)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_request: ContextVar[object | None] = ContextVar("gigacity_audit_request", default=None)
_reason: ContextVar[str] = ContextVar("gigacity_audit_reason", default="")


def current_request():
    return _request.get()


def current_reason() -> str:
    return _reason.get()


@contextmanager
def audit_reason(reason: str) -> Iterator[None]:
    """Records made inside carry this reason (e.g. why tokens are revoked)."""
    token = _reason.set(reason)
    try:
        yield
    finally:
        _reason.reset(token)


class AuditContextMiddleware:
    """Makes the request available to `audit_record` while it is served. After the authentication
    middleware, so that `request.user` is there."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = _request.set(request)
        try:
            return self.get_response(request)
        finally:
            _request.reset(token)

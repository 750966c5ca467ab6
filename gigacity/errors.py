"""Domain errors raised by services. Pages show their message; the API's exception handler maps
each to one HTTP status, so views never catch them one by one."""

from __future__ import annotations


class ApplicationError(Exception):
    """A request that makes sense but cannot be carried out; the message is for the user."""

    status_code = 400
    code = "invalid"

    def __init__(self, message: str, *, extra: dict | None = None):
        super().__init__(message)
        self.message = message
        self.extra = extra or {}


class Conflict(ApplicationError):
    """The object is not in a state that allows this (e.g. approving a draft), or somebody else
    changed it first."""

    status_code = 409
    code = "conflict"


class StaleVersion(Conflict):
    """The caller edited an older version than the one stored: saving would overwrite somebody
    else's work. 412 when the version came in an If-Match header, 409 when in the body."""

    code = "stale_version"

    def __init__(self, message: str, *, current_version: int, via_header: bool = False, extra: dict | None = None):
        super().__init__(message, extra={"current_version": current_version, **(extra or {})})
        self.status_code = 412 if via_header else 409


class TooLarge(ApplicationError):
    """The request's body (an upload) is over the size limit; the message says the limit."""

    status_code = 413
    code = "too_large"


class RoleNotAllowed(ApplicationError):
    """The caller's role may not take this action (the object itself is in scope)."""

    status_code = 403
    code = "forbidden"


class NothingToShow(Conflict):
    """A document asked for has nothing to show (a round that named nobody, no case to collect):
    said in words instead of producing an empty file."""

    code = "nothing_to_show"

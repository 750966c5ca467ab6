"""How the console writes log records: a client's mistake in one line, a server error in full."""

from __future__ import annotations

import logging


class ConsoleFormatter(logging.Formatter):
    """Django attaches the exception to the record of a refused request (403 PermissionDenied, 400
    BadRequest or SuspiciousOperation). For a client's mistake the traceback only shows Django's own
    frames, and one per wrong-role page view would bury the real errors; the record keeps its
    exception for any other handler, only the console leaves it out. Server errors (5xx) and records
    without a status keep their traceback."""

    def format(self, record: logging.LogRecord) -> str:
        status = getattr(record, "status_code", None)
        if record.exc_info and isinstance(status, int) and status < 500:
            # A copy: other handlers receive the same record object and may want the exception.
            record = logging.makeLogRecord({**record.__dict__, "exc_info": None, "exc_text": None})
        return super().format(record)

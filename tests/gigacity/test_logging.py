"""What the log says about a request: a refused request is one line, and every record is written once."""

from __future__ import annotations

import logging
import sys

import pytest

pytestmark = pytest.mark.django_db


def console() -> logging.Handler:
    return next(handler for handler in logging.getLogger().handlers if handler.get_name() == "console")


def writers(record: logging.LogRecord) -> list[logging.Handler]:
    """The handlers that write this record, walking up from its logger as logging does (pytest's own
    capturing handlers left out)."""
    found = []
    logger: logging.Logger | None = logging.getLogger(record.name)
    while logger is not None:
        found += [
            handler
            for handler in logger.handlers
            if not type(handler).__module__.startswith("_pytest")
            and record.levelno >= handler.level
            and handler.filter(record)
        ]
        logger = logger.parent if logger.propagate else None
    return found


def request_records(caplog) -> list[logging.LogRecord]:
    return [record for record in caplog.records if record.name == "django.request"]


def test_a_refused_page_is_logged_as_one_line_without_a_traceback(client, city_user, caplog):
    client.force_login(city_user)
    with caplog.at_level(logging.INFO):
        response = client.get("/ministry/")

    assert response.status_code == 403
    [record] = request_records(caplog)
    assert record.levelname == "WARNING"
    written = console().format(record)
    assert written.endswith("WARNING django.request Forbidden (Permission denied): /ministry/")
    assert "\n" not in written and "Traceback" not in written


def test_a_refused_api_call_is_logged_as_one_line(client, city_user, caplog):
    client.force_login(city_user)
    with caplog.at_level(logging.INFO):
        response = client.get("/api/v1/dashboard/national/")

    assert response.status_code == 403
    [record] = request_records(caplog)
    assert console().format(record).endswith("WARNING django.request Forbidden: /api/v1/dashboard/national/")


@pytest.mark.parametrize("debug", [True, False])
def test_each_request_warning_is_written_once_in_development_and_production(client, city_user, caplog, settings, debug):
    settings.DEBUG = debug  # Django's own console handler writes only when DEBUG is on
    client.force_login(city_user)
    with caplog.at_level(logging.INFO):
        client.get("/ministry/")
        client.get("/no-such-page/")

    records = request_records(caplog)
    assert [r.getMessage() for r in records] == [
        "Forbidden (Permission denied): /ministry/",
        "Not Found: /no-such-page/",
    ]
    for record in records:
        assert writers(record) == [console()], record.getMessage()


def test_a_server_error_keeps_its_traceback(caplog):
    try:
        raise ZeroDivisionError("boom")
    except ZeroDivisionError:
        with caplog.at_level(logging.ERROR):
            logging.getLogger("django.request").error(
                "Internal Server Error: /x/", exc_info=sys.exc_info(), extra={"status_code": 500}
            )

    [record] = request_records(caplog)
    written = console().format(record)
    assert "Traceback" in written and "ZeroDivisionError: boom" in written
    assert writers(record) == [console()]

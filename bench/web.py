"""Talking to the benchmark's servers as a browser does, and reading what `bench.middleware` says
about each answer. Used by the page measurements and by the locust users alike."""

from __future__ import annotations

import re
import statistics
import time
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any

import requests

_DURATION = re.compile(r"app;dur=([0-9.]+)")
_SQL = re.compile(r"sql;dur=([0-9.]+)")


@dataclass
class Sample:
    status: int
    server_ms: float | None  # Server-Timing: Django's time, from the first middleware to the response
    client_ms: float  # the round trip seen by a client on the same machine
    queries: int | None
    sql_ms: float | None = None  # of server_ms, the time spent waiting for SQL statements


def server_time(response) -> float | None:
    match = _DURATION.search(response.headers.get("Server-Timing", ""))
    return float(match[1]) if match else None


def sql_time(response) -> float | None:
    match = _SQL.search(response.headers.get("Server-Timing", ""))
    return float(match[1]) if match else None


def query_count(response) -> int | None:
    value = response.headers.get("X-Bench-Queries")
    return int(value) if value is not None and value.isdigit() else None


class Browser:
    """One person's session: a session cookie made in advance (`make_session`), redirects not
    followed (a redirect is the answer being measured), the CSRF cookie kept as the server sets it."""

    def __init__(self, base_url: str, session_key: str, *, cookie_name: str = "sessionid"):
        self.base_url = base_url
        self.http = requests.Session()
        host = base_url.split("://", 1)[1].split(":", 1)[0]
        self.http.cookies.set(cookie_name, session_key, domain=host, path="/")

    def request(self, method: str, path: str, **kwargs) -> tuple[requests.Response, Sample]:
        started = time.perf_counter()
        response = self.http.request(method, self.base_url + path, allow_redirects=False, timeout=120, **kwargs)
        _body = response.content  # the whole body, as a browser waits for it
        elapsed = (time.perf_counter() - started) * 1000
        sample = Sample(response.status_code, server_time(response), elapsed, query_count(response), sql_time(response))
        return response, sample

    def get(self, path: str, **kwargs) -> tuple[requests.Response, Sample]:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs) -> tuple[requests.Response, Sample]:
        return self.request("POST", path, **kwargs)


def city_username(code: str) -> str:
    """The seeded official of a unit."""
    return f"bench-city-{code}"


def bureau_username(code: str) -> str:
    """The seeded bureau of a province (not "bench-{code}" as for a unit: a municipality's unit has
    its province's code, 北京 110000)."""
    return f"bench-bureau-{code}"


def make_session(user) -> str:
    """A logged-in session for `user`, written straight into the session store as `login()` would
    (what Django's test client's `force_login` does): logging in for real costs a deliberately slow
    password hash, and that is not what is measured here."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.utils.module_loading import import_string

    store = import_string(settings.SESSION_ENGINE + ".SessionStore")()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.create()
    return store.session_key


# ------------------------------------------------------------------------------------------------
# Forms in pages
# ------------------------------------------------------------------------------------------------
class _FormReader(HTMLParser):
    """The fields a browser would send for one <form> (by id, or the first form): inputs, checked
    boxes, textareas and selected options; never buttons, files, or what sits in a <template>."""

    def __init__(self, form_id: str | None):
        super().__init__(convert_charrefs=True)
        self.form_id = form_id
        self.inside = False
        self.done = False
        self.fields: list[tuple[str, str]] = []
        self._textarea: str | None = None
        self._text: list[str] = []
        self._select: str | None = None
        self._first_option: str | None = None
        self._selected = False
        self._templates = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and not self.done:
            self.inside = self.form_id is None or a.get("id") == self.form_id
            return
        if tag == "template":
            self._templates += 1
        if not self.inside or self._templates:
            return
        if tag == "input":
            kind = a.get("type", "text").lower()
            if not a.get("name") or kind in ("submit", "button", "file", "image", "reset"):
                return
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            self.fields.append((a["name"], a.get("value", "on" if kind in ("checkbox", "radio") else "")))
        elif tag == "textarea" and a.get("name"):
            self._textarea, self._text = a["name"], []
        elif tag == "select" and a.get("name"):
            self._select, self._first_option, self._selected = a["name"], None, False
        elif tag == "option" and self._select is not None:
            value = a.get("value", "")
            if self._first_option is None:
                self._first_option = value
            if "selected" in a and not self._selected:
                self.fields.append((self._select, value))
                self._selected = True

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "template":
            self._templates = max(0, self._templates - 1)
        elif tag == "form" and self.inside:
            self.inside, self.done = False, True
        elif tag == "textarea" and self._textarea is not None:
            text = "".join(self._text)
            self.fields.append((self._textarea, text[1:] if text.startswith("\n") else text))
            self._textarea = None
        elif tag == "select" and self._select is not None:
            if not self._selected:
                self.fields.append((self._select, self._first_option or ""))
            self._select = None


def form_fields(html: str, form_id: str | None = None) -> list[tuple[str, str]]:
    reader = _FormReader(form_id)
    reader.feed(html)
    return reader.fields


def with_value(fields: list[tuple[str, str]], name: str, value: str) -> list[tuple[str, str]]:
    return [(key, value if key == name else old) for key, old in fields]


def value_of(fields: list[tuple[str, str]], name: str) -> str:
    return next((value for key, value in fields if key == name), "")


# ------------------------------------------------------------------------------------------------
# Figures
# ------------------------------------------------------------------------------------------------
def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile (p95 of 60 samples: the 57th smallest)."""
    ordered = sorted(values)
    rank = max(1, round(share * len(ordered) + 0.4999))
    return ordered[min(rank, len(ordered)) - 1]


def summary(values: list[float]) -> dict[str, Any]:
    if not values:
        return {"median": None, "p95": None, "n": 0}
    return {"median": round(statistics.median(values), 2), "p95": round(percentile(values, 0.95), 2), "n": len(values)}

"""The load of `python -m bench`: city officials, bureaus and the ministry at work at once, in the
proportions of the days before a deadline (30 : 15 : 5 of 50 users).

Not run by hand: `bench.load` writes the plan (who logs in as whom, which forms, where to write the
server's own timings) and points BENCH_LOAD_PLAN at it. Every user has a session of its own, made
in advance; each waits 1 to 3 s between two pages, a fast clicker (a person reading a page waits
longer), and loads the stylesheet, script and icon of the first page it sees once, as a browser
with a cache does.

- city: opens its form, saves drafts (changing one number each time), looks at its home page and
  notifications, and at some point submits (which the worker then scores); after that it reads its
  submission's page instead of the form;
- bureau: its review queue, the submitted forms of its province, its provincial dashboard;
- ministry: the national dashboard and its API, the review queue, recommended submissions,
  a province's dashboard, the summary export.

Each request's name is the page's, so locust's statistics are per page; the server's own time
(`Server-Timing`) is recorded beside locust's client-side time and written at the end.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import re
import statistics
from collections import defaultdict
from pathlib import Path

from locust import HttpUser, between, events, task

from bench.web import form_fields, percentile, server_time, value_of, with_value

PLAN = (
    json.loads(Path(os.environ["BENCH_LOAD_PLAN"]).read_text(encoding="utf-8"))
    if "BENCH_LOAD_PLAN" in os.environ
    else {}
)
THINK = between(1, 3)
ASSET = re.compile(r'(?:href|src)="(/static/[^"]+)"')
SERVER_MS: dict[str, list[float]] = defaultdict(list)


@events.request.add_listener
def _server_time(name, response=None, **_kwargs):
    if response is not None:
        value = server_time(response)
        if value is not None:
            SERVER_MS[name].append(value)


@events.quitting.add_listener
def _write_server_times(**_kwargs):
    path = PLAN.get("server_times")
    if not path:
        return
    figures = {
        name: {"median": round(statistics.median(v), 2), "p95": round(percentile(v, 0.95), 2), "n": len(v)}
        for name, v in SERVER_MS.items()
        if v
    }
    Path(path).write_text(json.dumps(figures, ensure_ascii=False, indent=2), encoding="utf-8")


def _accounts(role: str):
    return itertools.cycle(PLAN.get(role, [{}]))


class Person(HttpUser):
    abstract = True
    wait_time = THINK
    accounts = None

    def on_start(self) -> None:
        self.account = next(self.accounts)
        self.client.cookies.set("sessionid", self.account["session"], domain="127.0.0.1", path="/")
        self.assets_loaded = False

    def page(self, path: str, name: str, *, expect: int = 200):
        with self.client.get(path, name=name, allow_redirects=False, catch_response=True) as response:
            if response.status_code != expect:
                response.failure(f"{response.status_code}, not {expect}")
        html = "text/html" in response.headers.get("Content-Type", "")
        if response.status_code == 200 and html and not self.assets_loaded:
            self.assets_loaded = True
            for asset in dict.fromkeys(ASSET.findall(response.text)):
                self.client.get(asset, name="static file")
        return response


class CityUser(Person):
    fixed_count = 30
    accounts = _accounts("city")

    def on_start(self) -> None:
        super().on_start()
        self.form = f"/submissions/{self.account['draft']}/edit/"
        self.detail = f"/submissions/{self.account['draft']}/"
        self.html = ""  # the last form page, read (on this machine's CPU, shared with the server) only to save
        self.submitted = False
        self.toggle = False

    @task(3)
    def form_page(self) -> None:
        if self.submitted:
            self.page(self.detail, "submission page (city)")
            return
        response = self.page(self.form, "survey form page")
        if response.status_code == 200:
            self.html = response.text

    def _post(self, action: str, name: str, expect_location: str) -> None:
        if not self.html:
            self.form_page()
        fields = form_fields(self.html, "survey-form")
        count = int(value_of(fields, "bs5g_count").replace(",", "") or 0)
        self.toggle = not self.toggle
        body = [*with_value(fields, "bs5g_count", str(count + (1 if self.toggle else -1))), ("action", action)]
        with self.client.post(self.form, data=body, name=name, allow_redirects=False, catch_response=True) as response:
            location = response.headers.get("Location", "")
            if response.status_code != 302 or not location.endswith(expect_location):
                response.failure(f"{response.status_code} → {location or 'no redirect'}")
        self.html = ""  # the version moved on: the next save opens the form again

    @task(2)
    def draft_save(self) -> None:
        if not self.submitted:
            self._post("save", "draft save", self.form)

    @task(1)
    def submit(self) -> None:
        if not self.submitted and random.random() < 0.5:
            self._post("submit", "submit", self.detail)
            self.submitted = True

    @task(2)
    def home(self) -> None:
        self.page("/city/", "city home")

    @task(1)
    def notifications(self) -> None:
        self.page("/notifications/", "notifications")


class BureauUser(Person):
    fixed_count = 15
    accounts = _accounts("bureau")

    @task(4)
    def queue(self) -> None:
        self.page("/bureau/", "bureau queue")

    @task(4)
    def review(self) -> None:
        if self.account["reviews"]:
            self.page(f"/submissions/{random.choice(self.account['reviews'])}/", "review page (bureau)")

    @task(1)
    def province(self) -> None:
        self.page(f"/dashboard/province/{self.account['province']}/", "province dashboard")


class MinistryUser(Person):
    fixed_count = 5
    accounts = _accounts("ministry")

    @task(3)
    def dashboard(self) -> None:
        self.page(f"/ministry/?round={PLAN['year']}", "national dashboard page")

    @task(2)
    def dashboard_api(self) -> None:
        self.page(f"/api/v1/dashboard/national/?round={PLAN['year']}", "national dashboard API")

    @task(2)
    def queue(self) -> None:
        self.page("/ministry/queue/", "ministry queue")

    @task(2)
    def review(self) -> None:
        self.page(f"/submissions/{random.choice(self.account['reviews'])}/", "review page (ministry)")

    @task(1)
    def province(self) -> None:
        self.page(f"/dashboard/province/{random.choice(self.account['provinces'])}/", "province dashboard")

    @task(1)
    def export(self) -> None:
        self.page(f"/api/v1/exports/summary.xlsx?round={PLAN['year']}", "summary export")

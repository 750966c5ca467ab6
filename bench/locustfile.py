"""The load of `python -m bench`: the days before a deadline, when every city official, every bureau
and the ministry are at work at once (339 : 31 : 30 of 400 users; `bench.load.mix` scales that
mix down for a smaller run).

Not run by hand: `bench.load` writes the plan (who logs in as whom, which forms, where to write the
server's own timings) and points BENCH_LOAD_PLAN at it. Every user has a session of its own, made
in advance, and loads the stylesheet, script and icon of the first page it sees once, as a browser
with a cache does.

- city: opens its form, saves drafts (changing one number each time), imports the city workbook
  (downloads the template, uploads it filled in, reads the check and confirms), looks at its home
  page and notifications, and at some point submits (which the worker then scores); after that it
  reads its submission's page until its bureau returns the form, when it works on it again;
- bureau: its review queue, the review page of a form its cities submitted during the load (after
  reading it, it returns the form with a reason or recommends it), the other forms of its
  province, its provincial dashboard;
- ministry: the national dashboard and its API, the review queue, the forms the bureaus
  recommended during the load (last round's until there are any), a province's dashboard, the
  export page and the summary export.

What a city submits, a bureau returns or recommends: the users share these lists in this one locust
process, so each form is decided once, by its own province's bureau.

Each request's name is the page's, so locust's statistics are per page; the server's own time
(`Server-Timing`) is recorded beside locust's client-side time and written at the end, with every
failure counted from the first user on (locust's own statistics restart when the ramp is over).
"""

from __future__ import annotations

import io
import json
import os
import random
import re
import statistics
from collections import defaultdict, deque
from pathlib import Path

from locust import HttpUser, between, events, task

from bench.web import form_fields, percentile, server_time, value_of, with_value

PLAN = (
    json.loads(Path(os.environ["BENCH_LOAD_PLAN"]).read_text(encoding="utf-8"))
    if "BENCH_LOAD_PLAN" in os.environ
    else {}
)
MIX = PLAN.get("mix", {"city": 339, "bureau": 31, "ministry": 30})

# Think times: the pause between two pages of one person, who reads what the page shows before the
# next click. Measured against the pages themselves, not guessed low to make the load look heavy:
# - a city official's form has 33 fields with last round's values and 5–20 cases of 6 fields; between
#   two saves they type a few figures copied from their own spreadsheets, and a workbook is filled in
#   before it is uploaded: 10–40 s (a mean of 25 s, about 2.4 pages a minute, all of them, for the
#   whole run: a deadline-day peak, where the average working day spreads the same officials' work
#   over eight hours);
# - a bureau reads a review page (the score, its flags, the history, the cases) before it decides:
#   10–40 s;
# - the ministry looks at dashboards and lists, which are read faster than they are written: 5–30 s.
# At 400 users this is about 18 page views a second; the former 1–3 s pace of 50 users made 25, the
# traffic of several thousand real people.
CITY_THINK = between(10, 40)
BUREAU_THINK = between(10, 40)
MINISTRY_THINK = between(5, 30)
# A bureau returns about one form in four (the seed's open round: 10 returned for 16 recommended and
# 20 waiting); the rest it recommends.
RETURN_SHARE = 0.25

ASSET = re.compile(r'(?:href|src)="(/static/[^"]+)"')
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
UPLOAD_TOKEN = re.compile(r"[?&]upload=([^&]+)")
SERVER_MS: dict[str, list[float]] = defaultdict(list)
FAILURES: dict[str, int] = defaultdict(int)  # every failure from the start, ramp included
EXAMPLES: dict[str, dict[str, str]] = {}  # a GET of each page with the session that made it (profiling)

# What the users hand each other (one process, gevent: no locks needed between two yields).
SUBMITTED: dict[str, deque[int]] = defaultdict(deque)  # province → forms submitted, for its bureau
RECOMMENDED: deque[int] = deque(maxlen=200)  # the latest recommended forms, for the ministry
RETURNED: set[int] = set()  # forms a bureau returned, which their city works on again


@events.request.add_listener
def _server_time(name, response=None, exception=None, **_kwargs):
    if exception is not None:
        FAILURES[name] += 1
    if response is not None:
        value = server_time(response)
        if value is not None:
            SERVER_MS[name].append(value)


@events.spawning_complete.add_listener
def _ramp_over(**_kwargs):
    # The figures are those of the hold, at full strength, as locust's own (--reset-stats).
    SERVER_MS.clear()


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
    out = {"server_ms": figures, "failures_from_start": dict(FAILURES), "examples": EXAMPLES}
    Path(path).write_text(json.dumps(out, ensure_ascii=False, indent=2), encoding="utf-8")


class Person(HttpUser):
    abstract = True
    role = ""

    def on_start(self) -> None:
        accounts = PLAN.get(self.role) or [{}]
        index = Person._started[self.role] = Person._started.get(self.role, -1) + 1
        self.account = accounts[index % len(accounts)]
        self.client.cookies.set("sessionid", self.account.get("session", ""), domain="127.0.0.1", path="/")
        self.assets_loaded = False

    _started: dict[str, int] = {}

    def page(self, path: str, name: str, *, expect: int = 200):
        with self.client.get(path, name=name, allow_redirects=False, catch_response=True) as response:
            if response.status_code != expect:
                response.failure(f"{response.status_code}, not {expect}")
        if name not in EXAMPLES and response.status_code == expect:
            EXAMPLES[name] = {"path": path, "session": self.account.get("session", "")}
        html = "text/html" in response.headers.get("Content-Type", "")
        if response.status_code == 200 and html and not self.assets_loaded:
            self.assets_loaded = True
            for asset in dict.fromkeys(ASSET.findall(response.text)):
                self.client.get(asset, name="static file")
        return response

    def post(self, path: str, name: str, *, data, files=None, expect_location: str = "") -> str | None:
        """A form's POST, answered by a redirect (to `expect_location` when given); returns where."""
        with self.client.post(
            path, data=data, files=files, name=name, allow_redirects=False, catch_response=True
        ) as response:
            location = response.headers.get("Location", "")
            if response.status_code != 302 or (expect_location and expect_location not in location):
                response.failure(f"{response.status_code} → {location or 'no redirect'}")
                return None
        return location


class CityUser(Person):
    weight = MIX["city"]
    role = "city"
    wait_time = CITY_THINK

    def on_start(self) -> None:
        super().on_start()
        self.pk = self.account.get("draft")
        self.form = f"/submissions/{self.pk}/edit/"
        self.detail = f"/submissions/{self.pk}/"
        self.excel = f"/submissions/{self.pk}/excel/"
        self.html = ""  # the last form page, read (on this machine's CPU, shared with the server) only to save
        self.submitted = False
        self.toggle = False
        self.workbooks: list[bytes] = []  # the template as downloaded, and filled in (made once)

    def _returned(self) -> None:
        if self.submitted and self.pk in RETURNED:
            RETURNED.discard(self.pk)
            self.submitted = False

    @task(3)
    def form_page(self) -> None:
        self._returned()
        if self.submitted:
            self.page(self.detail, "submission page (city)")
            return
        response = self.page(self.form, "survey form page")
        if response.status_code == 200:
            self.html = response.text

    def _post_form(self, action: str, name: str, expect_location: str) -> bool:
        if not self.html:
            self.form_page()
            if not self.html:
                return False
        fields = form_fields(self.html, "survey-form")
        count = int(value_of(fields, "bs5g_count").replace(",", "") or 0)
        self.toggle = not self.toggle
        body = [*with_value(fields, "bs5g_count", str(count + (1 if self.toggle else -1))), ("action", action)]
        self.html = ""  # the version moves on: the next save opens the form again
        return self.post(self.form, name, data=body, expect_location=expect_location) is not None

    @task(3)
    def draft_save(self) -> None:
        self._returned()
        if not self.submitted:
            self._post_form("save", "draft save", self.form)

    @task(1)
    def workbook_import(self) -> None:
        """The city workbook: download the template, upload it filled in (the app checks it: a dry
        run), read the check, confirm (the import)."""
        self._returned()
        if self.submitted:
            return
        page = self.page(self.excel, "city workbook page")
        template = self.page(f"{self.excel}template.xlsx", "city workbook download")
        if page.status_code != 200 or template.status_code != 200:
            return
        if not self.workbooks:
            self.workbooks = [template.content, _filled_in(template.content)]
        content = self.workbooks[int(self.toggle)]
        self.toggle = not self.toggle
        token = CSRF.search(page.text)
        files = {"file": ("调查表.xlsx", content, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")}
        data = {"csrfmiddlewaretoken": token[1] if token else "", "action": "upload"}
        location = self.post(self.excel, "city workbook upload (dry run)", data=data, files=files)
        upload = UPLOAD_TOKEN.search(location or "")
        if upload is None:
            return
        check = self.page(f"{self.excel}?upload={upload[1]}", "city workbook check page")
        token = CSRF.search(check.text) if check.status_code == 200 else None
        data = {"csrfmiddlewaretoken": token[1] if token else "", "action": "apply", "upload": upload[1]}
        self.post(self.excel, "city workbook import", data=data, expect_location=self.detail)
        self.html = ""

    @task(1)
    def submit(self) -> None:
        self._returned()
        if not self.submitted and random.random() < 0.5 and self._post_form("submit", "submit", self.detail):
            self.submitted = True
            SUBMITTED[self.account.get("province", "")].append(self.pk)

    @task(1)
    def home(self) -> None:
        self.page("/city/", "city home")

    @task(1)
    def notifications(self) -> None:
        self.page("/notifications/", "notifications")


def _filled_in(content: bytes) -> bytes:
    """The template with its 5G base stations changed, as an official fills it in (once per user)."""
    import openpyxl

    where = PLAN["workbook_cell"]  # the template's layout, from the plan (no Django in this process)
    workbook = openpyxl.load_workbook(io.BytesIO(content))
    cell = workbook[where["sheet"]].cell(row=where["row"], column=where["column"])
    cell.value = int(cell.value or 0) + 7
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


class BureauUser(Person):
    weight = MIX["bureau"]
    role = "bureau"
    wait_time = BUREAU_THINK

    def on_start(self) -> None:
        super().on_start()
        self.reading: int | None = None  # the submitted form whose review page it is reading
        self.csrf = ""

    @task(3)
    def queue(self) -> None:
        self.page("/bureau/", "bureau queue")

    @task(5)
    def review(self) -> None:
        """Decide on the form read last time, or open the next one its cities submitted."""
        if self.reading is not None:
            pk, self.reading = self.reading, None
            detail = f"/submissions/{pk}/"
            if random.random() < RETURN_SHARE:
                data = {"csrfmiddlewaretoken": self.csrf, "reason": "请补充5G基站数的统计口径说明。"}
                if self.post(f"{detail}act/return/", "return (bureau)", data=data, expect_location=detail):
                    RETURNED.add(pk)
            else:
                data = {"csrfmiddlewaretoken": self.csrf, "note": ""}
                if self.post(f"{detail}act/recommend/", "recommend (bureau)", data=data, expect_location=detail):
                    RECOMMENDED.append(pk)
            return
        waiting = SUBMITTED[self.account.get("province", "")]
        if waiting:
            pk = waiting.popleft()
            response = self.page(f"/submissions/{pk}/", "review page (bureau)")
            token = CSRF.search(response.text) if response.status_code == 200 else None
            if token:
                self.reading, self.csrf = pk, token[1]
        elif self.account.get("forms"):
            self.page(f"/submissions/{random.choice(self.account['forms'])}/", "review page (bureau)")

    @task(1)
    def province(self) -> None:
        self.page(f"/dashboard/province/{self.account['province']}/", "province dashboard")


class MinistryUser(Person):
    weight = MIX["ministry"]
    role = "ministry"
    wait_time = MINISTRY_THINK

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
        forms = RECOMMENDED or self.account.get("reviews")
        if forms:
            self.page(f"/submissions/{random.choice(forms)}/", "review page (ministry)")

    @task(1)
    def province(self) -> None:
        self.page(f"/dashboard/province/{random.choice(self.account['provinces'])}/", "province dashboard")

    @task(1)
    def exports(self) -> None:
        self.page("/exports/", "exports page")

    @task(1)
    def export(self) -> None:
        self.page(f"/api/v1/exports/summary.xlsx?round={PLAN['year']}", "summary export")

"""Pages and API calls, one request at a time against the running servers, each beside the floor.

Who asks for what is chosen in the national data set the way the busiest users would meet it: the
bureau of the largest province (its review queue; a submitted form of one of its cities, returned
once and resubmitted, with the most cases), a city of that province with its draft (the one with the
most cases), and the ministry (the national dashboard of the open round, its API, the summary
export). The dashboard is also asked of the server on the large data set.

The endpoints take turns request by request (floor, page, floor, next page, …), so whatever else the
machine does at a moment weighs on a page and on its floor alike, and on both data set sizes alike.

The national dashboard, its API and the summary export keep their figures in the cache under the
data's version (`reviews.freshness`). Each is measured twice: its *first view*, with the cache's
entries forgotten just before (as after any change of the forms: a submission, a decision, a score),
and its *repeat view* — the same request again, the data unchanged, which is what the ministry's
staff mostly do. What a computation read of the tables that did not change — the provinces, cities,
rounds, thresholds, reference values, designations (`gigacity.statements.kept_at`) — stays in the
server's processes under those tables' versions, as it does after a submission: the first view is
the first view after a change of the forms, the deadline day's case.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .web import (
    Browser,
    Sample,
    bureau_username,
    city_username,
    form_fields,
    make_session,
    summary,
    value_of,
    with_value,
)

FLOOR = "/bench/floor/"


@dataclass
class Subjects:
    """The people and forms of the measurements (ids in the national data set)."""

    year: int
    province: str
    province_name: str
    province_cities: int
    ministry: Any
    bureau: Any
    city_user: Any
    draft_id: int
    draft_cases: int
    review_id: int
    review_cases: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "round": self.year,
            "province": f"{self.province_name} ({self.province}, {self.province_cities} units)",
            "bureau": self.bureau.username,
            "city": self.city_user.username,
            "draft": {"id": self.draft_id, "cases": self.draft_cases},
            "review": {"id": self.review_id, "cases": self.review_cases},
        }


def largest_province():
    from django.db.models import Count

    from gigacity.models import Province

    return Province.objects.annotate(units=Count("cities")).order_by("-units", "code").first()


def choose_subjects() -> Subjects:
    """In the national database (this process's default connection)."""
    from django.db.models import Exists, OuterRef

    from gigacity.models import User
    from indicators.models import Round
    from submissions.models import Action, Status, Submission, SubmissionEvent

    round_ = Round.objects.current()
    province = largest_province()
    forms = Submission.objects.filter(round=round_)
    in_province = forms.filter(city__province=province)
    by_cases = ("-cases_count", "pk")
    draft = in_province.filter(status=Status.DRAFT).order_by(*by_cases).first() or (
        forms.filter(status=Status.DRAFT).order_by(*by_cases).first()
    )
    returned = Exists(SubmissionEvent.objects.filter(submission=OuterRef("pk"), action=Action.RETURN))
    submitted = forms.filter(status=Status.SUBMITTED)
    review = (
        submitted.filter(city__province=province).order_by(~returned, *by_cases).first()
        or submitted.order_by(~returned, *by_cases).first()
    )
    if draft is None or review is None:
        raise SystemExit("the national data set has no draft or no submitted form in the open round")
    return Subjects(
        year=round_.year,
        province=province.code,
        province_name=province.name,
        province_cities=province.units,
        ministry=User.objects.get(username="bench-miit"),
        bureau=User.objects.get(username=bureau_username(review.city.province_id)),
        city_user=User.objects.get(username=city_username(draft.city_id)),
        draft_id=draft.pk,
        draft_cases=draft.cases_count,
        review_id=review.pk,
        review_cases=review.cases_count,
    )


@dataclass
class Endpoint:
    """One thing asked of a server, by one browser, with the status it must answer."""

    key: str
    label: str
    browser: Browser
    path: str
    method: str = "GET"
    expect: int = 200
    data: Callable[[], Any] | None = None  # the POST body, made just before each request
    read: Callable[[str], None] | None = None  # given each answer's text
    before: Callable[[], None] | None = None  # run before each request, untimed
    samples: list[Sample] = field(default_factory=list)
    floor: list[Sample] = field(default_factory=list)
    size: int = 0

    def call(self) -> Sample:
        kwargs = {"data": self.data()} if self.data else {}
        if self.before is not None:
            self.before()
        response, sample = self.browser.request(self.method, self.path, **kwargs)
        if sample.status != self.expect:
            raise SystemExit(
                f"{self.label}: {self.method} {self.path} answered {sample.status}, not {self.expect}:\n"
                f"{response.text[:2000]}"
            )
        self.size = len(response.content)
        if self.read is not None:
            self.read(response.text)
        return sample


class DraftForm:
    """The survey form page and its draft save, as the city official uses them: open the form, change
    one number (5G base stations, one more or one fewer each time, so every save is a real change
    with a new version and a history row), save the whole form as the browser posts it."""

    def __init__(self, browser: Browser, draft_id: int):
        self.path = f"/submissions/{draft_id}/edit/"
        self.fields: list[tuple[str, str]] = []
        self.toggle = False
        self.page = Endpoint("form_page", "Survey form page", browser, self.path, read=self._read)
        self.save = Endpoint("draft_save", "Draft save", browser, self.path, method="POST", expect=302, data=self._body)

    def _read(self, html: str) -> None:
        self.fields = form_fields(html, "survey-form")

    def _body(self) -> list[tuple[str, str]]:
        if not self.fields:
            self.page.call()
        count = int(value_of(self.fields, "bs5g_count").replace(",", "") or 0)
        self.toggle = not self.toggle
        body = with_value(self.fields, "bs5g_count", str(count + (1 if self.toggle else -1)))
        return [*body, ("action", "save")]


def cache_forgetter(cache_url: str, pattern: str) -> Callable[[], None]:
    """Forgets the servers' cached dashboards and exports (Redis keys matching `pattern`), so that
    the next request is a first view."""

    def forget() -> None:
        import redis

        client = redis.Redis.from_url(cache_url)
        try:
            keys = list(client.scan_iter(match=pattern, count=1000))
            if keys:
                client.delete(*keys)
        finally:
            client.close()

    return forget


def endpoints(
    national_url: str, large_url: str, subjects: Subjects, large_ministry, forget: Callable[[], None] | None = None
) -> list[Endpoint]:
    """Sessions are made in the database each server uses: call this with the national database as
    the default connection; `large_ministry` is a session key already made in the large one.
    `forget` (`cache_forgetter`) runs before each first view."""
    year = subjects.year
    city = Browser(national_url, make_session(subjects.city_user))
    bureau = Browser(national_url, make_session(subjects.bureau))
    ministry = Browser(national_url, make_session(subjects.ministry))
    ministry_large = Browser(large_url, large_ministry)
    form = DraftForm(city, subjects.draft_id)
    page, api = f"/ministry/?round={year}", f"/api/v1/dashboard/national/?round={year}"
    export = f"/api/v1/exports/summary.xlsx?round={year}"
    return [
        form.page,
        form.save,
        Endpoint("bureau_queue", "Bureau review queue", bureau, "/bureau/"),
        Endpoint("review_page", "Submission review page", bureau, f"/submissions/{subjects.review_id}/"),
        Endpoint("dashboard_page", "National dashboard page", ministry, page, before=forget),
        # The same request again, the data unchanged.
        Endpoint("dashboard_page_repeat", "National dashboard page (repeat view)", ministry, page),
        Endpoint("dashboard_page_large", "National dashboard page (large)", ministry_large, page, before=forget),
        Endpoint("dashboard_page_large_repeat", "National dashboard page (large, repeat view)", ministry_large, page),
        Endpoint("dashboard_api", "National dashboard API", ministry, api, before=forget),
        Endpoint("dashboard_api_repeat", "National dashboard API (repeat view)", ministry, api),
        Endpoint("dashboard_api_large", "National dashboard API (large)", ministry_large, api, before=forget),
        Endpoint("dashboard_api_large_repeat", "National dashboard API (large, repeat view)", ministry_large, api),
        Endpoint("summary_export", "Summary export (xlsx)", ministry, export, before=forget),
        # Kept while the data and the minute its note names are unchanged.
        Endpoint("summary_export_repeat", "Summary export (xlsx, repeat download)", ministry, export),
    ]


# The candidate of the what-if measurement: three thresholds moved at once, in both directions, so that
# results change both ways (nothing of it is saved; a GET).
WHATIF_CANDIDATE = "bs5g_per_10k=15&pon_10g_share=25&users_1000m=60000"


def whatif_endpoints(
    national_url: str, large_url: str, subjects: Subjects, large_ministry, forget: Callable[[], None] | None = None
) -> list[Endpoint]:
    """The what-if simulation (issue 15) beside the dashboard API it is compared with (its first
    view), on both servers, taking turns request by request (targets: large ÷ national ≤ 2, what-if
    ≤ 3 × the dashboard API's server time)."""
    year = subjects.year
    ministry = Browser(national_url, make_session(subjects.ministry))
    ministry_large = Browser(large_url, large_ministry)
    dashboard = f"/api/v1/dashboard/national/?round={year}"
    whatif = f"/api/v1/rounds/{year}/what-if/?{WHATIF_CANDIDATE}"
    return [
        Endpoint("dashboard_api", "National dashboard API", ministry, dashboard, before=forget),
        Endpoint("dashboard_api_large", "National dashboard API (large)", ministry_large, dashboard, before=forget),
        Endpoint("whatif_api", "What-if API", ministry, whatif),
        Endpoint("whatif_api_large", "What-if API (large)", ministry_large, whatif),
    ]


def measure(items: list[Endpoint], *, samples: int, warmup: int) -> dict[str, Any]:
    """`warmup` unmeasured rounds (every gunicorn worker loads its code, templates and connections),
    then `samples` rounds; in each round every endpoint is asked once, right after its browser asked
    for the floor on the same server."""
    for _ in range(warmup):
        for item in items:
            item.browser.get(FLOOR)
            item.call()
    for _ in range(samples):
        for item in items:
            _response, floor = item.browser.get(FLOOR)
            if floor.status != 200:
                raise SystemExit(f"the floor answered {floor.status}: the session of {item.label} is not valid")
            item.floor.append(floor)
            item.samples.append(item.call())
    return {item.key: figures(item) for item in items}


def figures(item: Endpoint) -> dict[str, Any]:
    queries = [s.queries for s in item.samples if s.queries is not None]
    return {
        "label": item.label,
        "method": item.method,
        "path": item.path,
        "server_ms": summary([s.server_ms for s in item.samples if s.server_ms is not None]),
        "client_ms": summary([s.client_ms for s in item.samples]),
        "sql_ms": summary([s.sql_ms for s in item.samples if s.sql_ms is not None]),
        "queries": max(queries) if queries else None,
        "queries_min": min(queries) if queries else None,
        "floor_server_ms": summary([s.server_ms for s in item.floor if s.server_ms is not None]),
        "floor_queries": max((s.queries or 0) for s in item.floor) if item.floor else None,
        "bytes": item.size,
    }

"""Progress over time (burn-up, issue 15): the series equal counts worked out by hand from events
written in the test, including returns, resubmissions, a send-back and a past round."""

from __future__ import annotations

import datetime
import io
import json
import re
from zoneinfo import ZoneInfo

import pytest
from django.db import transaction
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from gigacity.models import City, Role
from indicators.models import Round, RoundStatus
from reviews.progress import progress_series
from submissions.models import Action, Status, Submission, SubmissionEvent
from submissions.workflow import TRANSITIONS
from tests.conftest import make_user

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(day: int, hour: int = 10, minute: int = 0) -> datetime.datetime:
    """A moment of September 2019, Beijing time."""
    return datetime.datetime(2019, 9, day, hour, minute, tzinfo=SHANGHAI)


class Story:
    """Forms and their events, written by hand (no service), as the workflow would have left them."""

    def __init__(self, round_: Round):
        self.round = round_
        self.city = make_user("p-city", Role.CITY, city="370200")
        self.bureau = make_user("p-bureau", Role.BUREAU, province="370000")
        self.ministry = make_user("p-ministry", Role.MINISTRY)

    def form(self, city: str, created: datetime.datetime, status: str) -> Submission:
        return Submission.objects.create(
            city=City.objects.get(pk=city), round=self.round, status=status, created_at=created
        )

    def event(self, form: Submission, action: Action, source: str, target: str, when: datetime.datetime) -> None:
        actor = {Action.SUBMIT: self.city, Action.RETURN: self.bureau, Action.RECOMMEND: self.bureau}.get(
            action, self.ministry
        )
        SubmissionEvent.objects.create(
            submission=form,
            action=action,
            from_status=source,
            to_status=target,
            actor=actor,
            actor_role=actor.role,
            version=SubmissionEvent.objects.filter(submission=form).count() + 2,
            created_at=when,
        )


@pytest.fixture
def past_round(reference) -> Round:
    """The 2019 round: open 1–10 September, published on the 20th."""
    return Round.objects.create(
        year=2019,
        status=RoundStatus.PUBLISHED,
        opens_on=datetime.date(2019, 9, 1),
        deadline=datetime.date(2019, 9, 10),
        published_on=datetime.date(2019, 9, 20),
    )


@pytest.fixture
def story(past_round) -> Story:
    s = Story(past_round)
    # 青岛: submitted on the 2nd, returned on the 3rd, resubmitted on the 5th, recommended on the
    # 6th and approved on the 12th, after the deadline.
    a = s.form("370200", at(1), Status.APPROVED)
    s.event(a, Action.SUBMIT, Status.DRAFT, Status.SUBMITTED, at(2))
    s.event(a, Action.RETURN, Status.SUBMITTED, Status.RETURNED, at(3))
    s.event(a, Action.SUBMIT, Status.RETURNED, Status.SUBMITTED, at(5))
    s.event(a, Action.RECOMMEND, Status.SUBMITTED, Status.RECOMMENDED, at(6))
    s.event(a, Action.APPROVE, Status.RECOMMENDED, Status.APPROVED, at(12))
    # 济南: submitted at 23:30 Beijing time on the 4th (15:30 UTC: still the 4th in Beijing),
    # recommended on the 7th, sent back on the 8th, recommended again on the 9th, rejected on the 11th.
    b = s.form("370100", at(2), Status.REJECTED)
    s.event(b, Action.SUBMIT, Status.DRAFT, Status.SUBMITTED, at(4, 23, 30))
    s.event(b, Action.RECOMMEND, Status.SUBMITTED, Status.RECOMMENDED, at(7))
    s.event(b, Action.SEND_BACK, Status.RECOMMENDED, Status.SENT_BACK, at(8))
    s.event(b, Action.RECOMMEND, Status.SENT_BACK, Status.RECOMMENDED, at(9))
    s.event(b, Action.REJECT, Status.RECOMMENDED, Status.REJECTED, at(11))
    # 烟台: opened on the 3rd, never submitted.
    s.form("370600", at(3), Status.DRAFT)
    # 徐州 (江苏): opened on the 1st, submitted on the 9th, returned on the 10th and left there.
    d = s.form("320300", at(1), Status.RETURNED)
    s.event(d, Action.SUBMIT, Status.DRAFT, Status.SUBMITTED, at(9))
    s.event(d, Action.RETURN, Status.SUBMITTED, Status.RETURNED, at(10))
    return s


# Worked out by hand from the story above, day by day from 1 to 12 September.
NATIONAL = {
    "started": [2, 3, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4],
    "submitted": [0, 1, 1, 2, 2, 2, 2, 2, 3, 3, 3, 3],
    "recommended": [0, 0, 0, 0, 0, 1, 2, 2, 2, 2, 2, 2],
    "decided": [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2],
}
SHANDONG = {
    "started": [1, 2, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3],
    "submitted": [0, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 2],
    "recommended": NATIONAL["recommended"],
    "decided": NATIONAL["decided"],
}
JIANGSU = {
    "started": [1] * 12,
    "submitted": [0] * 8 + [1] * 4,
    "recommended": [0] * 12,
    "decided": [0] * 12,
}


def _series(block: dict) -> dict:
    return {stage: block[stage] for stage in ("started", "submitted", "recommended", "decided")}


def test_a_past_round_reads_as_it_happened_each_form_counted_once(story, ministry_user):
    data = progress_series(user=ministry_user, round_=story.round, today=datetime.date(2026, 12, 6))

    # The chart runs from the opening to the last decision (after the deadline), not to today.
    assert data["days"][0] == datetime.date(2019, 9, 1)
    assert data["days"][-1] == datetime.date(2019, 9, 12)
    assert data["deadline"] == datetime.date(2019, 9, 10)
    assert _series(data["total"]) == NATIONAL
    east = next(r for r in data["regions"] if r["code"] == "east")
    assert _series(east) == NATIONAL
    central = next(r for r in data["regions"] if r["code"] == "central")
    assert _series(central) == {stage: [0] * 12 for stage in NATIONAL}
    provinces = {row["code"]: row for row in data["provinces"]}
    assert _series(provinces["370000"]) == SHANDONG
    assert _series(provinces["320000"]) == JIANGSU
    assert provinces["370000"]["units"] == City.objects.filter(province="370000").count()


def test_a_bureau_sees_its_province_only(story, bureau_user):
    data = progress_series(user=bureau_user, round_=story.round, province=bureau_user.province)

    assert [row["code"] for row in data["provinces"]] == ["370000"]
    assert _series(data["total"]) == SHANDONG
    assert data["regions"] == []


def test_an_open_round_runs_to_its_deadline_with_no_figures_for_days_to_come(reference, ministry_user):
    today = datetime.date(2019, 9, 5)
    round_ = Round.objects.create(
        year=2019, status=RoundStatus.OPEN, opens_on=datetime.date(2019, 9, 1), deadline=datetime.date(2019, 9, 8)
    )
    s = Story(round_)
    a = s.form("370200", at(2), Status.SUBMITTED)
    s.event(a, Action.SUBMIT, Status.DRAFT, Status.SUBMITTED, at(4))

    data = progress_series(user=ministry_user, round_=round_, today=today)

    assert data["days"][-1] == datetime.date(2019, 9, 8)  # the deadline is on the chart
    assert data["total"]["started"] == [0, 1, 1, 1, 1, None, None, None]
    assert data["total"]["submitted"] == [0, 0, 0, 1, 1, None, None, None]


def test_past_the_deadline_with_forms_undecided_the_chart_runs_to_today(reference, ministry_user):
    round_ = Round.objects.create(
        year=2019, status=RoundStatus.CLOSED, opens_on=datetime.date(2019, 9, 1), deadline=datetime.date(2019, 9, 3)
    )
    s = Story(round_)
    a = s.form("370200", at(1), Status.SUBMITTED)
    s.event(a, Action.SUBMIT, Status.DRAFT, Status.SUBMITTED, at(2))

    data = progress_series(user=ministry_user, round_=round_, today=datetime.date(2019, 9, 6))

    assert data["days"][-1] == datetime.date(2019, 9, 6)
    assert data["total"]["submitted"] == [0, 1, 1, 1, 1, 1]
    assert data["total"]["decided"] == [0, 0, 0, 0, 0, 0]


def test_the_number_of_queries_does_not_grow_with_the_forms(story, ministry_user, django_assert_num_queries):
    with django_assert_num_queries(3):
        progress_series(user=ministry_user, round_=story.round)
    for code in ("370300", "370700", "320100", "330300", "110000"):
        form = story.form(code, at(2), Status.SUBMITTED)
        story.event(form, Action.SUBMIT, Status.DRAFT, Status.SUBMITTED, at(3))
    with django_assert_num_queries(3):
        progress_series(user=ministry_user, round_=story.round)


def test_api_and_export(story, ministry_user, bureau_user):
    client = Client()
    client.force_login(ministry_user)
    body = client.get("/api/v1/progress/national/?round=2019").json()
    assert body["total"]["decided"] == NATIONAL["decided"]
    assert body["days"][0] == "2019-09-01"
    export = client.get("/api/v1/exports/progress/national.xlsx?round=2019")
    assert export.status_code == 200
    rows = list(load_workbook(io.BytesIO(b"".join(export.streaming_content))).active.iter_rows(values_only=True))
    assert rows[1][:4] == ("日期", "范围", "名称", "单位数")
    last_day = [row for row in rows if row[0] == "2019-09-12"]
    nation = next(row for row in last_day if row[1] == "全国")
    assert nation[4:8] == (4, 3, 2, 2)
    shandong = next(row for row in last_day if row[2] == "山东省")
    assert shandong[4:8] == (3, 2, 2, 2)

    client.force_login(bureau_user)
    assert (
        client.get("/api/v1/progress/province/370000/?round=2019").json()["total"]["submitted"]
        == (SHANDONG["submitted"])
    )
    assert client.get("/api/v1/progress/province/320000/?round=2019").status_code == 404
    assert client.get("/api/v1/exports/progress/province/320000.xlsx?round=2019").status_code == 404
    assert client.get("/api/v1/progress/national/?round=2019").status_code == 403


def test_the_national_page_asks_a_province_s_series_of_its_api_when_picked(story, ministry_user):
    """The national page carries the nation's and the regions' lines and every province's name and
    units for the list; a province's lines come from its API, the same figures as its own page."""
    client = Client()
    client.force_login(ministry_user)
    page = client.get("/ministry/?round=2019").content.decode()
    chart = json.loads(re.search(r'<script id="dashboard-data" type="application/json">(.*?)</script>', page, re.S)[1])
    drawn = chart["progress"]
    assert drawn["total"]["decided"] == NATIONAL["decided"]
    shandong = next(row for row in drawn["provinces"] if row["code"] == "370000")
    assert shandong["name"] == "山东省" and shandong["units"] == City.objects.filter(province="370000").count()
    assert "submitted" not in shandong  # not drawn until picked
    assert "data-progress-scope" in page and '<option value="province:370000">山东省</option>' in page

    asked = client.get("/api/v1/progress/province/370000/?round=2019").json()
    assert asked["days"] == drawn["days"]
    assert asked["provinces"][0]["submitted"] == SHANDONG["submitted"]
    assert asked["provinces"][0]["decided"] == asked["total"]["decided"]


def test_the_dashboards_show_the_chart_with_its_reading(story, ministry_user, bureau_user):
    client = Client()
    client.force_login(ministry_user)
    page = client.get("/ministry/?round=2019").content.decode()
    assert 'id="progress-chart"' in page
    assert "每份表只计一次" in page  # the reading of the chart, in Chinese
    client.force_login(bureau_user)
    page = client.get("/dashboard/province/370000/?round=2019").content.decode()
    assert 'id="progress-chart"' in page
    assert "徐州" not in page


# -- Any history the workflow allows ---------------------------------------------------------------


EVALUATION_ACTIONS = [a for a in TRANSITIONS if a not in (Action.CONFIRM, Action.NOT_CONFIRM)]
CITIES = ("370200", "370100", "320300", "330300")
# A form's history: the day it was opened, then steps (which allowed action, days after the last).
HISTORY = st.tuples(st.integers(0, 6), st.lists(st.tuples(st.integers(0, 10), st.integers(0, 3)), max_size=8))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(histories=st.lists(HISTORY, min_size=1, max_size=len(CITIES)))
def test_any_history_reads_as_the_counts_of_its_events(past_round, ministry_user, histories):
    with transaction.atomic():
        story = Story(past_round)
        opened, reached = [], {"submitted": [], "recommended": [], "decided": []}
        for city, (start, steps) in zip(CITIES, histories, strict=False):
            form = story.form(city, at(1 + start), Status.DRAFT)
            opened.append(1 + start)
            state, day = Status.DRAFT, 1 + start
            firsts: dict[str, int] = {}
            for choice, gap in steps:
                allowed = [a for a in EVALUATION_ACTIONS if state in TRANSITIONS[a].sources]
                if not allowed:
                    break  # decided: the end of the workflow
                action = allowed[choice % len(allowed)]
                day = min(day + gap, 20)
                target = TRANSITIONS[action].target
                story.event(form, action, state, target, at(day))
                stage = {Action.SUBMIT: "submitted", Action.RECOMMEND: "recommended"}.get(
                    action, "decided" if target in (Status.APPROVED, Status.REJECTED) else None
                )
                if stage:
                    firsts.setdefault(stage, day)
                state = target
            Submission.objects.filter(pk=form.pk).update(status=state)
            for stage, first in firsts.items():
                reached[stage].append(first)

        data = progress_series(user=ministry_user, round_=past_round, today=datetime.date(2026, 1, 1))

        for index, day in enumerate(data["days"]):
            d = day.day
            assert data["total"]["started"][index] == sum(1 for o in opened if o <= d)
            for stage, firsts_ in reached.items():
                assert data["total"][stage][index] == sum(1 for f in firsts_ if f <= d), (stage, day)
            assert (
                data["total"]["decided"][index]
                <= data["total"]["recommended"][index]
                <= data["total"]["submitted"][index]
                <= data["total"]["started"][index]
            )
        transaction.set_rollback(True)

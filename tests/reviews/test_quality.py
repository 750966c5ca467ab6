"""Data quality by province (issue 15): figures against examples worked out by hand from events,
comments, scores and extensions written in the test; ranking; scope; queries."""

from __future__ import annotations

import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.test import Client

from gigacity.models import City, Role
from indicators.models import Round, RoundStatus
from reviews.quality import data_quality
from submissions.models import (
    Action,
    Extension,
    FieldComment,
    Flag,
    Score,
    Status,
    Submission,
    SubmissionEvent,
)
from tests.conftest import make_user

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(day: int, hour: int = 10, year: int = 2019) -> datetime.datetime:
    return datetime.datetime(year, 9, day, hour, tzinfo=SHANGHAI)


class Story:
    def __init__(self, round_: Round):
        self.round = round_
        self.city = make_user("q-city", Role.CITY, city="370200")
        self.bureau = make_user("q-bureau", Role.BUREAU, province="370000")
        self.ministry = make_user("q-ministry", Role.MINISTRY)

    def form(self, city: str, status: str) -> Submission:
        return Submission.objects.create(
            city=City.objects.get(pk=city), round=self.round, status=status, created_at=at(1, year=self.round.year)
        )

    def event(self, form, action, source, target, when, details=None) -> SubmissionEvent:
        actor = {Action.SUBMIT: self.city, Action.RETURN: self.bureau, Action.RECOMMEND: self.bureau}.get(
            action, self.ministry
        )
        return SubmissionEvent.objects.create(
            submission=form,
            action=action,
            from_status=source,
            to_status=target,
            actor=actor,
            actor_role=actor.role,
            details=details or {},
            version=SubmissionEvent.objects.filter(submission=form).count() + 2,
            created_at=when,
        )

    def comment(self, event: SubmissionEvent, field: str) -> None:
        FieldComment.objects.create(submission=event.submission, event=event, field=field, message="请核实")

    def score(self, form, when, comparison=(), **severities: int) -> None:
        score = Score.objects.create(
            submission=form,
            comparison=list(comparison),
            version=Score.objects.filter(submission=form).count() + 1,
            threshold_version=1,
            results=[],
            cases_count=5,
            meets_all=False,
            missed=0,
            created_at=when,
        )
        levels = {"critical": Flag.Severity.CRITICAL, "warning": Flag.Severity.WARNING, "info": Flag.Severity.INFO}
        for name, n in severities.items():
            for _ in range(n):
                Flag.objects.create(score=score, code="x", severity=levels[name], message_zh="x", message_en="x")


@pytest.fixture
def story(reference) -> Story:
    """The 2019 round (deadline 10 September) with forms in 山东, 江苏 and 浙江; the 2018 round before it."""
    earlier = Round.objects.create(
        year=2018, status=RoundStatus.PUBLISHED, opens_on=datetime.date(2018, 9, 1), deadline=datetime.date(2018, 9, 10)
    )
    s = Story(earlier)
    old = s.form("370200", Status.RETURNED)
    s.event(old, Action.SUBMIT, Status.DRAFT, Status.SUBMITTED, at(2, year=2018))
    s.event(old, Action.RETURN, Status.SUBMITTED, Status.RETURNED, at(3, year=2018))

    s.round = Round.objects.create(
        year=2019, status=RoundStatus.PUBLISHED, opens_on=datetime.date(2019, 9, 1), deadline=datetime.date(2019, 9, 10)
    )
    S, R, RC, A, RJ = Status.SUBMITTED, Status.RETURNED, Status.RECOMMENDED, Status.APPROVED, Status.REJECTED
    # 青岛: contradictions confirmed at the first submission; returned twice (comments on bs5g_count and
    # users_5g, then bs5g_count again and a case); recommended; approved.
    a = s.form("370200", A)
    s.event(a, Action.SUBMIT, Status.DRAFT, S, at(2), {"confirmed_inconsistencies": ["users_5g_gt_mobile"]})
    first = s.event(a, Action.RETURN, S, R, at(3))  # 1 day at the bureau
    s.comment(first, "bs5g_count")
    s.comment(first, "users_5g")
    s.event(a, Action.SUBMIT, R, S, at(5))
    second = s.event(a, Action.RETURN, S, R, at(6, 22))  # 1.5 days
    s.comment(second, "bs5g_count")
    s.comment(second, "case:1")
    s.event(a, Action.SUBMIT, R, S, at(8))
    s.event(a, Action.RECOMMEND, S, RC, at(9))  # 1 day
    s.event(a, Action.APPROVE, RC, A, at(12))  # 3 days at the ministry
    s.score(a, at(2), critical=5)  # an older score: not counted
    s.score(a, at(8), critical=1, warning=2)
    # 济南: first submitted on the 11th, under an extension to the 15th: on time.
    b = s.form("370100", RJ)
    Extension.objects.create(
        city_id="370100", round=s.round, until=datetime.date(2019, 9, 15), reason="系统故障", granted_by=s.bureau
    )
    s.event(b, Action.SUBMIT, Status.DRAFT, S, at(11))
    s.event(b, Action.RECOMMEND, S, RC, at(13))  # 2 days
    s.event(b, Action.REJECT, RC, RJ, at(14))  # 1 day
    s.score(b, at(11), info=1)
    # 烟台: first submitted on the 12th without an extension: late; recommended six hours later.
    c = s.form("370600", RC)
    s.event(c, Action.SUBMIT, Status.DRAFT, S, at(12))
    s.event(c, Action.RECOMMEND, S, RC, at(12, 16))  # 0.25 days
    # 潍坊: a draft never submitted: not counted.
    s.form("370700", Status.DRAFT)
    # 徐州 (江苏): recommended after six hours, approved 1.75 days later.
    d = s.form("320300", A)
    s.event(d, Action.SUBMIT, Status.DRAFT, S, at(4))
    s.event(d, Action.RECOMMEND, S, RC, at(4, 16))
    s.event(d, Action.APPROVE, RC, A, at(6))
    # 温州 (浙江): returned once with one comment, left with the city.
    e = s.form("330300", R)
    s.event(e, Action.SUBMIT, Status.DRAFT, S, at(3))
    s.comment(s.event(e, Action.RETURN, S, R, at(5)), "users_5g")
    return s


D = Decimal


def test_figures_equal_the_hand_worked_example(story, ministry_user):
    data = data_quality(user=ministry_user, round_=story.round)
    rows = {row["code"]: row for row in data["provinces"]}

    shandong = rows["370000"]
    assert shandong["forms"] == 3  # 潍坊's draft is not counted
    assert shandong["returns_per_form"] == D("0.67")  # 2 returns ÷ 3 forms
    assert shandong["fields_commented_per_form"] == D("1.00")  # bs5g_count, users_5g, case:1 ÷ 3
    assert shandong["critical_flags_per_form"] == D("0.33")  # the latest score's one, not the older five
    assert shandong["warning_flags_per_form"] == D("0.67")
    assert shandong["info_flags_per_form"] == D("0.33")
    assert shandong["confirmed_contradictions_share"] == D("33.3")  # 青岛 of 3
    assert shandong["median_bureau_days"] == D("1.0")  # 1, 1.5, 1, 2, 0.25
    assert shandong["median_ministry_days"] == D("2.0")  # 3 and 1
    assert shandong["on_time_share"] == D("66.7")  # 青岛, and 济南 under its extension; 烟台 late
    assert shandong["inputs_within_tolerance_share"] is None

    jiangsu = rows["320000"]
    assert (jiangsu["forms"], jiangsu["returns_per_form"]) == (1, D("0.00"))
    assert jiangsu["median_bureau_days"] == D("0.3")  # 0.25 days, one decimal
    assert jiangsu["median_ministry_days"] == D("1.8")  # 1.75
    assert jiangsu["on_time_share"] == D("100.0")

    zhejiang = rows["330000"]
    assert (zhejiang["returns_per_form"], zhejiang["fields_commented_per_form"]) == (D("1.00"), D("1.00"))
    assert zhejiang["median_bureau_days"] == D("2.0")
    assert zhejiang["median_ministry_days"] is None


def compared(input_name: str, city: int, total: int | None, within: bool | None) -> dict:
    """A row of a score's comparison with the operators' figures (`indicators.crosscheck`)."""
    return {"input": input_name, "city": city, "total": total, "within": within}


def test_inputs_within_tolerance_count_the_inputs_the_latest_scores_compared(story, ministry_user):
    qingdao = Submission.objects.get(city_id="370200", round=story.round)
    jinan = Submission.objects.get(city_id="370100", round=story.round)
    # 青岛's latest score compared four inputs, three within the tolerance; two no operator reported.
    story.score(
        qingdao,
        at(10),
        [
            compared("pon_10g_ports", 1200, 1190, True),
            compared("pon_ports_total", 3000, 2990, True),
            compared("bs5g_count", 900, 880, True),
            compared("users_5g", 500000, 400000, False),
            compared("users_1000m", 30000, None, None),
            compared("mobile_users_total", 900000, None, None),
        ],
    )
    # 济南: two compared, one within; an older score (all within) does not count.
    story.score(jinan, at(10), [compared("bs5g_count", 500, 500, True), compared("users_5g", 10, 10, True)])
    story.score(jinan, at(13), [compared("bs5g_count", 500, 500, True), compared("users_5g", 300000, 200000, False)])

    rows = {row["code"]: row for row in data_quality(user=ministry_user, round_=story.round)["provinces"]}

    assert rows["370000"]["inputs_within_tolerance_share"] == D("66.7")  # 4 of 6 compared inputs
    assert rows["320000"]["inputs_within_tolerance_share"] is None  # no operator has reported in 江苏


def test_ranked_by_returns_per_form_with_the_national_median(story, ministry_user):
    data = data_quality(user=ministry_user, round_=story.round)

    ranked = [(row["code"], row["rank"]) for row in data["provinces"][:3]]
    assert ranked == [("330000", 1), ("370000", 2), ("320000", 3)]
    assert all(row["rank"] is None for row in data["provinces"][3:])
    median = data["national_median"]
    assert median["returns_per_form"] == D("0.67")  # of 1.00, 0.67, 0.00
    assert median["on_time_share"] == D("100.0")  # of 66.7, 100, 100
    assert median["median_bureau_days"] == D("1.0")  # of 1.0, 0.3, 2.0
    assert median["median_ministry_days"] == D("1.9")  # of 2.0 and 1.8 (浙江 has none)


def test_the_earlier_round_is_beside(story, ministry_user):
    data = data_quality(user=ministry_user, round_=story.round)
    shandong = next(row for row in data["provinces"] if row["code"] == "370000")

    assert data["years"] == [2018, 2019]
    assert [(t["year"], t["returns_per_form"]) for t in shandong["trend"]] == [(2018, D("1.00"))]
    assert shandong["sparkline"] == [D("1.00"), D("0.67")]


def test_a_bureau_sees_its_own_province_and_the_national_median_only(story, bureau_user):
    data = data_quality(user=bureau_user, round_=story.round)

    assert [row["code"] for row in data["provinces"]] == ["370000"]
    assert data["provinces"][0]["rank"] is None  # a rank would tell of the others
    assert data["national_median"]["returns_per_form"] == D("0.67")

    client = Client()
    client.force_login(bureau_user)
    assert client.get("/dashboard/data-quality/?round=2019")["Location"] == "/dashboard/data-quality/370000/"
    page = client.get("/dashboard/data-quality/370000/?round=2019").content.decode()
    assert "山东省" in page and "江苏省" not in page and "浙江省" not in page
    assert "全国中位数" in page
    for url in (
        "/dashboard/data-quality/320000/?round=2019",
        "/api/v1/data-quality/province/320000/?round=2019",
        "/api/v1/exports/data-quality/province/320000.xlsx?round=2019",
    ):
        assert client.get(url).status_code == 404, url
    assert client.get("/api/v1/data-quality/national/?round=2019").status_code == 403
    body = client.get("/api/v1/data-quality/province/370000/?round=2019").json()
    assert [row["code"] for row in body["provinces"]] == ["370000"]


def test_the_ministry_page_api_and_export(story, ministry_user):
    client = Client()
    client.force_login(ministry_user)
    page = client.get("/dashboard/data-quality/?round=2019").content.decode()
    assert "按每表退回次数从高到低排名" in page  # the ranking key, said on the page
    assert page.index("浙江省") < page.index("山东省") < page.index("江苏省")
    body = client.get("/api/v1/data-quality/national/?round=2019").json()
    assert body["provinces"][0]["code"] == "330000"
    assert body["provinces"][0]["inputs_within_tolerance_share"] is None
    export = client.get("/api/v1/exports/data-quality/national.xlsx?round=2019")
    assert export.status_code == 200


def test_the_number_of_queries_does_not_grow_with_the_forms(story, ministry_user, django_assert_num_queries):
    with django_assert_num_queries(4):
        data_quality(user=ministry_user, round_=story.round)
    for code in ("370300", "320100", "110000", "440100"):
        form = story.form(code, Status.SUBMITTED)
        story.event(form, Action.SUBMIT, Status.DRAFT, Status.SUBMITTED, at(3))
    with django_assert_num_queries(4):
        data_quality(user=ministry_user, round_=story.round)

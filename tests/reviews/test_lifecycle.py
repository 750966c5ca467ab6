"""A Gigabit City's life across the rounds, as its users meet it: named once, then an annual report
every round that the ministry confirms or does not confirm; the same counts on every page, export and
API; MIIT's summary table with its means; the watch list; next year's round started from the last.

The 29 cities of 2021 come from the seeds (the announcement of 2021-12-24): among them 济南, 青岛 and
日照 in 山东 and 南京 in 江苏. 烟台 and 潍坊 were never named."""

from __future__ import annotations

import datetime
import io
import random
from decimal import Decimal
from unittest import mock

import openpyxl
import pytest
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from gigacity.models import City, Role
from indicators.models import Designation, PublishedFigure, ReferenceValue, Round, RoundStatus, Threshold
from indicators.reference import ensure_thresholds
from indicators.services import designation_create
from reviews import lifecycle
from reviews.models import Notification
from reviews.services import round_set_status, submission_approve
from submissions.models import Extension, FormKind, Status, Submission, SubmissionEvent
from submissions.services import submission_get_or_create, submission_update
from tests.conftest import make_user
from tests.factories import make_submission

from .data import add_forms

pytestmark = pytest.mark.django_db

QINGDAO, JINAN, RIZHAO, YANTAI, WEIFANG, NANJING = "370200", "370100", "371100", "370600", "370700", "320100"


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def city(code: str) -> City:
    return City.objects.get(pk=code)


def due_in(days: int) -> str:
    return (timezone.localdate() + datetime.timedelta(days=days)).isoformat()


# ------------------------------------------------------------------------------------------------
# Named once
# ------------------------------------------------------------------------------------------------
def test_a_gigabit_city_s_form_is_an_annual_report_that_is_confirmed_never_named_again(
    city_user, ministry_user, open_round
):
    submission = make_submission(city_user.city, open_round, Status.RECOMMENDED)  # 青岛, named in 2021
    events = SubmissionEvent.objects.filter(submission=submission).count()

    refused = api(ministry_user).post(f"/api/v1/submissions/{submission.pk}/approve/", {}, format="json")

    assert refused.status_code == 409
    assert "青岛市已是千兆城市" in refused.json()["detail"] and "只认定一次" in refused.json()["detail"]
    assert SubmissionEvent.objects.filter(submission=submission).count() == events
    assert list(Designation.objects.filter(city=city_user.city).values_list("round__year", flat=True)) == [2021]

    confirmed = api(ministry_user).post(f"/api/v1/submissions/{submission.pk}/confirm/", {}, format="json")

    assert confirmed.status_code == 200
    body = confirmed.json()
    assert (body["kind"], body["kind_label"], body["status"], body["status_label"]) == (
        "annual_report",
        "年度复核",
        "approved",
        "复核通过",
    )
    assert list(Designation.objects.filter(city=city_user.city).values_list("round__year", flat=True)) == [2021]
    client = make_client(city_user)
    home = client.get("/city/").content.decode()
    assert home.count("badge-gigabit") == 1 and 'data-testid="batch">2021年度千兆城市<' in home
    assert "复核通过" in home and "年度复核" in home
    page = make_client(ministry_user).get(f"/submissions/{submission.pk}/").content.decode()
    assert 'data-testid="decision"' in page and "仍为2021年度千兆城市" in page


def workbook(response) -> openpyxl.Workbook:
    assert response.status_code == 200
    return openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))


def make_client(user):
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client


def test_the_database_refuses_a_second_designation_of_a_city(reference):
    with pytest.raises(IntegrityError), transaction.atomic():
        Designation.objects.create(city_id=QINGDAO, round=Round.objects.get(year=2022), source="approved")
    assert Designation.objects.filter(city_id=QINGDAO).count() == 1


def test_the_admin_cannot_name_a_city_twice(admin_user):
    url = reverse("admin:indicators_designation_add")
    again = {"city": QINGDAO, "round": Round.objects.get(year=2022).pk, "source": "approved"}

    response = make_client(admin_user).post(url, again)

    assert response.status_code == 200 and "该城市已是千兆城市：每个城市只认定一次。" in response.content.decode()
    assert list(Designation.objects.filter(city_id=QINGDAO).values_list("round__year", flat=True)) == [2021]


def test_approving_an_evaluation_of_a_city_named_in_another_round_is_refused_and_saves_nothing(ministry_user):
    # 烟台 evaluated in 2022 (decisions still open), then named from 2023's published list.
    Round.objects.filter(year=2022).update(status=RoundStatus.OPEN, deadline=timezone.localdate())
    evaluation = make_submission(city(YANTAI), Round.objects.get(year=2022), Status.RECOMMENDED)
    designation_create(city_id=YANTAI, round_=Round.objects.get(year=2023), source="published")
    evaluation.refresh_from_db()
    assert evaluation.kind == FormKind.EVALUATION  # 2022 came before 2023: it was an evaluation

    response = api(ministry_user).post(f"/api/v1/submissions/{evaluation.pk}/approve/", {}, format="json")

    assert response.status_code == 409
    assert response.json()["detail"] == "烟台市已于2023年度被认定为千兆城市；每个城市只认定一次。"
    evaluation.refresh_from_db()
    assert evaluation.status == Status.RECOMMENDED  # the decision was rolled back with the refusal
    assert not SubmissionEvent.objects.filter(submission=evaluation, action="approve").exists()
    assert list(Designation.objects.filter(city_id=YANTAI).values_list("round__year", flat=True)) == [2023]


def test_a_form_opened_before_the_city_was_named_becomes_an_annual_report(ministry_user, open_round):
    last_year = Round.objects.create(
        year=open_round.year - 1, status=RoundStatus.OPEN, deadline=open_round.deadline, opens_on=open_round.opens_on
    )
    Threshold.objects.bulk_create(
        Threshold(round=last_year, indicator_id=t.indicator_id, value=t.value) for t in open_round.thresholds.all()
    )
    last = make_submission(city(YANTAI), last_year, Status.RECOMMENDED)
    this = make_submission(city(YANTAI), open_round, Status.DRAFT)
    assert (last.kind, this.kind) == (FormKind.EVALUATION, FormKind.EVALUATION)

    submission_approve(submission_id=last.pk, actor=ministry_user)

    this.refresh_from_db()
    assert this.kind == FormKind.ANNUAL_REPORT
    yantai = make_user("yantai", Role.CITY, city=YANTAI)
    form = make_client(yantai).get(f"/submissions/{this.pk}/edit/").content.decode()
    assert f"烟台市自{last_year.year}年度起为千兆城市" in form


# ------------------------------------------------------------------------------------------------
# Not confirmed: reason, shortfall, date
# ------------------------------------------------------------------------------------------------
def test_not_confirming_needs_the_shortfall_and_a_date_and_keeps_what_was_typed(
    city_user, bureau_user, ministry_user, open_round
):
    submission = make_submission(city_user.city, open_round, Status.RECOMMENDED, pon_10g_ports=1000)
    client = make_client(ministry_user)
    url = f"/submissions/{submission.pk}/act/not-confirm/"

    page = client.get(f"/submissions/{submission.pk}/").content.decode()
    assert 'name="shortfall" value="pon_10g_share" checked' in page  # the score's miss, ticked for the reviewer
    no_shortfall = client.post(
        url, {"version": submission.version, "reason": "基站数据有待核实", "improvement_due": due_in(90)}
    )
    past = client.post(
        url,
        {
            "version": submission.version,
            "reason": "未达标",
            "shortfall": ["pon_10g_share"],
            "improvement_due": due_in(-1),
        },
    )
    bad_date = api(ministry_user).post(
        f"/api/v1/submissions/{submission.pk}/not-confirm/",
        {"reason": "未达标", "shortfall": ["pon_10g_share"], "improvement_due": "明年"},
        format="json",
    )

    assert no_shortfall.status_code == 400 and "请至少选择一项未达标指标" in no_shortfall.content.decode()
    assert "基站数据有待核实" in no_shortfall.content.decode()  # the reason typed stays on the page
    assert past.status_code == 400 and "整改期限须晚于今天" in past.content.decode()
    assert bad_date.status_code == 400 and "improvement_due" in bad_date.json()["errors"]
    submission.refresh_from_db()
    assert submission.status == Status.RECOMMENDED and submission.shortfall == []

    done = client.post(
        url,
        {
            "version": submission.version,
            "reason": "10G-PON端口占比低于标准",
            "shortfall": ["pon_10g_share", "users_5g_share"],
            "improvement_due": due_in(200),
        },
    )

    assert done.status_code == 302
    submission.refresh_from_db()
    assert (submission.status, submission.status_label) == (Status.REJECTED, "复核未通过")
    assert submission.shortfall == ["pon_10g_share", "users_5g_share"]
    assert submission.improvement_due.isoformat() == due_in(200)
    assert Designation.objects.filter(city=city_user.city).count() == 1  # still a Gigabit City of 2021
    home = make_client(city_user).get("/city/").content.decode()
    assert "复核未通过" in home and f"整改期限 {due_in(200)}" in home
    detail = make_client(bureau_user).get(f"/submissions/{submission.pk}/").content.decode()
    assert "10G-PON端口占比" in detail and due_in(200) in detail
    body = api(city_user).get(f"/api/v1/submissions/{submission.pk}/").json()
    assert body["decision"] == {"shortfall": ["pon_10g_share", "users_5g_share"], "improvement_due": due_in(200)}
    assert Notification.objects.filter(recipient=city_user, kind="not_confirmed").exists()


# ------------------------------------------------------------------------------------------------
# The same counts everywhere
# ------------------------------------------------------------------------------------------------
@pytest.fixture
def history(open_round, ministry_user):
    """The open round: 烟台 named (new), 潍坊 still recommended; 青岛 confirmed, 济南 not confirmed and
    南京 submitted (annual reports of 2021 cities); 日照 and the other 2021 cities have not reported."""
    make_submission(city(YANTAI), open_round, Status.APPROVED)
    make_submission(city(WEIFANG), open_round, Status.RECOMMENDED)
    make_submission(city(QINGDAO), open_round, Status.APPROVED)
    make_submission(city(JINAN), open_round, Status.REJECTED)
    make_submission(city(NANJING), open_round, Status.SUBMITTED)
    return open_round


# Counted by hand from the fixture and the seeds (29 cities in 2021, 3 of them in 山东).
NATIONAL = {
    "named_in_round": 1,
    "named_total": 30,
    "reports_expected": 29,
    "reports_received": 3,
    "confirmed": 1,
    "not_confirmed": 1,
}
SHANDONG = {
    "named_in_round": 1,
    "named_total": 4,
    "reports_expected": 3,
    "reports_received": 2,
    "confirmed": 1,
    "not_confirmed": 1,
}


def test_the_counts_agree_on_every_page_export_and_api(history, ministry_user, bureau_user, city_user):
    year = history.year

    national = api(ministry_user).get("/api/v1/dashboard/national/", {"round": year}).json()
    province = api(ministry_user).get("/api/v1/dashboard/province/370000/", {"round": year}).json()
    bureau = api(bureau_user).get("/api/v1/dashboard/province/370000/", {"round": year}).json()
    rounds = {r["year"]: r for r in api(ministry_user).get("/api/v1/rounds/").json()["results"]}
    bureau_rounds = {r["year"]: r for r in api(bureau_user).get("/api/v1/rounds/").json()["results"]}

    assert national["gigabit"] == NATIONAL
    assert (national["named_total"], national["named_in_round"]) == (30, 1)
    assert next(p for p in national["provinces"] if p["code"] == "370000")["gigabit"] == SHANDONG
    assert province["gigabit"] == bureau["gigabit"] == SHANDONG
    assert rounds[year]["gigabit_cities"] == NATIONAL
    assert bureau_rounds[year]["gigabit_cities"] == SHANDONG
    assert rounds[2021]["gigabit_cities"]["named_in_round"] == 29  # the list loaded from the seeds

    rounds_page = make_client(ministry_user).get("/ministry/rounds/").content.decode()
    row = rounds_page[rounds_page.index(f'data-year="{year}"') :]
    for key, value in NATIONAL.items():
        assert f'data-count="{key}">{value}<' in row[: row.index("</tr>")], key
    first = rounds_page[rounds_page.index('data-year="2021"') :]
    assert 'data-count="named_in_round">29<' in first[: first.index("</tr>")]

    dashboard = make_client(ministry_user).get(f"/ministry/?round={year}").content.decode()
    assert 'data-testid="kpi-named">30<' in dashboard
    assert 'data-testid="kpi-reports-received">3<' in dashboard and 'data-testid="kpi-not-confirmed">1<' in dashboard

    book = workbook(api(ministry_user).get("/api/v1/exports/dashboard/national.xlsx"))
    sheet = book["分省情况"]
    header = [c.value for c in sheet[1]]
    shandong = next(row for row in sheet.iter_rows(min_row=2, values_only=True) if row[0] == "山东省")
    assert shandong[header.index("千兆城市数")] == 4 and shandong[header.index("已报送年度复核")] == 2
    assert shandong[header.index("复核通过")] == 1 and shandong[header.index("复核未通过")] == 1

    summary = workbook(api(ministry_user).get("/api/v1/exports/summary.xlsx"))
    assert sum(1 for row in summary.active.iter_rows(min_row=3, values_only=True) if isinstance(row[0], int)) == 30
    cities = workbook(api(bureau_user).get("/api/v1/exports/dashboard/province/370000.xlsx"))
    kinds = {row[3]: row[4] for row in cities["城市"].iter_rows(min_row=2, values_only=True)}
    assert (kinds[QINGDAO], kinds[RIZHAO], kinds[YANTAI], kinds[WEIFANG]) == (
        "年度复核",
        "年度复核",
        "评估申报",
        "评估申报",
    )


def test_the_rounds_list_counts_the_gigabit_cities_loaded_for_2021(ministry_user):
    page = make_client(ministry_user).get("/ministry/rounds/").content.decode()

    row = page[page.index('data-year="2021"') :]
    row = row[: row.index("</tr>")]
    assert 'data-count="named_in_round">29<' in row and 'data-count="named_total">29<' in row


# ------------------------------------------------------------------------------------------------
# MIIT's summary table: every Gigabit City so far, and the means
# ------------------------------------------------------------------------------------------------
HEADER = ",".join(
    [
        *("序号", "省份", "千兆城市", "每万人拥有5G基站数（个/万人）", "5G用户占比（%）"),
        *("10G-PON端口占比（%）", "500M及以上用户占比（%）", "备注"),
    ]
)
PUBLISHED_2022 = f"""{HEADER}
1,北京,北京,30.1,45.0,60.2,20.5,2021年度
2,天津,天津,25.0,40.0,55.0,18.0,2021年度
3,山东,济南,24.3,38.2,50.1,17.4,2021年度
4,山东,青岛,23.8,39.9,48.0,16.0,2021年度
5,山东,烟台,20.0,35.5,31.0,12.5,2022年度
6,山东,潍坊,18.2,30.1,25.0,11.0,2022年度
,千兆城市平均值,,23.6,38.1,44.9,15.9,
"""


def load_2022(content: str = PUBLISHED_2022, name: str = "2022年千兆城市关键指标情况汇总表.csv"):
    from indicators.published import published_load

    return published_load(round_=Round.objects.get(year=2022), upload=io.BytesIO(content.encode()), name=name)


def test_the_summary_table_of_a_past_round_has_every_gigabit_city_and_miits_means(ministry_user):
    result = load_2022()

    assert (result.rows, result.created, sorted(result.named)) == (6, 6, ["潍坊市", "烟台市"])
    book = workbook(api(ministry_user).get("/api/v1/exports/summary.xlsx", {"round": 2022}))
    rows = [row for row in book.active.iter_rows(min_row=3, values_only=True) if any(v is not None for v in row)]
    data = [row for row in rows if isinstance(row[0], int)]
    assert len(data) == 31  # the 29 of 2021 and the two named in 2022
    by_city = {row[2]: row for row in data}
    assert by_city["烟台市"][3] == pytest.approx(20.0) and by_city["烟台市"][10] == "2022年度"
    assert by_city["上海市"][3] is None  # not in the published table: blank
    # The means, computed here from the table above: base stations per 10 000 people.
    first_batch = [Decimal("30.1"), Decimal("25.0"), Decimal("24.3"), Decimal("23.8")]
    second_batch = [Decimal("20.0"), Decimal("18.2")]
    overall = (sum(first_batch + second_batch) / 6).quantize(Decimal("0.1"))
    means = {row[1]: row for row in rows if row[0] is None and row[1] and "平均值" in str(row[1])}
    assert means["全部千兆城市平均值"][3] == pytest.approx(float(overall)) == pytest.approx(23.6)
    assert means["2021年度千兆城市平均值"][3] == pytest.approx(25.8)
    assert means["2022年度千兆城市平均值"][3] == pytest.approx(19.1)
    assert means["2022年度千兆城市平均值"][2] == "2个城市"

    dashboard = api(ministry_user).get("/api/v1/dashboard/national/", {"round": 2022}).json()
    bs5g = next(row for row in dashboard["indicators"] if row["code"] == "bs5g_per_10k")
    assert bs5g["named_mean"] == 23.6
    assert {b["year"]: b["mean"] for b in bs5g["by_batch"]} == {2021: 25.8, 2022: 19.1}
    assert dashboard["gigabit"]["named_in_round"] == 2 and dashboard["gigabit"]["named_total"] == 31

    # One province's means (`named_means`), from that province's rows of the table above.
    shandong = [row for row in data if row[1] == "山东省"]
    figures = [Decimal(str(row[3])) for row in shandong if row[3] is not None]
    assert len(shandong) >= 3 and len(figures) >= 2
    round_2022 = Round.objects.get(year=2022)
    means = lifecycle.named_means(user=ministry_user, round_=round_2022, province="370000")
    assert means["cities"] == len(shandong)
    assert means["means"]["bs5g_per_10k"] == (sum(figures) / len(figures)).quantize(Decimal("0.1"))
    # Outside the reader's scope, a province has no Gigabit City.
    jiangsu_bureau = make_user("bureau-js", Role.BUREAU, province="320000")
    assert lifecycle.named_means(user=jiangsu_bureau, round_=round_2022, province="370000")["cities"] == 0


# ------------------------------------------------------------------------------------------------
# Published figures: all or nothing
# ------------------------------------------------------------------------------------------------
def test_loading_the_same_published_table_twice_changes_nothing():
    load_2022()
    before = (
        list(Designation.objects.order_by("pk").values()),
        list(Round.objects.get(year=2022).published_figures.order_by("pk").values()),
    )

    again = load_2022()

    assert (again.created, again.updated, again.unchanged, again.removed, again.named) == (0, 0, 6, 0, [])
    after = (
        list(Designation.objects.order_by("pk").values()),
        list(Round.objects.get(year=2022).published_figures.order_by("pk").values()),
    )
    assert after == before


def test_a_half_wrong_table_loads_nothing_and_names_its_wrong_rows():
    from django.core.exceptions import ValidationError

    wrong = PUBLISHED_2022.replace("山东,烟台", "山东,火星").replace("2,天津,天津", "2,天竺,天津")
    wrong = wrong.replace("23.8,39.9,48.0,16.0,2021年度", "23.8,39.9,48.0,16.0,2022年度").replace(
        "18.2,30.1", "十八,30.1"
    )

    with pytest.raises(ValidationError) as refused:
        load_2022(wrong)

    messages = refused.value.messages
    assert messages == [
        "第 3 行：无此省份“天竺”",
        "第 5 行：青岛市系2021年度认定，不是2022年度",
        "第 6 行：山东省无“火星”",
        "第 7 行：每万人拥有5G基站数“十八”：不是数字",
    ]
    assert not Round.objects.get(year=2022).published_figures.exists()
    assert not Designation.objects.filter(city_id__in=[YANTAI, WEIFANG]).exists()


def test_the_admin_uploads_a_published_table_and_lists_the_wrong_rows(admin_user):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client = make_client(admin_user)
    url = reverse("admin:indicators_publishedfigure_upload")
    workbook = openpyxl.Workbook()
    workbook.active.append(["千兆城市关键指标情况汇总表"])
    for line in PUBLISHED_2022.splitlines():
        workbook.active.append([float(c) if c.replace(".", "").isdigit() and "." in c else c for c in line.split(",")])
    workbook.active.append(["", "江苏", "南京", "abc", "", "", "", "2021年度"])
    buffer = io.BytesIO()
    workbook.save(buffer)

    refused = client.post(url, {"round": 2022, "file": SimpleUploadedFile("2022.xlsx", buffer.getvalue())})

    assert refused.status_code == 400
    assert "第 10 行：每万人拥有5G基站数“abc”：不是数字" in refused.content.decode()
    assert not Round.objects.get(year=2022).published_figures.exists()

    loaded = client.post(
        url, {"round": 2022, "file": SimpleUploadedFile("2022.csv", PUBLISHED_2022.encode("gb18030"))}, follow=True
    )
    assert "已导入2022年度公布数据" in loaded.content.decode()
    assert Round.objects.get(year=2022).published_figures.count() == 6


def test_the_command_loads_a_published_table_or_nothing(tmp_path):
    from django.core.management import CommandError, call_command

    good = tmp_path / "2022.csv"
    good.write_text(PUBLISHED_2022, encoding="utf-8")
    bad = tmp_path / "bad.csv"
    bad.write_text(PUBLISHED_2022.replace("2022年度", "2030年度"), encoding="utf-8")

    with pytest.raises(CommandError) as refused:
        call_command("load_published", "2022", str(bad))
    nothing = not Round.objects.get(year=2022).published_figures.exists()
    out = io.StringIO()
    call_command("load_published", "2022", str(good), stdout=out)

    assert "第 6 行：批次2030年度晚于2022年度" in str(refused.value)
    assert "第 7 行" in str(refused.value) and nothing
    assert "共 6 行：新增公布数据 6 条" in out.getvalue()


def test_the_last_year_column_uses_published_figures_when_no_form_was_reported(city_user, open_round):
    load_2022()
    submission = make_submission(city_user.city, open_round, Status.SUBMITTED)

    page = make_client(city_user).get(f"/submissions/{submission.pk}/").content.decode()

    table = page[page.index('data-testid="indicator-table"') :]
    assert '<th class="num">2022年度</th>' in table and "23.8" in table


# ------------------------------------------------------------------------------------------------
# The watch list
# ------------------------------------------------------------------------------------------------
def test_the_watch_list_has_the_cities_below_a_threshold_late_or_not_confirmed_and_for_how_long(
    ministry_user, open_round
):
    last_year = Round.objects.create(year=open_round.year - 1, status=RoundStatus.OPEN, deadline=open_round.deadline)
    Threshold.objects.bulk_create(
        Threshold(round=last_year, indicator_id=t.indicator_id, value=t.value) for t in open_round.thresholds.all()
    )
    make_submission(city(NANJING), last_year, Status.REJECTED, pon_10g_ports=1000)  # not confirmed last year
    round_set_status(round_=last_year, status=RoundStatus.CLOSED, actor=ministry_user)
    nanjing = make_submission(city(NANJING), open_round, Status.SUBMITTED, pon_10g_ports=1000)
    make_submission(city(QINGDAO), open_round, Status.APPROVED)  # confirmed, comfortably above
    open_round.deadline = timezone.localdate() - datetime.timedelta(days=1)  # 日照 and others did not report
    open_round.save()

    rows = {row["city"]: row for row in api(ministry_user).get("/api/v1/watch-list/").json()["cities"]}

    assert QINGDAO not in rows
    assert rows[NANJING]["reasons"] == ["below_threshold"]
    assert rows[NANJING]["rounds"] == 2 and rows[NANJING]["since"] == last_year.year
    pon = next(b for b in rows[NANJING]["below"] if b["code"] == "pon_10g_share")
    nanjing.refresh_from_db()
    assert pon["value"] == float(nanjing.value_pon_10g_share) and pon["threshold"] == 30.0
    assert pon["margin"] == pytest.approx(float(nanjing.value_pon_10g_share) - 30)
    # 日照 reported neither this year (the deadline has passed) nor last year (a closed round run in
    # gigacity): two rounds in a row.
    assert rows[RIZHAO]["reasons"] == ["not_reported"] and rows[RIZHAO]["rounds"] == 2
    assert len(rows) == 29 - 1  # every 2021 city but 青岛

    late = api(ministry_user).get("/api/v1/watch-list/", {"reason": "not_reported", "province": "370000"}).json()
    assert {row["city"] for row in late["cities"]} == {RIZHAO, JINAN}
    page = make_client(ministry_user).get("/ministry/watch/?province=320000").content.decode()
    assert "南京市" in page and "10G-PON端口占比" in page and "2轮" in page and "日照市" not in page
    book = workbook(api(ministry_user).get("/api/v1/exports/watch.xlsx", {"province": "320000"}))
    cells = [row for row in book.active.iter_rows(min_row=3, values_only=True) if row[2] == "南京市"]
    assert any("10G-PON端口占比" in row[5] and row[11] == 2 for row in cells)
    dashboard = make_client(ministry_user).get("/ministry/").content.decode()
    assert 'data-testid="watch-panel"' in dashboard and "南京市" in dashboard


def test_the_rounds_in_a_row_stop_at_the_first_round_a_city_was_off_the_list(ministry_user, open_round):
    # Given two earlier rounds, closed: 青岛 below a threshold in all three, 南京 below two years ago
    # and this year but confirmed last year, 济南 below last year only. This round's deadline is a
    # month away, so the cities that have not reported yet are not late.
    earlier = []
    for year in (open_round.year - 2, open_round.year - 1):
        round_ = Round.objects.create(year=year, status=RoundStatus.OPEN, deadline=open_round.deadline)
        Threshold.objects.bulk_create(
            Threshold(round=round_, indicator_id=t.indicator_id, value=t.value) for t in open_round.thresholds.all()
        )
        earlier.append(round_)
    two_years_ago, last_year = earlier
    for round_ in (two_years_ago, last_year, open_round):
        make_submission(city(QINGDAO), round_, Status.SUBMITTED, pon_10g_ports=1000)
    make_submission(city(NANJING), two_years_ago, Status.SUBMITTED, pon_10g_ports=1000)
    make_submission(city(NANJING), last_year, Status.APPROVED)
    make_submission(city(NANJING), open_round, Status.SUBMITTED, pon_10g_ports=1000)
    make_submission(city(JINAN), last_year, Status.SUBMITTED, pon_10g_ports=1000)
    make_submission(city(JINAN), open_round, Status.APPROVED)
    for round_ in earlier:
        round_set_status(round_=round_, status=RoundStatus.CLOSED, actor=ministry_user)

    # When the ministry reads this round's watch list
    rows = {row["city"]: row for row in api(ministry_user).get("/api/v1/watch-list/").json()["cities"]}

    # Then only this round's cities are on it, each counted back to its last round off the list.
    assert set(rows) == {QINGDAO, NANJING}
    assert (rows[QINGDAO]["rounds"], rows[QINGDAO]["since"]) == (3, two_years_ago.year)
    assert (rows[NANJING]["rounds"], rows[NANJING]["since"]) == (1, open_round.year)
    assert [row["city"] for row in api(ministry_user).get("/api/v1/watch-list/").json()["cities"]] == [
        QINGDAO,
        NANJING,
    ]  # the longest on the list first


@pytest.mark.parametrize("deadline", ["passed", "ahead"])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_watch_list_reads_only_cities_it_could_list_and_lists_the_same(ministry_user, open_round, seed, deadline):
    # Given most 2021 Gigabit Cities with a form of this round in some state, the others without
    # one, the round's deadline passed (or ahead), and the first city without a form given ten more
    # days by its bureau (or, with the deadline ahead, the round still open for everybody)
    rng = random.Random(seed)
    named = [c for c in City.objects.filter(designations__isnull=False).order_by("code") if rng.random() < 0.8]
    add_forms(round_=open_round, cities=named, rng=rng)
    today = timezone.localdate()
    open_round.deadline = today + datetime.timedelta(days=-1 if deadline == "passed" else 10)
    open_round.save()
    without_form = City.objects.filter(designations__isnull=False, submissions__isnull=True).order_by("code").first()
    Extension.objects.create(
        city=without_form,
        round=open_round,
        until=today + datetime.timedelta(days=10),
        reason="台风",
        granted_by=make_user("bureau-ext", Role.BUREAU, province=without_form.province_id),
    )

    # When the watch list is read, and read again judging every named city in Python
    listed = lifecycle.watch_list(user=ministry_user, round_=open_round)
    # (the read is a statement built once per process: its build, run as a queryset, is without the filter)
    with (
        mock.patch.object(lifecycle, "_may_be_watched", return_value=Q()) as no_filter,
        mock.patch.object(
            lifecycle, "_WATCH_CANDIDATES", lambda *shape, **values: list(lifecycle._watch_candidates(*shape, **values))
        ),
    ):
        judged = lifecycle.watch_list(user=ministry_user, round_=open_round)
    assert no_filter.called

    # Then the cities left out in SQL are only those the judgement does not list
    assert listed == judged
    reasons = {reason for row in listed for reason in row["reasons"]}
    assert "not_confirmed" in reasons
    assert ("not_reported" in reasons) == (deadline == "passed")
    assert without_form.code not in {row["city"] for row in listed if "not_reported" in row["reasons"]}


# ------------------------------------------------------------------------------------------------
# Next year's round
# ------------------------------------------------------------------------------------------------
def test_the_ministry_prepares_next_year_s_round_from_the_last_and_a_city_starts_from_its_last_form(
    ministry_user, city_user, open_round
):
    ReferenceValue.objects.create(round=open_round, indicator_id="bs5g_per_10k", value=Decimal("15.7"), source="全国")
    last = make_submission(city_user.city, open_round, Status.SUBMITTED)
    client = make_client(ministry_user)
    year = open_round.year + 1

    created = client.post("/ministry/rounds/next/", {"year": year})
    again = client.post("/ministry/rounds/next/", {"year": year}, follow=True)

    assert created.status_code == 302 and created["Location"] == f"/ministry/rounds/{year}/"
    assert "已存在" in again.content.decode() and Round.objects.filter(year=year).count() == 1
    new = Round.objects.get(year=year)
    assert new.status == RoundStatus.DRAFT
    assert new.deadline == open_round.deadline.replace(year=open_round.deadline.year + 1)
    assert new.threshold_map() == open_round.threshold_map()
    assert new.reference_values.get().value == Decimal("15.7")
    assert new.threshold_changes.count() == open_round.thresholds.count()
    assert make_client(ministry_user).get(f"/ministry/rounds/{year}/").status_code == 200

    client.post(f"/ministry/rounds/{year}/", {"status": "open"})
    form = make_client(city_user).get("/city/form/", follow=True)

    submission = Submission.objects.get(city=city_user.city, round=new)
    assert submission.kind == FormKind.ANNUAL_REPORT and submission.carried_from_id == last.pk
    assert (submission.contact_name, submission.practice_network) == (last.contact_name, last.practice_network)
    assert all(value is None for value in submission.inputs.values())  # this year's figures start empty
    cases = list(submission.cases.all())
    assert [c.title for c in cases] == [c.title for c in last.cases.all()]
    assert {c.carried_from_year for c in cases} == {open_round.year}
    body = form.content.decode()
    assert body.count('data-testid="carried-case"') == len(cases) and 'data-testid="carried-over"' in body

    items = [
        {
            "id": c.pk,
            **{
                f: getattr(c, f) for f in ("title", "domain", "description", "pain_points", "replicability", "partners")
            },
        }
        for c in cases
    ]
    items[0]["title"] = items[0]["title"] + "（二期）"
    submission_update(
        submission_id=submission.pk, actor=city_user, data={}, cases=items, expected_version=submission.version
    )

    marks = dict(submission.cases.values_list("title", "carried_from_year"))
    assert marks[items[0]["title"]] is None  # changed: this year's case now
    assert marks[items[1]["title"]] == open_round.year  # kept as it was: still last year's


def test_a_round_for_a_year_that_exists_is_refused_in_words(ministry_user, open_round):
    page = make_client(ministry_user).post("/ministry/rounds/next/", {"year": 2022}, follow=True).content.decode()
    assert "2022年度评估已存在。" in page
    bad = make_client(ministry_user).post("/ministry/rounds/next/", {"year": "明年"}, follow=True).content.decode()
    assert "请输入四位数字的年份。" in bad
    assert Round.objects.count() == 4  # 2021–2023 and this year's


def test_a_city_without_an_earlier_form_starts_empty(open_round):
    yantai = make_user("yantai", Role.CITY, city=YANTAI)
    submission = submission_get_or_create(city=city(YANTAI), round_=open_round, actor=yantai)
    assert submission.carried_from_id is None and submission.cases.count() == 0 and submission.contact_name == ""
    assert submission.kind == FormKind.EVALUATION


# ------------------------------------------------------------------------------------------------
# Constant queries as rounds are added
# ------------------------------------------------------------------------------------------------
def test_the_queries_of_the_dashboards_rounds_and_watch_list_do_not_grow_with_the_rounds(
    ministry_user, bureau_user, open_round, django_assert_max_num_queries
):
    import random

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from indicators.models import PublishedFigure

    from .data import add_forms

    cities = list(City.objects.filter(province__in=["370000", "320000"]).order_by("code"))
    add_forms(round_=open_round, cities=cities[:20], rng=random.Random(1))
    ministry, bureau = make_client(ministry_user), make_client(bureau_user)
    calls = {
        "national": lambda: api(ministry_user).get("/api/v1/dashboard/national/"),
        "province": lambda: api(bureau_user).get("/api/v1/dashboard/province/370000/"),
        "national page": lambda: ministry.get("/ministry/"),
        "province page": lambda: bureau.get("/dashboard/province/370000/"),
        "rounds page": lambda: ministry.get("/ministry/rounds/"),
        "rounds api": lambda: api(ministry_user).get("/api/v1/rounds/"),
        "watch list": lambda: ministry.get("/ministry/watch/"),
        "summary": lambda: api(ministry_user).get("/api/v1/exports/summary.xlsx"),
    }

    def queries(call) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert call().status_code == 200
        return len(captured)

    small = {name: queries(call) for name, call in calls.items()}

    # Seven more rounds, each with forms in every state, new Gigabit Cities and published figures.
    for year in (2016, 2017, 2018, 2019, 2020, 2024, 2025):
        round_ = Round.objects.create(year=year, status=RoundStatus.CLOSED, deadline=datetime.date(year, 12, 15))
        thresholds = [
            Threshold(round=round_, indicator_id=t.indicator_id, value=t.value) for t in open_round.thresholds.all()
        ]
        Threshold.objects.bulk_create(thresholds)
        forms = add_forms(round_=round_, cities=random.Random(year).sample(cities, 25), rng=random.Random(year))
        PublishedFigure.objects.bulk_create(
            PublishedFigure(round=round_, city=form.city, batch=2021, value_bs5g_per_10k=Decimal("20.5"))
            for form in forms[:5]
        )
    assert Round.objects.count() == 11

    for name, call in calls.items():
        with django_assert_max_num_queries(small[name]):
            call()


def test_the_last_year_column_prefers_last_years_form_to_the_figures_published_for_it(city_user, open_round):
    """Both exist for last year: the city's own reported form is what it vouched for, and the page
    reads nothing more (no round lies between last year and this one)."""
    last_year = Round.objects.create(
        year=open_round.year - 1, status="open", deadline=timezone.localdate() + datetime.timedelta(days=3)
    )
    ensure_thresholds(last_year)
    figures = {"bs5g_count": 24_000, "resident_population": 10_000_000}
    make_submission(city_user.city, last_year, Status.SUBMITTED, scored=False, **figures)
    PublishedFigure.objects.create(
        round=last_year, city=city_user.city, batch=last_year.year, value_bs5g_per_10k=Decimal("99.9")
    )
    submission = make_submission(city_user.city, open_round, Status.SUBMITTED, scored=False)

    page = make_client(city_user).get(f"/submissions/{submission.pk}/").content.decode()

    table = page[page.index('data-testid="indicator-table"') :]
    assert f'<th class="num">{last_year.year}年度</th>' in table
    assert "24.0" in table and "99.9" not in table  # 24 000 stations per 10 million people: 24.0 per 10 000

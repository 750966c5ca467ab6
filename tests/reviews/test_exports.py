"""Exports read back with openpyxl: MIIT's summary table, the case collection, city lists and the
dashboards' tables; user text never becomes a formula; large exports run as jobs that only their
requester can download; the number of queries does not grow with the number of cities."""

from __future__ import annotations

import datetime
import io
import random
from collections import Counter
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from django.db import connection
from django.test import TestCase
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from gigacity.models import City, Province
from indicators.catalogue import INDICATOR_CODES
from indicators.models import Designation, Round
from reviews import exports
from reviews.api import XLSX
from reviews.exports import SUMMARY_COLUMNS
from reviews.models import ExportJob, ExportState
from submissions.models import Status

from .data import add_forms, add_units

pytestmark = pytest.mark.django_db

# MIIT's order and headings (issue 6): base stations, 5G users, 10G-PON, 500M+, then the others.
SUMMARY_HEADER = [
    "序号",
    "省份",
    "千兆城市",
    "每万人拥有5G基站数（个/万人）",
    "5G用户占比（%）",
    "10G-PON端口占比（%）",
    "500M及以上用户占比（%）",
    "城市家庭千兆光纤网络覆盖率（%）",
    "重点场所5G网络通达率（%）",
    "1000M用户数（户）",
    "备注",
]
# reliability.md XL-7 and XL-8: what a person might type that a spreadsheet would run.
# (NUL cannot be stored in PostgreSQL text at all; the writer is tested with it directly below.)
INJECTIONS = ['=HYPERLINK("http://x","y")', "+1+1", "-2+3", "@SUM(1)", "\t=1", "\r=1", "\x01=1", "\x07+cmd"]


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def workbook(response) -> openpyxl.Workbook:
    assert response.status_code == 200, getattr(response, "data", response)
    assert response["Content-Type"] == XLSX
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return openpyxl.load_workbook(io.BytesIO(body))


def rows(sheet, first: int = 1) -> list[tuple]:
    return [row for row in sheet.iter_rows(min_row=first, values_only=True) if any(v is not None for v in row)]


def every_cell(book: openpyxl.Workbook):
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            yield from row


# ------------------------------------------------------------------------------------------------
# MIIT's summary table
# ------------------------------------------------------------------------------------------------
@pytest.fixture
def named(open_round):
    """This round: 4 cities of 江苏 and 山东 named for the first time, 2 others recommended."""
    not_named = City.objects.filter(designations__isnull=True).order_by("code")
    cities = [*not_named.filter(province="370000")[:3], *not_named.filter(province="320000")[:3]]
    forms = add_forms(
        round_=open_round,
        cities=cities,
        rng=random.Random(7),
        states=[Status.APPROVED, Status.APPROVED, Status.RECOMMENDED],
    )
    return [f for f in forms if f.status == Status.APPROVED]


def test_the_summary_table_has_miits_columns_units_and_order(named, open_round, ministry_user):
    book = workbook(api(ministry_user).get(reverse("api:export-summary"), {"round": open_round.year}))
    sheet = book.active

    assert sheet["A1"].value == f"千兆城市关键指标情况汇总表（截至{open_round.year}年）"
    assert [c.value for c in sheet[2]] == SUMMARY_HEADER
    data = [row for row in rows(sheet, 3) if isinstance(row[0], int)]
    # Every Gigabit City so far: the 29 of 2021 and this year's, 江苏 (320000) before 山东 (370000) and
    # within a province by city code — MIIT's order follows the codes.
    order = sorted(Designation.objects.select_related("city__province"), key=lambda d: (d.city.province_id, d.city_id))
    assert [(r[1], r[2]) for r in data] == [(d.city.province.name, d.city.name) for d in order]
    assert [r[0] for r in data] == list(range(1, len(order) + 1))
    by_city = {row[2]: row for row in data}
    for form in named:
        row = by_city[form.city.name]
        assert list(row[3:10]) == pytest.approx([float(getattr(form, f"value_{code}")) for code, *_ in SUMMARY_COLUMNS])
        assert row[10] == f"{open_round.year}年度"
    first = next(row for row in sheet.iter_rows(min_row=3) if row[2].value == named[0].city.name)
    assert first[0].data_type == "n"
    assert [first[i].number_format for i in range(3, 10)] == ["0.0", "0.0", "0.0", "0.0", "0.0", "0.0", "#,##0"]
    assert sheet.freeze_panes == "A3"


def test_the_summary_lists_every_gigabit_city_with_its_batch_and_the_means_beneath(named, open_round, ministry_user):
    # `cumulative` is what the table always is: the parameter changes nothing.
    book = workbook(
        api(ministry_user).get(reverse("api:export-summary"), {"round": open_round.year, "cumulative": "true"})
    )

    all_rows = rows(book.active, 3)
    data = [row for row in all_rows if isinstance(row[0], int)]
    assert len(data) == Designation.objects.count() == 29 + len(named)
    assert Counter(row[10] for row in data) == {"2021年度": 29, f"{open_round.year}年度": len(named)}
    code_of = dict(Province.objects.values_list("name", "code"))
    provinces = [code_of[row[1]] for row in data]
    assert provinces == sorted(provinces)
    # The 29 cities of 2021 have no form and no published figures of this round: blank.
    beijing = next(row for row in data if row[2] == "北京市")
    assert beijing[3:10] == (None,) * 7
    # Beneath: the mean over every Gigabit City with a figure, then per batch, at one decimal.
    means = {row[1]: row for row in all_rows if row[0] is None and isinstance(row[1], str) and "平均" in row[1]}
    expected = (sum(f.value_bs5g_per_10k for f in named) / len(named)).quantize(Decimal("0.1"))
    overall = means["全部千兆城市平均值"]
    assert overall[2] == f"{29 + len(named)}个城市"
    assert overall[3] == pytest.approx(float(expected))
    assert means[f"{open_round.year}年度千兆城市平均值"][3] == pytest.approx(float(expected))
    assert means["2021年度千兆城市平均值"][3:10] == (None,) * 7


def test_a_bureau_gets_the_summary_table_of_its_province_only(named, open_round, bureau_user):
    book = workbook(api(bureau_user).get(reverse("api:export-summary"), {"round": open_round.year}))

    assert {row[1] for row in rows(book.active, 3) if isinstance(row[0], int)} == {"山东省"}


# ------------------------------------------------------------------------------------------------
# The case collection, and user text that must never run
# ------------------------------------------------------------------------------------------------
def run_job(user, **body) -> ExportJob:
    # The job is published after commit; the test's transaction never commits, so run the callbacks.
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = api(user).post(reverse("api:export-list"), body, format="json")
    assert response.status_code == 202, response.data
    return ExportJob.objects.get(pk=response.data["id"])


def download(user, job: ExportJob):
    return api(user).get(reverse("api:export-download", args=[job.pk]))


def test_the_case_collection_holds_the_recommended_excellent_cases_by_domain(open_round, ministry_user):
    cities = City.objects.filter(province="370000").order_by("code")[:6]
    add_forms(
        round_=open_round,
        cities=cities,
        rng=random.Random(8),
        states=[
            Status.RECOMMENDED,
            Status.APPROVED,
            Status.SENT_BACK,
            Status.REJECTED,
            Status.RETURNED,
            Status.SUBMITTED,
        ],
        cases=6,
        excellent=2,
    )

    job = run_job(ministry_user, kind="cases", round=open_round.year)
    book = workbook(download(ministry_user, job))

    assert job.state == ExportState.DONE and job.progress == 100 and job.rows == 3 * 2
    assert book.sheetnames == ["目录", "信息消费", "垂直行业", "社会民生", "数字政府", "其他"]
    contents = {row[0]: row[1] for row in rows(book["目录"], 3) if isinstance(row[1], int)}
    assert contents["合计"] == 6
    cities_in = {row[2] for name in book.sheetnames[1:] for row in rows(book[name], 3)}
    assert cities_in == {c.name for c in cities[:3]}  # recommended, approved, sent back; not the others
    industry = rows(book["垂直行业"], 3)
    assert all(row[3].endswith("5G+工业互联网智能工厂") for row in industry)


def test_user_text_never_becomes_a_formula_in_any_export(open_round, ministry_user):
    city = City.objects.get(code="370200")
    forms = add_forms(
        round_=open_round, cities=[city], rng=random.Random(9), states=[Status.RECOMMENDED], cases=len(INJECTIONS)
    )
    for case, text in zip(forms[0].cases.order_by("position"), INJECTIONS, strict=True):
        case.title = case.description = case.pain_points = case.replicability = case.partners = text
        case.is_excellent = True
        case.save()

    job = run_job(ministry_user, kind="cases", round=open_round.year)
    books = [
        workbook(download(ministry_user, job)),
        workbook(download(ministry_user, run_job(ministry_user, kind="cities", round=open_round.year))),
        workbook(api(ministry_user).get(reverse("api:export-dashboard-national"))),
        workbook(api(ministry_user).get(reverse("api:export-dashboard-province", args=["370000"]))),
    ]

    for book in books:
        assert [c.coordinate for c in every_cell(book) if c.data_type == "f"] == []
    texts = [c.value for c in every_cell(books[0]) if isinstance(c.value, str)]
    for typed in INJECTIONS:
        cleaned = "".join(ch for ch in typed if ch in "\t\r\n" or ord(ch) >= 32)
        written = [t for t in texts if t.lstrip("'").replace("\n", "\r") == cleaned.replace("\n", "\r")]
        assert len(written) == 5, typed  # title, description, pain points, replicability, partners
        assert all(t.startswith("'") for t in written), written
        assert all(ord(ch) >= 32 or ch in "\t\r\n" for t in written for ch in t)


def test_the_sheet_writer_neutralises_every_trigger_and_keeps_numbers_numbers():
    book = exports.new_workbook()
    sheet = exports.SheetWriter(book, "x", [exports.Column("text"), exports.Column("number", number_format="0.0")])
    corpus = [*INJECTIONS, "\x00=1", "\x00x", "=1+1\x0b"]
    for text in corpus:
        sheet.append([text, Decimal("12.5")])
    out = io.BytesIO()
    book.save(out)

    cells = list(openpyxl.load_workbook(out).active.iter_rows(min_row=2, values_only=False))

    assert [c.data_type for row in cells for c in row] == ["s", "n"] * len(corpus)
    texts = [row[0].value for row in cells]
    assert texts[-3:] == ["'=1", "x", "'=1+1"]  # control characters dropped, then neutralised
    assert all(t.startswith("'") for t in texts[: len(INJECTIONS)])
    assert {row[1].value for row in cells} == {12.5}


def test_the_table_writer_neutralises_every_trigger_and_keeps_numbers_numbers():
    sheet = exports.TableWriter("x", [exports.Column("text"), exports.Column("number", number_format="0.0")])
    corpus = [*INJECTIONS, "\x00=1", "\x00x", "=1+1\x0b", " padded ", "line\r\nbreak"]
    for text in corpus:
        sheet.append([text, Decimal("12.5")])
    out = io.BytesIO()
    sheet.save(out)

    cells = list(openpyxl.load_workbook(out).active.iter_rows(min_row=2, values_only=False))

    assert [c.data_type for row in cells for c in row] == ["s", "n"] * len(corpus)
    texts = [row[0].value for row in cells]
    assert texts[-5:] == ["'=1", "x", "'=1+1", " padded ", "line\r\nbreak"]
    assert all(t.startswith("'") for t in texts[: len(INJECTIONS)])
    assert {row[1].value for row in cells} == {12.5}


def _look(cell) -> tuple:
    """What a reader of the sheet sees of a cell: its value and type, and how it looks."""
    return (
        cell.value,
        cell.data_type,
        cell.number_format,
        (cell.font.b, cell.font.sz),
        (cell.fill.fill_type, cell.fill.fgColor.rgb if cell.fill.fill_type else None),
        tuple((side.style, side.color.rgb if side.color else None) for side in (cell.border.left, cell.border.top)),
        (cell.alignment.wrap_text, cell.alignment.horizontal, cell.alignment.vertical),
    )


def test_the_table_writer_writes_the_sheet_the_sheet_writer_writes():
    # The summary table is written by hand for speed (issue 16): whoever opens it sees the same sheet.
    columns = [
        exports.Column("序号", 6, "0"),
        exports.Column("省份", 12),
        exports.Column("每万人拥有5G基站数", 16, "0.0"),
        exports.Column("1000M用户数", 16, "#,##0"),
        exports.Column("备注", 12),
    ]
    rows = [
        [1, "北京市", Decimal("23.40"), 222272, "2021年度"],
        [2, "天<津>&市", None, Decimal("1500"), ""],
        [None, "全部千兆城市平均值", Decimal("0.5"), None, None],
    ]
    book = exports.new_workbook()
    by_openpyxl = exports.SheetWriter(book, "关键指标", columns, heading="千兆城市关键指标情况汇总表")
    by_hand = exports.TableWriter("关键指标", columns, heading="千兆城市关键指标情况汇总表")
    for writer in (by_openpyxl, by_hand):
        for row in rows:
            writer.append(row)
        writer.note("各城市数据为本年度已报送的调查表数据。")
    first, second = io.BytesIO(), io.BytesIO()
    book.save(first)
    by_hand.save(second)

    expected, written = openpyxl.load_workbook(first).active, openpyxl.load_workbook(second).active

    assert written.title == expected.title
    assert written.freeze_panes == expected.freeze_panes == "A3"
    assert [written.column_dimensions[c].width for c in "ABCDE"] == [6, 12, 16, 16, 12]
    assert [[_look(c) for c in row] for row in written.iter_rows()] == [
        [_look(c) for c in row] for row in expected.iter_rows()
    ]
    assert written.max_row == expected.max_row == 2 + len(rows) + 2


# ------------------------------------------------------------------------------------------------
# City lists and dashboard tables
# ------------------------------------------------------------------------------------------------
def test_the_city_list_of_a_bureau_has_its_cities_with_status_and_values(open_round, bureau_user):
    forms = add_forms(round_=open_round, cities=City.objects.filter(province="370000"), rng=random.Random(10))

    book = workbook(download(bureau_user, run_job(bureau_user, kind="cities", round=open_round.year)))
    data = [row for row in rows(book.active, 3) if isinstance(row[0], int)]

    assert len(data) == City.objects.filter(province="370000").count()
    assert {row[1] for row in data} == {"山东省"}
    by_code = {row[3]: row for row in data}
    submitted = next(f for f in forms if f.status == Status.SUBMITTED)
    assert by_code[submitted.city_id][5] == "已提交"
    assert by_code[submitted.city_id][8] == pytest.approx(float(submitted.value_fiber_gigabit_coverage))
    # 济南 and 青岛 are Gigabit Cities since 2021: their forms are annual reports.
    assert by_code["370100"][4] == "年度复核" and by_code["370300"][4] == "评估申报"
    draft = next(f for f in forms if f.status == Status.DRAFT)
    assert by_code[draft.city_id][8:15] == (None,) * 7  # a draft's numbers stay on the form


def test_the_national_dashboard_workbook_matches_the_screen(open_round, ministry_user):
    add_forms(round_=open_round, cities=City.objects.all()[:60], rng=random.Random(11))
    screen = api(ministry_user).get(reverse("api:dashboard-national")).json()

    book = workbook(api(ministry_user).get(reverse("api:export-dashboard-national")))

    assert book.sheetnames == ["分省情况", "千兆城市认定情况", "主要指标平均值", "单项指标领先城市", "指标分布"]
    provinces = [row for row in rows(book["分省情况"], 2)]
    assert [row[0] for row in provinces] == [p["name"] for p in screen["provinces"]]
    assert [row[2] for row in provinces] == [p["units"] for p in screen["provinces"]]
    leaders = rows(book["单项指标领先城市"], 2)
    assert len(leaders) == sum(len(block["rows"]) for block in screen["leaders"])


# ------------------------------------------------------------------------------------------------
# Jobs: scope, the sweep, the page
# ------------------------------------------------------------------------------------------------
def test_only_the_requester_can_see_or_download_an_export(
    open_round, bureau_user, bureau_user_other_province, ministry_user
):
    job = run_job(bureau_user, kind="cities", round=open_round.year)

    assert download(bureau_user, job).status_code == 200
    for other in (bureau_user_other_province, ministry_user):
        assert download(other, job).status_code == 404
        assert api(other).get(reverse("api:export-detail", args=[job.pk])).status_code == 404
    assert [j["id"] for j in api(ministry_user).get(reverse("api:export-list")).json()["results"]] == []


def test_a_bureau_cannot_export_another_province(open_round, bureau_user):
    response = api(bureau_user).post(
        reverse("api:export-list"), {"kind": "cases", "round": open_round.year, "province": "320000"}, format="json"
    )
    assert response.status_code == 404


def test_the_sweep_finishes_jobs_the_broker_lost(open_round, ministry_user):
    job = ExportJob.objects.create(requested_by=ministry_user, kind="cities", round=open_round)
    ExportJob.objects.filter(pk=job.pk).update(created_at=timezone.now() - datetime.timedelta(minutes=5))
    stuck = ExportJob.objects.create(
        requested_by=ministry_user, kind="cities", round=open_round, state=ExportState.RUNNING, attempts=3
    )
    ExportJob.objects.filter(pk=stuck.pk).update(started_at=timezone.now() - datetime.timedelta(hours=1))

    assert exports.sweep_exports() == 1

    job.refresh_from_db()
    stuck.refresh_from_db()
    assert job.state == ExportState.DONE and job.file
    assert stuck.state == ExportState.FAILED
    assert exports.export_run(job_id=str(job.pk)) == "skipped"  # a second delivery does nothing


def test_finished_files_are_deleted_after_seven_days(open_round, ministry_user):
    old = run_job(ministry_user, kind="cities", round=open_round.year)
    recent = run_job(ministry_user, kind="cities", round=open_round.year)
    ExportJob.objects.filter(pk=old.pk).update(created_at=timezone.now() - datetime.timedelta(days=8))
    path = old.file.path

    exports.sweep_exports()

    assert not ExportJob.objects.filter(pk=old.pk).exists()
    assert not Path(path).exists()
    assert download(ministry_user, recent).status_code == 200


def test_the_exports_page_asks_for_a_job_and_shows_its_download(open_round, bureau_user, client):
    client.force_login(bureau_user)

    with TestCase.captureOnCommitCallbacks(execute=True):
        response = client.post(
            reverse("reviews:exports"), {"kind": "cases", "round": open_round.year, "province": "370000"}
        )

    assert response.status_code == 302
    page = client.get(reverse("reviews:exports")).content.decode()
    job = ExportJob.objects.get(requested_by=bureau_user)
    assert job.province_id == "370000"
    assert "案例集" in page and "可下载" in page
    assert reverse("api:export-download", args=[job.pk]) in page


# ------------------------------------------------------------------------------------------------
# Queries do not grow with the number of cities
# ------------------------------------------------------------------------------------------------
def test_export_queries_do_not_grow_with_the_number_of_cities(open_round, ministry_user, django_assert_max_num_queries):
    cities = [*City.objects.filter(province="370000")[:15], *City.objects.exclude(province="370000")[:15]]
    add_forms(
        round_=open_round,
        cities=cities,
        rng=random.Random(12),
        cases=3,
        excellent=1,
        states=[Status.APPROVED, Status.RECOMMENDED],
    )
    calls = {
        "summary": lambda: exports.summary_workbook(
            user=ministry_user, round_=open_round, cumulative=True, out=io.BytesIO()
        ),
        "cases": lambda: exports.cases_workbook(user=ministry_user, round_=open_round, out=io.BytesIO()),
        "cities": lambda: exports.cities_workbook(user=ministry_user, round_=open_round, out=io.BytesIO()),
        "dashboard": lambda: api(ministry_user).get(reverse("api:export-dashboard-national")),
        "province": lambda: api(ministry_user).get(reverse("api:export-dashboard-province", args=["370000"])),
    }
    small = {}
    for name, call in calls.items():
        with CaptureQueriesContext(connection) as captured:
            call()
        small[name] = len(captured)

    more = add_units(count=300, province=None) + add_units(count=100, province="370000")
    add_forms(
        round_=open_round,
        cities=more,
        rng=random.Random(13),
        cases=3,
        excellent=1,
        states=[Status.APPROVED, Status.RECOMMENDED],
    )
    assert Round.objects.get(pk=open_round.pk).designations.count() > 200

    for name, call in calls.items():
        with django_assert_max_num_queries(small[name]):
            call()


def test_the_summary_table_has_every_indicator_exactly_once():
    assert sorted(code for code, _zh, _en in SUMMARY_COLUMNS) == sorted(INDICATOR_CODES)


def test_an_export_without_a_round_is_of_the_current_round(open_round, bureau_user):
    # The README: "round" may be left out, and the current round is exported.
    job = run_job(bureau_user, kind="cities")
    assert job.round == open_round and job.requested_by == bureau_user

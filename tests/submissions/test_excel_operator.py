"""The operator workbook (issue 13): a round trip, and every bad input the issue names refused with a
message that names it, per cell where it has a cell, and nothing saved."""

from __future__ import annotations

import pytest
from django.test import TestCase
from rest_framework.test import APIClient

from gigacity.models import Province
from indicators.models import Operator, Round
from submissions.excel.operators import operator_workbook
from submissions.models import OperatorFigure

from .excel_helpers import as_upload, encrypted_xlsx, load, save, xls_file

pytestmark = pytest.mark.django_db

SHANDONG, JIANGSU = "370000", "320000"
JINAN_ROW, QINGDAO_ROW = 4, 5  # 山东's cities by code: 370100 济南, 370200 青岛, …
COL = {"pon_10g_ports": "C", "pon_ports_total": "D", "bs5g_count": "E", "users_5g": "I", "mobile_users_total": "J"}


def workbook(round_, operator="mobile", province=SHANDONG) -> bytes:
    return operator_workbook(
        province=Province.objects.get(code=province), operator=Operator.objects.get(code=operator), round_=round_
    )


def fill(content: bytes, cells: dict[str, object]) -> bytes:
    book = load(content)
    for cell, value in cells.items():
        book["运营商数据"][cell] = value
    return save(book)


def post(user, content: bytes, *, dry_run=False, query=""):
    client = APIClient()
    client.force_authenticate(user)
    url = "/api/v1/operator-figures/import/?" + ("dry_run=1&" if dry_run else "") + query
    with TestCase.captureOnCommitCallbacks(execute=True):
        return client.post(url, {"file": as_upload(content, "运营商数据.xlsx")}, format="multipart")


def test_the_workbook_round_trip_dry_run_then_import(open_round, operator_user):
    content = fill(workbook(open_round), {f"E{QINGDAO_ROW}": 9000, f"I{JINAN_ROW}": 800000})
    checked = post(operator_user, content, dry_run=True)
    assert checked.status_code == 200, checked.data
    assert [(p["city_name"], [c["cell"] for c in p["changes"]]) for p in checked.data["plans"]] == [
        ("济南市", ["运营商数据!I4"]),
        ("青岛市", ["运营商数据!E5"]),
    ]
    assert not OperatorFigure.objects.exists()  # a dry run saves nothing
    imported = post(operator_user, content)
    assert imported.status_code == 200 and imported.data["applied"]
    assert sorted(OperatorFigure.objects.values_list("city_id", "bs5g_count", "users_5g", "source")) == [
        ("370100", None, 800000, "excel"),
        ("370200", 9000, None, "excel"),
    ]
    # The next download carries the figures reported.
    again = load(workbook(open_round))["运营商数据"]
    assert again[f"E{QINGDAO_ROW}"].value == 9000


def test_a_bureau_imports_an_operators_workbook_on_its_behalf(open_round, bureau_user):
    content = fill(workbook(open_round, operator="unicom"), {f"D{QINGDAO_ROW}": 40000})
    response = post(bureau_user, content)
    assert response.status_code == 200, response.data
    figure = OperatorFigure.objects.get()
    assert (figure.operator_id, figure.on_behalf, figure.reported_by) == ("unicom", True, bureau_user)


def rejected(response) -> str:
    assert response.status_code == 400, response.data
    assert response.data["rejected"]
    assert not OperatorFigure.objects.exists()
    return response.data["problems"][0]["message"]


def test_a_workbook_of_another_province_is_refused(open_round, operator_user):
    message = rejected(post(operator_user, workbook(open_round, province=JIANGSU)))
    assert "江苏省" in message and "山东省" in message


def test_a_workbook_of_another_operator_is_refused(open_round, operator_user):
    message = rejected(post(operator_user, workbook(open_round, operator="telecom")))
    assert "中国电信" in message and "中国移动" in message


def test_a_bureau_naming_another_operator_than_the_workbooks_is_refused(open_round, bureau_user):
    message = rejected(post(bureau_user, workbook(open_round, operator="telecom"), query="operator=unicom"))
    assert "中国电信" in message and "中国联通" in message


def test_a_workbook_of_another_round_is_refused(open_round, operator_user):
    message = rejected(post(operator_user, workbook(Round.objects.get(year=2023))))
    assert "2023" in message and str(open_round.year) in message


@pytest.mark.parametrize(
    ("cells", "cell", "words"),
    [
        ({f"E{QINGDAO_ROW}": -1}, f"运营商数据!E{QINGDAO_ROW}", "负数"),
        ({f"E{QINGDAO_ROW}": 5_000_000}, f"运营商数据!E{QINGDAO_ROW}", "不可能"),
        ({f"C{QINGDAO_ROW}": 600, f"D{QINGDAO_ROW}": 500}, f"运营商数据!C{QINGDAO_ROW}", "不能超过"),
        ({f"E{QINGDAO_ROW}": "很多"}, f"运营商数据!E{QINGDAO_ROW}", "整数"),
        ({f"A{QINGDAO_ROW}": "320300"}, f"运营商数据!A{QINGDAO_ROW}", "不是山东省的城市"),
        ({f"A{QINGDAO_ROW}": "370100", f"E{QINGDAO_ROW}": 1}, f"运营商数据!A{QINGDAO_ROW}", "出现了两次"),
    ],
    ids=["negative", "impossible", "part-above-whole", "not-a-number", "city-outside-province", "duplicated-city"],
)
def test_bad_cells_are_reported_on_their_cell_and_nothing_is_saved(open_round, operator_user, cells, cell, words):
    content = fill(workbook(open_round), {f"E{JINAN_ROW}": 100, **cells})  # a good row beside it
    response = post(operator_user, content)
    assert response.status_code == 400, response.data
    problems = {p["cell"]: p["message"] for p in response.data["problems"]}
    assert cell in problems, problems
    assert words in problems[cell]
    assert not response.data["rejected"]
    assert not OperatorFigure.objects.exists()


@pytest.mark.parametrize("content", [b"not a workbook", xls_file(), encrypted_xlsx()], ids=["text", "xls", "encrypted"])
def test_a_file_that_is_no_workbook_of_ours_is_refused(open_round, operator_user, content):
    response = post(operator_user, content)
    assert response.status_code == 400
    assert response.data["rejected"]
    assert response.data["problems"][0]["message"]


def test_a_province_workbook_is_sent_to_its_page(open_round, operator_user):
    from submissions.excel.province import province_workbook

    message = rejected(post(operator_user, province_workbook(province=operator_user.province, round_=open_round)))
    assert "省级汇总表" in message

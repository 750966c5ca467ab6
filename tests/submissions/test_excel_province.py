"""The province workbook: a bureau fills in several cities' forms at once, on their behalf, all or
nothing, and only for cities of its own province whose forms can still be changed."""

from __future__ import annotations

import pytest

from gigacity.errors import RoleNotAllowed
from gigacity.models import City, Role
from submissions.excel.imports import province_import
from submissions.excel.province import province_workbook
from submissions.models import ChangeSource, DataChange, Status, Submission
from tests.factories import make_submission

from .excel_helpers import as_upload, load, rewrite_worksheets, save

pytestmark = pytest.mark.django_db

QINGDAO, JINAN, YANTAI, XUZHOU = "370200", "370100", "370600", "320300"


def download(bureau_user, open_round) -> bytes:
    return province_workbook(province=bureau_user.province, round_=open_round)


def city_row(workbook, code: str) -> int:
    sheet = workbook["城市数据"]
    for row in range(3, sheet.max_row + 1):
        if sheet.cell(row=row, column=1).value == code:
            return row
    raise AssertionError(f"no row for {code}")


def column(workbook, header: str) -> int:
    sheet = workbook["城市数据"]
    for col in range(1, sheet.max_column + 1):
        if sheet.cell(row=2, column=col).value == header:
            return col
    raise AssertionError(header)


def put(workbook, code: str, header: str, value) -> str:
    row, col = city_row(workbook, code), column(workbook, header)
    workbook["城市数据"].cell(row=row, column=col).value = value
    return workbook["城市数据"].cell(row=row, column=col).coordinate


def add_case(workbook, code: str, title: str, domain: str = "信息消费") -> int:
    sheet = workbook["应用案例"]
    row = 3
    while any(sheet.cell(row=row, column=col).value for col in range(1, 10)):
        row += 1
    for col, value in ((1, code), (4, title), (5, domain), (6, "简介"), (7, "痛点"), (8, "可复制")):
        sheet.cell(row=row, column=col).value = value
    return row


def run(bureau_user, content: bytes, *, dry_run: bool, **kwargs):
    return province_import(actor=bureau_user, upload=as_upload(content, "山东.xlsx"), dry_run=dry_run, **kwargs)


def state():
    return (
        sorted(Submission.objects.values_list("city_id", "version", "bs5g_count")),
        DataChange.objects.count(),
    )


@pytest.fixture
def province(open_round, bureau_user):
    """山东: 青岛 has a draft, 济南 has submitted, the other cities have not started."""
    qingdao = make_submission(City.objects.get(pk=QINGDAO), open_round, Status.DRAFT)
    jinan = make_submission(City.objects.get(pk=JINAN), open_round, Status.SUBMITTED)
    return qingdao, jinan


def test_the_workbook_lists_the_cities_whose_forms_can_still_be_changed(province, bureau_user, open_round):
    qingdao, _jinan = province
    workbook = load(download(bureau_user, open_round))

    codes = [workbook["城市数据"].cell(row=r, column=1).value for r in range(3, workbook["城市数据"].max_row + 1)]
    assert QINGDAO in codes and YANTAI in codes
    assert JINAN not in codes  # submitted: not the bureau's to change now
    assert all(code.startswith("37") for code in codes if code)
    assert workbook["城市数据"].cell(row=city_row(workbook, QINGDAO), column=3).value == "草稿"
    assert workbook["城市数据"].cell(
        row=city_row(workbook, QINGDAO), column=column(workbook, "5G基站数（个）")
    ).value == (qingdao.bs5g_count)
    case_titles = [workbook["应用案例"].cell(row=r, column=4).value for r in range(3, 3 + qingdao.cases.count())]
    assert case_titles == [c.title for c in qingdao.cases.all()]


def test_it_creates_drafts_and_updates_drafts_in_one_go_on_the_cities_behalf(province, bureau_user, open_round):
    qingdao, _jinan = province
    workbook = load(download(bureau_user, open_round))
    put(workbook, QINGDAO, "5G基站数（个）", 23456)
    put(workbook, YANTAI, "5G基站数（个）", "8,888")
    put(workbook, YANTAI, "常住人口数（人）", 7_100_000)
    add_case(workbook, YANTAI, "5G+海上风电运维", "垂直行业")

    checked = run(bureau_user, save(workbook), dry_run=True)
    assert checked.ok, checked.errors
    assert {p.city: p.new for p in checked.plans if p.has_changes} == {QINGDAO: False, YANTAI: True}
    assert not Submission.objects.filter(city_id=YANTAI).exists()  # the dry run created nothing

    result = run(
        bureau_user, save(workbook), dry_run=False, expected_versions={p.city: p.base_version for p in checked.plans}
    )

    assert result.applied, result.errors
    qingdao.refresh_from_db()
    yantai = Submission.objects.get(city_id=YANTAI, round=open_round)
    assert qingdao.bs5g_count == 23456
    assert (yantai.status, yantai.bs5g_count, yantai.resident_population) == (Status.DRAFT, 8888, 7_100_000)
    assert [(c.title, c.domain) for c in yantai.cases.all()] == [("5G+海上风电运维", "industry")]
    for submission in (qingdao, yantai):
        change = DataChange.objects.filter(submission=submission).latest("pk")
        assert (change.source, change.actor_role, change.actor) == (
            ChangeSource.PROVINCE_EXCEL,
            Role.BUREAU,
            bureau_user,
        )
    # Cities left as they were get no empty draft.
    assert set(Submission.objects.values_list("city_id", flat=True)) == {QINGDAO, JINAN, YANTAI}


def test_a_row_of_a_submitted_city_or_another_province_is_refused_and_nothing_is_saved(
    province, bureau_user, open_round
):
    workbook = load(download(bureau_user, open_round))
    put(workbook, QINGDAO, "5G基站数（个）", 11111)  # a valid change, kept back with the rest
    sheet = workbook["城市数据"]
    sheet.protection.sheet = False
    free = sheet.max_row + 1
    sheet.cell(row=free, column=1).value = JINAN
    sheet.cell(row=free + 1, column=1).value = XUZHOU
    sheet.cell(row=free + 1, column=column(workbook, "5G基站数（个）")).value = 5
    before = state()

    result = run(bureau_user, save(workbook), dry_run=False)

    assert not result.applied
    assert any(e.startswith(f"城市数据!A{free}: 济南市的调查表状态为“已提交”") for e in result.errors), result.errors
    assert any(e.startswith(f"城市数据!A{free + 1}: 徐州市（320300）不是山东省的城市") for e in result.errors)
    assert state() == before


def test_any_problem_in_any_city_saves_nothing_anywhere(province, bureau_user, open_round):
    workbook = load(download(bureau_user, open_round))
    put(workbook, QINGDAO, "5G基站数（个）", 22222)
    bad = put(workbook, YANTAI, "常住人口数（人）", "约七百万")
    before = state()

    result = run(bureau_user, save(workbook), dry_run=False)

    assert not result.applied
    assert f"城市数据!{bad}: 烟台市：须为非负整数" in result.errors
    assert [p.item for p in result.problems if p.cell == f"城市数据!{bad}"] == ["常住人口数"]
    assert state() == before


def test_a_case_of_a_city_missing_from_the_city_rows_is_named(province, bureau_user, open_round):
    workbook = load(download(bureau_user, open_round))
    row = add_case(workbook, "370199", "不存在的城市的案例")

    result = run(bureau_user, save(workbook), dry_run=True)

    assert any(e.startswith(f"应用案例!A{row}: 城市 370199 不在“城市数据”表中") for e in result.errors), result.errors


def test_another_provinces_workbook_is_refused(open_round, bureau_user, bureau_user_other_province):
    content = province_workbook(province=bureau_user_other_province.province, round_=open_round)

    result = run(bureau_user, content, dry_run=True)

    assert result.rejected
    assert any("此工作簿属于江苏省" in e for e in result.errors), result.errors


def test_a_city_template_is_sent_to_its_own_page(province, bureau_user):
    from submissions.excel.city import city_template

    qingdao, _jinan = province
    result = run(bureau_user, city_template(submission=qingdao), dry_run=True)

    assert result.rejected
    assert any("这是城市调查表模板" in e for e in result.errors)


def test_only_a_bureau_imports_a_province_workbook(province, city_user, bureau_user, open_round):
    with pytest.raises(RoleNotAllowed):
        run(city_user, download(bureau_user, open_round), dry_run=True)


def test_a_city_changed_after_the_check_makes_the_import_a_conflict(province, bureau_user, open_round, city_user):
    from submissions.services import submission_update

    qingdao, _jinan = province
    workbook = load(download(bureau_user, open_round))
    put(workbook, QINGDAO, "5G基站数（个）", 31313)
    put(workbook, YANTAI, "5G基站数（个）", 4040)
    content = save(workbook)
    checked = run(bureau_user, content, dry_run=True)
    submission_update(
        submission_id=qingdao.pk, actor=city_user, data={"contact_name": "王强"}, expected_version=qingdao.version
    )
    before = state()

    result = run(bureau_user, content, dry_run=False, expected_versions={p.city: p.base_version for p in checked.plans})

    assert not result.applied
    assert any("校验后该市调查表已被他人修改" in e for e in result.errors), result.errors
    assert state() == before


@pytest.mark.parametrize("shared", [False, True], ids=["formula", "shared-formula"])
def test_a_formula_without_a_cached_value_is_named_not_read_as_empty(province, bureau_user, open_round, shared):
    qingdao, _jinan = province
    workbook = load(download(bureau_user, open_round))
    cell = put(workbook, QINGDAO, "5G基站数（个）", "=1000+234")
    content = save(workbook)
    if shared:
        # As other programs may write it: a shared formula, its element with a namespace prefix.
        content = rewrite_worksheets(content, _as_shared_prefixed_formula)

    result = run(bureau_user, content, dry_run=True)

    assert not result.ok
    assert any(e.startswith(f"城市数据!{cell}: 此单元格中的公式没有计算结果") for e in result.errors), result.errors
    qingdao.refresh_from_db()
    assert qingdao.bs5g_count is not None


def _as_shared_prefixed_formula(xml: bytes) -> bytes:
    main = b"http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    return xml.replace(b"<f>1000+234</f>", b'<x:f xmlns:x="' + main + b'" t="shared" si="0">1000+234</x:f>')


def test_numbers_that_contradict_each_other_are_named_with_the_city_and_cell_but_imported(
    province, bureau_user, open_round
):
    qingdao, _jinan = province
    workbook = load(download(bureau_user, open_round))
    cell = put(workbook, QINGDAO, "5G用户数（户）", qingdao.mobile_users_total + 1)

    checked = run(bureau_user, save(workbook), dry_run=True)

    assert checked.ok, checked.errors
    (warning,) = [w for w in checked.warnings if "大于移动电话用户总数" in w]
    assert warning.startswith(f"城市数据!{cell}: 青岛市：5G用户数") and "提交时确认" in warning
    result = run(bureau_user, save(workbook), dry_run=False, expected_versions={QINGDAO: qingdao.version})
    assert result.applied
    qingdao.refresh_from_db()
    assert qingdao.users_5g == qingdao.mobile_users_total + 1

"""A city official fills in the form from Excel: downloads the template, fills it in, uploads it,
reads the check and confirms; and sees where each problem is when the workbook has mistakes. A
bureau does the same for its province."""

from __future__ import annotations

import pytest

from submissions.models import Status, Submission
from tests.factories import make_submission
from tests.submissions.excel_helpers import (
    case_rows,
    first_blank_case_row,
    load,
    save,
    type_into,
    write_case,
)

from .conftest import login, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def download(page, tmp_path, link_name: str):
    with page.expect_download() as info:
        page.get_by_role("link", name=link_name).click()
    target = tmp_path / info.value.suggested_filename
    info.value.save_as(target)
    return target


def upload(page, path):
    before = page.url
    page.set_input_files("#excel-file", str(path))
    page.get_by_role("button", name="上传并校验").click()
    page.wait_for_url(lambda url: "?upload=" in url and url != before)


def test_a_city_official_imports_the_filled_in_template(page, city_user, open_round, tmp_path):
    draft = make_submission(city_user.city, open_round, Status.DRAFT)
    login(page, city_user.username)
    page.get_by_role("link", name="Excel 导入导出").click()
    assert page.get_by_role("heading", level=1).inner_text().endswith("Excel 导入导出")

    template = download(page, tmp_path, "下载模板（.xlsx）")
    assert template.name.endswith(".xlsx") and "青岛市" in template.name
    workbook = load(template.read_bytes())
    type_into(workbook, "5G基站数", "12,888")
    type_into(workbook, "常住人口数", 6_020_000)
    type_into(workbook, "联系人", "李娜")
    write_case(workbook, case_rows(workbook)[0], title="5G+智慧港口（二期）")
    write_case(
        workbook,
        first_blank_case_row(workbook),
        title="千兆光网+智慧教育",
        domain="社会民生",
        description="全市中小学千兆到校。",
        pain_points="课堂视频卡顿。",
        replicability="可在全省推广。",
        partners="中国电信",
    )
    filled = tmp_path / "青岛-已填写.xlsx"
    filled.write_bytes(save(workbook))

    upload(page, filled)

    report = page.get_by_test_id("excel-report")
    assert "导入将作以下修改" in report.inner_text()
    changes = page.get_by_test_id("excel-changes").inner_text()
    assert "5G基站数" in changes and "12,888" in changes and "指标数据!C" in changes
    assert "千兆光网+智慧教育" in report.inner_text()
    screenshot(page, "excel-dry-run")

    with page.expect_navigation():
        page.get_by_role("button", name="确认导入").click()

    assert "工作簿已导入" in page.inner_text("[role=status]")
    draft.refresh_from_db()
    assert (draft.bs5g_count, draft.resident_population, draft.contact_name) == (12888, 6_020_000, "李娜")
    assert draft.cases.last().title == "千兆光网+智慧教育"
    screenshot(page, "excel-imported")


def test_a_workbook_with_mistakes_shows_each_problem_at_its_cell(page, city_user, open_round, tmp_path):
    draft = make_submission(city_user.city, open_round, Status.DRAFT)
    version = draft.version
    login(page, city_user.username)
    page.goto(f"/submissions/{draft.pk}/excel/")
    workbook = load(download(page, tmp_path, "下载模板（.xlsx）").read_bytes())
    population = type_into(workbook, "常住人口数", "约600万")
    type_into(workbook, "5G基站数", -5)
    type_into(workbook, "电子邮箱", "liuna@")
    write_case(workbook, case_rows(workbook)[1], domain="智慧城市")
    bad = tmp_path / "有错误.xlsx"
    bad.write_bytes(save(workbook))

    upload(page, bad)

    problems = page.get_by_test_id("excel-problems").inner_text()
    assert f"{population}" in problems and "须为非负整数" in problems
    assert "请从下拉列表中选择应用领域" in problems
    assert "发现 4 个问题" in page.get_by_test_id("excel-report").inner_text()
    assert page.get_by_role("button", name="确认导入").count() == 0
    screenshot(page, "excel-errors")
    assert Submission.objects.get(pk=draft.pk).version == version

    (tmp_path / "旧格式.xls").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 1024)
    upload(page, tmp_path / "旧格式.xls")
    assert "这是旧版 .xls 文件" in page.get_by_test_id("excel-problems").inner_text()
    screenshot(page, "excel-refused-file")


def test_a_bureau_checks_and_imports_its_province_workbook(page, bureau_user, open_round, tmp_path):
    from gigacity.models import City

    make_submission(City.objects.get(pk="370200"), open_round, Status.DRAFT)
    login(page, bureau_user.username)
    page.get_by_role("link", name="省级汇总表（Excel）").click()
    workbook = load(download(page, tmp_path, "下载省级汇总表（.xlsx）").read_bytes())
    sheet = workbook["城市数据"]
    column = next(c for c in range(1, sheet.max_column + 1) if sheet.cell(row=2, column=c).value == "5G基站数（个）")
    rows = {sheet.cell(row=r, column=1).value: r for r in range(3, sheet.max_row + 1)}
    sheet.cell(row=rows["370200"], column=column).value = 15000
    sheet.cell(row=rows["370600"], column=column).value = 9000
    path = tmp_path / "山东-汇总.xlsx"
    path.write_bytes(save(workbook))

    upload(page, path)

    report = page.get_by_test_id("excel-report").inner_text()
    assert "青岛市" in report and "烟台市" in report and "新建草稿" in report
    screenshot(page, "excel-province-dry-run")
    with page.expect_navigation():
        page.get_by_role("button", name="确认导入全部城市").click()
    assert "省级汇总表已导入" in page.inner_text("[role=status]")
    assert Submission.objects.get(city_id="370600", round=open_round).bs5g_count == 9000

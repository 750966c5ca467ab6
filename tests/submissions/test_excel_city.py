"""The city template: download it, fill it in as an official would, check it (dry run), import it;
and every kind of bad file is refused with its own message, with nothing saved."""

from __future__ import annotations

import datetime
import io

import pytest

from gigacity.errors import Conflict, StaleVersion
from gigacity.models import Role
from submissions.excel.city import city_template
from submissions.excel.imports import city_import
from submissions.models import Attachment, ChangeSource, DataChange, Status
from submissions.services import attachment_add, submission_update
from tests.factories import make_submission

from .excel_helpers import (
    as_upload,
    case_rows,
    clear_case,
    csv_renamed,
    encrypted_xlsx,
    first_blank_case_row,
    load,
    not_our_workbook,
    row_of,
    save,
    type_into,
    uncalculated_formula,
    value_of,
    with_many_case_rows,
    write_case,
    xls_file,
    xlsm,
    xml_bomb,
    zip_bomb,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def draft(open_round, city_user):
    """青岛's complete draft with seven cases."""
    return make_submission(city_user.city, open_round, Status.DRAFT)


def dry_run(submission, actor, content: bytes, **kwargs):
    return city_import(submission_id=submission.pk, actor=actor, upload=as_upload(content), dry_run=True, **kwargs)


def apply(submission, actor, content: bytes, **kwargs):
    return city_import(submission_id=submission.pk, actor=actor, upload=as_upload(content), dry_run=False, **kwargs)


def snapshot_of(submission):
    submission.refresh_from_db()
    return (
        submission.version,
        submission.bs5g_count,
        list(submission.cases.values_list("pk", "title")),
        DataChange.objects.filter(submission=submission).count(),
    )


# ------------------------------------------------------------------------------------------------
# The template
# ------------------------------------------------------------------------------------------------
def test_the_template_is_prefilled_locked_and_signed(draft):
    workbook = load(city_template(submission=draft))

    assert workbook.sheetnames[:4] == ["填表说明", "指标数据", "应用案例", "典型做法"]
    assert workbook["_gigacity"].sheet_state == "veryHidden"
    data = workbook["指标数据"]
    assert (data["C2"].value, data["C3"].value) == ("青岛市", f"{draft.round.year}年度")
    assert data.protection.sheet and data["C2"].protection.locked
    assert value_of(workbook, "5G基站数") == draft.bs5g_count
    assert not data.cell(row=row_of(data, "5G基站数"), column=3).protection.locked  # typed into
    assert any(dv.type == "whole" for dv in data.data_validations.dataValidation)
    cases = workbook["应用案例"]
    assert [cases.cell(row=r, column=2).value for r in case_rows(workbook)] == [c.title for c in draft.cases.all()]
    assert cases.column_dimensions["A"].hidden
    assert any(
        dv.formula1 == '"信息消费,垂直行业,社会民生,数字政府,其他"' for dv in cases.data_validations.dataValidation
    )
    assert "截止日期" in "".join(str(c.value) for c in workbook["填表说明"]["A"])


def test_each_cell_of_the_template_looks_as_what_it_is(draft):
    """The cells to fill in are yellow and unlocked, counts grouped and dates as dates; the labels
    beside them grey and locked; the headers white on blue. Looks are worked out once per workbook
    and shared (sheets.put): a look must never leak to a cell of another kind."""
    data = load(city_template(submission=draft))["指标数据"]
    count = data.cell(row=row_of(data, "5G基站数"), column=3)
    date = data.cell(row=row_of(data, "数据截止日期"), column=3)
    label = data.cell(row=row_of(data, "5G基站数"), column=2)
    header = next(c for row in data.iter_rows(max_row=10) for c in row if c.fill.fgColor.rgb == "001B4F8F")

    assert (count.fill.fgColor.rgb, count.protection.locked, count.number_format) == ("00FFF8DC", False, "#,##0")
    assert (date.fill.fgColor.rgb, date.protection.locked, date.number_format) == ("00FFF8DC", False, "yyyy-mm-dd")
    assert (label.fill.fgColor.rgb, label.protection.locked, label.number_format) == ("00EEF0F3", True, "General")
    assert label.alignment.wrap_text and count.alignment.vertical == "top" and not count.alignment.wrap_text
    assert header.font.b and header.font.color.rgb == "00FFFFFF"


def test_the_template_shows_last_rounds_values_beside_each_input(city_user, open_round, reference):
    from indicators.models import Round, RoundStatus

    last_year, _created = Round.objects.update_or_create(
        year=open_round.year - 1, defaults={"status": RoundStatus.OPEN, "deadline": open_round.deadline}
    )
    from indicators.reference import ensure_thresholds

    ensure_thresholds(last_year)
    make_submission(city_user.city, last_year, Status.SUBMITTED, bs5g_count=9876)
    last_year.status = RoundStatus.CLOSED
    last_year.save()
    current = make_submission(city_user.city, open_round, Status.DRAFT, complete=False)

    data = load(city_template(submission=current))["指标数据"]

    row = row_of(data, "5G基站数")
    assert data.cell(row=row, column=3).value is None
    assert data.cell(row=row, column=5).value == 9876


def test_text_that_looks_like_a_formula_comes_back_as_typed(draft, city_user):
    draft = submission_update(
        submission_id=draft.pk,
        actor=city_user,
        data={"contact_phone": "+86 532 12345678", "practice_users": '=HYPERLINK("http://x")'},
        expected_version=draft.version,
    )
    template = city_template(submission=draft)
    data = load(template)["指标数据"]
    assert data.cell(row=row_of(data, "联系电话"), column=3).value == "'+86 532 12345678"  # never a formula

    result = dry_run(draft, city_user, template)

    assert result.ok and not result.has_changes


# ------------------------------------------------------------------------------------------------
# Round trip
# ------------------------------------------------------------------------------------------------
def test_round_trip_the_stored_values_equal_what_was_written(draft, city_user):
    workbook = load(city_template(submission=draft))
    type_into(workbook, "5G基站数", "12,345")  # typed as text with a thousands separator
    type_into(workbook, "常住人口数", "５，２３４，５６７")  # full-width digits and comma
    type_into(workbook, "城市家庭总户数", 1_500_000)
    type_into(workbook, "数据截止日期", datetime.datetime(2026, 10, 31))
    type_into(workbook, "联系人", "李娜")
    type_into(workbook, "联系电话", "0532-88886666")
    workbook["典型做法"]["B3"] = "统筹推进千兆光网建设。\n第二段。"
    rows = case_rows(workbook)
    kept_ids = [workbook["应用案例"].cell(row=r, column=1).value for r in rows]
    write_case(workbook, rows[0], title="5G+智慧港口（修订）")
    clear_case(workbook, rows[1])  # removing a case: clear its row
    new_row = first_blank_case_row(workbook)
    write_case(
        workbook,
        new_row,
        title="千兆光网+智慧教育",
        domain="社会民生",
        description="全市中小学千兆到校。",
        pain_points="解决了课堂视频卡顿。",
        replicability="可在省内推广。",
        partners="中国电信",
    )
    content = save(workbook)

    result = apply(draft, city_user, content)

    assert result.applied and result.ok, result.errors
    draft.refresh_from_db()
    assert draft.bs5g_count == 12345
    assert draft.resident_population == 5_234_567
    assert draft.urban_households == 1_500_000
    assert draft.data_as_of == datetime.date(2026, 10, 31)
    assert (draft.contact_name, draft.contact_phone) == ("李娜", "0532-88886666")
    assert draft.practice_network == "统筹推进千兆光网建设。\n第二段。"
    cases = list(draft.cases.all())
    assert [c.pk for c in cases[:1]] == kept_ids[:1] and cases[0].title == "5G+智慧港口（修订）"
    assert kept_ids[1] not in [c.pk for c in cases]
    assert [c.pk for c in cases[1:-1]] == kept_ids[2:]
    assert (cases[-1].title, cases[-1].domain, cases[-1].partners) == ("千兆光网+智慧教育", "livelihood", "中国电信")
    change = DataChange.objects.filter(submission=draft).latest("pk")
    assert (change.source, change.actor_role, change.version) == (ChangeSource.EXCEL, Role.CITY, draft.version)
    # And the stored form downloads as the same workbook: importing it again changes nothing.
    assert not dry_run(draft, city_user, city_template(submission=draft)).has_changes


def test_the_dry_run_lists_each_change_with_its_cell_and_saves_nothing(draft, city_user):
    before = snapshot_of(draft)
    workbook = load(city_template(submission=draft))
    cell = type_into(workbook, "5G基站数", draft.bs5g_count + 1000)
    rows = case_rows(workbook)
    write_case(workbook, rows[0], title="新标题")
    clear_case(workbook, rows[-1])
    removed_title = draft.cases.last().title
    write_case(workbook, first_blank_case_row(workbook), title="新增案例", domain="数字政府")

    result = dry_run(draft, city_user, save(workbook))

    assert result.ok and not result.applied
    (plan,) = result.plans
    assert {"field": "bs5g_count", "cell": cell, "before": draft.bs5g_count, "after": draft.bs5g_count + 1000} == {
        key: plan.fields[0][key] for key in ("field", "cell", "before", "after")
    }
    assert plan.fields[0]["label"] == "5G基站数"
    assert plan.cases_changed[0]["fields"][0]["after"] == "新标题"
    assert [c["title"] for c in plan.cases_removed] == [removed_title]
    assert plan.cases_added == [{"title": "新增案例", "cell": f"应用案例!B{len(rows) + 3}"}]
    assert plan.base_version == draft.version
    assert snapshot_of(draft) == before


def test_every_problem_is_reported_with_its_cell_and_nothing_is_saved(draft, city_user):
    before = snapshot_of(draft)
    workbook = load(city_template(submission=draft))
    population = type_into(workbook, "常住人口数", "五百万")
    stations = type_into(workbook, "5G基站数", -3)
    email = type_into(workbook, "电子邮箱", "not-an-email")
    households = type_into(workbook, "城市家庭总户数", "#DIV/0!")
    row = case_rows(workbook)[0]
    write_case(workbook, row, domain="智慧城市")
    new_row = first_blank_case_row(workbook)
    write_case(workbook, new_row, title="标" * 300)

    result = apply(draft, city_user, save(workbook))

    assert not result.applied
    errors = result.errors
    assert f"{population}: 须为非负整数" in errors
    assert f"{stations}: 须为非负整数" in errors
    assert f"{email}: 请输入有效的电子邮箱" in errors
    assert any(e.startswith(f"{households}: 单元格显示 Excel 错误值 #DIV/0!") for e in errors)
    assert any(e.startswith(f"应用案例!C{row}: 请从下拉列表中选择应用领域") for e in errors)
    assert f"应用案例!B{new_row}: 最多 200 个字" in errors
    assert snapshot_of(draft) == before


def test_the_bureau_imports_on_the_citys_behalf(draft, bureau_user):
    workbook = load(city_template(submission=draft))
    type_into(workbook, "5G基站数", 20000)

    result = apply(draft, bureau_user, save(workbook))

    assert result.applied
    change = DataChange.objects.filter(submission=draft).latest("pk")
    assert (change.actor_role, change.source, change.on_behalf) == (Role.BUREAU, ChangeSource.EXCEL, True)


def test_removing_a_case_with_attachments_says_so(draft, city_user):
    case = draft.cases.first()
    attachment_add(
        submission_id=draft.pk, case_id=case.pk, upload=as_upload(b"%PDF-1.4 x", "证明.pdf"), actor=city_user
    )
    draft.refresh_from_db()
    workbook = load(city_template(submission=draft))
    clear_case(workbook, case_rows(workbook)[0])

    result = dry_run(draft, city_user, save(workbook))

    assert result.plans[0].cases_removed == [{"id": case.pk, "title": case.title, "attachments": 1}]
    assert Attachment.objects.filter(case=case).exists()


# ------------------------------------------------------------------------------------------------
# Versions
# ------------------------------------------------------------------------------------------------
def test_a_form_changed_after_the_dry_run_is_a_conflict_and_nothing_is_saved(draft, city_user):
    workbook = load(city_template(submission=draft))
    type_into(workbook, "5G基站数", 777)
    content = save(workbook)
    checked = dry_run(draft, city_user, content)
    submission_update(
        submission_id=draft.pk, actor=city_user, data={"contact_name": "王强"}, expected_version=draft.version
    )
    before = snapshot_of(draft)

    with pytest.raises(StaleVersion):
        apply(draft, city_user, content, expected_version=checked.plans[0].base_version)

    assert snapshot_of(draft) == before


def test_a_template_older_than_the_form_is_imported_with_a_warning(draft, city_user):
    content = city_template(submission=draft)
    submission_update(
        submission_id=draft.pk, actor=city_user, data={"contact_name": "王强"}, expected_version=draft.version
    )

    result = dry_run(draft, city_user, content)

    assert any("下载此模板" in w and "覆盖" in w for w in result.warnings)
    assert [f["field"] for f in result.plans[0].fields] == ["contact_name"]


def test_a_submitted_form_takes_no_workbook(open_round, city_user):
    submitted = make_submission(city_user.city, open_round, Status.SUBMITTED)

    with pytest.raises(Conflict, match="已提交"):
        dry_run(submitted, city_user, city_template(submission=submitted))


# ------------------------------------------------------------------------------------------------
# Bad files: each with its own message, nothing saved, no exception
# ------------------------------------------------------------------------------------------------
def _another_city(open_round, city_user_same_province):
    other = make_submission(city_user_same_province.city, open_round, Status.DRAFT, complete=False)
    return city_template(submission=other)


def _another_round(draft):
    draft.round.year += 1  # the same city's template of another year (never saved)
    try:
        return city_template(submission=draft)
    finally:
        draft.round.year -= 1


def _edited_layout(draft):
    workbook = load(city_template(submission=draft))
    sheet = workbook["指标数据"]
    sheet.protection.sheet = False
    sheet.insert_rows(12)  # a row inserted: every label below moves down one
    return save(workbook)


def _renamed_sheet(draft):
    workbook = load(city_template(submission=draft))
    workbook["应用案例"].title = "案例"
    return save(workbook)


def _edited_city_cell(draft):
    workbook = load(city_template(submission=draft))
    workbook["指标数据"]["E2"] = "370100"
    return save(workbook)


def _forged_signature(draft):
    workbook = load(city_template(submission=draft))
    meta = workbook["_gigacity"]
    for row in meta.iter_rows():
        if row[0].value == "signature":
            row[1].value = row[1].value[:-4] + "AAAA"
    return save(workbook)


BAD_FILES = {
    "empty file": (lambda **k: b"", "文件为空"),
    "old .xls": (lambda **k: xls_file(), "这是旧版 .xls 文件"),
    "password-protected": (lambda **k: encrypted_xlsx(), "设置了密码保护"),
    ".xlsm with macros": (lambda draft, **k: xlsm(city_template(submission=draft)), "包含宏"),
    "zip bomb": (lambda **k: zip_bomb(), "疑似“压缩炸弹”"),
    "XML bomb in the shared strings": (
        lambda draft, **k: xml_bomb(city_template(submission=draft)),
        "无法读取该工作簿",
    ),
    "CSV renamed .xlsx": (lambda **k: csv_renamed(), "不是 Excel .xlsx 文件"),
    "another workbook": (lambda **k: not_our_workbook(), "不是从本系统下载的"),
    "another city's template": (
        lambda open_round, city_user_same_province, **k: _another_city(open_round, city_user_same_province),
        "此模板属于济南市",
    ),
    "another round's template": (lambda draft, **k: _another_round(draft), "年度，而当前调查表为青岛市"),
    "edited layout": (lambda draft, **k: _edited_layout(draft), "布局已被修改"),
    "renamed sheet": (lambda draft, **k: _renamed_sheet(draft), "缺少工作表“应用案例”"),
    "edited city cell": (lambda draft, **k: _edited_city_cell(draft), "指标数据!E2: 城市或年度单元格已被修改"),
    "forged signature": (lambda draft, **k: _forged_signature(draft), "标识信息已被修改"),
}


@pytest.mark.parametrize("name", BAD_FILES)
def test_a_bad_file_is_refused_with_its_own_message_and_nothing_saved(
    name, draft, city_user, open_round, city_user_same_province
):
    build, expected = BAD_FILES[name]
    content = build(draft=draft, open_round=open_round, city_user_same_province=city_user_same_province)
    before = snapshot_of(draft)

    for result in (dry_run(draft, city_user, content), apply(draft, city_user, content)):
        assert result.rejected and not result.applied
        assert any(expected in error for error in result.errors), result.errors

    assert snapshot_of(draft) == before


def test_a_formula_without_a_cached_value_is_named_not_read_as_empty(draft, city_user):
    content, cell = uncalculated_formula(city_template(submission=draft), "5G基站数")

    result = apply(draft, city_user, content)

    assert not result.applied
    assert any(e.startswith(f"{cell}: 此单元格中的公式没有计算结果") for e in result.errors), result.errors
    draft.refresh_from_db()
    assert draft.bs5g_count is not None


def test_a_hundred_thousand_rows_are_refused_without_reading_them_all(draft, city_user):
    content = with_many_case_rows(city_template(submission=draft), 100_000)
    before = snapshot_of(draft)

    result = apply(draft, city_user, content)

    assert result.rejected and not result.applied
    assert any("超过 10,000 行" in e for e in result.errors), result.errors
    assert snapshot_of(draft) == before


def test_more_cases_than_the_template_holds_are_named_at_the_first_extra_row(draft, city_user):
    content = with_many_case_rows(city_template(submission=draft), 5)

    result = dry_run(draft, city_user, content)

    assert (
        "应用案例!A53: 最后一个案例行（第 52 行）以下还有内容。模板最多填写 50 个案例，请删除多余的行。"
        in result.errors
    )


def test_a_file_over_the_size_limit_is_refused(draft, city_user, settings):
    settings.GIGACITY_MAX_WORKBOOK_BYTES = 1024

    result = apply(draft, city_user, city_template(submission=draft))

    assert result.rejected
    assert any("工作簿最大不能超过" in e for e in result.errors), result.errors


def test_a_number_too_large_for_any_city_is_explained(draft, city_user):
    workbook = load(city_template(submission=draft))
    cell = type_into(workbook, "常住人口数", 10**12)

    result = dry_run(draft, city_user, save(workbook))

    assert any(e.startswith(f"{cell}: 数值过大") for e in result.errors), result.errors


def test_an_infinite_number_is_a_problem_not_a_crash(draft, city_user):
    # "1e999" is a legal number in the XML; openpyxl reads it as infinity.
    import zipfile

    content = city_template(submission=draft)
    workbook = load(content)
    cell = type_into(workbook, "5G基站数", 424242)
    source = zipfile.ZipFile(io.BytesIO(save(workbook)))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info.filename)
            target.writestr(info, data.replace(b"<v>424242</v>", b"<v>1e999</v>"))

    result = dry_run(draft, city_user, buffer.getvalue())

    assert f"{cell}: 须为非负整数" in result.errors


def test_numbers_that_contradict_each_other_are_imported_with_a_warning_at_their_cell(draft, city_user):
    workbook = load(city_template(submission=draft))
    cell = type_into(workbook, "5G用户数", draft.mobile_users_total + 1)

    checked = dry_run(draft, city_user, save(workbook))
    imported = apply(draft, city_user, save(workbook))

    for result in (checked, imported):
        assert result.ok
        (warning,) = [w for w in result.warnings if "大于移动电话用户总数" in w]
        assert warning.startswith(f"{cell}: 5G用户数") and "提交时确认" in warning
    assert imported.applied
    draft.refresh_from_db()
    assert draft.users_5g == draft.mobile_users_total + 1

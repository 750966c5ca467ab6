"""The city template: one submission (city + round) as a workbook to fill in offline, and reading it
back into raw values, each with the cell it came from."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import IO, Any

from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from gigacity.params import int_param
from gigacity.xlsx import formula_cells, open_workbook, read_rows
from indicators.catalogue import INDICATORS, MIN_CASES
from indicators.rules import key_site_sums, meets

from ..inputs import number_limit
from ..models import Submission
from ..selectors import previous_submission
from ..services import effective_deadline
from .layout import (
    CASE_COL,
    CASE_COLUMNS,
    CASES_FIRST_ROW,
    CASES_HEADER_ROW,
    CASES_LAST_ROW,
    CASES_NOTE_ROW,
    CITY_CODE_CELL,
    CITY_LAYOUT,
    CITY_NAME_CELL,
    CITY_ROW,
    COL_LABEL,
    COL_NO,
    COL_NOTE,
    COL_PREV,
    COL_UNIT,
    COL_VALUE,
    DATA_COLUMNS,
    DATA_FIELD_ROWS,
    DATA_FIELDS_BY_NAME,
    DATA_HEADERS,
    DATE,
    DOMAIN_LABEL_BY_CODE,
    DOMAIN_LABELS,
    HEADER_ROW,
    INDICATORS_SECTION,
    INDICATORS_SECTION_ROW,
    KEY_SITE_TOTAL_NOTE,
    NOTE_ROW,
    PRACTICE_ROWS,
    PRACTICES,
    PRACTICES_HEADER_ROW,
    PRACTICES_LAST_ROW,
    ROUND_CELL,
    ROUND_ROW,
    SECTION_ROWS,
    SECTIONS,
    SHEET_CASES,
    SHEET_DATA,
    SHEET_GUIDE,
    SHEET_PRACTICES,
    TEXT,
    domain_code,
    ref,
)
from .sheets import (
    LayoutChanged,
    Problem,
    cell_problem,
    domain_validation,
    finish,
    is_blank,
    new_workbook,
    protect,
    put,
    read_meta,
    text_of,
    title,
    validation_for,
)

# Rows read below the last case row to notice a sheet that holds far more than a template (a pasted
# export, 100 000 rows); reading stops there, so the cost is bounded whatever the file claims.
SCAN_MARGIN = 500
# Rows any sheet of a template may hold before the file is refused unread (the province workbook's
# cases sheet, the longest, has at most a few thousand).
MAX_SHEET_ROWS = 10_000
KEY_SITE_TOTALS = ("key_sites_total", "key_sites_5g_covered")


# ------------------------------------------------------------------------------------------------
# Writing
# ------------------------------------------------------------------------------------------------
def city_template(*, submission: Submission) -> bytes:
    """The pre-filled template of one submission. Chinese whatever the user's language: it is the
    form MIIT's officials know."""
    with translation.override("zh-hans"):
        workbook = new_workbook()
        previous = previous_submission(submission)
        deadline = effective_deadline(submission.city, submission.round)
        _guide(workbook.create_sheet(SHEET_GUIDE), submission, deadline)
        _data_sheet(workbook.create_sheet(SHEET_DATA), submission, previous, deadline)
        _cases_sheet(workbook.create_sheet(SHEET_CASES), submission)
        _practices_sheet(workbook.create_sheet(SHEET_PRACTICES), submission)
        return finish(
            workbook,
            {
                "kind": "city",
                "layout": CITY_LAYOUT,
                "city": submission.city_id,
                "year": submission.round.year,
                "version": submission.version,
                "at": timezone.now().isoformat(timespec="seconds"),
            },
        )


def template_filename(submission: Submission) -> str:
    return f"{submission.city.name}-{submission.round.year}-调查表模板.xlsx"


def _guide(sheet, submission: Submission, deadline) -> None:
    city, year = submission.city.name, submission.round.year
    lines = [
        f"{city} {year}年度千兆城市总结评估调查表 · 填表说明",
        "",
        f"1. 本表用于填报{city}（行政区划代码 {submission.city_id}）{year}年度的调查表。城市和年度已预填并锁定，"
        "只能导入到该城市该年度的调查表。",
        f"2. 填报截止日期：{deadline.isoformat() if deadline else '以通知为准'}。请在截止日期前上传并在系统中提交。",
        "3. 只在黄色单元格中填写；灰色单元格是系统信息或参考数据，不能修改。表中已预填系统中的当前数据。",
        "4. 数量一律填写整数，单位见“单位”列（户、个、人），不要填写“万户”“万人”。可以带千位分隔符，如 1,234,567。",
        "5. 各项比率（千兆光纤网络覆盖率、10G-PON端口占比、重点场所5G网络通达率、每万人拥有5G基站数、"
        "500Mbps及以上用户占比、5G用户占比）由系统根据原始数据自动计算，无需填写。表中第四部分的指标值仅供参考。",
        "6. 重点场所请按类别分别填写总数和5G网络通达数，系统自动汇总；按类别填写后，“重点场所总数”"
        "和“5G网络通达的重点场所数”可以留空。",
        f"7. 应用案例：每行一个案例，至少{MIN_CASES}个方可提交。新增案例填写在空白行；删除案例请清空该行全部内容。"
        "应用领域请从下拉列表中选择。案例附件请在网页中上传。",
        "8. 典型做法和支持政策填写在“典型做法”工作表中，单元格内换行请按 Alt+Enter。",
        "9. 请不要重命名、删除或移动工作表，不要插入或删除行和列，不要设置打开密码，"
        "保存为 Excel 工作簿（*.xlsx），不要另存为 .xls 或 .xlsm。公式请在 Excel 中计算后保存，最好粘贴为数值。",
        "10. 上传后系统先进行校验：列出将被修改的每一项（修改前 → 修改后）和所有问题（标明“工作表!单元格”位置），"
        "确认后才会保存；有任何问题时不会保存任何内容。",
        f"11. 本表下载时调查表的数据版本为 {submission.version}"
        f"（{date_format(timezone.localtime(), 'Y-m-d H:i')}）。如下载后又在网页中修改了调查表，"
        "导入时将以本表内容为准，请在校验结果中核对。",
    ]
    for index, line in enumerate(lines, start=1):
        cell = sheet.cell(row=index, column=1, value=line)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    sheet["A1"].font = Font(bold=True, size=14, color="1B4F8F")
    sheet.column_dimensions["A"].width = 120
    protect(sheet)


def _data_sheet(sheet, submission: Submission, previous: Submission | None, deadline) -> None:
    city, round_ = submission.city, submission.round
    title(sheet, f"{city.name} {round_.year}年度千兆城市总结评估调查表 · 指标数据", DATA_COLUMNS)
    put(sheet, CITY_ROW, COL_LABEL, "城市")
    put(sheet, *CITY_NAME_CELL, city.name)
    put(sheet, CITY_ROW, COL_UNIT, "代码")
    put(sheet, *CITY_CODE_CELL, city.code)
    put(sheet, ROUND_ROW, COL_LABEL, "评估年度")
    put(sheet, *ROUND_CELL, f"{round_.year}年度")
    put(sheet, ROUND_ROW, COL_UNIT, "截止")
    put(sheet, ROUND_ROW, COL_PREV, deadline.isoformat() if deadline else "—")
    note = sheet.cell(
        row=NOTE_ROW,
        column=COL_LABEL,
        value="黄色单元格为填报区；灰色单元格由系统生成或仅供参考，不能修改。比率由系统自动计算。",
    )
    note.font = Font(color="5B6571")
    sheet.merge_cells(start_row=NOTE_ROW, start_column=COL_LABEL, end_row=NOTE_ROW, end_column=DATA_COLUMNS)
    for col, header in enumerate(DATA_HEADERS, start=1):
        put(sheet, HEADER_ROW, col, header, style="header")

    categories_filled = key_site_sums(submission.key_site_counts)[1] is not None
    number = 0
    for (section_row, section_title), (_title, fields) in zip(SECTION_ROWS, SECTIONS, strict=True):
        put(sheet, section_row, COL_NO, "", style="section")
        put(sheet, section_row, COL_LABEL, section_title, style="section")
        for col in range(COL_VALUE, DATA_COLUMNS + 1):
            put(sheet, section_row, col, "", style="section")
        for spec in fields:
            number += 1
            row = DATA_FIELD_ROWS[spec.name]
            value = getattr(submission, spec.name)
            note = spec.note
            if spec.name in KEY_SITE_TOTALS and categories_filled:
                # Left empty: the server fills in the sum, so a changed category never contradicts it.
                note = f"{KEY_SITE_TOTAL_NOTE}（当前合计 {value or 0:,}）"
                value = None
            put(sheet, row, COL_NO, number)
            put(sheet, row, COL_LABEL, spec.label)
            put(sheet, row, COL_VALUE, None if value == "" else value, style="input", kind=spec.kind)
            put(sheet, row, COL_UNIT, spec.unit)
            put(sheet, row, COL_PREV, getattr(previous, spec.name) if previous else None)
            put(sheet, row, COL_NOTE, note)
            if spec.kind == DATE:
                sheet.cell(row=row, column=COL_PREV).number_format = "yyyy-mm-dd"
            validation = validation_for(spec, maximum=number_limit(spec.name))
            if validation is not None:
                sheet.add_data_validation(validation)
                validation.add(f"{get_column_letter(COL_VALUE)}{row}")

    _indicator_rows(sheet, submission, previous, number)
    for col, width in zip("ABCDEF", (6, 46, 20, 8, 18, 44), strict=True):
        sheet.column_dimensions[col].width = width
    sheet.freeze_panes = sheet.cell(row=HEADER_ROW + 1, column=COL_VALUE)
    protect(sheet)


def _indicator_rows(sheet, submission: Submission, previous: Submission | None, number: int) -> None:
    round_ = submission.round
    thresholds = round_.threshold_map()
    put(sheet, INDICATORS_SECTION_ROW, COL_NO, "", style="section")
    put(sheet, INDICATORS_SECTION_ROW, COL_LABEL, INDICATORS_SECTION, style="section")
    for col in range(COL_VALUE, DATA_COLUMNS + 1):
        put(sheet, INDICATORS_SECTION_ROW, col, "", style="section")
    for offset, spec in enumerate(INDICATORS, start=1):
        row = INDICATORS_SECTION_ROW + offset
        value = getattr(submission, f"value_{spec.code}")
        threshold = thresholds.get(spec.code)
        note = ""
        if threshold is not None:
            note = f"门槛 ≥ {_number(threshold, spec.decimals)}{spec.unit_zh}"
            if round_.thresholds_provisional:
                note += "（暂定）"
            if value is not None:
                note += "，达标" if meets(value, threshold) else "，未达标"
        put(sheet, row, COL_NO, number + offset)
        put(sheet, row, COL_LABEL, spec.name_zh)
        put(sheet, row, COL_VALUE, float(value) if value is not None else None)
        put(sheet, row, COL_UNIT, spec.unit_zh)
        prev = getattr(previous, f"value_{spec.code}") if previous else None
        put(sheet, row, COL_PREV, float(prev) if prev is not None else None)
        put(sheet, row, COL_NOTE, note)
        fmt = "#,##0" if spec.decimals == 0 else "#,##0.0"
        sheet.cell(row=row, column=COL_VALUE).number_format = fmt
        sheet.cell(row=row, column=COL_PREV).number_format = fmt


def _number(value: Decimal, decimals: int) -> str:
    return f"{value:,.{decimals}f}"


def _cases_sheet(sheet, submission: Submission) -> None:
    note = sheet.cell(
        row=CASES_NOTE_ROW,
        column=CASE_COL["title"],
        value=(
            f"每行填写一个案例，至少{MIN_CASES}个，最多{CASES_LAST_ROW - CASES_FIRST_ROW + 1}个。"
            "新增案例填写在空白行；删除案例请清空该行全部内容。应用领域请从下拉列表中选择。"
        ),
    )
    note.font = Font(color="5B6571")
    note.alignment = Alignment(wrap_text=True)
    sheet.merge_cells(
        start_row=CASES_NOTE_ROW, start_column=CASE_COL["title"], end_row=CASES_NOTE_ROW, end_column=len(CASE_COLUMNS)
    )
    sheet.row_dimensions[CASES_NOTE_ROW].height = 32
    for col, (_name, header, width) in enumerate(CASE_COLUMNS, start=1):
        put(sheet, CASES_HEADER_ROW, col, header, style="header")
        sheet.column_dimensions[get_column_letter(col)].width = width
    cases = list(submission.cases.all())
    for offset in range(CASES_LAST_ROW - CASES_FIRST_ROW + 1):
        row = CASES_FIRST_ROW + offset
        case = cases[offset] if offset < len(cases) else None
        put(sheet, row, CASE_COL["id"], case.pk if case else None)
        for name, _header, _width in CASE_COLUMNS[1:]:
            value = getattr(case, name) if case else None
            if name == "domain" and value:
                value = DOMAIN_LABEL_BY_CODE.get(value, value)
            put(sheet, row, CASE_COL[name], value or None, style="input", kind=TEXT)
    validation = domain_validation(DOMAIN_LABELS)
    sheet.add_data_validation(validation)
    column = get_column_letter(CASE_COL["domain"])
    validation.add(f"{column}{CASES_FIRST_ROW}:{column}{CASES_LAST_ROW}")
    # The id ties a row to its case: hidden and locked, so it cannot be typed over by accident.
    sheet.column_dimensions[get_column_letter(CASE_COL["id"])].hidden = True
    sheet.freeze_panes = sheet.cell(row=CASES_FIRST_ROW, column=CASE_COL["title"])
    protect(sheet)


def _practices_sheet(sheet, submission: Submission) -> None:
    title(sheet, "典型做法与支持政策", 2)
    put(sheet, PRACTICES_HEADER_ROW, 1, "项目", style="header")
    put(sheet, PRACTICES_HEADER_ROW, 2, "内容（单元格内换行请按 Alt+Enter）", style="header")
    for spec in PRACTICES:
        row = PRACTICE_ROWS[spec.name]
        put(sheet, row, 1, spec.label)
        put(sheet, row, 2, getattr(submission, spec.name) or None, style="input", kind=TEXT)
        sheet.row_dimensions[row].height = 150
    sheet.column_dimensions["A"].width = 26
    sheet.column_dimensions["B"].width = 100
    protect(sheet)


# ------------------------------------------------------------------------------------------------
# Reading
# ------------------------------------------------------------------------------------------------
@dataclass
class CityUpload:
    """A city template read back: raw values by model field and the cases in row order, each with
    the row it came from; problems found while reading (never parsing numbers: the service does)."""

    meta: dict[str, Any]
    data: dict[str, Any] = field(default_factory=dict)
    cases: list[dict[str, Any]] = field(default_factory=list)
    case_rows: list[int] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def read_city_workbook(fileobj: IO[bytes]) -> CityUpload:
    """Read an uploaded city template. Raises WorkbookRejected (not a workbook we read) or
    LayoutChanged (not our template, or its layout was edited); other problems are returned."""
    with open_workbook(fileobj, max_rows=MAX_SHEET_ROWS) as workbook:
        meta = read_meta(workbook, kind="city")
        if meta.get("layout") != CITY_LAYOUT:
            raise LayoutChanged([Problem("", _("This template is an older version. Download a new template."))])
        missing = [name for name in (SHEET_DATA, SHEET_CASES, SHEET_PRACTICES) if name not in workbook.sheetnames]
        if missing:
            raise LayoutChanged(
                [
                    Problem(name, _("The sheet “%(sheet)s” is missing (renamed or deleted?).") % {"sheet": name})
                    for name in missing
                ]
            )
        data_rows = read_rows(workbook, SHEET_DATA, max_row=INDICATORS_SECTION_ROW - 1, max_col=DATA_COLUMNS)
        case_rows = read_rows(workbook, SHEET_CASES, max_row=CASES_LAST_ROW + SCAN_MARGIN, max_col=len(CASE_COLUMNS))
        practice_rows = read_rows(workbook, SHEET_PRACTICES, max_row=PRACTICES_LAST_ROW, max_col=2)

    _check_layout(meta, data_rows, case_rows, practice_rows)
    upload = CityUpload(meta=meta)
    _read_data(upload, data_rows, practice_rows)
    _read_cases(upload, case_rows)
    _report_formulas(upload, fileobj, data_rows, case_rows, practice_rows)
    return upload


def _at(rows: list[tuple], row: int, col: int) -> Any:
    return rows[row - 1][col - 1]


def _check_layout(meta, data_rows, case_rows, practice_rows) -> None:
    problems: list[Problem] = []

    def expect(sheet: str, rows, row: int, col: int, wanted: str) -> None:
        found = text_of(_at(rows, row, col)).strip()
        if found != wanted:
            problems.append(
                Problem(
                    ref(sheet, row, col),
                    _("The layout was changed: this cell should read “%(wanted)s”.") % {"wanted": wanted},
                )
            )

    for col, header in enumerate(DATA_HEADERS, start=1):
        expect(SHEET_DATA, data_rows, HEADER_ROW, col, header)
    for name, row in DATA_FIELD_ROWS.items():
        expect(SHEET_DATA, data_rows, row, COL_LABEL, DATA_FIELDS_BY_NAME[name].label)
    for col, (_name, header, _width) in enumerate(CASE_COLUMNS, start=1):
        expect(SHEET_CASES, case_rows, CASES_HEADER_ROW, col, header)
    for spec in PRACTICES:
        expect(SHEET_PRACTICES, practice_rows, PRACTICE_ROWS[spec.name], 1, spec.label)
    if problems:
        problems.insert(
            0,
            Problem(
                "",
                _(
                    "The template's layout was changed (rows, columns or labels moved), so its values "
                    "cannot be matched to the form. Download a new template and copy your data into it."
                ),
            ),
        )
        raise LayoutChanged(problems)
    # The city and round cells are locked; if they were edited anyway the file is not what it says.
    for (row, col), wanted in ((CITY_CODE_CELL, str(meta.get("city"))), (ROUND_CELL, f"{meta.get('year')}年度")):
        if text_of(_at(data_rows, row, col)).strip() != wanted:
            raise LayoutChanged(
                [
                    Problem(
                        ref(SHEET_DATA, row, col),
                        _("The city and round cells were changed; they are filled in by the system and locked."),
                    )
                ]
            )


def _read_data(upload: CityUpload, data_rows, practice_rows) -> None:
    for name, row in DATA_FIELD_ROWS.items():
        spec = DATA_FIELDS_BY_NAME[name]
        value = _at(data_rows, row, COL_VALUE)
        problem = cell_problem(value)
        if problem:
            upload.problems.append(Problem(ref(SHEET_DATA, row, COL_VALUE), problem))
            continue
        upload.data[name] = text_of(value) if spec.kind == TEXT else value
    for spec in PRACTICES:
        row = PRACTICE_ROWS[spec.name]
        value = _at(practice_rows, row, 2)
        problem = cell_problem(value)
        if problem:
            upload.problems.append(Problem(ref(SHEET_PRACTICES, row, 2), problem))
            continue
        upload.data[spec.name] = text_of(value)


def _read_cases(upload: CityUpload, case_rows) -> None:
    seen: dict[int, int] = {}
    for row in range(CASES_FIRST_ROW, len(case_rows) + 1):
        values = case_rows[row - 1]
        if all(is_blank(v) for v in values):
            continue
        if row > CASES_LAST_ROW:
            upload.problems.append(
                Problem(
                    ref(SHEET_CASES, row, 1),
                    _(
                        "There is content below the last case row (row %(last)s). The template holds at most "
                        "%(n)s cases; delete the extra rows."
                    )
                    % {"last": CASES_LAST_ROW, "n": CASES_LAST_ROW - CASES_FIRST_ROW + 1},
                )
            )
            return
        item, problems = read_case_row(values, sheet=SHEET_CASES, row=row, columns=CASE_COL, seen=seen)
        upload.problems.extend(problems)
        if item is not None:
            upload.cases.append(item)
            upload.case_rows.append(row)


def read_case_row(
    values: tuple,
    *,
    sheet: str,
    row: int,
    columns: dict[str, int],
    seen: dict[int, int],
) -> tuple[dict[str, Any] | None, list[Problem]]:
    """One case row as an item for `submission_update` (None when the row only says "remove this
    case": an id with every field cleared), with the problems of its cells."""
    problems: list[Problem] = []
    item: dict[str, Any] = {"id": None}
    raw_id = values[columns["id"] - 1]
    if not is_blank(raw_id):
        case_id = _case_id(raw_id)
        if case_id is None:
            problems.append(
                Problem(
                    ref(sheet, row, columns["id"]),
                    _("The system number of this case was changed; it must stay as downloaded."),
                )
            )
        elif case_id in seen:
            problems.append(
                Problem(
                    ref(sheet, row, columns["id"]),
                    _(
                        "This case also appears in row %(row)s. Do not copy existing case rows: type a new "
                        "case into an empty row."
                    )
                    % {"row": seen[case_id]},
                )
            )
        else:
            seen[case_id] = row
            item["id"] = case_id
    for name, _header, _width in CASE_COLUMNS[1:]:
        col = columns[name]
        value = values[col - 1]
        problem = cell_problem(value)
        if problem:
            problems.append(Problem(ref(sheet, row, col), problem))
            value = None
        text = text_of(value)
        if name == "domain":
            code = domain_code(text)
            if code is None:
                problems.append(
                    Problem(
                        ref(sheet, row, col),
                        _("Choose the domain from the list: %(domains)s.") % {"domains": "、".join(DOMAIN_LABELS)},
                    )
                )
                # Passed on as typed: the service refuses it too, so no valid-looking plan shows a
                # domain being cleared (its own message at the same cell is dropped as a duplicate).
                code = text
            text = code
        item[name] = text
    if all(not item[name] for name, _h, _w in CASE_COLUMNS[1:]):
        # Every field cleared: an existing case is removed (by leaving it out); a blank row is nothing.
        return None, problems
    return item, problems


def _case_id(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value > 0 else None
    if isinstance(value, float) and value.is_integer() and 0 < value < 2**63:
        return int(value)
    if isinstance(value, str) and int_param(value) is not None:
        return int(value.strip())
    return None


def _report_formulas(upload: CityUpload, fileobj, data_rows, case_rows, practice_rows) -> None:
    """A formula whose result was never calculated (a file written by a program and never opened in
    Excel) reads as empty: say so instead of clearing the field (XL-5)."""
    empty: dict[str, set[str]] = {SHEET_DATA: set(), SHEET_CASES: set(), SHEET_PRACTICES: set()}
    for row in DATA_FIELD_ROWS.values():
        if _at(data_rows, row, COL_VALUE) is None:
            empty[SHEET_DATA].add(f"{get_column_letter(COL_VALUE)}{row}")
    for row in range(CASES_FIRST_ROW, CASES_LAST_ROW + 1):
        for col in range(1, len(CASE_COLUMNS) + 1):
            if _at(case_rows, row, col) is None:
                empty[SHEET_CASES].add(f"{get_column_letter(col)}{row}")
    for row in PRACTICE_ROWS.values():
        if _at(practice_rows, row, 2) is None:
            empty[SHEET_PRACTICES].add(f"B{row}")
    sizes = {
        SHEET_DATA: (INDICATORS_SECTION_ROW - 1, DATA_COLUMNS),
        SHEET_CASES: (CASES_LAST_ROW, len(CASE_COLUMNS)),
        SHEET_PRACTICES: (PRACTICES_LAST_ROW, 2),
    }
    report_uncalculated(upload.problems, fileobj, empty, sizes)


def report_uncalculated(
    problems: list[Problem], fileobj, empty: dict[str, set[str]], sizes: dict[str, tuple[int, int]]
) -> None:
    wanted = {sheet: sizes[sheet] for sheet, cells in empty.items() if cells}
    if not wanted:
        return
    for sheet, formulas in formula_cells(fileobj, wanted).items():
        for coordinate in sorted(formulas & empty[sheet], key=_sort_key):
            problems.append(
                Problem(
                    f"{sheet}!{coordinate}",
                    _(
                        "The formula in this cell has no calculated value (the file was not saved by Excel). "
                        "Open it in Excel and save it, or enter the value itself."
                    ),
                )
            )


def _sort_key(coordinate: str) -> tuple[int, str]:
    letters = coordinate.rstrip("0123456789")
    return int(coordinate[len(letters) :]), letters

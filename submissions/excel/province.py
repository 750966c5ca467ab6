"""The province workbook of a bureau: one row per city of its province that can still be edited
(no form yet, draft, or returned) with the raw inputs and key-site counts, and the cases of those
cities keyed by city code. Uploaded back, it creates or updates those cities' drafts in one go."""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import IO, Any

from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from gigacity.models import City, Province
from gigacity.xlsx import open_workbook, read_rows
from indicators.catalogue import MIN_CASES
from indicators.models import Round
from indicators.rules import key_site_sums

from ..inputs import number_limit
from ..models import EDITABLE_STATES, Status, Submission
from .city import MAX_SHEET_ROWS, SCAN_MARGIN, read_case_row, report_uncalculated
from .layout import (
    CITY_COL_CODE,
    CITY_COL_NAME,
    CITY_COL_STATUS,
    CITY_COLUMNS,
    CITY_FIRST_ROW,
    CITY_FIXED_COLUMNS,
    CITY_HEADER_ROW,
    DOMAIN_LABEL_BY_CODE,
    DOMAIN_LABELS,
    MAX_PROVINCE_CASE_ROWS,
    MAX_PROVINCE_CITIES,
    PROVINCE_CASE_COL,
    PROVINCE_CASE_COLUMNS,
    PROVINCE_FIELD_COLS,
    PROVINCE_FIELDS,
    PROVINCE_LAYOUT,
    SHEET_CASES,
    SHEET_CITIES,
    SHEET_GUIDE,
    TEXT,
    header_text,
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

BLANK_CASE_ROWS = 200  # rows left empty below the existing cases, to add new ones
CITY_LAST_ROW = CITY_FIRST_ROW + MAX_PROVINCE_CITIES - 1
CASES_FIRST_ROW = 3
CASES_LAST_ROW = CASES_FIRST_ROW + MAX_PROVINCE_CASE_ROWS - 1
_CODE = re.compile(r"^\d{6}$")


def editable_rows(*, province: Province, round_: Round) -> list[tuple[City, Submission | None]]:
    """The cities of the province whose form a bureau may fill in now, with their form (or None)."""
    submissions = {
        s.city_id: s for s in Submission.objects.filter(round=round_, city__province=province).prefetch_related("cases")
    }
    rows = []
    for city in City.objects.filter(province=province).order_by("code"):
        submission = submissions.get(city.code)
        if submission is None or submission.status in EDITABLE_STATES:
            rows.append((city, submission))
    return rows


# ------------------------------------------------------------------------------------------------
# Writing
# ------------------------------------------------------------------------------------------------
def province_workbook(*, province: Province, round_: Round) -> bytes:
    with translation.override("zh-hans"):
        rows = editable_rows(province=province, round_=round_)
        workbook = new_workbook()
        _guide(workbook.create_sheet(SHEET_GUIDE), province, round_)
        _cities_sheet(workbook.create_sheet(SHEET_CITIES), province, round_, rows)
        _cases_sheet(workbook.create_sheet(SHEET_CASES), rows)
        return finish(
            workbook,
            {
                "kind": "province",
                "layout": PROVINCE_LAYOUT,
                "province": province.code,
                "year": round_.year,
                # The version of each city's form at download (0: no form yet), to warn about forms
                # changed in the browser since.
                "versions": {city.code: (s.version if s else 0) for city, s in rows},
                "at": timezone.now().isoformat(timespec="seconds"),
            },
        )


def province_filename(province: Province, round_: Round) -> str:
    return f"{province.name}-{round_.year}-汇总表.xlsx"


def _guide(sheet, province: Province, round_: Round) -> None:
    lines = [
        f"{province.name} {round_.year}年度千兆城市调查表 · 省级汇总表填表说明",
        "",
        f"1. 本表由{province.name}通信管理局代各城市填报使用，只能导入{province.name}{round_.year}年度的调查表。",
        "2. “城市数据”表每行一个城市，只列出尚未提交（未开始、草稿或被退回）的城市；已提交的城市不能通过本表修改。",
        "3. 只在黄色单元格中填写，数量一律填写整数（户、个、人），比率由系统自动计算。",
        "4. 重点场所按类别填写后，“重点场所总数”和“5G网络通达的重点场所数”可以留空，系统自动汇总。",
        f"5. “应用案例”表每行一个案例，用“行政区划代码”标明所属城市；每个城市至少{MIN_CASES}个案例方可提交。"
        "新增案例填写在空白行；删除案例请清空该行的案例内容。",
        "6. 某城市的案例以本表为准：导入后该城市的案例与本表中该城市的案例行一致。",
        "7. 不要重命名或删除工作表，不要插入或删除行列，不要设置打开密码，保存为 .xlsx 格式。",
        "8. 上传后系统先校验，逐个城市列出将被修改的内容和所有问题；有任何问题时不会保存任何内容。"
        "确认导入后，各城市调查表记为“省局代填”，城市可在网页中看到修改记录。",
        f"9. 下载时间：{date_format(timezone.localtime(), 'Y-m-d H:i')}。如下载后城市又在网页中修改了调查表，"
        "导入时将以本表内容为准，请在校验结果中核对。",
    ]
    for index, line in enumerate(lines, start=1):
        sheet.cell(row=index, column=1, value=line).alignment = Alignment(wrap_text=True, vertical="top")
    sheet["A1"].font = Font(bold=True, size=14, color="1B4F8F")
    sheet.column_dimensions["A"].width = 120
    protect(sheet)


def _status_label(submission: Submission | None) -> str:
    return str(Status(submission.status).label) if submission else "未开始"


def _cities_sheet(sheet, province: Province, round_: Round, rows) -> None:
    title(sheet, f"{province.name} {round_.year}年度 城市数据（原始数据，比率由系统计算）", CITY_COLUMNS)
    for col, header in enumerate(CITY_FIXED_COLUMNS, start=1):
        put(sheet, CITY_HEADER_ROW, col, header, style="header")
    for spec in PROVINCE_FIELDS:
        put(sheet, CITY_HEADER_ROW, PROVINCE_FIELD_COLS[spec.name], header_text(spec), style="header")
    sheet.row_dimensions[CITY_HEADER_ROW].height = 60
    for spec in PROVINCE_FIELDS:
        validation = validation_for(spec, maximum=number_limit(spec.name))
        sheet.add_data_validation(validation)
        column = get_column_letter(PROVINCE_FIELD_COLS[spec.name])
        validation.add(f"{column}{CITY_FIRST_ROW}:{column}{CITY_FIRST_ROW + max(len(rows), 1) - 1}")
    for offset, (city, submission) in enumerate(rows):
        row = CITY_FIRST_ROW + offset
        put(sheet, row, CITY_COL_CODE, city.code)
        put(sheet, row, CITY_COL_NAME, city.name)
        put(sheet, row, CITY_COL_STATUS, _status_label(submission))
        categories_filled = submission is not None and key_site_sums(submission.key_site_counts)[1] is not None
        for spec in PROVINCE_FIELDS:
            value = getattr(submission, spec.name) if submission else None
            if spec.name in ("key_sites_total", "key_sites_5g_covered") and categories_filled:
                value = None  # the server fills in the sum (see the city template)
            put(sheet, row, PROVINCE_FIELD_COLS[spec.name], value, style="input", kind=spec.kind)
    sheet.column_dimensions["A"].width = 12
    sheet.column_dimensions["B"].width = 12
    sheet.column_dimensions["C"].width = 10
    for spec in PROVINCE_FIELDS:
        sheet.column_dimensions[get_column_letter(PROVINCE_FIELD_COLS[spec.name])].width = 16
    sheet.freeze_panes = sheet.cell(row=CITY_FIRST_ROW, column=CITY_COL_STATUS + 1)
    protect(sheet)


def _cases_sheet(sheet, rows) -> None:
    note = sheet.cell(
        row=1,
        column=1,
        value=(
            "每行一个案例，“行政区划代码”标明所属城市（见“城市数据”表）。新增案例填写在空白行；"
            "删除案例请清空该行的案例内容。应用领域请从下拉列表中选择。"
        ),
    )
    note.font = Font(color="5B6571")
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(PROVINCE_CASE_COLUMNS))
    for col, (_name, header, width) in enumerate(PROVINCE_CASE_COLUMNS, start=1):
        put(sheet, 2, col, header, style="header")
        sheet.column_dimensions[get_column_letter(col)].width = width
    row = CASES_FIRST_ROW
    for city, submission in rows:
        for case in submission.cases.all() if submission else []:
            # The city of an existing case is locked: a case cannot move to another city.
            put(sheet, row, PROVINCE_CASE_COL["city"], city.code)
            put(sheet, row, PROVINCE_CASE_COL["city_name"], city.name)
            put(sheet, row, PROVINCE_CASE_COL["id"], case.pk)
            for name, _header, _width in PROVINCE_CASE_COLUMNS[3:]:
                value = getattr(case, name)
                if name == "domain" and value:
                    value = DOMAIN_LABEL_BY_CODE.get(value, value)
                put(sheet, row, PROVINCE_CASE_COL[name], value or None, style="input", kind=TEXT)
            row += 1
    last = min(row + BLANK_CASE_ROWS - 1, CASES_LAST_ROW)
    for blank in range(row, last + 1):
        put(sheet, blank, PROVINCE_CASE_COL["city"], None, style="input", kind=TEXT)
        put(sheet, blank, PROVINCE_CASE_COL["city_name"], None, style="input", kind=TEXT)
        put(sheet, blank, PROVINCE_CASE_COL["id"], None)
        for name, _header, _width in PROVINCE_CASE_COLUMNS[3:]:
            put(sheet, blank, PROVINCE_CASE_COL[name], None, style="input", kind=TEXT)
    validation = domain_validation(DOMAIN_LABELS)
    sheet.add_data_validation(validation)
    column = get_column_letter(PROVINCE_CASE_COL["domain"])
    validation.add(f"{column}{CASES_FIRST_ROW}:{column}{last}")
    sheet.column_dimensions[get_column_letter(PROVINCE_CASE_COL["id"])].hidden = True
    sheet.freeze_panes = sheet.cell(row=CASES_FIRST_ROW, column=PROVINCE_CASE_COL["title"])
    protect(sheet)


# ------------------------------------------------------------------------------------------------
# Reading
# ------------------------------------------------------------------------------------------------
@dataclass
class CityRow:
    """One row of 城市数据: the city's code as typed, the row, and raw values by model field."""

    code: str
    row: int
    data: dict[str, Any]


@dataclass
class ProvinceUpload:
    meta: dict[str, Any]
    rows: list[CityRow] = field(default_factory=list)
    # city code → [(case item, row)]; the item is None for a row that removes its case (fields cleared)
    cases: dict[str, list[tuple[dict[str, Any] | None, int]]] = field(default_factory=lambda: defaultdict(list))
    problems: list[Problem] = field(default_factory=list)


def read_province_workbook(fileobj: IO[bytes]) -> ProvinceUpload:
    """Read an uploaded province workbook; raises WorkbookRejected or LayoutChanged like the city
    reader, and returns every other problem with its cell."""
    with open_workbook(fileobj, max_rows=MAX_SHEET_ROWS) as workbook:
        meta = read_meta(workbook, kind="province")
        if meta.get("layout") != PROVINCE_LAYOUT:
            raise LayoutChanged([Problem("", _("This workbook is an older version. Download a new one."))])
        missing = [name for name in (SHEET_CITIES, SHEET_CASES) if name not in workbook.sheetnames]
        if missing:
            raise LayoutChanged(
                [
                    Problem(name, _("The sheet “%(sheet)s” is missing (renamed or deleted?).") % {"sheet": name})
                    for name in missing
                ]
            )
        city_rows = read_rows(workbook, SHEET_CITIES, max_row=CITY_LAST_ROW + SCAN_MARGIN, max_col=CITY_COLUMNS)
        case_rows = read_rows(
            workbook, SHEET_CASES, max_row=CASES_LAST_ROW + SCAN_MARGIN, max_col=len(PROVINCE_CASE_COLUMNS)
        )
    _check_layout(city_rows, case_rows)
    upload = ProvinceUpload(meta=meta)
    _read_cities(upload, city_rows)
    _read_cases(upload, case_rows)
    _report_formulas(upload, fileobj, city_rows, case_rows)
    return upload


def _check_layout(city_rows, case_rows) -> None:
    problems: list[Problem] = []
    wanted = {col: header for col, header in enumerate(CITY_FIXED_COLUMNS, start=1)}
    wanted.update({PROVINCE_FIELD_COLS[spec.name]: header_text(spec) for spec in PROVINCE_FIELDS})
    for col, header in wanted.items():
        if text_of(city_rows[CITY_HEADER_ROW - 1][col - 1]).strip() != header:
            problems.append(
                Problem(
                    ref(SHEET_CITIES, CITY_HEADER_ROW, col),
                    _("The layout was changed: this cell should read “%(wanted)s”.") % {"wanted": header},
                )
            )
    for col, (_name, header, _width) in enumerate(PROVINCE_CASE_COLUMNS, start=1):
        if text_of(case_rows[1][col - 1]).strip() != header:
            problems.append(
                Problem(
                    ref(SHEET_CASES, 2, col),
                    _("The layout was changed: this cell should read “%(wanted)s”.") % {"wanted": header},
                )
            )
    if problems:
        problems.insert(
            0,
            Problem(
                "",
                _(
                    "The workbook's layout was changed (columns or headers moved), so its values cannot be "
                    "matched to the forms. Download a new workbook and copy your data into it."
                ),
            ),
        )
        raise LayoutChanged(problems)


def _read_cities(upload: ProvinceUpload, city_rows) -> None:
    for row in range(CITY_FIRST_ROW, len(city_rows) + 1):
        values = city_rows[row - 1]
        data_values = [values[PROVINCE_FIELD_COLS[spec.name] - 1] for spec in PROVINCE_FIELDS]
        code = text_of(values[CITY_COL_CODE - 1]).strip()
        if not code and all(is_blank(v) for v in data_values):
            continue  # a blank row, or the note under the table
        if row > CITY_LAST_ROW:
            upload.problems.append(
                Problem(
                    ref(SHEET_CITIES, row, 1),
                    _("There are more rows than a province has cities (at most %(n)s); delete the extra rows.")
                    % {"n": MAX_PROVINCE_CITIES},
                )
            )
            return
        if not _CODE.match(code):
            upload.problems.append(
                Problem(
                    ref(SHEET_CITIES, row, CITY_COL_CODE),
                    _("Enter the city's six-digit administrative code, e.g. 370200."),
                )
            )
            continue
        data: dict[str, Any] = {}
        for spec in PROVINCE_FIELDS:
            col = PROVINCE_FIELD_COLS[spec.name]
            value = values[col - 1]
            problem = cell_problem(value)
            if problem:
                upload.problems.append(Problem(ref(SHEET_CITIES, row, col), problem))
                continue
            data[spec.name] = value
        upload.rows.append(CityRow(code=code, row=row, data=data))


def _read_cases(upload: ProvinceUpload, case_rows) -> None:
    seen: dict[int, int] = {}
    for row in range(CASES_FIRST_ROW, len(case_rows) + 1):
        values = case_rows[row - 1]
        content = [v for i, v in enumerate(values, start=1) if i != PROVINCE_CASE_COL["city_name"]]
        if all(is_blank(v) for v in content):
            continue
        if row > CASES_LAST_ROW:
            upload.problems.append(
                Problem(
                    ref(SHEET_CASES, row, 1),
                    _("There are more than %(n)s case rows; delete the extra rows.") % {"n": MAX_PROVINCE_CASE_ROWS},
                )
            )
            return
        item, problems = read_case_row(values, sheet=SHEET_CASES, row=row, columns=PROVINCE_CASE_COL, seen=seen)
        upload.problems.extend(problems)
        removal = item is None and not is_blank(values[PROVINCE_CASE_COL["id"] - 1])
        if item is None and not removal:
            continue  # only a city code or name typed: no case
        code = text_of(values[PROVINCE_CASE_COL["city"] - 1]).strip()
        if not _CODE.match(code):
            upload.problems.append(
                Problem(
                    ref(SHEET_CASES, row, PROVINCE_CASE_COL["city"]),
                    _("Enter the six-digit administrative code of the case's city, e.g. 370200."),
                )
            )
            continue
        upload.cases[code].append((item, row))


def _report_formulas(upload: ProvinceUpload, fileobj, city_rows, case_rows) -> None:
    empty: dict[str, set[str]] = {SHEET_CITIES: set(), SHEET_CASES: set()}
    for city_row in upload.rows:
        for spec in PROVINCE_FIELDS:
            col = PROVINCE_FIELD_COLS[spec.name]
            if city_rows[city_row.row - 1][col - 1] is None:
                empty[SHEET_CITIES].add(f"{get_column_letter(col)}{city_row.row}")
    last_case_row = min(len(case_rows), CASES_LAST_ROW)
    for row in range(CASES_FIRST_ROW, last_case_row + 1):
        for col in range(1, len(PROVINCE_CASE_COLUMNS) + 1):
            if case_rows[row - 1][col - 1] is None:
                empty[SHEET_CASES].add(f"{get_column_letter(col)}{row}")
    sizes = {SHEET_CITIES: (CITY_LAST_ROW, CITY_COLUMNS), SHEET_CASES: (last_case_row, len(PROVINCE_CASE_COLUMNS))}
    report_uncalculated(upload.problems, fileobj, empty, sizes)

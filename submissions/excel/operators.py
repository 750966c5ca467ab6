"""The operator workbook (issue 13): one row per city of the province with the counts the operator
holds, pre-filled with its current figures. Uploaded back, it goes through the same service as the
page and the API (`submissions.operators.operator_figures_report`): a dry run first, every problem on
its cell, nothing saved when there is any. A workbook for another province, operator or round is
refused as a whole, with a message that names the difference."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import IO, Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from gigacity.models import City, Province, Role, User
from gigacity.xlsx import WorkbookRejected, open_workbook, read_rows
from indicators.catalogue import INPUTS_BY_NAME, OPERATOR_INPUTS
from indicators.models import Operator, Round

from ..models import OperatorFigure
from ..operators import operator_figures_report
from .city import MAX_SHEET_ROWS, SCAN_MARGIN
from .imports import check_size
from .layout import COUNT, SHEET_GUIDE, ref
from .sheets import (
    LayoutChanged,
    Problem,
    cell_problem,
    finish,
    is_blank,
    new_workbook,
    protect,
    put,
    read_meta,
    text_of,
    title,
)

OPERATOR_LAYOUT = "operator-1"
SHEET_FIGURES = "运营商数据"
HEADER_ROW, FIRST_ROW = 3, 4
COL_CODE, COL_NAME = 1, 2
FIELD_COLS = {name: 3 + index for index, name in enumerate(OPERATOR_INPUTS)}
COLUMNS = 2 + len(OPERATOR_INPUTS)
MAX_ROWS = 60  # a province has at most 21 prefecture-level units (四川); room for typed extra rows
_CODE = re.compile(r"^\d{6}$")


def header(name: str) -> str:
    spec = INPUTS_BY_NAME[name]
    return f"{spec.label_zh}（{spec.unit_zh}）"


FIXED_HEADERS = {COL_CODE: "行政区划代码", COL_NAME: "城市"}


def operator_workbook(*, province: Province, operator: Operator, round_: Round) -> bytes:
    with translation.override("zh-hans"):
        current = {
            f.city_id: f
            for f in OperatorFigure.objects.filter(round=round_, operator=operator, city__province=province).current()
        }
        workbook = new_workbook()
        guide = workbook.create_sheet(SHEET_GUIDE)
        lines = [
            f"{operator.name_zh}{province.name}公司 {round_.year}年度千兆城市运营商数据填报说明",
            "",
            f"1. 本表只能导入{province.name}、{operator.name_zh}、{round_.year}年度的运营商数据。",
            "2. “运营商数据”表每行一个城市，填写本企业在该城市的数量（整数），未掌握的数量留空。",
            "3. 再次导入时，与系统中已有数据不同的城市记为新的报送，原数据保留在历史记录中。",
            "4. 上传后系统先校验并列出将要修改的内容和所有问题；有任何问题时不保存任何内容。",
            "5. 不要重命名或删除工作表，不要插入或删除列，保存为 .xlsx 格式。",
        ]
        for index, line in enumerate(lines, start=1):
            guide.cell(row=index, column=1, value=line).alignment = Alignment(wrap_text=True, vertical="top")
        guide["A1"].font = Font(bold=True, size=14, color="1B4F8F")
        guide.column_dimensions["A"].width = 110
        protect(guide)

        sheet = workbook.create_sheet(SHEET_FIGURES)
        title(sheet, f"{province.name} {operator.name_zh} {round_.year}年度 运营商数据", COLUMNS)
        for col, text in FIXED_HEADERS.items():
            put(sheet, HEADER_ROW, col, text, style="header")
        for name, col in FIELD_COLS.items():
            put(sheet, HEADER_ROW, col, header(name), style="header")
            sheet.column_dimensions[get_column_letter(col)].width = 18
        sheet.row_dimensions[HEADER_ROW].height = 48
        for offset, city in enumerate(City.objects.filter(province=province).order_by("code")):
            row = FIRST_ROW + offset
            put(sheet, row, COL_CODE, city.code)
            put(sheet, row, COL_NAME, city.name)
            figure = current.get(city.code)
            for name, col in FIELD_COLS.items():
                put(sheet, row, col, getattr(figure, name) if figure else None, style="input", kind=COUNT)
        sheet.column_dimensions["A"].width = 14
        sheet.column_dimensions["B"].width = 14
        sheet.freeze_panes = sheet.cell(row=FIRST_ROW, column=COL_NAME + 1)
        protect(sheet)
        return finish(
            workbook,
            {
                "kind": "operator",
                "layout": OPERATOR_LAYOUT,
                "province": province.code,
                "operator": operator.code,
                "year": round_.year,
                "at": timezone.now().isoformat(timespec="seconds"),
            },
        )


def operator_filename(province: Province, operator: Operator, round_: Round) -> str:
    return f"{province.name}-{operator.name_zh}-{round_.year}-运营商数据.xlsx"


@dataclass
class OperatorImportResult:
    dry_run: bool
    applied: bool = False
    rejected: bool = False
    operator: str = ""
    on_behalf: bool = False
    plans: list[dict[str, Any]] = field(default_factory=list)  # [{city, city_name, changes, cells}]
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": "operator",
            "dry_run": self.dry_run,
            "applied": self.applied,
            "rejected": self.rejected,
            "operator": self.operator,
            "on_behalf": self.on_behalf,
            "plans": self.plans,
            "problems": [p.as_dict() for p in self.problems],
        }


def _reject(result: OperatorImportResult, message: str) -> OperatorImportResult:
    result.rejected = True
    result.problems = [Problem("", message)]
    return result


def operator_import(
    *, actor: User, upload: IO[bytes], round_: Round, dry_run: bool, operator_code: str | None = None
) -> OperatorImportResult:
    """Dry-run or import an operator workbook for `round_`. An operator's branch imports its own
    workbook; a bureau imports one for its province on the operator's behalf (the operator is the
    workbook's, or `operator_code` when given, and must agree)."""
    result = OperatorImportResult(dry_run=dry_run)
    try:
        check_size(upload)
        with open_workbook(upload, max_rows=MAX_SHEET_ROWS) as workbook:
            meta = read_meta(workbook, kind="operator")
            if meta.get("layout") != OPERATOR_LAYOUT:
                raise LayoutChanged([Problem("", _("This workbook is an older version. Download a new one."))])
            if SHEET_FIGURES not in workbook.sheetnames:
                raise LayoutChanged(
                    [
                        Problem(
                            SHEET_FIGURES,
                            _("The sheet “%(sheet)s” is missing (renamed or deleted?).") % {"sheet": SHEET_FIGURES},
                        )
                    ]
                )
            rows = read_rows(workbook, SHEET_FIGURES, max_row=FIRST_ROW + MAX_ROWS + SCAN_MARGIN, max_col=COLUMNS)
    except WorkbookRejected as exc:
        return _reject(result, str(exc))
    except LayoutChanged as exc:
        result.rejected = True
        result.problems = list(exc.problems)
        return result

    # The workbook's own province, operator and round, against the caller's.
    wanted_operator = actor.operator_id if actor.role == Role.OPERATOR else (operator_code or meta.get("operator"))
    if meta.get("province") != actor.province_id:
        province = Province.objects.filter(code=meta.get("province")).first()
        return _reject(
            result,
            _("This workbook is for %(other)s; you report for %(own)s. Download your province's workbook.")
            % {"other": province.name if province else meta.get("province"), "own": actor.province},
        )
    if meta.get("operator") != wanted_operator:
        names = dict(Operator.objects.values_list("code", "name_zh"))
        return _reject(
            result,
            _("This workbook holds the figures of %(other)s, not of %(own)s.")
            % {
                "other": names.get(meta.get("operator"), meta.get("operator")),
                "own": names.get(wanted_operator, wanted_operator),
            },
        )
    if meta.get("year") != round_.year:
        return _reject(
            result,
            _("This workbook is for the %(other)s round; figures are now reported for the %(year)s round.")
            % {"other": meta.get("year"), "year": round_.year},
        )

    # The layout: the headers where we put them.
    for col, text in [*FIXED_HEADERS.items(), *((c, header(n)) for n, c in FIELD_COLS.items())]:
        if text_of(rows[HEADER_ROW - 1][col - 1]).strip() != text:
            result.rejected = True
            result.problems = [
                Problem(
                    ref(SHEET_FIGURES, HEADER_ROW, col),
                    _("The layout was changed: this cell should read “%(wanted)s”.") % {"wanted": text},
                )
            ]
            return result

    items: list[dict[str, Any]] = []
    at_row: list[int] = []
    for row in range(FIRST_ROW, len(rows) + 1):
        values = rows[row - 1]
        code = text_of(values[COL_CODE - 1]).strip()
        counts = {name: values[col - 1] for name, col in FIELD_COLS.items()}
        if not code and all(is_blank(v) for v in counts.values()):
            continue
        if row >= FIRST_ROW + MAX_ROWS:
            # Never read past silently: a row typed far below the table is a problem, not ignored.
            result.problems.append(
                Problem(
                    ref(SHEET_FIGURES, row, COL_CODE),
                    _("There are more rows than a province has cities (at most %(n)s); delete the extra rows.")
                    % {"n": MAX_ROWS},
                )
            )
            break
        if not _CODE.match(code):
            result.problems.append(
                Problem(
                    ref(SHEET_FIGURES, row, COL_CODE),
                    _("Enter the city's six-digit administrative code."),
                    "行政区划代码",
                )
            )
            continue
        item: dict[str, Any] = {"city": code}
        for name, value in counts.items():
            problem = cell_problem(value)
            if problem:
                result.problems.append(
                    Problem(ref(SHEET_FIGURES, row, FIELD_COLS[name]), problem, INPUTS_BY_NAME[name].label_zh)
                )
            else:
                item[name] = value
        items.append(item)
        at_row.append(row)
    if result.problems:
        return result

    try:
        with transaction.atomic():
            report = operator_figures_report(
                actor=actor,
                round_=round_,
                operator_code=None if actor.role == Role.OPERATOR else wanted_operator,
                rows=items,
                source="excel",
                dry_run=dry_run,
            )
    except ValidationError as exc:
        result.problems = _cell_problems(exc, at_row)
        return result
    result.operator = report.operator
    result.on_behalf = report.on_behalf
    row_of = {item["city"]: row for item, row in zip(items, at_row, strict=True)}
    result.plans = [
        {
            "city": plan.city,
            "city_name": plan.city_name,
            "changes": [
                {**change, "cell": ref(SHEET_FIGURES, row_of[plan.city], FIELD_COLS[change["input"]])}
                for change in plan.changes
            ],
        }
        for plan in report.plans
    ]
    result.applied = not dry_run
    return result


_KEY = re.compile(r"^rows\[(\d+)\]\.(\w+)$")


def _cell_problems(exc: ValidationError, at_row: list[int]) -> list[Problem]:
    problems = []
    for key, messages in exc.message_dict.items():
        match = _KEY.match(key)
        if not match:
            problems.extend(Problem("", message) for message in messages)
            continue
        row, name = at_row[int(match[1])], match[2]
        col = COL_CODE if name == "city" else FIELD_COLS[name]
        item = "行政区划代码" if name == "city" else INPUTS_BY_NAME[name].label_zh
        problems.extend(Problem(ref(SHEET_FIGURES, row, col), message, item) for message in messages)
    return sorted(problems, key=lambda p: (len(p.cell), p.cell))

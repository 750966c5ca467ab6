"""What the city template and the province workbook share: how cells look, the hidden metadata
sheet, the problems a reader reports, and turning a cell's value into what a person meant."""

from __future__ import annotations

import datetime
import io
from copy import copy
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Protection, Side
from openpyxl.workbook.protection import WorkbookProtection
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from gigacity.xlsx import is_error_value, read_rows, restore_text, safe_text

from .layout import COUNT, DATE, SHEET_META, TEXT, Field, sign, unsign

BLUE = "1B4F8F"
INPUT_FILL = PatternFill("solid", fgColor="FFF8DC")  # the cells to fill in: light yellow, as on MIIT's forms
LOCKED_FILL = PatternFill("solid", fgColor="EEF0F3")
HEADER_FILL = PatternFill("solid", fgColor=BLUE)
SECTION_FILL = PatternFill("solid", fgColor="E8F0FA")
THIN = Side(style="thin", color="C9CED6")
BORDER = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
WRAP = Alignment(wrap_text=True, vertical="top")
CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)
UNLOCKED = Protection(locked=False)
NUMBER_FORMAT = "#,##0"
DATE_FORMAT = "yyyy-mm-dd"
TEXT_FORMAT = "@"  # text cells stay text: a phone number keeps its leading 0


@dataclass(frozen=True)
class Problem:
    """Something wrong with an uploaded workbook, at a cell (指标数据!C7), a sheet, or the file."""

    cell: str
    message: str
    item: str = ""  # what the cell holds, e.g. 5G基站数, so the list reads without the workbook open

    def __str__(self) -> str:
        return f"{self.cell}: {self.message}" if self.cell else self.message

    def as_dict(self) -> dict[str, str]:
        return {"cell": self.cell, "item": self.item, "message": self.message}


class LayoutChanged(Exception):
    """The workbook is not the template it claims to be (or not ours at all): nothing more is read."""

    def __init__(self, problems: list[Problem]):
        super().__init__(problems)
        self.problems = problems


# ------------------------------------------------------------------------------------------------
# Writing
# ------------------------------------------------------------------------------------------------
def new_workbook() -> Workbook:
    workbook = Workbook()
    workbook.remove(workbook.active)
    return workbook


def finish(workbook: Workbook, payload: dict[str, Any]) -> bytes:
    """Add the signed metadata, lock the structure (no renamed, moved or deleted sheets; no password,
    so nobody is stuck) and return the file."""
    sheet = workbook.create_sheet(SHEET_META)
    sheet.append(["本工作表由千兆城市评估系统生成，用于识别模板，请勿修改。"])
    for key, value in payload.items():
        if not isinstance(value, dict):
            sheet.append([key, value])
    sheet.append(["signature", sign(payload)])
    sheet.sheet_state = "veryHidden"
    sheet.protection.sheet = True
    workbook.security = WorkbookProtection(lockStructure=True)
    workbook.active = 0
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def protect(sheet: Worksheet) -> None:
    """Lock every cell except the ones marked UNLOCKED; people may still resize rows and columns.
    Without a password: the protection prevents accidents, the signature and the label checks catch
    the rest."""
    sheet.protection.sheet = True
    sheet.protection.formatColumns = False
    sheet.protection.formatRows = False


def put(sheet: Worksheet, row: int, col: int, value: Any, *, style: str = "locked", kind: str = TEXT):
    """Write one cell: user text can never become a formula (gigacity.xlsx.set_text)."""
    cell = sheet.cell(row=row, column=col)
    if isinstance(value, str):
        cell.value = safe_text(value)
        cell.data_type = "s"
    else:
        cell.value = value
    # Assigning a style object to a cell looks it up in the workbook (hashing it whole) every time,
    # which was most of a template's time: each look is worked out once per workbook, then copied.
    key = (style, kind if style == "input" else "", style == "locked" and isinstance(value, int))
    looks = sheet.parent.__dict__.setdefault("_gigacity_looks", {})  # dies with its workbook
    if key in looks:
        cell._style = copy(looks[key])
    else:
        _style(cell, style, kind=kind, number=key[2])
        looks[key] = copy(cell._style)
    return cell


def _style(cell, style: str, *, kind: str, number: bool) -> None:
    cell.border = BORDER
    if style == "input":
        cell.fill = INPUT_FILL
        cell.protection = UNLOCKED
        cell.number_format = {COUNT: NUMBER_FORMAT, DATE: DATE_FORMAT}.get(kind, TEXT_FORMAT)
        cell.alignment = WRAP if kind not in (COUNT, DATE) else Alignment(vertical="top")
    elif style == "header":
        cell.fill = HEADER_FILL
        cell.font = Font(bold=True, color="FFFFFF")
        cell.alignment = CENTER
    elif style == "section":
        cell.fill = SECTION_FILL
        cell.font = Font(bold=True, color=BLUE)
    else:
        cell.fill = LOCKED_FILL
        cell.alignment = WRAP
        if number:
            cell.number_format = NUMBER_FORMAT


def title(sheet: Worksheet, text: str, width: int) -> None:
    sheet.cell(row=1, column=1, value=text).font = Font(bold=True, size=14, color=BLUE)
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=width)
    sheet.row_dimensions[1].height = 26


def validation_for(field: Field, *, maximum: int | None) -> DataValidation | None:
    """Excel's own check as people type: whole numbers in range, dates. Pasted values bypass it, so
    the server checks everything again."""
    if field.kind == COUNT:
        upper = maximum if maximum is not None else 100_000
        return DataValidation(
            type="whole",
            operator="between",
            formula1="0",
            formula2=str(upper),
            allow_blank=True,
            showErrorMessage=True,
            errorTitle="数值无效",
            error=f"请填写 0 至 {upper:,} 之间的整数" + (f"（单位：{field.unit}）" if field.unit else ""),
            showInputMessage=True,
            promptTitle=field.label[:32],
            prompt=(f"整数，单位：{field.unit}" if field.unit else "整数")[:255],
        )
    if field.kind == DATE:
        return DataValidation(
            type="date",
            operator="greaterThan",
            formula1="36526",  # 2000-01-01
            allow_blank=True,
            showErrorMessage=True,
            errorTitle="日期无效",
            error="请填写日期，如 2026-10-31",
        )
    return None


def domain_validation(labels: tuple[str, ...]) -> DataValidation:
    return DataValidation(
        type="list",
        formula1='"' + ",".join(labels) + '"',
        allow_blank=True,
        showErrorMessage=True,
        errorTitle="应用领域无效",
        error="请从下拉列表中选择：" + "、".join(labels),
    )


# ------------------------------------------------------------------------------------------------
# Reading
# ------------------------------------------------------------------------------------------------
def read_meta(workbook, *, kind: str) -> dict[str, Any]:
    """The signed metadata of a workbook we generated, or LayoutChanged with what went wrong."""
    if SHEET_META not in workbook.sheetnames:
        raise LayoutChanged(
            [
                Problem(
                    "",
                    _(
                        "This workbook was not downloaded from this system (its hidden template "
                        "information is missing). Download the template, copy your data into it and "
                        "upload that file."
                    ),
                )
            ]
        )
    token = None
    for key, value, *_rest in read_rows(workbook, SHEET_META, max_row=40, max_col=2):
        if key == "signature":
            token = value
    payload = unsign(token)
    if payload is None:
        raise LayoutChanged(
            [
                Problem(
                    "",
                    _(
                        "The template's hidden identification has been changed or comes from another "
                        "installation, so it cannot be trusted. Download a new template and copy your "
                        "data into it."
                    ),
                )
            ]
        )
    if payload.get("kind") != kind:
        message = {
            "province": _("This is a province workbook; upload it on the province's Excel page."),
            "operator": _("This is an operator workbook; upload it on the operators' figures page."),
        }.get(payload.get("kind"), _("This is a city template; upload it on that city's Excel page."))
        raise LayoutChanged([Problem("", message)])
    return payload


def text_of(value: Any) -> str:
    """What a person typed into a text cell, as text: numbers without a spurious ".0", dates as
    2026-10-31, and our own protective apostrophe taken off again."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e16:
        return str(int(value))
    if isinstance(value, datetime.datetime):
        return value.date().isoformat() if value.time() == datetime.time(0) else value.isoformat(sep=" ")
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    return restore_text(str(value))


def cell_problem(value: Any) -> str | None:
    """A value no field can take, whatever its type: an Excel error such as #DIV/0!."""
    if is_error_value(value):
        return _("The cell shows the Excel error %(error)s; enter the value itself.") % {"error": value}
    return None


def is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())

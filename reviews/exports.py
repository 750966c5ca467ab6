"""Excel exports: MIIT's summary table (关键指标情况汇总表), the case collection (案例集), the city
lists and the dashboards' tables, and the background jobs that produce the large ones.

Every workbook is written with openpyxl in write-only mode (constant memory, reliability.md XL-9)
and every cell goes through `gigacity.xlsx.safe_value`: text that a spreadsheet would run as a
formula is neutralised, control characters are dropped, and numbers stay numbers with a number
format, so that people can sort and sum the table they download (XL-7, XL-8).
"""

from __future__ import annotations

import datetime
import logging
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Sequence
from copy import copy
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import IO, Any
from xml.sax.saxutils import escape as xml_escape

from django.conf import settings
from django.core.files import File
from django.db import transaction
from django.db.models import Count, F, Q
from django.http import Http404
from django.utils import timezone
from django.utils.translation import get_language, override
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.compat import safe_string
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.styles.numbers import BUILTIN_FORMATS_REVERSE
from openpyxl.utils import get_column_letter
from openpyxl.writer.theme import theme_xml

from gigacity.errors import NothingToShow, RoleNotAllowed
from gigacity.i18n import pick
from gigacity.models import Province, Role, User
from gigacity.xlsx import safe_value
from indicators.catalogue import CASE_DOMAINS, INDICATORS, INDICATORS_BY_CODE, IndicatorSpec, Kind
from indicators.models import Round
from submissions.models import NOT_STARTED, FormKind, Status, status_label

from . import dashboards, lifecycle, progress, quality
from .models import ExportJob, ExportKind, ExportState

logger = logging.getLogger(__name__)

Progress = Callable[[int, int], None]

EXPORT_ROLES = (Role.BUREAU, Role.MINISTRY, Role.ADMIN)
# A worker that died while writing leaves the job "running"; after this long the sweep hands it to
# another worker (longer than the task's hard time limit, so a slow but live worker is never doubled).
EXPORT_LEASE = timedelta(minutes=10)
EXPORT_MAX_ATTEMPTS = 3
# Finished files are kept this long, then the sweep deletes them (they can be produced again).
EXPORT_KEEP = timedelta(days=7)


# ------------------------------------------------------------------------------------------------
# Writing sheets
# ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Column:
    label: str
    width: float = 12
    number_format: str | None = None  # None: text


THIN = Side(style="thin", color="9AA3AD")
BORDER = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
HEADER_FILL = PatternFill("solid", fgColor="E8F0FA")
HEADER_FONT = Font(bold=True)
TITLE_FONT = Font(bold=True, size=14)
WRAP = Alignment(wrap_text=True, vertical="top")
CENTER_WRAP = Alignment(wrap_text=True, horizontal="center", vertical="center")


def number_format(spec: IndicatorSpec) -> str:
    """MIIT's precision: whole households for counts, one decimal for shares and per-10k figures."""
    return "#,##0" if spec.kind == Kind.COUNT else "0.0"


def indicator_label(spec: IndicatorSpec) -> str:
    """The header MIIT uses, e.g. 每万人拥有5G基站数(个/万人)."""
    return f"{pick(spec.name_zh, spec.name_en)}({pick(spec.unit_zh, spec.unit_en)})"


def sheet_title(text: str) -> str:
    # Excel: at most 31 characters, none of []:*?/\
    for char in "[]:*?/\\":
        text = text.replace(char, " ")
    return text[:31]


class SheetWriter:
    """One worksheet of a write-only workbook: a title row, a header row, then data rows whose
    cells are typed and formatted by their column."""

    def __init__(self, workbook: Workbook, title: str, columns: Sequence[Column], *, heading: str = ""):
        self.sheet = workbook.create_sheet(title=sheet_title(title))
        self.columns = list(columns)
        for index, column in enumerate(self.columns, start=1):
            self.sheet.column_dimensions[get_column_letter(index)].width = column.width
        first_data_row = 3 if heading else 2
        self.sheet.freeze_panes = f"A{first_data_row}"
        if heading:
            cell = WriteOnlyCell(self.sheet, value=safe_value(heading))
            cell.data_type = "s"
            cell.font = TITLE_FONT
            self.sheet.append([cell])
        header = []
        for column in self.columns:
            cell = self._text(column.label)
            cell.font, cell.fill, cell.border, cell.alignment = HEADER_FONT, HEADER_FILL, BORDER, CENTER_WRAP
            header.append(cell)
        self.sheet.append(header)
        self.rows = 0
        # The data cells' styles, looked up in the workbook once per sheet: assigning a style object
        # to a cell looks it up (hashing it whole) every time, which was most of an export's time.
        self._empty_style = self._styled(BORDER)._style
        self._text_style = self._styled(BORDER, alignment=WRAP)._style
        self._number_styles = [
            self._styled(BORDER, number_format=column.number_format)._style if column.number_format else None
            for column in self.columns
        ]

    def _styled(self, border: Border, *, alignment: Alignment | None = None, number_format: str | None = None):
        cell = WriteOnlyCell(self.sheet)
        cell.border = border
        if alignment is not None:
            cell.alignment = alignment
        if number_format is not None:
            cell.number_format = number_format
        return cell

    def _text(self, text: str) -> WriteOnlyCell:
        cell = WriteOnlyCell(self.sheet, value=safe_value(str(text)))
        cell.data_type = "s"  # never let openpyxl infer a formula from text
        return cell

    def append(self, values: Iterable[Any]) -> None:
        cells = []
        for _column, number_style, value in zip(self.columns, self._number_styles, values, strict=True):
            if value is None or value == "":
                cell = WriteOnlyCell(self.sheet, value=None)
                cell._style = copy(self._empty_style)
            elif number_style is not None and not isinstance(value, str):
                cell = WriteOnlyCell(self.sheet, value=value)
                cell._style = copy(number_style)
            else:
                cell = self._text(value)
                cell._style = copy(self._text_style)
            cells.append(cell)
        self.sheet.append(cells)
        self.rows += 1

    def note(self, text: str) -> None:
        self.sheet.append([])
        self.sheet.append([self._text(text)])


class TableWriter:
    """One table in a workbook of its own, written straight as SpreadsheetML text: the same sheet as
    `SheetWriter` writes (title row, header row, typed and formatted data rows, notes, the same
    styles, widths and frozen header), for the export downloaded most often (MIIT's summary table,
    issue 16). openpyxl builds, checks and serialises an object per cell, which was most of that
    export's time; here a cell is a few string operations. Text, numbers and blanks only: the
    table holds no dates (`append` refuses anything else)."""

    # The styles, by their index in styles.xml's cellXfs (the 0th is the default).
    _TITLE, _HEADER, _EMPTY, _TEXT = 1, 2, 3, 4

    def __init__(self, title: str, columns: Sequence[Column], *, heading: str = ""):
        self.title = sheet_title(title)
        self.columns = list(columns)
        formats = sorted({c.number_format for c in self.columns if c.number_format}, key=str)
        self._formats = {fmt: 5 + i for i, fmt in enumerate(formats)}
        self._number_styles = [self._formats.get(c.number_format) if c.number_format else None for c in self.columns]
        self._letters = [get_column_letter(i) for i in range(1, len(self.columns) + 1)]
        self._rows: list[str] = []
        self._heading = bool(heading)
        if heading:
            self._add_row([self._text_cell("A1", heading, self._TITLE)])
        row = len(self._rows) + 1
        self._add_row(
            [
                self._text_cell(f"{letter}{row}", c.label, self._HEADER)
                for letter, c in zip(self._letters, self.columns, strict=True)
            ]
        )
        self.rows = 0

    def _add_row(self, cells: list[str]) -> None:
        self._rows.append(f'<row r="{len(self._rows) + 1}">{"".join(cells)}</row>')

    @staticmethod
    def _text_cell(ref: str, text: Any, style: int | None) -> str:
        text = safe_value(str(text))
        space = ' xml:space="preserve"' if text != text.strip() else ""
        s = f' s="{style}"' if style else ""
        return f'<c r="{ref}"{s} t="inlineStr"><is><t{space}>{xml_escape(text, _CARRIAGE_RETURN)}</t></is></c>'

    def append(self, values: Iterable[Any]) -> None:
        row = len(self._rows) + 1
        cells = []
        for letter, number_style, value in zip(self._letters, self._number_styles, values, strict=True):
            if value is None or value == "":
                cells.append(f'<c r="{letter}{row}" s="{self._EMPTY}" t="n"></c>')
            elif number_style is not None and not isinstance(value, str):
                if not isinstance(value, int | float | Decimal) or isinstance(value, bool):
                    raise TypeError(f"TableWriter writes text and numbers, not {type(value).__name__}")
                cells.append(f'<c r="{letter}{row}" s="{number_style}" t="n"><v>{safe_string(value)}</v></c>')
            else:
                cells.append(self._text_cell(f"{letter}{row}", value, self._TEXT))
        self._add_row(cells)
        self.rows += 1

    def note(self, text: str) -> None:
        self._add_row([])
        self._add_row([self._text_cell(f"A{len(self._rows) + 1}", text, None)])

    def _sheet_xml(self) -> str:
        first_data_row = 3 if self._heading else 2
        cols = "".join(
            f'<col width="{safe_string(c.width)}" customWidth="1" min="{i}" max="{i}"/>'
            for i, c in enumerate(self.columns, start=1)
        )
        return (
            f'<worksheet xmlns="{SHEET_MAIN_NS}"><sheetPr><outlinePr summaryBelow="1" summaryRight="1"/>'
            '<pageSetUpPr/></sheetPr><sheetViews><sheetView workbookViewId="0">'
            f'<pane ySplit="{first_data_row - 1}" topLeftCell="A{first_data_row}" activePane="bottomLeft" '
            'state="frozen"/><selection pane="bottomLeft" activeCell="A1" sqref="A1"/></sheetView></sheetViews>'
            f'<sheetFormatPr baseColWidth="8" defaultRowHeight="15"/><cols>{cols}</cols>'
            f"<sheetData>{''.join(self._rows)}</sheetData>"
            '<pageMargins left="0.75" right="0.75" top="1" bottom="1" header="0.5" footer="0.5"/></worksheet>'
        )

    def _styles_xml(self) -> str:
        custom = [fmt for fmt in self._formats if fmt not in BUILTIN_FORMATS_REVERSE]
        ids = {fmt: BUILTIN_FORMATS_REVERSE.get(fmt) for fmt in self._formats}
        for i, fmt in enumerate(custom):
            ids[fmt] = 164 + i
        num_fmts = "".join(f'<numFmt numFmtId="{ids[fmt]}" formatCode="{xml_escape(fmt)}"/>' for fmt in custom)
        thin = '<{side} style="thin"><color rgb="00{color}"/></{side}>'
        border = "".join(
            thin.format(side=side, color=THIN.color.rgb[2:]) for side in ("left", "right", "top", "bottom")
        )
        xf = '<xf numFmtId="{fmt}" fontId="{font}" fillId="{fill}" borderId="{border}"{extra} xfId="0"{body}'
        wrap_top = '<alignment vertical="top" wrapText="1"/></xf>'
        center = '<alignment horizontal="center" vertical="center" wrapText="1"/></xf>'
        xfs = [
            xf.format(fmt=0, font=0, fill=0, border=0, extra="", body="/>"),
            xf.format(fmt=0, font=1, fill=0, border=0, extra="", body="/>"),
            xf.format(fmt=0, font=2, fill=2, border=1, extra=' applyAlignment="1"', body=">" + center),
            xf.format(fmt=0, font=0, fill=0, border=1, extra="", body="/>"),
            xf.format(fmt=0, font=0, fill=0, border=1, extra=' applyAlignment="1"', body=">" + wrap_top),
            *(xf.format(fmt=ids[fmt], font=0, fill=0, border=1, extra="", body="/>") for fmt in self._formats),
        ]
        fonts = (
            '<font><name val="Calibri"/><family val="2"/><color theme="1"/><sz val="11"/><scheme val="minor"/></font>'
            f'<font><b val="1"/><sz val="{int(TITLE_FONT.sz)}"/></font><font><b val="1"/></font>'
        )
        fills = (
            '<fill><patternFill/></fill><fill><patternFill patternType="gray125"/></fill><fill>'
            f'<patternFill patternType="solid"><fgColor rgb="00{HEADER_FILL.fgColor.rgb[2:]}"/></patternFill></fill>'
        )
        borders = f"<border><left/><right/><top/><bottom/><diagonal/></border><border>{border}</border>"
        return (
            f'<styleSheet xmlns="{SHEET_MAIN_NS}">'
            + (f'<numFmts count="{len(custom)}">{num_fmts}</numFmts>' if custom else "")
            + f'<fonts count="3">{fonts}</fonts><fills count="3">{fills}</fills><borders count="2">{borders}</borders>'
            '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
            f'<cellXfs count="{len(xfs)}">{"".join(xfs)}</cellXfs>'
            '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0" hidden="0"/></cellStyles>'
            "</styleSheet>"
        )

    def save(self, out: IO[bytes]) -> None:
        workbook = (
            f'<workbook xmlns="{SHEET_MAIN_NS}"><workbookPr/><bookViews><workbookView activeTab="0"/></bookViews>'
            f'<sheets><sheet xmlns:r="{REL_NS}" name="{xml_escape(self.title)}" sheetId="1" state="visible" '
            'r:id="rId1"/></sheets><calcPr calcId="124519" fullCalcOnLoad="1"/></workbook>'
        )
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("[Content_Types].xml", _TABLE_CONTENT_TYPES)
            archive.writestr("_rels/.rels", _TABLE_ROOT_RELS)
            archive.writestr("xl/workbook.xml", workbook)
            archive.writestr("xl/_rels/workbook.xml.rels", _TABLE_WORKBOOK_RELS)
            archive.writestr("xl/styles.xml", self._styles_xml())
            archive.writestr("xl/theme/theme1.xml", theme_xml)
            archive.writestr("xl/worksheets/sheet1.xml", self._sheet_xml())


# A carriage return kept as such: an XML reader turns a bare one into a line feed.
_CARRIAGE_RETURN = {"\r": "&#13;"}
SHEET_MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_TYPE = "application/vnd.openxmlformats-officedocument"
_TABLE_CONTENT_TYPES = (
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    f'<Override PartName="/xl/workbook.xml" ContentType="{_TYPE}.spreadsheetml.sheet.main+xml"/>'
    f'<Override PartName="/xl/styles.xml" ContentType="{_TYPE}.spreadsheetml.styles+xml"/>'
    f'<Override PartName="/xl/theme/theme1.xml" ContentType="{_TYPE}.theme+xml"/>'
    f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{_TYPE}.spreadsheetml.worksheet+xml"/>'
    "</Types>"
)
_TABLE_ROOT_RELS = (
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    f'<Relationship Type="{REL_NS}/officeDocument" Target="xl/workbook.xml" Id="rId1"/></Relationships>'
)
_TABLE_WORKBOOK_RELS = (
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    f'<Relationship Type="{REL_NS}/worksheet" Target="/xl/worksheets/sheet1.xml" Id="rId1"/>'
    f'<Relationship Type="{REL_NS}/styles" Target="styles.xml" Id="rId2"/>'
    f'<Relationship Type="{REL_NS}/theme" Target="theme/theme1.xml" Id="rId3"/></Relationships>'
)


def new_workbook() -> Workbook:
    return Workbook(write_only=True)


def _generated_note() -> str:
    return _("Exported from %(system)s on %(time)s.") % {
        "system": settings.GIGACITY_SYSTEM_NAME,
        "time": timezone.localtime().strftime("%Y-%m-%d %H:%M"),
    }


def _report(progress: Progress | None, done: int, total: int) -> None:
    if progress is not None and (done == total or done % 200 == 0):
        progress(done, total)


# ------------------------------------------------------------------------------------------------
# MIIT's summary table (关键指标情况汇总表)
# ------------------------------------------------------------------------------------------------
# MIIT's own column order and short headings: base stations, 5G users, 10G-PON and 500M+ users first,
# then the other indicators.
SUMMARY_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("bs5g_per_10k", "每万人拥有5G基站数（个/万人）", "5G base stations per 10,000 people"),
    ("users_5g_share", "5G用户占比（%）", "5G user share (%)"),
    ("pon_10g_share", "10G-PON端口占比（%）", "10G-PON port share (%)"),
    ("users_500m_share", "500M及以上用户占比（%）", "Users at 500M or more (%)"),
    ("fiber_gigabit_coverage", "城市家庭千兆光纤网络覆盖率（%）", "Household gigabit fibre coverage (%)"),
    ("key_sites_5g_reach", "重点场所5G网络通达率（%）", "5G reach of key sites (%)"),
    ("users_1000m", "1000M用户数（户）", "Users at 1000M (households)"),
)


def summary_filename(round_: Round, *, cumulative: bool = True) -> str:
    return _("Gigabit Cities up to %(year)s - key indicators.xlsx") % {"year": round_.year}


def batch_label(year: int) -> str:
    """备注 of MIIT's table: the batch, e.g. "2021年度"."""
    return _("%(year)s round") % {"year": year}


def summary_workbook(
    *, user: User, round_: Round, cumulative: bool = True, out: IO[bytes], progress: Progress | None = None
) -> int:
    """MIIT's summary table of a round (`lifecycle.summary_table`): 序号, 省份, 千兆城市, the seven
    indicators in MIIT's units and 备注 (the batch, e.g. "2021年度") for every Gigabit City named up to
    the round, in the standard province order, with the means over all of them and per batch beneath.
    MIIT's table is cumulative; `cumulative` is kept for callers that pass it. Returns the number of
    cities."""
    table = lifecycle.summary_table(user=user, round_=round_)
    rows = table["rows"]
    heading = _("Gigabit Cities up to %(year)s: summary table of key indicators") % {"year": round_.year}
    sheet = TableWriter(
        _("Key indicators"),
        [
            Column(_("No."), 6, "0"),
            Column(_("Province"), 12),
            Column(_("Gigabit City"), 14),
            *(Column(pick(zh, en), 16, number_format(INDICATORS_BY_CODE[code])) for code, zh, en in SUMMARY_COLUMNS),
            Column(_("Remarks"), 12),
        ],
        heading=heading,
    )
    round_of = _("%(year)s round")  # `batch_label`, translated once for the rows
    for row in rows:
        sheet.append(
            [
                row["number"],
                row["province_name"],
                row["city_name"],
                *(row["values"][code] for code, _zh, _en in SUMMARY_COLUMNS),
                round_of % {"year": row["batch"]},
            ]
        )
        _report(progress, row["number"], len(rows))
    sheet.append(
        [
            None,
            _("Mean of all Gigabit Cities"),
            _("%(n)s cities") % {"n": table["cities"]},
            *(table["means"][code] for code, _zh, _en in SUMMARY_COLUMNS),
            None,
        ]
    )
    for batch in table["batches"]:
        sheet.append(
            [
                None,
                _("Mean of the %(year)s batch") % {"year": batch["year"]},
                _("%(n)s cities") % {"n": batch["cities"]},
                *(batch["means"][code] for code, _zh, _en in SUMMARY_COLUMNS),
                batch_label(batch["year"]),
            ]
        )
    sheet.note(
        _(
            "Each city's figures of this round: its form as reported (submitted or further), or, where it has "
            "none, the figures MIIT published for the round; blank where there is neither. Means are simple "
            "means over the cities with a figure, at the published precision."
        )
    )
    sheet.note(_generated_note())
    sheet.save(out)
    return len(rows)


# ------------------------------------------------------------------------------------------------
# The case collection (案例集)
# ------------------------------------------------------------------------------------------------
def cases_filename(round_: Round) -> str:
    return _("Excellent cases of %(year)s.xlsx") % {"year": round_.year}


def cases_workbook(
    *,
    user: User,
    round_: Round,
    out: IO[bytes],
    province: Province | None = None,
    progress: Progress | None = None,
) -> int:
    """The excellent cases the bureaus recommended, one sheet per domain (信息消费, 垂直行业, …) after
    a contents sheet. Returns the number of cases."""
    cases = dashboards.case_collection(user=user, round_=round_, province=province)
    per_domain = dict(cases.order_by().values_list("domain").annotate(n=Count("pk")))
    total = sum(per_domain.values())
    domains = [(code, pick(zh, en)) for code, zh, en in CASE_DOMAINS]
    workbook = new_workbook()
    contents = SheetWriter(
        workbook,
        _("Contents"),
        [Column(_("Domain"), 24), Column(_("Cases"), 10, "0")],
        heading=_("Excellent “dual gigabit” application cases of %(year)s") % {"year": round_.year},
    )
    for code, label in domains:
        contents.append([label, per_domain.get(code, 0)])
    contents.append([_("Total"), total])
    contents.note(
        _(
            "Cases the provincial bureaus recommended as excellent, from forms they recommended and the "
            "ministry has not rejected."
        )
    )
    contents.note(_generated_note())

    columns = [
        Column(_("No."), 6, "0"),
        Column(_("Province"), 12),
        Column(_("City"), 12),
        Column(_("Case"), 28),
        Column(_("Description"), 50),
        Column(_("Difficulties, pain points or bottlenecks solved"), 40),
        Column(_("Why it can be replicated"), 40),
        Column(_("Partners"), 24),
        Column(_("Form"), 10),
        Column(_("Status"), 12),
    ]
    sheets = {code: SheetWriter(workbook, label, columns, heading=label) for code, label in domains}
    kinds = dict(FormKind.choices)
    done = 0
    for row in cases.iterator(chunk_size=2000):
        sheet = sheets.get(row["domain"]) or sheets["other"]
        sheet.append(
            [
                sheet.rows + 1,
                pick(row["submission__city__province__name"], row["submission__city__province__name_en"]),
                row["submission__city__name"],
                row["title"],
                row["description"],
                row["pain_points"],
                row["replicability"],
                row["partners"],
                kinds[row["submission__kind"]],
                status_label(row["submission__status"], row["submission__kind"]),
            ]
        )
        done += 1
        _report(progress, done, total)
    workbook.save(out)
    return done


# ------------------------------------------------------------------------------------------------
# City lists
# ------------------------------------------------------------------------------------------------
def cities_filename(round_: Round, province: Province | None) -> str:
    if province is not None:
        return _("%(province)s cities in %(year)s.xlsx") % {"province": province.display_name, "year": round_.year}
    return _("Cities in %(year)s.xlsx") % {"year": round_.year}


def _city_columns() -> list[Column]:
    return [
        Column(_("No."), 6, "0"),
        Column(_("Province"), 12),
        Column(_("City"), 14),
        Column(_("Code"), 9),
        Column(_("Form"), 10),
        Column(_("Status"), 12),
        Column(_("Deadline"), 12),
        Column(_("Days left"), 9, "0"),
        *(Column(indicator_label(spec), 16, number_format(spec)) for spec in INDICATORS),
        Column(_("Thresholds missed"), 10, "0"),
        Column(_("Gigabit City since"), 10, "0"),
    ]


def _city_values(number: int, row: dict[str, Any]) -> list[Any]:
    return [
        number,
        row["province_name"],
        row["name"],
        row["code"],
        row["kind_label"],
        row["status_label"],
        row["deadline"].isoformat() if row["deadline"] else None,
        row["days_to_deadline"],
        *(row["values"][spec.code] for spec in INDICATORS),
        row["missed"],
        row["batch"],
    ]


def cities_workbook(
    *,
    user: User,
    round_: Round,
    out: IO[bytes],
    province: Province | None = None,
    progress: Progress | None = None,
) -> int:
    """Every unit in the requester's scope with its status, deadline and indicators for the round."""
    rows = dashboards.city_list(user=user, round_=round_, province=province)
    workbook = new_workbook()
    heading = cities_filename(round_, province).removesuffix(".xlsx")
    sheet = SheetWriter(workbook, _("Cities"), _city_columns(), heading=heading)
    for number, row in enumerate(rows, start=1):
        sheet.append(_city_values(number, row))
        _report(progress, number, len(rows))
    sheet.note(_generated_note())
    workbook.save(out)
    return len(rows)


# ------------------------------------------------------------------------------------------------
# The dashboards' tables
# ------------------------------------------------------------------------------------------------
def dashboard_filename(data: dict[str, Any]) -> str:
    year = data["round"]["year"]
    if data["scope"]["level"] == "province":
        return _("%(province)s dashboard %(year)s.xlsx") % {"province": data["scope"]["name"], "year": year}
    return _("National dashboard %(year)s.xlsx") % {"year": year}


def _indicator_sheet(workbook: Workbook, data: dict[str, Any]) -> None:
    batches = sorted({b["year"] for row in data["indicators"] for b in row["by_batch"]})
    province = data["scope"]["level"] == "province"
    columns = [
        Column(_("Indicator"), 30),
        Column(_("Unit"), 10),
        Column(_("Threshold"), 11, "0.0"),
        Column(_("National reference value"), 12, "0.0"),
        Column(_("Year of the reference value"), 10, "0"),
        Column(_("Mean of all reporting cities"), 12, "0.0"),
        Column(_("Cities reporting"), 10, "0"),
        Column(_("Cities meeting the threshold"), 10, "0"),
        Column(_("Mean of Gigabit Cities"), 12, "0.0"),
        *(Column(_("Batch of %(year)s") % {"year": year}, 12, "0.0") for year in batches),
    ]
    if province:
        columns += [
            Column(_("National mean of reporting cities"), 12, "0.0"),
            Column(_("National mean of Gigabit Cities"), 12, "0.0"),
        ]
    sheet = SheetWriter(workbook, _("Indicator averages"), columns)
    for row in data["indicators"]:
        means = {b["year"]: b["mean"] for b in row["by_batch"]}
        values = [
            row["name"],
            row["unit"],
            row["threshold"],
            row["reference"],
            row["reference_year"],
            row["reported_mean"],
            row["reported_n"],
            row["passing"],
            row["named_mean"],
            *(means.get(year) for year in batches),
        ]
        if province:
            values += [row["national_reported_mean"], row["national_named_mean"]]
        sheet.append(values)


def _leaders_sheet(workbook: Workbook, data: dict[str, Any]) -> None:
    sheet = SheetWriter(
        workbook,
        _("Single-indicator leaders"),
        [
            Column(_("Indicator"), 30),
            Column(_("Rank"), 6, "0"),
            Column(_("Province"), 10),
            Column(_("City"), 14),
            Column(_("Value"), 12, "#,##0.0"),
            Column(_("Unit"), 10),
            Column(_("Gigabit City since"), 10, "0"),
        ],
    )
    for block in data["leaders"]:
        for row in block["rows"]:
            sheet.append(
                [
                    block["name"],
                    row["rank"],
                    row["province_name"],
                    row["city_name"],
                    row["value"],
                    block["unit"],
                    row["batch"],
                ]
            )


def _distribution_sheet(workbook: Workbook, data: dict[str, Any]) -> None:
    sheet = SheetWriter(
        workbook,
        _("Distribution"),
        [
            Column(_("Indicator"), 30),
            Column(_("From"), 12, "#,##0.0"),
            Column(_("To"), 12, "#,##0.0"),
            Column(_("Cities"), 10, "0"),
        ],
    )
    for block in data["distribution"]:
        for bin_ in block["bins"]:
            sheet.append([block["name"], bin_["from"], bin_["to"], bin_["count"]])


def _status_columns() -> list[Column]:
    labels = {NOT_STARTED: _("Not started"), **{s.value: s.label for s in Status}}
    return [Column(str(labels[key]), 9, "0") for key in dashboards.STATUS_KEYS]


def dashboard_workbook(*, data: dict[str, Any], out: IO[bytes]) -> None:
    """The tables of a dashboard as shown on screen, one sheet each, from the same selector output."""
    workbook = new_workbook()
    if data["scope"]["level"] == "province":
        sheet = SheetWriter(workbook, _("Cities"), _city_columns())
        for number, row in enumerate(data["cities"], start=1):
            sheet.append(_city_values(number, row))
    else:
        sheet = SheetWriter(
            workbook,
            _("Provinces"),
            [
                Column(_("Province"), 14),
                Column(_("Region"), 8),
                Column(_("Units"), 8, "0"),
                *_status_columns(),
                Column(_("Reported (%)"), 10, "0.0"),
                Column(_("Gigabit Cities"), 10, "0"),
                Column(_("Named this round"), 10, "0"),
                Column(_("Annual reports received"), 10, "0"),
                Column(_("Confirmed"), 10, "0"),
                Column(_("Not confirmed"), 10, "0"),
            ],
        )
        for row in data["provinces"]:
            sheet.append(
                [
                    row["name"],
                    row["region_label"],
                    row["units"],
                    *(row["statuses"][key] for key in dashboards.STATUS_KEYS),
                    row["progress"],
                    row["named"],
                    row["named_in_round"],
                    row["gigabit"]["reports_received"],
                    row["gigabit"]["confirmed"],
                    row["gigabit"]["not_confirmed"],
                ]
            )
    batches = SheetWriter(
        workbook,
        _("Gigabit Cities by batch"),
        [
            Column(_("Batch"), 10, "0"),
            Column(_("Named"), 10, "0"),
            Column(_("Cumulative"), 10, "0"),
            *(Column(str(label), 10, "0") for label in (_("Eastern"), _("Central"), _("Western"))),
        ],
    )
    for row in data["batches"]:
        batches.append(
            [
                row["year"],
                row["named"],
                row["cumulative"],
                *(row["by_region"][key] for key in ("east", "central", "west")),
            ]
        )
    _indicator_sheet(workbook, data)
    _leaders_sheet(workbook, data)
    _distribution_sheet(workbook, data)
    workbook.save(out)


# ------------------------------------------------------------------------------------------------
# The watch list
# ------------------------------------------------------------------------------------------------
def watch_filename(round_: Round) -> str:
    return _("Watch list %(year)s.xlsx") % {"year": round_.year}


def watch_workbook(*, rows: list[dict[str, Any]], round_: Round, out: IO[bytes]) -> int:
    """The watch list as on screen (`lifecycle.watch_list`): one row per Gigabit City and reason, and
    one per indicator below its threshold, with the value, the threshold and by how much."""
    labels = lifecycle.watch_reason_labels()
    workbook = new_workbook()
    sheet = SheetWriter(
        workbook,
        _("Watch list"),
        [
            Column(_("No."), 6, "0"),
            Column(_("Province"), 12),
            Column(_("City"), 14),
            Column(_("Batch"), 10),
            Column(_("Why"), 22),
            Column(_("Indicator"), 28),
            Column(_("Value"), 12, "#,##0.0"),
            Column(_("Threshold"), 12, "#,##0.0"),
            Column(_("Difference"), 12, "#,##0.0"),
            Column(_("Difference (%)"), 10, "0.0"),
            Column(_("Improve by"), 12),
            Column(_("Rounds in a row"), 10, "0"),
        ],
        heading=_("Watch list of the %(year)s round") % {"year": round_.year},
    )
    for number, row in enumerate(rows, start=1):
        common = [number, row["province_name"], row["city_name"], batch_label(row["batch"])]
        why = "、".join(labels[reason] for reason in row["reasons"])
        due = row["improvement_due"].isoformat() if row["improvement_due"] else None
        for below in row["below"] or [None]:
            sheet.append(
                [
                    *common,
                    why,
                    below["name"] if below else None,
                    below["value"] if below else None,
                    below["threshold"] if below else None,
                    below["margin"] if below else None,
                    below["relative"] if below else None,
                    due,
                    row["rounds"],
                ]
            )
    sheet.note(_generated_note())
    workbook.save(out)
    return len(rows)


# ------------------------------------------------------------------------------------------------
# Progress over time (burn-up) and data quality by province (issue 15)
# ------------------------------------------------------------------------------------------------
def progress_filename(data: dict[str, Any], province: Province | None = None) -> str:
    if province is not None:
        return _("%(province)s progress %(year)s.xlsx") % {"province": province.display_name, "year": data["round"]}
    return _("National progress %(year)s.xlsx") % {"year": data["round"]}


def progress_workbook(*, data: dict[str, Any], out: IO[bytes]) -> int:
    """The burn-up as on the dashboards (`reviews.progress.progress_series`): one row per day and per
    scope (the whole scope, each region, each province), the four cumulative counts."""
    labels = data["stage_labels"]
    workbook = new_workbook()
    sheet = SheetWriter(
        workbook,
        _("Progress"),
        [
            Column(_("Date"), 12),
            Column(_("Scope"), 10),
            Column(_("Name"), 16),
            Column(_("Units"), 8, "0"),
            *(Column(labels[stage], 10, "0") for stage in progress.STAGES),
        ],
        heading=_("Progress of the %(year)s round, day by day") % {"year": data["round"]},
    )
    blocks: list[tuple[str, str, dict[str, Any]]] = []
    if data["scope"] == "national":
        blocks.append((_("Nation"), _("Nationwide"), data["total"]))
        blocks += [(_("Region"), str(region["label"]), region) for region in data["regions"]]
    blocks += [(_("Province"), row["name"], row) for row in data["provinces"]]
    for index, day in enumerate(data["days"]):
        for scope, name, block in blocks:
            sheet.append([day.isoformat(), scope, name, block["units"], *(block[s][index] for s in progress.STAGES)])
    sheet.note(data["definition"])
    if data["deadline"]:
        sheet.note(_("Deadline: %(date)s.") % {"date": data["deadline"].isoformat()})
    sheet.note(_generated_note())
    workbook.save(out)
    return sheet.rows


def quality_filename(data: dict[str, Any]) -> str:
    if data["scope"] == "province":
        return _("%(province)s data quality %(year)s.xlsx") % {
            "province": data["province"]["name"],
            "year": data["round"],
        }
    return _("Data quality by province %(year)s.xlsx") % {"year": data["round"]}


def _quality_columns(labels: dict[str, str]) -> list[Column]:
    return [
        Column(labels["forms"], 10, "0"),
        *(Column(labels[name], 12, "0.0" if name.endswith(("share", "days")) else "0.00") for name in quality.FIGURES),
    ]


def quality_workbook(*, data: dict[str, Any], out: IO[bytes]) -> int:
    """The data-quality table as on its page (`reviews.quality.data_quality`): the round's rows with
    the national median, then every row again for the earlier rounds (the trend)."""
    labels = data["labels"]
    workbook = new_workbook()
    figures = _quality_columns(labels)
    sheet = SheetWriter(
        workbook,
        _("Data quality"),
        [Column(_("Rank"), 6, "0"), Column(_("Province"), 14), Column(_("Region"), 8), *figures],
        heading=_("Data quality by province, %(year)s round") % {"year": data["round"]},
    )

    def values(row: dict[str, Any]) -> list[Any]:
        return [row["forms"], *(row[name] for name in quality.FIGURES)]

    for row in data["provinces"]:
        sheet.append([row["rank"], row["name"], row["region_label"], *values(row)])
    sheet.append([None, _("National median"), None, *values(data["national_median"])])
    sheet.note(data["ranking"])
    sheet.note(_("The national median is the median over the provinces with a reported form."))
    sheet.note(_generated_note())
    trend = SheetWriter(
        workbook,
        _("Earlier rounds"),
        [Column(_("Round"), 8, "0"), Column(_("Province"), 14), *figures],
        heading=_("The same figures in the earlier rounds"),
    )
    for row in [*data["provinces"], {"name": _("National median"), **data["national_median"]}]:
        for earlier in row["trend"]:
            trend.append([earlier["year"], row["name"], *values(earlier)])
    workbook.save(out)
    return sheet.rows


# ------------------------------------------------------------------------------------------------
# Background jobs
# ------------------------------------------------------------------------------------------------
def ensure_can_export(user: User) -> None:
    if user.role not in EXPORT_ROLES and not user.is_superuser:
        raise RoleNotAllowed(_("Exports are for provincial bureaus and ministry staff."))


def export_request(
    *,
    user: User,
    kind: str,
    round_: Round,
    province: Province | None = None,
    cumulative: bool = False,
    language: str | None = None,
    excellent_only: bool = True,
) -> ExportJob:
    """Ask for a workbook or document to be prepared in the background; a worker is woken after
    commit. A document with nothing to show is refused at once (NothingToShow), not written empty."""
    ensure_can_export(user)
    if province is not None and not Province.objects.visible_to(user).filter(pk=province.pk).exists():
        raise Http404
    if kind == ExportKind.CIRCULAR:
        from .circular import ensure_can_write, ensure_something_to_show

        ensure_can_write(user)
        ensure_something_to_show(round_)
    elif kind == ExportKind.CASEBOOK:
        from .casebook import ensure_cases

        ensure_cases(user=user, round_=round_, province=province, excellent_only=excellent_only)
    with transaction.atomic():
        job = ExportJob.objects.create(
            requested_by=user,
            kind=ExportKind(kind),
            round=round_,
            province=province,
            cumulative=cumulative and kind == ExportKind.SUMMARY,
            excellent_only=excellent_only or kind != ExportKind.CASEBOOK,
            language=language or get_language() or settings.LANGUAGE_CODE,
        )
        job_id = str(job.pk)
        transaction.on_commit(lambda: publish_export(job_id), robust=True)
    return job


def publish_export(job_id: str) -> bool:
    """Wake a worker. Never raises: with the broker down the job stays pending for the sweep."""
    from .tasks import run_export

    try:
        run_export.apply_async((job_id,), retry=False)
    except Exception:  # a broker error must not fail the request that committed
        logger.warning("could not publish export %s; the sweep will retry", job_id, exc_info=True)
        return False
    return True


def _claim(job_id: str) -> bool:
    """pending → running, committed before the work, counting the attempt (safe to run twice)."""
    with transaction.atomic():
        claimed = ExportJob.objects.filter(pk=job_id, state=ExportState.PENDING).update(
            state=ExportState.RUNNING,
            attempts=F("attempts") + 1,
            started_at=timezone.now(),
            progress=0,
        )
    return bool(claimed)


def export_run(*, job_id: str) -> str:
    """Write the job's workbook; safe to call any number of times. Returns the resulting state."""
    if not _claim(job_id):
        return "skipped"
    job = ExportJob.objects.select_related("requested_by", "round", "province").get(pk=job_id)
    user = job.requested_by
    last = {"progress": -1}

    def progress(done: int, total: int) -> None:
        percent = int(done * 100 / total) if total else 100
        if percent != last["progress"]:
            last["progress"] = percent
            ExportJob.objects.filter(pk=job.pk).update(progress=min(percent, 99), rows=done)

    try:
        with override(job.language or settings.LANGUAGE_CODE), tempfile.TemporaryFile() as out:
            if job.kind == ExportKind.SUMMARY:
                rows = summary_workbook(
                    user=user, round_=job.round, cumulative=job.cumulative, out=out, progress=progress
                )
                name = summary_filename(job.round, cumulative=job.cumulative)
            elif job.kind == ExportKind.CASES:
                rows = cases_workbook(user=user, round_=job.round, province=job.province, out=out, progress=progress)
                name = cases_filename(job.round)
            elif job.kind == ExportKind.CITIES:
                rows = cities_workbook(user=user, round_=job.round, province=job.province, out=out, progress=progress)
                name = cities_filename(job.round, job.province)
            else:
                rows, name = _document(job, out, progress)
            out.seek(0)
            job.file.save(f"{job.pk}{job.suffix}", File(out), save=False)
    except NothingToShow as exc:
        # The round or the cases changed between the request and the work: said in words.
        ExportJob.objects.filter(pk=job.pk).update(
            state=ExportState.FAILED, error=f"{NOTHING_TO_SHOW}{exc.message}"[:500], finished_at=timezone.now()
        )
        return ExportState.FAILED
    except Exception as exc:
        logger.exception("export %s failed", job.pk)
        ExportJob.objects.filter(pk=job.pk).update(
            state=ExportState.FAILED, error=f"{type(exc).__name__}: {exc}"[:500], finished_at=timezone.now()
        )
        return ExportState.FAILED
    ExportJob.objects.filter(pk=job.pk).update(
        state=ExportState.DONE,
        file=job.file.name,
        filename=name,
        rows=rows,
        progress=100,
        finished_at=timezone.now(),
    )
    return ExportState.DONE


# An export that failed because there was nothing to show keeps the words for its requester after this.
NOTHING_TO_SHOW = "nothing to show: "


def _document(job: ExportJob, out: IO[bytes], progress: Progress) -> tuple[int, str]:
    """The Word documents (reviews.circular, reviews.casebook): (number of rows, file name)."""
    from .casebook import casebook_document, casebook_filename
    from .circular import circular_document, circular_filename

    if job.kind == ExportKind.CIRCULAR:
        rows = circular_document(user=job.requested_by, round_=job.round, out=out, progress=progress)
        return rows, circular_filename(job.round)
    rows = casebook_document(
        user=job.requested_by,
        round_=job.round,
        province=job.province,
        excellent_only=job.excellent_only,
        out=out,
        progress=progress,
    )
    return rows, casebook_filename(job.round, job.province)


def sweep_exports(*, now: datetime.datetime | None = None) -> int:
    """Publish jobs that waited too long (the broker was down, or a worker died mid-way), fail the
    ones that kept dying, and delete files past their keeping time. Returns how many were published."""
    now = now or timezone.now()
    stale = Q(state=ExportState.PENDING, created_at__lt=now - timedelta(minutes=1)) | Q(
        state=ExportState.RUNNING, started_at__lt=now - EXPORT_LEASE
    )
    with transaction.atomic():
        jobs = list(ExportJob.objects.select_for_update(skip_locked=True).filter(stale))
        retry = [job.pk for job in jobs if job.attempts < EXPORT_MAX_ATTEMPTS]
        ExportJob.objects.filter(pk__in=[job.pk for job in jobs if job.attempts >= EXPORT_MAX_ATTEMPTS]).update(
            state=ExportState.FAILED, error="gave up after repeated interruptions", finished_at=now
        )
        ExportJob.objects.filter(pk__in=retry).update(state=ExportState.PENDING)
    for job_id in retry:
        if not publish_export(str(job_id)):
            break
    for job in ExportJob.objects.filter(created_at__lt=now - EXPORT_KEEP).exclude(file=""):
        job.file.delete(save=False)
        job.delete()
    return len(retry)

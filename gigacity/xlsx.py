"""Reading untrusted workbooks safely and writing workbooks whose cells never turn into formulas.

Every upload goes through `open_workbook`: a pre-flight over the zip container (reliability.md §4.1,
XL-2) before openpyxl sees it, then openpyxl in read-only, values-only mode with defusedxml active.
Every export cell goes through `safe_value` (XL-7, XL-8).
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, Any
from urllib.parse import quote

import openpyxl
from django.http import HttpResponse
from django.utils.translation import gettext as _
from openpyxl.cell.cell import ERROR_CODES, ILLEGAL_CHARACTERS_RE
from openpyxl.utils import get_column_letter

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
MAX_MEMBERS = 300  # real .xlsx files have a few dozen parts
MAX_MEMBER_BYTES = 48 * 2**20
MAX_TOTAL_BYTES = 160 * 2**20
MAX_RATIO = 200  # uncompressed ÷ compressed beyond this is a bomb, not a spreadsheet
_ROW_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?row[\s/>]")
_FORMULA_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?f[\s/>]")
FORBIDDEN_PARTS = ("xl/vbaproject", "xl/externallinks/", "xl/activex", "xl/embeddings/")


class WorkbookRejected(ValueError):
    """The file is not a workbook we will read; the message says why in the user's language."""


def preflight(fileobj: IO[bytes], *, max_rows: int | None = None) -> None:
    """Reject everything that is not a plain .xlsx before any XML is parsed; with `max_rows`, also a
    sheet holding more rows than that (counted in the XML while it streams past, so a sheet of
    100 000 rows is refused in a fraction of a second: openpyxl would parse all of it just to find the
    sheet's size when the file has no <dimension>, as files written by programs often have not)."""
    fileobj.seek(0)
    head = fileobj.read(8)
    fileobj.seek(0)
    if not head:
        raise WorkbookRejected(_("The file is empty."))
    if head.startswith(OLE_MAGIC):
        # Both the old .xls format and password-protected .xlsx files are OLE containers.
        if _is_encrypted_ooxml(fileobj):
            raise WorkbookRejected(
                _(
                    "The workbook is protected with a password. Remove the password in Excel "
                    "(File › Info › Protect Workbook) and upload it again."
                )
            )
        raise WorkbookRejected(
            _(
                "This is an old .xls file. Open it in Excel, choose “Save As” › "
                "“Excel Workbook (*.xlsx)”, and upload the .xlsx file."
            )
        )
    if not head.startswith(b"PK"):
        raise WorkbookRejected(
            _("This is not an Excel .xlsx file. Please upload the template you downloaded, saved as .xlsx.")
        )
    try:
        archive = zipfile.ZipFile(fileobj)
    except (zipfile.BadZipFile, OSError):
        raise WorkbookRejected(
            _("The file is damaged or not an .xlsx workbook. Save it again in Excel and retry.")
        ) from None
    with archive:
        infos = archive.infolist()
        if len(infos) > MAX_MEMBERS:
            raise WorkbookRejected(_("The workbook has too many parts to be a survey template."))
        names = {info.filename for info in infos}
        if "[Content_Types].xml" not in names or "xl/workbook.xml" not in names:
            raise WorkbookRejected(_("The file is not a valid .xlsx workbook (perhaps a renamed file)."))
        total = 0
        for info in infos:
            name = info.filename.lower()
            if name.startswith("/") or ".." in name.split("/") or info.flag_bits & 0x1:
                raise WorkbookRejected(_("The workbook contains invalid or encrypted parts."))
            if name.startswith(FORBIDDEN_PARTS):
                raise WorkbookRejected(
                    _(
                        "The workbook contains macros, external links or embedded objects "
                        "(for example an .xlsm file). Save it as a plain .xlsx workbook."
                    )
                )
            seen = rows = 0
            count_rows = max_rows is not None and name.startswith("xl/worksheets/") and name.endswith(".xml")
            tail = b""
            with archive.open(info) as member:  # stream with a running cap: header sizes can lie
                while chunk := member.read(1 << 16):
                    seen += len(chunk)
                    total += len(chunk)
                    if count_rows:
                        # A <row> split between two chunks is found in tail + chunk; one that ended in the
                        # tail was counted with the previous chunk.
                        buffer = tail + chunk
                        rows += sum(1 for m in _ROW_TAG.finditer(buffer) if m.end() > len(tail))
                        tail = buffer[-32:]
                        if rows > max_rows:
                            raise WorkbookRejected(
                                _(
                                    "A sheet of the workbook has more than %(n)s rows, far more than the "
                                    "template holds. Delete the extra rows (or copy your data into a new "
                                    "template) and upload it again."
                                )
                                % {"n": f"{max_rows:,}"}
                            )
                    if (
                        seen > MAX_MEMBER_BYTES
                        or total > MAX_TOTAL_BYTES
                        or (seen > 2**20 and seen > MAX_RATIO * max(info.compress_size, 1))
                    ):
                        raise WorkbookRejected(
                            _(
                                "The workbook expands to far more data than a survey "
                                "template holds (a “zip bomb”); it was not read."
                            )
                        )
    fileobj.seek(0)


def _is_encrypted_ooxml(fileobj: IO[bytes]) -> bool:
    # An encrypted OOXML package is a compound file with an "EncryptionInfo" stream; the name is
    # stored in UTF-16 in the directory. Looking for it is enough to tell the two messages apart.
    fileobj.seek(0)
    data = fileobj.read(2 * 2**20)
    fileobj.seek(0)
    return "EncryptionInfo".encode("utf-16-le") in data


@contextmanager
def open_workbook(fileobj: IO[bytes], *, max_rows: int | None = None) -> Iterator[openpyxl.Workbook]:
    """A read-only, values-only workbook from an untrusted upload, closed afterwards."""
    if not openpyxl.DEFUSEDXML:  # also a system check (gigacity.E001); never parse without it
        raise WorkbookRejected(_("The server cannot read workbooks safely at the moment."))
    preflight(fileobj, max_rows=max_rows)
    try:
        workbook = openpyxl.load_workbook(fileobj, read_only=True, data_only=True, keep_links=False)
    except Exception:  # openpyxl raises many kinds of errors on malformed files
        raise WorkbookRejected(
            _("The workbook could not be read. Save it again in Excel as .xlsx and retry.")
        ) from None
    try:
        yield workbook
    finally:
        workbook.close()


def formula_cells(fileobj: IO[bytes], sheets: dict[str, tuple[int, int]]) -> dict[str, set[str]]:
    """The cells holding a formula, by sheet ({'指标数据': {'C7', ...}}), within (max_row, max_col) of
    each sheet; used to tell a formula without a cached value (a file written by a program, never
    opened in Excel) from an empty cell. One more read of the file, for all the sheets at once, but
    only when some sheet holds a formula at all (most uploads hold none, and the second read cost as
    much as the first)."""
    if not _has_formulas(fileobj):
        return {sheet_name: set() for sheet_name in sheets}
    fileobj.seek(0)
    try:
        workbook = openpyxl.load_workbook(fileobj, read_only=True, data_only=False, keep_links=False)
    except Exception:
        raise WorkbookRejected(
            _("The workbook could not be read. Save it again in Excel as .xlsx and retry.")
        ) from None
    found: dict[str, set[str]] = {}
    try:
        for sheet_name, (max_row, max_col) in sheets.items():
            found[sheet_name] = set()
            if sheet_name not in workbook.sheetnames:
                continue
            try:
                for row in workbook[sheet_name].iter_rows(min_row=1, max_row=max_row, max_col=max_col):
                    for cell in row:
                        value = getattr(cell, "value", None)
                        is_formula = getattr(cell, "data_type", None) == "f" or (
                            isinstance(value, str) and value.startswith("=")
                        )
                        if is_formula and hasattr(cell, "coordinate"):
                            found[sheet_name].add(cell.coordinate)
            except Exception:
                raise WorkbookRejected(
                    _("The sheet “%(sheet)s” could not be read. Save the workbook again in Excel as .xlsx and retry.")
                    % {"sheet": sheet_name}
                ) from None
        return found
    finally:
        workbook.close()
        fileobj.seek(0)


def _has_formulas(fileobj: IO[bytes]) -> bool:
    """Whether any worksheet of a pre-flighted upload contains a formula element (<f>, <f t="shared"
    …/>, with or without a namespace prefix): a byte search, far cheaper than parsing the sheets.
    When in doubt (an unreadable part), True: the full read then decides."""
    fileobj.seek(0)
    try:
        with zipfile.ZipFile(fileobj) as archive:
            for info in archive.infolist():
                name = info.filename.lower()
                if not (name.startswith("xl/worksheets/") and name.endswith(".xml")):
                    continue
                tail = b""
                with archive.open(info) as member:
                    while chunk := member.read(1 << 16):
                        if _FORMULA_TAG.search(tail + chunk):
                            return True
                        tail = chunk[-32:]
    except (zipfile.BadZipFile, OSError, RuntimeError, ValueError):
        return True
    finally:
        fileobj.seek(0)
    return False


def read_rows(workbook: openpyxl.Workbook, sheet_name: str, *, max_row: int, max_col: int) -> list[tuple[Any, ...]]:
    """The values of rows 1..max_row, columns 1..max_col of one sheet, as a full rectangle (missing
    cells are None). Bounded whatever the sheet's <dimension> claims: read-only mode trusts it, and it
    can lie (XL-3), so a sheet of a million rows costs no more than `max_row` rows."""
    sheet = workbook[sheet_name]
    rows: list[tuple[Any, ...]] = []
    try:
        for row in sheet.iter_rows(min_row=1, max_row=max_row, max_col=max_col, values_only=True):
            rows.append(tuple(row)[:max_col] + (None,) * (max_col - len(row)))
            if len(rows) >= max_row:
                break
    except Exception:  # malformed XML, dates out of range, ...: openpyxl raises many kinds
        raise WorkbookRejected(
            _("The sheet “%(sheet)s” could not be read. Save the workbook again in Excel as .xlsx and retry.")
            % {"sheet": sheet_name}
        ) from None
    rows.extend([(None,) * max_col] * (max_row - len(rows)))
    return rows


def is_error_value(value: Any) -> bool:
    """A cell showing an Excel error such as #DIV/0! (read back as that text)."""
    return isinstance(value, str) and value in ERROR_CODES


def cell_ref(sheet: str, row: int, col: int) -> str:
    """The reference a person reads in Excel, e.g. 指标数据!C7."""
    return f"{sheet}!{get_column_letter(col)}{row}"


# ------------------------------------------------------------------------------------------------
# Writing
# ------------------------------------------------------------------------------------------------
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n", "\0")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def safe_text(text: str) -> str:
    """User text for a cell: control characters removed (openpyxl refuses them) and a leading
    character that spreadsheet programs treat as a formula neutralised with an apostrophe."""
    text = ILLEGAL_CHARACTERS_RE.sub("", _CONTROL.sub("", text))
    return "'" + text if text.startswith(FORMULA_TRIGGERS) else text


def restore_text(text: str) -> str:
    """The inverse of `safe_text` for our own templates read back: the apostrophe put in front of a
    formula trigger is taken off again, so "'+86 532…" is stored as "+86 532…", as it was typed."""
    if len(text) > 1 and text[0] == "'" and text[1:].startswith(FORMULA_TRIGGERS):
        return text[1:]
    return text


def safe_value(value: Any) -> Any:
    """Numbers, dates and None stay typed; text is made safe."""
    if isinstance(value, str):
        return safe_text(value)
    return value


def set_text(cell, text: str) -> None:
    """Write user text into a cell so that openpyxl never infers a formula from it."""
    cell.value = safe_text(text)
    cell.data_type = "s"


XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def xlsx_response(content: bytes, filename: str) -> HttpResponse:
    """A workbook download: always an attachment, the (Chinese) name in RFC 6266 form with an ASCII
    fallback, never sniffed, never cached (it holds the form's data)."""
    response = HttpResponse(content, content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = f"attachment; filename=\"workbook.xlsx\"; filename*=UTF-8''{quote(filename)}"
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "no-store"
    return response

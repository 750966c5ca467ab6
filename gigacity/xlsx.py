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

import openpyxl
from django.utils.translation import gettext as _
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.utils import get_column_letter

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
MAX_MEMBERS = 300  # real .xlsx files have a few dozen parts
MAX_MEMBER_BYTES = 48 * 2**20
MAX_TOTAL_BYTES = 160 * 2**20
MAX_RATIO = 200  # uncompressed ÷ compressed beyond this is a bomb, not a spreadsheet
FORBIDDEN_PARTS = ("xl/vbaproject", "xl/externallinks/", "xl/activex", "xl/embeddings/")


class WorkbookRejected(ValueError):
    """The file is not a workbook we will read; the message says why in the user's language."""


def preflight(fileobj: IO[bytes]) -> None:
    """Reject everything that is not a plain .xlsx before any XML is parsed."""
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
            seen = 0
            with archive.open(info) as member:  # stream with a running cap: header sizes can lie
                while chunk := member.read(1 << 16):
                    seen += len(chunk)
                    total += len(chunk)
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
def open_workbook(fileobj: IO[bytes]) -> Iterator[openpyxl.Workbook]:
    """A read-only, values-only workbook from an untrusted upload, closed afterwards."""
    if not openpyxl.DEFUSEDXML:  # also a system check (gigacity.E001); never parse without it
        raise WorkbookRejected(_("The server cannot read workbooks safely at the moment."))
    preflight(fileobj)
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


def formula_cells(fileobj: IO[bytes], sheet_name: str, max_row: int, max_col: int) -> dict[str, str]:
    """The cells of one sheet that hold a formula, {'C7': '=SUM(...)'}; used to tell a formula without
    a cached value (a file written by a program, never opened in Excel) from an empty cell."""
    fileobj.seek(0)
    workbook = openpyxl.load_workbook(fileobj, read_only=True, data_only=False, keep_links=False)
    try:
        if sheet_name not in workbook.sheetnames:
            return {}
        sheet = workbook[sheet_name]
        found = {}
        for row in sheet.iter_rows(min_row=1, max_row=max_row, max_col=max_col):
            for cell in row:
                value = getattr(cell, "value", None)
                if isinstance(value, str) and value.startswith("=") and hasattr(cell, "coordinate"):
                    found[cell.coordinate] = value
        return found
    finally:
        workbook.close()
        fileobj.seek(0)


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


def safe_value(value: Any) -> Any:
    """Numbers, dates and None stay typed; text is made safe."""
    if isinstance(value, str):
        return safe_text(value)
    return value


def set_text(cell, text: str) -> None:
    """Write user text into a cell so that openpyxl never infers a formula from it."""
    cell.value = safe_text(text)
    cell.data_type = "s"

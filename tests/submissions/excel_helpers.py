"""Filling workbooks the way an official would (find the row by its label, type into the yellow
cell), and the corpus of hostile or broken files, built here rather than stored as blobs."""

from __future__ import annotations

import io
import struct
import zipfile
from collections.abc import Callable, Iterable
from typing import Any

import openpyxl
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def load(content: bytes) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(content))


def save(workbook: openpyxl.Workbook) -> bytes:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def as_upload(content: bytes, name: str = "调查表.xlsx") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=XLSX)


def row_of(sheet, label: str, column: int = 2) -> int:
    """The row whose label column reads `label` (as a person finds it in Excel)."""
    for row in range(1, sheet.max_row + 1):
        if sheet.cell(row=row, column=column).value == label:
            return row
    raise AssertionError(f"no row labelled {label!r} in {sheet.title}")


def type_into(workbook, label: str, value: Any) -> str:
    """Type `value` into the 填报值 cell of the 指标数据 row labelled `label`; returns the cell."""
    sheet = workbook["指标数据"]
    row = row_of(sheet, label)
    sheet.cell(row=row, column=3).value = value
    return f"指标数据!C{row}"


def value_of(workbook, label: str) -> Any:
    sheet = workbook["指标数据"]
    return sheet.cell(row=row_of(sheet, label), column=3).value


def case_rows(workbook) -> list[int]:
    """The rows of 应用案例 that hold a case."""
    sheet = workbook["应用案例"]
    return [row for row in range(3, sheet.max_row + 1) if sheet.cell(row=row, column=2).value]


def first_blank_case_row(workbook) -> int:
    sheet = workbook["应用案例"]
    for row in range(3, sheet.max_row + 1):
        if not any(sheet.cell(row=row, column=col).value for col in range(1, 8)):
            return row
    raise AssertionError("no blank case row")


def write_case(workbook, row: int, **values: str) -> None:
    columns = {"title": 2, "domain": 3, "description": 4, "pain_points": 5, "replicability": 6, "partners": 7}
    sheet = workbook["应用案例"]
    for name, value in values.items():
        sheet.cell(row=row, column=columns[name]).value = value


def clear_case(workbook, row: int) -> None:
    write_case(workbook, row, title=None, domain=None, description=None, pain_points=None, replicability=None)
    workbook["应用案例"].cell(row=row, column=7).value = None


# ------------------------------------------------------------------------------------------------
# The bad-file corpus
# ------------------------------------------------------------------------------------------------
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def ole_file(*, streams: Iterable[str] = ("Workbook",)) -> bytes:
    """A compound-file (OLE) container as old .xls files and password-protected .xlsx files are: the
    header signature and a directory sector naming the streams in UTF-16."""
    header = OLE_MAGIC + b"\x00" * 16 + struct.pack("<HHHH", 0x3E, 3, 0xFFFE, 9) + b"\x00" * (512 - 32)
    directory = b"".join(
        (name.encode("utf-16-le") + b"\x00\x00").ljust(64, b"\x00") + struct.pack("<H", 2 * len(name) + 2)
        for name in ("Root Entry", *streams)
    )
    return header + directory.ljust(2048, b"\x00")


def xls_file() -> bytes:
    return ole_file(streams=("Workbook", "\x05SummaryInformation"))


def encrypted_xlsx() -> bytes:
    return ole_file(streams=("EncryptionInfo", "EncryptedPackage", "\x06DataSpaces"))


def with_member(content: bytes, name: str, data: bytes) -> bytes:
    """A copy of the zip `content` with one more member (e.g. the macros of an .xlsm)."""
    source = zipfile.ZipFile(io.BytesIO(content))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            target.writestr(info, source.read(info.filename))
        target.writestr(name, data)
    return buffer.getvalue()


def rewrite_worksheets(content: bytes, transform: Callable[[bytes], bytes]) -> bytes:
    """A copy of the zip `content` with the XML of every worksheet passed through `transform` (to
    write what other programs write and openpyxl never does)."""
    source = zipfile.ZipFile(io.BytesIO(content))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename.startswith("xl/worksheets/") and info.filename.endswith(".xml"):
                data = transform(data)
            target.writestr(info, data)
    return buffer.getvalue()


def xml_bomb(template: bytes) -> bytes:
    """The template with a "billion laughs" entity in its 指标数据 sheet (XL-1)."""
    laughs = '<!ENTITY a0 "ha">' + "".join(f'<!ENTITY a{i} "{("&a" + str(i - 1) + ";") * 10}">' for i in range(1, 10))
    source = zipfile.ZipFile(io.BytesIO(template))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == "xl/worksheets/sheet2.xml":
                data = f"<!DOCTYPE worksheet [{laughs}]>".encode() + data.replace(
                    "<t>城市</t>".encode(), b"<t>&a9;</t>"
                )
            target.writestr(info, data)
    return buffer.getvalue()


def xlsm(template: bytes) -> bytes:
    return with_member(template, "xl/vbaProject.bin", b"\xd0\xcf\x11\xe0" + b"VBA" * 100)


def zip_bomb() -> bytes:
    """A small .xlsx-looking zip whose sheet inflates to 512 MiB of zeros (about 500 KB packed)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as member:
            chunk = b"\x00" * (1 << 20)
            for _ in range(512):
                member.write(chunk)
    return buffer.getvalue()


def uncalculated_formula(template: bytes, label: str, formula: str = "=1000+234") -> tuple[bytes, str]:
    """The template with a formula typed into one input by a program: openpyxl writes no cached
    value, as a file never opened in Excel has none."""
    workbook = load(template)
    cell = type_into(workbook, label, formula)
    return save(workbook), cell


def with_many_case_rows(template: bytes, rows: int) -> bytes:
    """The template rewritten in write-only mode (as a program exporting a huge table would) with
    `rows` case rows: every sheet's values copied, the metadata sheet included."""
    source = openpyxl.load_workbook(io.BytesIO(template))
    target = Workbook(write_only=True)
    for sheet in source.worksheets:
        copy = target.create_sheet(sheet.title)
        copy.sheet_state = sheet.sheet_state
        for values in sheet.iter_rows(values_only=True):
            copy.append(list(values))
        if sheet.title == "应用案例":
            for index in range(rows):
                copy.append([None, f"案例{index}", "其他", "简介", "痛点", "可复制", "合作单位"])
    buffer = io.BytesIO()
    target.save(buffer)
    return buffer.getvalue()


def csv_renamed() -> bytes:
    return "城市,5G基站数\n青岛市,12345\n".encode("utf-8-sig")


def not_our_workbook() -> bytes:
    workbook = Workbook()
    workbook.active["A1"] = "随便一个表格"
    return save(workbook)

"""Where every value sits in the workbooks, shared by the writer and the reader.

Sheet names and labels are Chinese by design: the workbooks are filled in by Chinese officials and
compared against MIIT's paper form. A reader finds a value by its position and checks the label
beside it, so a moved row or a renamed sheet is reported instead of read into the wrong field.

The layout versions are part of the signed metadata: change a position or a label here and bump the
version, so that a workbook downloaded before is refused with "download a new template" instead of
being read with the new positions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core import signing
from openpyxl.utils import get_column_letter

from indicators.catalogue import CASE_DOMAINS, INPUTS_BY_NAME, KEY_SITE_CATEGORIES, MAX_CASES, key_site_field

CITY_LAYOUT = "city-1"
PROVINCE_LAYOUT = "province-1"

SHEET_GUIDE = "填表说明"
SHEET_DATA = "指标数据"
SHEET_CASES = "应用案例"
SHEET_PRACTICES = "典型做法"
SHEET_CITIES = "城市数据"
SHEET_META = "_gigacity"  # very hidden: Excel offers no way to show it

COUNT, DATE, TEXT = "count", "date", "text"


@dataclass(frozen=True)
class Field:
    """One value a person types into the template."""

    name: str  # the model field
    label: str
    unit: str = ""
    kind: str = COUNT
    note: str = ""


def _input(name: str, note: str = "") -> Field:
    spec = INPUTS_BY_NAME[name]
    return Field(name, spec.label_zh, spec.unit_zh, COUNT, note)


KEY_SITE_TOTAL_NOTE = "已按类别填写时留空，系统自动汇总"
KEY_SITES: tuple[Field, ...] = tuple(
    Field(key_site_field(c.key, part), f"{c.label_zh}：{word}", "个")
    for c in KEY_SITE_CATEGORIES
    for part, word in (("total", "总数"), ("covered", "5G网络通达数"))
)
BASIC: tuple[Field, ...] = (
    Field("data_as_of", "数据截止日期", "", DATE, "日期，如 2026-10-31"),
    Field("contact_name", "联系人", "", TEXT),
    Field("contact_phone", "联系电话", "", TEXT, "如 0532-12345678 或 13800000000"),
    Field("contact_email", "电子邮箱", "", TEXT),
)
NETWORK: tuple[Field, ...] = (
    _input("gigabit_capable_households", "可超过城市家庭总户数"),
    _input("urban_households"),
    _input("pon_10g_ports"),
    _input("pon_ports_total"),
    *KEY_SITES,
    _input("key_sites_total", KEY_SITE_TOTAL_NOTE),
    _input("key_sites_5g_covered", KEY_SITE_TOTAL_NOTE),
    _input("bs5g_count"),
    _input("resident_population", "单位为“人”，不是“万人”"),
)
USERS: tuple[Field, ...] = (
    _input("users_500m_plus"),
    _input("broadband_users_total"),
    _input("users_1000m"),
    _input("users_5g"),
    _input("mobile_users_total"),
)
SECTIONS: tuple[tuple[str, tuple[Field, ...]], ...] = (
    ("一、基本情况", BASIC),
    ("二、网络建设", NETWORK),
    ("三、用户发展", USERS),
)
INDICATORS_SECTION = "四、系统计算的指标（仅供参考，上传后由系统重新计算）"
PRACTICES: tuple[Field, ...] = (
    Field("practice_network", "网络建设方面的典型做法", kind=TEXT),
    Field("practice_users", "用户发展方面的典型做法", kind=TEXT),
    Field("practice_applications", "应用创新方面的典型做法", kind=TEXT),
    Field("support_policies", "地方支持政策", kind=TEXT),
)

# ------------------------------------------------------------------------------------------------
# 指标数据: title, city, round, a note, the header, then the sections
# ------------------------------------------------------------------------------------------------
TITLE_ROW, CITY_ROW, ROUND_ROW, NOTE_ROW, HEADER_ROW = 1, 2, 3, 4, 5
COL_NO, COL_LABEL, COL_VALUE, COL_UNIT, COL_PREV, COL_NOTE = 1, 2, 3, 4, 5, 6
DATA_HEADERS = ("序号", "项目", "填报值", "单位", "上一轮数值（参考）", "填写说明")
DATA_COLUMNS = len(DATA_HEADERS)
# The locked cells that show which city and round the template is for (checked against the signature).
CITY_NAME_CELL, CITY_CODE_CELL = (CITY_ROW, COL_VALUE), (CITY_ROW, COL_PREV)
ROUND_CELL = (ROUND_ROW, COL_VALUE)


def _data_rows() -> tuple[dict[str, int], list[tuple[int, str]], int]:
    row = HEADER_ROW + 1
    fields: dict[str, int] = {}
    sections: list[tuple[int, str]] = []
    for title, members in SECTIONS:
        sections.append((row, title))
        row += 1
        for field in members:
            fields[field.name] = row
            row += 1
    return fields, sections, row


DATA_FIELD_ROWS, SECTION_ROWS, INDICATORS_SECTION_ROW = _data_rows()
DATA_FIELDS_BY_NAME: dict[str, Field] = {f.name: f for _title, members in SECTIONS for f in members}

# 应用案例: a note, the header, one row per case (existing ones first, then blank rows to add more)
CASES_NOTE_ROW, CASES_HEADER_ROW, CASES_FIRST_ROW = 1, 2, 3
CASE_COLUMNS: tuple[tuple[str, str, int], ...] = (
    ("id", "系统编号（请勿修改）", 10),
    ("title", "案例名称", 28),
    ("domain", "应用领域", 14),
    ("description", "案例简介", 48),
    ("pain_points", "解决的难点、痛点、堵点", 40),
    ("replicability", "可复制推广性", 36),
    ("partners", "合作单位", 28),
)
CASE_COL = {name: index + 1 for index, (name, _header, _width) in enumerate(CASE_COLUMNS)}
CASES_LAST_ROW = CASES_FIRST_ROW + MAX_CASES - 1

# 典型做法
PRACTICES_HEADER_ROW, PRACTICES_FIRST_ROW = 2, 3
PRACTICE_ROWS = {field.name: PRACTICES_FIRST_ROW + i for i, field in enumerate(PRACTICES)}
PRACTICES_LAST_ROW = PRACTICES_FIRST_ROW + len(PRACTICES) - 1

# 城市数据 (province workbook): one row per city, the 13 raw inputs and the 12 key-site counts
PROVINCE_FIELDS: tuple[Field, ...] = (*NETWORK, *USERS)
CITY_HEADER_ROW, CITY_FIRST_ROW = 2, 3
CITY_FIXED_COLUMNS = ("行政区划代码", "城市", "当前状态")
CITY_COL_CODE, CITY_COL_NAME, CITY_COL_STATUS = 1, 2, 3
PROVINCE_FIELD_COLS = {field.name: len(CITY_FIXED_COLUMNS) + 1 + i for i, field in enumerate(PROVINCE_FIELDS)}
CITY_COLUMNS = len(CITY_FIXED_COLUMNS) + len(PROVINCE_FIELDS)
# 应用案例 of the province workbook: the city's code and name in front of the city template's columns
PROVINCE_CASE_COLUMNS: tuple[tuple[str, str, int], ...] = (
    ("city", "行政区划代码", 12),
    ("city_name", "城市（参考）", 12),
    *CASE_COLUMNS,
)
PROVINCE_CASE_COL = {name: index + 1 for index, (name, _h, _w) in enumerate(PROVINCE_CASE_COLUMNS)}
MAX_PROVINCE_CITIES = 60  # the largest province has 21 prefecture-level units
MAX_PROVINCE_CASE_ROWS = 3000


def header_text(field: Field) -> str:
    return f"{field.label}（{field.unit}）" if field.unit else field.label


def ref(sheet: str, row: int, col: int) -> str:
    """A cell as a person finds it in Excel: 指标数据!C7."""
    return f"{sheet}!{get_column_letter(col)}{row}"


def city_field_cell(name: str) -> str:
    if name in PRACTICE_ROWS:
        return ref(SHEET_PRACTICES, PRACTICE_ROWS[name], 2)
    return ref(SHEET_DATA, DATA_FIELD_ROWS[name], COL_VALUE)


# ------------------------------------------------------------------------------------------------
# Case domains: the dropdown shows the Chinese labels; the codes and English labels are accepted too
# ------------------------------------------------------------------------------------------------
DOMAIN_LABELS: tuple[str, ...] = tuple(zh for _code, zh, _en in CASE_DOMAINS)
DOMAIN_LABEL_BY_CODE = {code: zh for code, zh, _en in CASE_DOMAINS}
_DOMAIN_CODES = {
    **{zh: code for code, zh, _en in CASE_DOMAINS},
    **{en.lower(): code for code, _zh, en in CASE_DOMAINS},
    **{code: code for code, _zh, _en in CASE_DOMAINS},
}


def domain_code(text: str) -> str | None:
    """The domain code of what is in the cell, "" for an empty cell, None when it is no domain."""
    text = text.strip()
    if not text:
        return ""
    return _DOMAIN_CODES.get(text) or _DOMAIN_CODES.get(text.lower())


# ------------------------------------------------------------------------------------------------
# Signed metadata
# ------------------------------------------------------------------------------------------------
_SALT = "gigacity.excel.template"


def sign(payload: dict[str, Any]) -> str:
    """The payload signed with SECRET_KEY (HMAC), to store in the hidden metadata sheet: an edited
    city, province or round makes the signature fail."""
    return signing.dumps(payload, salt=_SALT, compress=True)


def unsign(token: Any) -> dict[str, Any] | None:
    if not isinstance(token, str) or len(token) > 20_000:
        return None
    try:
        payload = signing.loads(token, salt=_SALT)
    except signing.BadSignature:
        return None
    return payload if isinstance(payload, dict) else None

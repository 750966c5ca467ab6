"""Turning what people type (in the browser, in Excel, through the API) into clean values, with a
message a city official understands for everything that is wrong.

Numbers are accepted as officials type them: with thousands separators (1,234,567 or 1 234 567),
full-width digits and commas (１２３，４５６) or as Excel numbers (123456.0).
"""

from __future__ import annotations

import datetime
import re
import unicodedata
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _

from indicators.catalogue import INPUTS_BY_NAME, KEY_SITE_FIELDS

from .snapshots import BASIC_FIELDS, PRACTICE_FIELDS

NUMBER_FIELDS = (*INPUTS_BY_NAME, *KEY_SITE_FIELDS)
KEY_SITE_MAXIMUM = 100_000
TEXT_LIMITS = {"contact_name": 50, "contact_phone": 30, "contact_email": 254}
PRACTICE_LIMIT = 20_000
_SEPARATORS = re.compile(r"[,\s_'’]")
_INF = float("inf")
_PHONE = re.compile(r"^[0-9+()\-\s转#]{5,30}$")


class NotACount(ValueError):
    """The text is not a whole number of 0 or more."""


def parse_count(raw: Any) -> int | None:
    """A whole number ≥ 0 from what was typed, None for an empty value."""
    if raw is None:
        return None
    if isinstance(raw, bool):
        raise NotACount(raw)
    if isinstance(raw, int):
        if raw < 0:
            raise NotACount(raw)
        return raw
    if isinstance(raw, float | Decimal):
        # NaN, ±infinity (a workbook cell may hold "1e999"), negative or fractional
        if raw != raw or raw in (_INF, -_INF) or raw < 0 or int(raw) != raw:
            raise NotACount(raw)
        return int(raw)
    text = _SEPARATORS.sub("", unicodedata.normalize("NFKC", str(raw)))
    if text == "":
        return None
    if not text.isascii() or not re.fullmatch(r"\d+(\.0+)?", text):
        raise NotACount(raw)
    return int(Decimal(text))


def parse_date(raw: Any) -> datetime.date | None:
    if raw in (None, ""):
        return None
    if isinstance(raw, datetime.datetime):
        return raw.date()
    if isinstance(raw, datetime.date):
        return raw
    text = unicodedata.normalize("NFKC", str(raw)).strip()
    match = re.fullmatch(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?", text)
    if not match:
        raise ValueError(raw)
    return datetime.date(*(int(part) for part in match.groups()))


def number_limit(name: str) -> int:
    spec = INPUTS_BY_NAME.get(name)
    return spec.maximum if spec else KEY_SITE_MAXIMUM


def clean_data(raw: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """Clean every known field present in `raw`; unknown fields are an error, never silently dropped.
    Returns (cleaned values, {field: [messages]})."""
    cleaned: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for name, value in raw.items():
        try:
            cleaned[name] = _clean_field(name, value)
        except ValidationError as exc:
            errors[name] = exc.messages
    return cleaned, errors


def _clean_field(name: str, value: Any) -> Any:
    if name in NUMBER_FIELDS:
        try:
            number = parse_count(value)
        except (NotACount, InvalidOperation):
            raise ValidationError(_("Must be a whole number, 0 or more")) from None
        limit = number_limit(name)
        if number is not None and number > limit:
            raise ValidationError(_("Too large (at most %(limit)s); please check the unit") % {"limit": f"{limit:,}"})
        return number
    if name == "data_as_of":
        try:
            return parse_date(value)
        except ValueError:
            raise ValidationError(_("Enter a date such as 2026-10-31")) from None
    if name in BASIC_FIELDS:
        text = "" if value is None else str(value).strip()
        if len(text) > TEXT_LIMITS[name]:
            raise ValidationError(_("At most %(n)s characters") % {"n": TEXT_LIMITS[name]})
        if text and name == "contact_email":
            try:
                validate_email(text)
            except ValidationError:
                raise ValidationError(_("Enter a valid e-mail address")) from None
        if text and name == "contact_phone" and not _PHONE.match(text):
            raise ValidationError(_("Enter a phone number such as 0532-12345678 or 13800000000"))
        return text
    if name in PRACTICE_FIELDS:
        text = "" if value is None else str(value).strip()
        if len(text) > PRACTICE_LIMIT:
            raise ValidationError(_("At most %(n)s characters") % {"n": PRACTICE_LIMIT})
        return text
    raise ValidationError(_("Unknown field"))

"""Reading numbers that come from requests (query strings, form fields, workbook cells).

`str.isdigit()` is true for "²" and "٣", which `int()` then refuses: a request could turn that into
a server error. Only plain ASCII digits are numbers here.
"""

from __future__ import annotations

from typing import Any


def int_param(value: Any) -> int | None:
    """The whole number ≥ 0 in `value` ("42"), or None for anything else."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value if value >= 0 else None
    text = str(value or "").strip()
    if text and len(text) <= 18 and text.isascii() and text.isdigit():
        return int(text)
    return None


def int_params(values) -> list[int]:
    """The whole numbers among `values`, the others dropped (a checkbox list, say)."""
    return [n for n in (int_param(v) for v in values) if n is not None]

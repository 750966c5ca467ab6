"""What the parts of pages written in Python rather than by a template loop share (issue 16): the
survey form's cards and fields, the submission page's repeated parts, the review queues' rows and the
dashboards' tables. A page repeats each of these some hundreds of times, where the template engine's
lookups, `conditional_escape`'s wrappers and `reverse()` cost more than the data."""

from __future__ import annotations

import html
from collections.abc import Callable
from urllib.parse import quote

from django.conf import settings
from django.urls import reverse
from django.utils.formats import localize


def escape(value) -> str:
    """`conditional_escape` without its wrappers: safe strings as they are, anything else escaped."""
    kind = type(value)
    if kind is str:  # most values: a plain string has no `__html__` (asking costs an exception)
        return html.escape(value)
    if kind is int:  # digits and a sign: nothing to escape
        return str(value)
    if hasattr(value, "__html__"):
        return value.__html__()
    return html.escape(str(value))


def localized(value) -> str:
    """`localize`, as `{{ value }}` writes a value: a whole number is its digits where no thousands
    separator is used (what `localize` returns for it, after asking the locale's formats)."""
    if type(value) is int and not settings.USE_THOUSAND_SEPARATOR:
        return str(value)
    return localize(value)


def url_for(name: str) -> Callable[[object], str]:
    """`reverse(name, args=[value])`, escaped, for many values: the URL pattern is reversed once."""
    marker = "918273645"  # an argument no route refuses, and found nowhere else in a URL
    head, _marker, tail = (escape(part) for part in reverse(name, args=[marker]).partition(marker))
    # A quoted argument has no character to escape in HTML; a number's digits need no quoting.
    return lambda value: f"{head}{value if type(value) is int else quote(str(value), safe='')}{tail}"

"""What the parts of pages written in Python rather than by a template loop share (issue 16): the
survey form's cards and fields, the submission page's repeated parts, the review queues' rows and the
dashboards' tables. A page repeats each of these some hundreds of times, where the template engine's
lookups, `conditional_escape`'s wrappers and `reverse()` cost more than the data."""

from __future__ import annotations

import html
from collections.abc import Callable
from urllib.parse import quote

from django.urls import reverse


def escape(value) -> str:
    """`conditional_escape` without its wrappers: safe strings as they are, anything else escaped."""
    if hasattr(value, "__html__"):
        return value.__html__()
    return html.escape(str(value))


def url_for(name: str) -> Callable[[object], str]:
    """`reverse(name, args=[value])`, escaped, for many values: the URL pattern is reversed once."""
    marker = "918273645"  # an argument no route refuses, and found nowhere else in a URL
    head, _marker, tail = (escape(part) for part in reverse(name, args=[marker]).partition(marker))
    # A quoted argument has no character to escape in HTML.
    return lambda value: f"{head}{quote(str(value), safe='')}{tail}"

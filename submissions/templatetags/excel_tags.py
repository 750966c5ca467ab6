"""Showing the values of an Excel dry run: numbers as officials read them, empty values marked."""

from __future__ import annotations

from django import template
from django.template.defaultfilters import truncatechars
from django.utils.html import format_html
from django.utils.translation import gettext as _

register = template.Library()


@register.filter
def excel_value(value):
    if value is None or value == "":
        return format_html('<span class="muted">{}</span>', _("(empty)"))
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    return truncatechars(str(value), 300)

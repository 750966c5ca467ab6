"""Template helpers of the survey form."""

from django import template

from submissions.forms import field_label as _field_label

register = template.Library()


@register.filter
def field_label(name: str, case_titles=None) -> str:
    return _field_label(name, case_titles)


@register.filter
def change_value(value) -> str:
    """A value in a diff or the history as people read it: counts with thousands separators."""
    if value is None or value == "":
        return "—"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)

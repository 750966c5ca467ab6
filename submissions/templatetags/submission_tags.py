"""Template helpers of the survey form."""

from django import template

from submissions.forms import field_label as _field_label

register = template.Library()


@register.filter
def field_label(name: str) -> str:
    return _field_label(name)

"""The review queues' rows (see reviews.queue_html)."""

from __future__ import annotations

from django import template

from reviews.queue_html import BureauRows, MinistryRows

register = template.Library()


@register.simple_tag
def bureau_rows(rows, round_):
    """The bureau's cities, one table row each (or the row saying none matches)."""
    return BureauRows(round_).render(rows)


@register.simple_tag
def ministry_rows(submissions, round_):
    """A page of the ministry's queue, one table row per form (or the row saying none waits)."""
    return MinistryRows(round_).render(submissions)

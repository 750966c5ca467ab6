"""The evidence requests (核实材料) on a form's page: the panel with its steps, and the requests of each
field to show beside it (as the bureau's comments are)."""

from __future__ import annotations

from django import template
from django.db.models import prefetch_related_objects
from django.utils import timezone

from ..evidence import city_may_answer, may_ask, may_judge, request_label
from ..models import EvidenceRequest, EvidenceState

register = template.Library()


def _requests(submission) -> list[EvidenceRequest]:
    """The form's requests, read once per page (both tags ask: the markers, then the panel); the
    submission object lives for one request only. Each request's submission is the page's (its cases
    are read already); who asked and the answers are read only when there are requests: most forms
    have none, and the joins cost more than the question itself."""
    rows = getattr(submission, "_evidence_requests", None)
    if rows is None and getattr(submission, "evidence_asked", None) is False:
        rows = submission._evidence_requests = []  # read with the form: none was ever asked
    if rows is None:
        rows = list(EvidenceRequest.objects.filter(submission_id=submission.pk))
        for row in rows:
            row.submission = submission
        if rows:
            prefetch_related_objects(rows, "asked_by", "answers__files", "answers__answered_by")
        submission._evidence_requests = rows
    return rows


@register.simple_tag
def evidence_by_field(submission) -> dict[str, list[EvidenceRequest]]:
    """{field: [requests]} for the markers beside the fields."""
    by_field: dict[str, list[EvidenceRequest]] = {}
    for row in _requests(submission):
        by_field.setdefault(row.field, []).append(row)
    return by_field


@register.simple_tag(takes_context=True)
def evidence_on_form(context, submission) -> dict[str, list[EvidenceRequest]]:
    """{field: [requests still waiting]} for the survey form, where the city works: each request
    stands next to its field (or case) as the bureau's comments do, with a link to answer it on the
    form's page (a form cannot hold the answer's own form). Settled requests are history, on that page."""
    user = context["request"].user
    today = timezone.localdate()
    by_field: dict[str, list[EvidenceRequest]] = {}
    for row in _requests(submission):
        if not row.is_unsettled:
            continue
        row.may_answer = city_may_answer(row, user)
        row.overdue = row.state != EvidenceState.ANSWERED and row.due_on < today
        by_field.setdefault(row.field, []).append(row)
    return by_field


@register.inclusion_tag("reviews/includes/evidence_panel.html", takes_context=True)
def evidence_panel(context, submission):
    user = context["request"].user
    rows = _requests(submission)
    for row in rows:
        row.label = request_label(row)
        row.may_answer = city_may_answer(row, user)
        row.may_judge = may_judge(row, user)
    errors = context.get("evidence_errors") or {}
    return {
        "request": context["request"],
        "csrf_token": context.get("csrf_token"),
        "submission": submission,
        "user": user,
        "requests": rows,
        "may_ask": may_ask(submission, user),
        "comment_choices": context.get("comment_choices", []),
        "form": context.get("evidence_form", ""),
        "errors": errors,
        "general_errors": errors.get("__all__", []),
        "post": context.get("evidence_post") or {},
    }

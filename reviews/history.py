"""The steps of evidence requests and sample checks in a form's history (page and API)."""

from __future__ import annotations

from submissions.models import Submission
from submissions.public import public_name
from submissions.selectors import HistorySource, related_rows

from .models import CheckEvent


def check_rows(submission: Submission) -> list[CheckEvent]:
    if getattr(submission, "checked", None) is False:  # read with the form: never checked
        return []
    return related_rows(submission, "check_events", select=("actor", "request"))


def check_payload(submission: Submission) -> list[dict]:
    return [
        {
            "kind": event.kind,
            "actor": str(event.actor),
            "role": event.actor_role,
            "time": event.created_at,
            "text": event.text,
            "evidence_request": event.request_id,
            "field": public_name(event.request.field) if event.request_id else None,
            "sample_draw": event.details.get("draw"),
            "details": event.details,
        }
        for event in check_rows(submission)
    ]


CHECK_HISTORY = HistorySource("checks", check_rows, check_payload)

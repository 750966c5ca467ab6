"""The card of the printable form and the stamped cover letter, for any page that shows a form
(the form itself and the submission page): one tag, so those views need no extra context."""

from __future__ import annotations

from django import template

from ..printing import documents_context

register = template.Library()


@register.inclusion_tag("submissions/includes/documents.html", takes_context=True)
def submission_documents(context, submission):
    request = context["request"]
    return {
        "submission": submission,
        "documents": documents_context(submission, request.user),
        "next": request.get_full_path(),
        "csrf_token": context.get("csrf_token"),
        "field_errors": bool(context.get("state") and context["state"].errors.get("cover_letter")),
    }

"""The printable form: everything the city signs and stamps, laid out for A4, as a page and as a PDF.

What the city signs must be exactly what it submitted: the print states the form's version and a
checksum of its data (SHA-256 of the same snapshot the history keeps: every field a city can change
and its cases, in order). The bureau's page shows the same checksum, so a signed paper copy can be
matched with the form in the system; any change of the data changes both.
"""

from __future__ import annotations

import hashlib
import json
from functools import cache
from typing import Any

from django.contrib.staticfiles import finders
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _

from gigacity import pdf
from gigacity.i18n import pick
from indicators.catalogue import CATALOGUE_BY_CODE, INPUTS_BY_NAME, KEY_SITE_CATEGORIES, key_site_field

from . import selectors
from .models import EDITABLE_STATES, Attachment, AttachmentKind, Status, Submission
from .snapshots import snapshot


def data_checksum(submission: Submission, cases=None) -> str:
    """SHA-256 of the form's data (fields and cases), as hex."""
    data = snapshot(submission, cases)
    text = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def short_checksum(checksum: str) -> str:
    """The first 16 hex digits in groups of four, as people read them out: 3f2a 9c01 …"""
    return " ".join(checksum[i : i + 4] for i in range(0, 16, 4))


def cover_letter(submission: Submission) -> Attachment | None:
    """The latest stamped cover letter (from the form's attachments when they were prefetched, as
    `selectors.submission_detail` does)."""
    if "attachments" in getattr(submission, "_prefetched_objects_cache", {}):
        letters = [a for a in submission.attachments.all() if a.kind == AttachmentKind.COVER_LETTER]
        return max(letters, key=lambda a: (a.uploaded_at, a.pk), default=None)
    return (
        submission.attachments.filter(kind=AttachmentKind.COVER_LETTER)
        .select_related("uploaded_by")
        .order_by("-uploaded_at", "-pk")
        .first()
    )


@cache
def _stylesheet() -> str:
    path = finders.find("css/print-form.css")
    with open(path, encoding="utf-8") as handle:
        return handle.read()


def print_context(submission: Submission) -> dict[str, Any]:
    """What the print view shows, from a submission read with `selectors.submission_detail`."""
    cases = list(submission.cases.all())
    checksum = data_checksum(submission, cases)
    thresholds = submission.round.threshold_map()
    indicators = []
    for row in selectors.indicator_rows(submission):
        spec = row["spec"]
        indicators.append(
            {
                **row,
                "inputs": [
                    (pick(INPUTS_BY_NAME[name].label_zh, INPUTS_BY_NAME[name].label_en), getattr(submission, name))
                    for name in spec.inputs
                ],
            }
        )
    applications = CATALOGUE_BY_CODE["applications"]
    return {
        "submission": submission,
        "cases": cases,
        "indicators": indicators,
        "applications": {
            "name": pick(applications.name_zh, applications.name_en),
            "value": len(cases),
            "threshold": thresholds.get("applications"),
        },
        "key_sites": [
            (
                pick(c.label_zh, c.label_en),
                getattr(submission, key_site_field(c.key, "total")),
                getattr(submission, key_site_field(c.key, "covered")),
            )
            for c in KEY_SITE_CATEGORIES
        ],
        "practices": [
            (_("Network building"), submission.practice_network),
            (_("User adoption"), submission.practice_users),
            (_("Applications"), submission.practice_applications),
            (_("Support policies"), submission.support_policies),
        ],
        "checksum": checksum,
        "checksum_short": short_checksum(checksum),
        "is_draft": submission.status in EDITABLE_STATES,
        "status_label": Status(submission.status).label,
        "cover_letter": cover_letter(submission),
        "printed_at": timezone.localtime(),
        "stylesheet": _stylesheet(),
    }


def documents_context(submission: Submission, user) -> dict[str, Any]:
    """The form pages' card of the print, the checksum and the cover letter."""
    checksum = data_checksum(submission)
    return {
        "checksum": checksum,
        "checksum_short": short_checksum(checksum),
        "cover_letter": cover_letter(submission),
        "can_upload": submission.can_edit(user),
    }


def print_html(request, submission: Submission, *, for_pdf: bool) -> str:
    context = print_context(submission)
    context.update(for_pdf=for_pdf, print_csp=pdf.PRINT_CSP)
    return render_to_string("submissions/print.html", context, request=request)


def pdf_filename(submission: Submission) -> str:
    return _("%(city)s %(year)s survey form v%(version)s.pdf") % {
        "city": submission.city.name,
        "year": submission.round.year,
        "version": submission.version,
    }


def form_pdf(request, submission: Submission) -> bytes:
    """The form as a PDF (PdfUnavailable when this server cannot print one)."""
    return pdf.html_to_pdf(print_html(request, submission, for_pdf=True))

"""Pages of the printable form and the stamped cover letter: the print view, its PDF, and the upload
of the cover letter from the form's pages. Scope as everywhere: a form outside the caller's city or
province is not found (404)."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.encoding import escape_uri_path
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_POST

from gigacity import uploads
from gigacity.errors import ApplicationError
from gigacity.models import Role

from . import printing, selectors
from .models import Submission
from .services import cover_letter_upload


def _submission(request, pk: int) -> Submission:
    try:
        return selectors.submission_detail(user=request.user, pk=pk)
    except Submission.DoesNotExist:
        raise Http404 from None


def pdf_response(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{escape_uri_path(filename)}"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@require_GET
@login_required
def submission_print(request, pk: int):
    """The form laid out for A4, to print from the browser (or download as PDF from its toolbar)."""
    submission = _submission(request, pk)
    return HttpResponse(printing.print_html(request, submission, for_pdf=False))


@require_GET
@login_required
def submission_pdf(request, pk: int):
    """The print view as a PDF; 503 with the reason when this server cannot print one."""
    submission = _submission(request, pk)
    return pdf_response(printing.form_pdf(request, submission), printing.pdf_filename(submission))


def _back(request, submission: Submission) -> str:
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return reverse("submissions:detail", args=[submission.pk])


@login_required
@csrf_exempt
def cover_letter(request, pk: int):
    # The size limit has to be in place before anything reads the body, and the CSRF check does: the
    # check is made just below by csrf_protect, once the limit is installed (as the Excel pages do).
    uploads.limit_upload(request, settings.GIGACITY_MAX_ATTACHMENT_BYTES)
    return _cover_letter(request, pk)


@csrf_protect
@require_POST
def _cover_letter(request, pk: int):
    """Upload the stamped cover letter (PDF or image) from the form's page; it replaces an earlier one."""
    if request.user.role not in (Role.CITY, Role.BUREAU):
        raise PermissionDenied
    submission = _submission(request, pk)
    upload = request.FILES.get("file")
    if uploads.too_large(request):
        limit_mb = settings.GIGACITY_MAX_ATTACHMENT_BYTES // (1024 * 1024)
        messages.error(request, _("The file is larger than %(mb)s MB.") % {"mb": limit_mb})
    elif upload is None:
        messages.error(request, _("Choose the scanned cover letter first."))
    else:
        try:
            cover_letter_upload(submission_id=submission.pk, upload=upload, actor=request.user)
        except ApplicationError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("The stamped cover letter was uploaded."))
    return redirect(_back(request, submission))

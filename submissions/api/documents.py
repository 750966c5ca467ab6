"""The form's documents in the API: the printable form as a PDF, and the stamped cover letter."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiRequest, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from gigacity import uploads
from gigacity.errors import TooLarge

from .. import printing, selectors, services
from ..models import Submission
from ..print_views import pdf_response
from .serializers import AttachmentSerializer

PDF = "application/pdf"


class PdfRenderer(BaseRenderer):
    """Lets clients ask for the PDF with `Accept: application/pdf`; the view sends the bytes itself."""

    media_type = PDF
    format = "pdf"
    charset = None
    render_style = "binary"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return data if isinstance(data, bytes) else b""


def _submission(request, pk: str) -> Submission:
    try:
        return selectors.submission_detail(user=request.user, pk=int(pk))
    except Submission.DoesNotExist:
        raise Http404 from None


class SubmissionPdfView(APIView):
    renderer_classes = [JSONRenderer, PdfRenderer]

    @extend_schema(
        tags=["submissions"],
        operation_id="submissions_form_pdf",
        summary="The printable form as a PDF (A4, with the signature and stamp block, version and checksum)",
        responses={
            (200, PDF): OpenApiTypes.BINARY,
            404: OpenApiResponse(description="A form outside the caller's scope"),
            503: OpenApiResponse(description="This server cannot print PDFs now (no Chromium): the reason in words"),
        },
    )
    def get(self, request, pk: str):
        submission = _submission(request, pk)
        return pdf_response(printing.form_pdf(request, submission), printing.pdf_filename(submission))


class CoverLetterView(APIView):
    parser_classes = [MultiPartParser]

    def initialize_request(self, request, *args, **kwargs):
        # The size limit before anything reads the body (session authentication's CSRF check does).
        uploads.limit_upload(request, settings.GIGACITY_MAX_ATTACHMENT_BYTES)
        return super().initialize_request(request, *args, **kwargs)

    @extend_schema(
        tags=["submissions"],
        operation_id="submissions_cover_letter_create",
        summary="Upload the form's stamped cover letter (盖章报送函), replacing an earlier one",
        request={
            "multipart/form-data": OpenApiRequest(
                inline_serializer("CoverLetterUpload", {"file": serializers.FileField()}),
                encoding={"file": {"contentType": "application/pdf, image/png, image/jpeg"}},
            )
        },
        responses={
            201: AttachmentSerializer,
            400: OpenApiResponse(description="No file, or not a PDF/PNG/JPEG"),
            413: OpenApiResponse(description="Larger than the limit"),
            403: OpenApiResponse(description="Ministry staff (only the city, or its bureau on its behalf)"),
            404: OpenApiResponse(description="A form outside the caller's scope"),
            409: OpenApiResponse(description="The form cannot be changed now (submitted, or the round is closed)"),
        },
    )
    def post(self, request, pk: str):
        submission = _submission(request, pk)
        upload = request.FILES.get("file")
        if uploads.too_large(request._request):
            limit_mb = settings.GIGACITY_MAX_ATTACHMENT_BYTES // (1024 * 1024)
            raise TooLarge(_("The file is larger than %(mb)s MB.") % {"mb": limit_mb})
        if upload is None:
            raise ValidationError({"file": [_("Choose a file.")]})
        attachment = services.cover_letter_upload(submission_id=submission.pk, upload=upload, actor=request.user)
        return Response(AttachmentSerializer(attachment).data, status=status.HTTP_201_CREATED)

"""API of evidence requests (核实材料) and sample checks (抽查核验): the same services as the pages
(`reviews.evidence`, `reviews.sampling`).

Who gets what: an evidence request is seen by whoever sees its form (a request on a form outside the
caller's scope is 404); it is asked and judged by the bureau of the form's province or the ministry
(the side that asked judges), answered by the city (others 403). Sample draws are the ministry's:
ministry staff draw and record outcomes; administrators may read them; everybody else gets 403.
"""

from __future__ import annotations

from django.conf import settings
from django.http import Http404
from django.urls import path, re_path, reverse
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from gigacity import uploads
from gigacity.errors import RoleNotAllowed
from gigacity.models import User
from gigacity.viewsets import ScopedViewSet
from indicators.models import Round
from submissions.models import Submission
from submissions.public import model_field, public_name, raise_public

from . import evidence, sampling
from .exports_checks import sample_workbook
from .models import CheckFile, EvidenceRequest, SampleDraw, SampleItem

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

E400 = OpenApiResponse(description="Errors by field (`errors`), in the caller's language")
E403 = OpenApiResponse(description="The caller's role may not do this")
E404 = OpenApiResponse(description="Not found, or outside the caller's scope")
E409 = OpenApiResponse(description="Not in a state that allows this (the message says why), or the round is published")


def ensure_national(user: User) -> None:
    if not user.has_national_scope:
        raise RoleNotAllowed(_("Sample checks are the ministry's."))


# ------------------------------------------------------------------------------------------------
# Serializers
# ------------------------------------------------------------------------------------------------
class CheckFileSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="original_name")
    url = serializers.SerializerMethodField()

    class Meta:
        model = CheckFile
        fields = ["id", "name", "size", "content_type", "uploaded_at", "url"]

    def get_url(self, row: CheckFile) -> str:
        return reverse("reviews:check_file", args=[row.pk])


class EvidenceAnswerSerializer(serializers.Serializer):
    text = serializers.CharField()
    answered_by = serializers.CharField()
    created_at = serializers.DateTimeField()
    files = CheckFileSerializer(many=True)


class EvidenceRequestSerializer(serializers.ModelSerializer):
    submission = serializers.IntegerField(source="submission_id")
    field = serializers.SerializerMethodField(help_text='Public name: "inputs.bs5g_count", "case:12", "cases"…')
    field_label = serializers.SerializerMethodField()
    asked_by = serializers.CharField()
    answers = EvidenceAnswerSerializer(many=True)

    class Meta:
        model = EvidenceRequest
        fields = [
            "id",
            "submission",
            "field",
            "field_label",
            "question",
            "due_on",
            "state",
            "asked_by",
            "asked_role",
            "closing_reason",
            "created_at",
            "updated_at",
            "answers",
        ]

    def get_field(self, row: EvidenceRequest) -> str:
        return public_name(row.field)

    def get_field_label(self, row: EvidenceRequest) -> str:
        return evidence.request_label(row)


class EvidenceRequestInput(serializers.Serializer):
    # Checked by the service (the messages name the problem on each field).
    field = serializers.CharField(required=False, allow_blank=True, max_length=60, default="")
    question = serializers.CharField(required=False, allow_blank=True, max_length=5000, default="")
    due_on = serializers.DateField(required=False, allow_null=True, default=None, help_text="After today")


class ReasonInput(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=5000, default="")


class AnswerInput(serializers.Serializer):
    text = serializers.CharField(required=False, allow_blank=True, max_length=10000, default="")
    files = serializers.ListField(child=serializers.FileField(), required=False, help_text="PDF, Office, PNG, JPEG")


class SampleItemSerializer(serializers.ModelSerializer):
    city = serializers.CharField(source="submission.city_id")
    city_name = serializers.CharField(source="submission.city.name")
    status = serializers.CharField(source="submission.status")
    files = CheckFileSerializer(many=True)
    verified_by = serializers.CharField(allow_null=True)

    class Meta:
        model = SampleItem
        fields = [
            "id",
            "submission",
            "city",
            "city_name",
            "status",
            "stratum",
            "outcome",
            "findings",
            "note",
            "reopened",
            "verified_by",
            "verified_at",
            "files",
        ]


class SampleDrawSerializer(serializers.ModelSerializer):
    round = serializers.IntegerField(source="round.year")
    drawn_by = serializers.CharField()
    population_size = serializers.SerializerMethodField()
    items = SampleItemSerializer(many=True)
    repeated_identical = serializers.SerializerMethodField(
        help_text="The draw run again from its recorded population and seed gives exactly these forms"
    )

    class Meta:
        model = SampleDraw
        fields = [
            "id",
            "round",
            "size",
            "share",
            "stratify",
            "strata",
            "seed",
            "population_size",
            "note",
            "drawn_by",
            "created_at",
            "repeated_identical",
            "items",
        ]

    def get_population_size(self, row: SampleDraw) -> int:
        return len(row.population)

    def get_repeated_identical(self, row: SampleDraw) -> bool:
        return sampling.draw_again(row)[1]


class SampleDrawInput(serializers.Serializer):
    round = serializers.IntegerField(min_value=1900, max_value=9999)
    size = serializers.IntegerField(required=False, allow_null=True, default=None)
    share = serializers.CharField(
        required=False, allow_null=True, allow_blank=True, default=None, help_text="Percent, 0 < share ≤ 100"
    )
    stratify = serializers.CharField(required=False, allow_blank=True, default="", help_text='"", "province", "region"')
    strata = serializers.ListField(
        child=serializers.CharField(), required=False, default=list, help_text="Province codes or regions"
    )
    seed = serializers.IntegerField(
        required=False, allow_null=True, default=None, help_text="Chosen at random if left out"
    )
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class FindingInput(serializers.Serializer):
    indicator = serializers.CharField(allow_blank=True)
    text = serializers.CharField(allow_blank=True)


class OutcomeInput(serializers.Serializer):
    outcome = serializers.CharField(help_text='"passed" (核验通过) or "problems" (核验发现问题)')
    findings = serializers.JSONField(required=False, default=list, help_text='[{"indicator": code, "text": "..."}]')
    note = serializers.CharField(required=False, allow_blank=True, default="")
    reopen = serializers.BooleanField(required=False, default=False, help_text="Send the form back to its bureau")
    files = serializers.ListField(child=serializers.FileField(), required=False)


def _files(request) -> list:
    from django.core.exceptions import ValidationError

    files = request.FILES.getlist("files") if hasattr(request, "FILES") else []
    if not files and hasattr(request.data, "get") and request.data.get("files"):
        # Files named in a JSON body would otherwise be dropped without a word.
        raise ValidationError({"files": [_("Send files as multipart/form-data.")]})
    if uploads.too_large(request._request):
        limit_mb = settings.GIGACITY_MAX_ATTACHMENT_BYTES // (1024 * 1024)
        raise ValidationError({"files": [_("The file is larger than %(mb)s MB.") % {"mb": limit_mb}]})
    return files


class LimitedUploads:
    """Size limits before anything reads the body (session authentication's CSRF check does)."""

    upload_actions: tuple[str, ...] = ()

    def initialize_request(self, request, *args, **kwargs):
        drf_request = super().initialize_request(request, *args, **kwargs)
        if getattr(self, "action", None) in self.upload_actions:
            uploads.limit_upload(request, settings.GIGACITY_MAX_ATTACHMENT_BYTES)
        return drf_request


# ------------------------------------------------------------------------------------------------
# Evidence requests
# ------------------------------------------------------------------------------------------------
def request_queryset():
    return EvidenceRequest.objects.select_related("submission__city", "asked_by").prefetch_related(
        "answers__files", "answers__answered_by", "submission__cases"
    )


class SubmissionEvidenceView(APIView):
    """GET: the evidence requests on a form; POST: ask the city for evidence on one field or case."""

    @extend_schema(
        tags=["evidence"],
        operation_id="submissions_evidence_requests_list",
        responses={200: EvidenceRequestSerializer(many=True), 404: E404},
        summary="The evidence requests (核实材料) on a form, oldest first",
    )
    def get(self, request, pk: str):
        submission = Submission.objects.visible_to(request.user).filter(pk=pk).first()
        if submission is None:
            raise Http404
        rows = request_queryset().filter(submission=submission)
        return Response(EvidenceRequestSerializer(rows, many=True).data)

    @extend_schema(
        tags=["evidence"],
        operation_id="submissions_evidence_requests_create",
        request=EvidenceRequestInput,
        responses={201: EvidenceRequestSerializer, 400: E400, 403: E403, 404: E404, 409: E409},
        summary="Ask the city for evidence on one field or case, with a question and a date to answer by",
    )
    def post(self, request, pk: str):
        submission = Submission.objects.visible_to(request.user).filter(pk=pk).first()
        if submission is None:
            raise Http404
        data = EvidenceRequestInput(data=request.data)
        data.is_valid(raise_exception=True)
        from django.core.exceptions import ValidationError

        try:
            row = evidence.evidence_request_create(
                submission_id=submission.pk,
                actor=request.user,
                field=model_field(data.validated_data["field"]),
                question=data.validated_data["question"],
                due_on=data.validated_data["due_on"],
            )
        except ValidationError as exc:
            raise_public(exc)
        return Response(
            EvidenceRequestSerializer(request_queryset().get(pk=row.pk)).data, status=status.HTTP_201_CREATED
        )


@extend_schema(tags=["evidence"])
class EvidenceRequestViewSet(LimitedUploads, mixins.RetrieveModelMixin, ScopedViewSet):
    """One evidence request, and its steps: the city answers; the side that asked accepts, rejects
    (the city answers again) or withdraws it."""

    serializer_class = EvidenceRequestSerializer
    queryset = request_queryset()
    upload_actions = ("answer",)

    def _done(self, row: EvidenceRequest) -> Response:
        return Response(EvidenceRequestSerializer(request_queryset().get(pk=row.pk)).data)

    @extend_schema(
        request={"multipart/form-data": AnswerInput, "application/json": AnswerInput},
        responses={200: EvidenceRequestSerializer, 400: E400, 403: E403, 404: E404, 409: E409},
        summary="The city answers, with text and files (PDF, Office, PNG, JPEG)",
    )
    @action(detail=True, methods=["post"], parser_classes=[MultiPartParser, FormParser, JSONParser])
    def answer(self, request, pk=None):
        row = self.get_object()
        text = request.data.get("text", "") if hasattr(request.data, "get") else ""
        return self._done(
            evidence.evidence_answer(request_id=row.pk, actor=request.user, text=str(text), files=_files(request))
        )

    def _decide(self, request, service):
        """A step of the side that asked (accept, reject, withdraw): a reason, then the service."""
        data = ReasonInput(data=request.data)
        data.is_valid(raise_exception=True)
        row = self.get_object()
        return self._done(service(request_id=row.pk, actor=request.user, reason=data.validated_data["reason"]))

    @extend_schema(
        request=ReasonInput,
        responses={200: EvidenceRequestSerializer, 400: E400, 403: E403, 404: E404, 409: E409},
        summary="The side that asked accepts the city's answer (the request is settled)",
    )
    @action(detail=True, methods=["post"])
    def accept(self, request, pk=None):
        return self._decide(request, evidence.evidence_accept)

    @extend_schema(
        request=ReasonInput,
        responses={200: EvidenceRequestSerializer, 400: E400, 403: E403, 404: E404, 409: E409},
        summary="The side that asked does not accept the answer, with a reason: the city answers again",
    )
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        return self._decide(request, evidence.evidence_reject)

    @extend_schema(
        request=ReasonInput,
        responses={200: EvidenceRequestSerializer, 400: E400, 403: E403, 404: E404, 409: E409},
        summary="The side that asked withdraws a request not settled, with a reason",
    )
    @action(detail=True, methods=["post"])
    def withdraw(self, request, pk=None):
        return self._decide(request, evidence.evidence_withdraw)


# ------------------------------------------------------------------------------------------------
# Sample checks
# ------------------------------------------------------------------------------------------------
def draw_queryset():
    return SampleDraw.objects.select_related("round", "drawn_by").prefetch_related(
        "items__submission__city", "items__files", "items__verified_by"
    )


@extend_schema(tags=["sample checks"])
class SampleDrawViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Sample draws (抽查) with their parameters, seed, sampled forms and outcomes."""

    serializer_class = SampleDrawSerializer
    queryset = draw_queryset()
    parser_classes = [JSONParser]  # a draw's parameters are typed values: JSON says which are numbers

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        ensure_national(request.user)

    @extend_schema(responses={200: SampleDrawSerializer(many=True), 403: E403})
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(responses={200: SampleDrawSerializer, 403: E403, 404: E404})
    def retrieve(self, request, *args, **kwargs):
        return super().retrieve(request, *args, **kwargs)

    @extend_schema(
        request=SampleDrawInput,
        responses={201: SampleDrawSerializer, 400: E400, 403: E403, 404: E404},
        summary="Draw a sample of a round's recommended or approved forms (a size or a share, optionally "
        "stratified), from a recorded seed",
    )
    def create(self, request):
        data = SampleDrawInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        round_ = Round.objects.visible_to(request.user).filter(year=values["round"]).first()
        if round_ is None:
            raise Http404
        row = sampling.sample_draw_create(
            round_=round_,
            actor=request.user,
            size=values["size"],
            share=values["share"],
            stratify=values["stratify"],
            strata=values["strata"],
            seed=values["seed"],
            note=values["note"],
        )
        return Response(SampleDrawSerializer(draw_queryset().get(pk=row.pk)).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        responses={
            (200, XLSX): OpenApiResponse(description="The draw's parameters, seed, sampled forms and outcomes"),
            403: E403,
            404: E404,
        },
        summary="The sample, its seed and outcomes as an Excel workbook",
    )
    @action(detail=True, methods=["get"], url_path="export.xlsx", url_name="export")
    def export(self, request, pk=None):
        from .api import workbook_response

        row = self.get_object()
        return workbook_response(sample_workbook(row), f"抽查核验_{row.round.year}_{row.pk}.xlsx")


@extend_schema(tags=["sample checks"])
class SampleItemViewSet(LimitedUploads, ScopedViewSet):
    """A sampled form's verification outcome."""

    queryset = SampleItem.objects.select_related("draw", "submission__city")
    serializer_class = SampleItemSerializer
    upload_actions = ("outcome",)

    def get_queryset(self):
        return self.queryset.filter(draw__in=SampleDraw.objects.visible_to(self.request.user))

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        ensure_national(request.user)

    @extend_schema(
        request={"multipart/form-data": OutcomeInput, "application/json": OutcomeInput},
        responses={200: SampleItemSerializer, 400: E400, 403: E403, 404: E404, 409: E409},
        summary="Record the outcome (核验通过 / 核验发现问题 with findings per indicator and files); a finding "
        "can reopen the form to its bureau",
    )
    @action(detail=True, methods=["post"], parser_classes=[MultiPartParser, FormParser, JSONParser])
    def outcome(self, request, pk=None):
        import json

        item = self.get_object()
        body = request.data
        findings = body.get("findings", [])
        if isinstance(findings, str):
            try:
                findings = json.loads(findings or "[]")
            except ValueError:
                from django.core.exceptions import ValidationError

                raise ValidationError({"findings": [_("Send the findings as a JSON list.")]}) from None
        reopen = body.get("reopen", False)
        if isinstance(reopen, str):
            reopen = reopen.lower() in ("1", "true", "on", "yes")
        sampling.sample_item_record(
            item_id=item.pk,
            actor=request.user,
            outcome=str(body.get("outcome", "")),
            findings=findings if isinstance(findings, list) else [findings],
            note=str(body.get("note", "")),
            files=_files(request),
            reopen=bool(reopen),
        )
        row = SampleItem.objects.select_related("submission__city", "verified_by").get(pk=item.pk)
        return Response(SampleItemSerializer(row).data)


urlpatterns = [
    re_path(
        r"^submissions/(?P<pk>[0-9]{1,18})/evidence-requests/$",
        SubmissionEvidenceView.as_view(),
        name="submission-evidence-requests",
    ),
]


def register(router) -> None:
    router.register("evidence-requests", EvidenceRequestViewSet, basename="evidence-request")
    router.register("sample-draws", SampleDrawViewSet, basename="sample-draw")
    router.register("sample-items", SampleItemViewSet, basename="sample-item")


__all__ = ["path", "register", "urlpatterns"]

"""The submissions API: the survey form as JSON, its workflow actions, history and score.

The JSON uses the public names of the brief (`inputs`, `cases`, `contact`, `practices`, `version`);
this module maps them to the model's fields and back, including the field names in error messages,
and calls the same services as the pages.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext as _
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from gigacity import uploads
from gigacity.errors import ApplicationError, RoleNotAllowed, StaleVersion
from gigacity.models import City, Province, Role
from gigacity.params import int_param
from gigacity.xlsx import xlsx_response
from indicators.catalogue import INDICATORS_BY_CODE, INPUT_NAMES, KEY_SITE_CATEGORIES, key_site_field
from indicators.models import Round
from indicators.rules import quantize

from . import selectors, services
from .excel.city import city_template, template_filename
from .excel.imports import ImportResult, Plan, city_import, open_round, province_import, size_message
from .excel.province import province_filename, province_workbook
from .excel.sheets import Problem
from .excel.uploads import limit_upload, too_large
from .models import Attachment, Case, ChangeSource, Status, Submission
from .snapshots import CASE_FIELDS

CONTACT = {"name": "contact_name", "phone": "contact_phone", "email": "contact_email"}
PRACTICES = {
    "network": "practice_network",
    "users": "practice_users",
    "applications": "practice_applications",
    "policies": "support_policies",
}
# Model field → its public path, for error messages.
PUBLIC_NAMES: dict[str, str] = {
    **{name: f"inputs.{name}" for name in INPUT_NAMES},
    **{model: f"contact.{public}" for public, model in CONTACT.items()},
    **{model: f"practices.{public}" for public, model in PRACTICES.items()},
    **{
        key_site_field(c.key, part): f"key_sites.{c.key}.{part}"
        for c in KEY_SITE_CATEGORIES
        for part in ("total", "covered")
    },
    "data_as_of": "data_as_of",
}
READ_ONLY = (
    "id",
    "city",
    "city_name",
    "province",
    "round",
    "status",
    "indicators",
    "scoring",
    "submitted_at",
    "updated_at",
    "updated_by",
    "attachments",
)


def public_errors(errors: Mapping[str, list[str]]) -> dict[str, list[str]]:
    return {PUBLIC_NAMES.get(field, field): messages for field, messages in errors.items()}


def _raise_public(exc: ValidationError):
    raise ValidationError(public_errors(exc.message_dict)) from None


# ------------------------------------------------------------------------------------------------
# Output
# ------------------------------------------------------------------------------------------------
class AttachmentSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="original_name")
    url = serializers.SerializerMethodField()

    class Meta:
        model = Attachment
        fields = ["id", "name", "size", "content_type", "case", "uploaded_at", "url"]

    def get_url(self, attachment) -> str:
        return reverse("submissions:attachment", args=[attachment.pk])


class CaseSerializer(serializers.ModelSerializer):
    attachments = AttachmentSerializer(many=True, read_only=True)

    class Meta:
        model = Case
        fields = ["id", *CASE_FIELDS, "is_excellent", "attachments"]


class SubmissionSerializer(serializers.ModelSerializer):
    """A submission as the API reads it (writes go through `parse_submission_body`)."""

    city = serializers.CharField(source="city_id")
    city_name = serializers.CharField(source="city.name")
    province = serializers.CharField(source="city.province_id")
    round = serializers.IntegerField(source="round.year")
    contact = serializers.SerializerMethodField()
    inputs = serializers.SerializerMethodField()
    key_sites = serializers.SerializerMethodField()
    practices = serializers.SerializerMethodField()
    cases = CaseSerializer(many=True, read_only=True)
    indicators = serializers.SerializerMethodField()
    scoring = serializers.SerializerMethodField()
    updated_by = serializers.StringRelatedField()

    class Meta:
        model = Submission
        fields = [
            "id",
            "city",
            "city_name",
            "province",
            "round",
            "status",
            "version",
            "data_as_of",
            "contact",
            "inputs",
            "key_sites",
            "practices",
            "cases",
            "indicators",
            "scoring",
            "submitted_at",
            "updated_at",
            "updated_by",
        ]

    def get_contact(self, s) -> dict[str, str]:
        return {public: getattr(s, model) for public, model in CONTACT.items()}

    def get_inputs(self, s) -> dict[str, int | None]:
        return s.inputs

    def get_key_sites(self, s) -> dict[str, dict[str, int | None]]:
        return {
            c.key: {part: getattr(s, key_site_field(c.key, part)) for part in ("total", "covered")}
            for c in KEY_SITE_CATEGORIES
        }

    def get_practices(self, s) -> dict[str, str]:
        return {public: getattr(s, model) for public, model in PRACTICES.items()}

    def get_indicators(self, s) -> dict[str, str | None]:
        # At the published precision (one decimal for rates and per-10k, whole numbers for counts).
        return {
            code: None if value is None else str(quantize(value, INDICATORS_BY_CODE[code].decimals))
            for code, value in s.indicator_values.items()
        }

    def get_scoring(self, s) -> dict[str, Any]:
        return {
            "state": s.scoring_state,
            "meets_all": s.meets_all,
            "missed": s.missed_count,
            "flag_severity": s.flag_severity,
            "flags": s.flags_count,
        }


# ------------------------------------------------------------------------------------------------
# Input
# ------------------------------------------------------------------------------------------------
def parse_submission_body(body: Any, submission: Submission | None = None) -> tuple[dict, list | None]:
    """(data for submission_update, cases or None) from a PATCH body in public names. Unknown keys
    and attempts to change read-only fields are errors, never silently dropped."""
    if not isinstance(body, Mapping):
        raise ValidationError({"non_field_errors": [_("Send a JSON object.")]})
    data: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}

    def section(key: str, mapping: Mapping[str, str]) -> None:
        value = body.get(key)
        if value is None:
            return
        if not isinstance(value, Mapping):
            errors[key] = [_("Must be an object.")]
            return
        for public, raw in value.items():
            if public in mapping:
                data[mapping[public]] = raw
            else:
                errors[f"{key}.{public}"] = [_("Unknown field")]

    section("inputs", {name: name for name in INPUT_NAMES})
    section("contact", CONTACT)
    section("practices", PRACTICES)
    key_sites = body.get("key_sites")
    if key_sites is not None:
        if not isinstance(key_sites, Mapping):
            errors["key_sites"] = [_("Must be an object.")]
        else:
            categories = {c.key for c in KEY_SITE_CATEGORIES}
            for category, parts in key_sites.items():
                if category not in categories or not isinstance(parts, Mapping):
                    errors[f"key_sites.{category}"] = [_("Unknown field")]
                    continue
                for part, raw in parts.items():
                    if part in ("total", "covered"):
                        data[key_site_field(category, part)] = raw
                    else:
                        errors[f"key_sites.{category}.{part}"] = [_("Unknown field")]
    if "data_as_of" in body:
        data["data_as_of"] = body["data_as_of"]
    cases = body.get("cases")
    if cases is not None and not isinstance(cases, list):
        errors["cases"] = [_("Must be a list.")]
    for key in body:
        if key in ("inputs", "contact", "practices", "key_sites", "data_as_of", "cases", "version"):
            continue
        if key in READ_ONLY:
            if submission is not None and not _same(key, body[key], submission):
                errors[key] = [_("Cannot be changed here.")]
        else:
            errors[key] = [_("Unknown field")]
    if errors:
        raise ValidationError(errors)
    return data, cases


def _same(key: str, value: Any, submission: Submission) -> bool:
    current = {
        "id": submission.pk,
        "city": submission.city_id,
        "round": submission.round.year,
        "status": submission.status,
    }
    return key not in current or str(value) == str(current[key])


def expected_version(request) -> tuple[int, bool]:
    """The version the caller edited: from an If-Match header (ETag style) or a `version` field.
    Neither → 428: an unconditional write could overwrite somebody else's work."""
    header = request.headers.get("If-Match")
    if header:
        version = int_param(header.strip().removeprefix("W/").strip('"'))
        if version is None:
            raise ApplicationError(_('If-Match must be the version number, e.g. "3".'))
        return version, True
    body_version = request.data.get("version") if isinstance(request.data, Mapping) else None
    if body_version is None:
        error = ApplicationError(
            _('Say which version you edited: send If-Match: "<version>" or a version field.'),
            extra={"code": "precondition_required"},
        )
        error.status_code = 428
        raise error
    version = int_param(body_version)  # not 1.5, 1e400 or true
    if version is None:
        raise ValidationError({"version": [_("Must be a whole number.")]})
    return version, False


# ------------------------------------------------------------------------------------------------
# Views
# ------------------------------------------------------------------------------------------------
# The Excel import's upload and report, as the schema describes them (the views build plain dicts).
class WorkbookUploadSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="The .xlsx workbook")
    dry_run = serializers.BooleanField(required=False, help_text="Same as ?dry_run=1")
    version = serializers.IntegerField(required=False, help_text="The version the dry run reported")


class WorkbookChangeSerializer(serializers.Serializer):
    field = serializers.CharField(help_text="Public name, e.g. inputs.bs5g_count")
    label = serializers.CharField()
    cell = serializers.CharField(help_text="e.g. 指标数据!C23")
    before = serializers.JSONField(allow_null=True)
    after = serializers.JSONField(allow_null=True)


class WorkbookCaseChangesSerializer(serializers.Serializer):
    added = serializers.ListField(child=serializers.DictField(), help_text="title, cell")
    changed = serializers.ListField(child=serializers.DictField(), help_text="id, title, cell, fields")
    removed = serializers.ListField(child=serializers.DictField(), help_text="id, title, attachments")
    reordered = serializers.BooleanField()


class WorkbookProblemSerializer(serializers.Serializer):
    cell = serializers.CharField(help_text="e.g. 指标数据!C7; empty for the whole file")
    item = serializers.CharField(help_text="What the cell holds, e.g. 5G基站数; empty when it is no field")
    message = serializers.CharField()


class WorkbookReportSerializer(serializers.Serializer):
    dry_run = serializers.BooleanField()
    applied = serializers.BooleanField(help_text="True when the changes were saved")
    errors = serializers.ListField(child=serializers.CharField(), help_text="`sheet!cell: message`")
    problems = WorkbookProblemSerializer(many=True)
    warnings = serializers.ListField(child=serializers.CharField())


class WorkbookImportReportSerializer(WorkbookReportSerializer):
    base_version = serializers.IntegerField(allow_null=True, help_text="The version the changes apply to")
    version = serializers.IntegerField(allow_null=True, help_text="The version after the import")
    changes = WorkbookChangeSerializer(many=True)
    cases = WorkbookCaseChangesSerializer()


class ProvinceWorkbookCitySerializer(serializers.Serializer):
    city = serializers.CharField()
    city_name = serializers.CharField()
    id = serializers.IntegerField(allow_null=True)
    new = serializers.BooleanField(help_text="The import creates the city's draft")
    base_version = serializers.IntegerField(allow_null=True)
    version = serializers.IntegerField(allow_null=True)
    changes = WorkbookChangeSerializer(many=True)
    cases = WorkbookCaseChangesSerializer()


class ProvinceWorkbookImportReportSerializer(WorkbookReportSerializer):
    cities = ProvinceWorkbookCitySerializer(many=True)


IMPORT_PARAMETERS = (
    OpenApiParameter("dry_run", bool, OpenApiParameter.QUERY, required=False, description="1: check only"),
    OpenApiParameter(
        "force",
        bool,
        OpenApiParameter.QUERY,
        required=False,
        description="1: import even if the form changed after the workbook was downloaded",
    ),
)


class SubmissionFilter(filters.FilterSet):
    round = filters.NumberFilter(field_name="round__year")
    city = filters.CharFilter(field_name="city_id")
    province = filters.CharFilter(field_name="city__province_id")
    status = filters.MultipleChoiceFilter(choices=Status.choices)

    class Meta:
        model = Submission
        fields = ["round", "city", "province", "status"]


class CreateInput(serializers.Serializer):
    city = serializers.RegexField(r"^\d{6}$")
    round = serializers.IntegerField()


class SubmitInput(serializers.Serializer):
    confirm_inconsistent = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Submit although some numbers contradict each other (a part above its whole): the city has "
        "checked them; reviewers see a critical flag.",
    )


class ReasonInput(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=5000, default="")


class ReturnInput(ReasonInput):
    comments = serializers.DictField(
        child=serializers.CharField(allow_blank=True, max_length=2000),
        required=False,
        help_text='Per field: {"inputs.bs5g_count": "...", "case:12": "..."}',
    )


class RecommendInput(serializers.Serializer):
    # Leave out to keep the cases chosen before; [] says that none is excellent.
    excellent_cases = serializers.ListField(
        child=serializers.IntegerField(), required=False, allow_null=True, default=None
    )
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")


def _etag(response: Response, submission: Submission) -> Response:
    response["ETag"] = f'"{submission.version}"'
    return response


@extend_schema(tags=["submissions"])
class SubmissionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Survey forms in the caller's scope: a city official its own city's, a bureau its province's,
    ministry staff all. Objects outside the scope answer 404."""

    serializer_class = SubmissionSerializer
    queryset = Submission.objects.all()
    filterset_class = SubmissionFilter
    lookup_value_regex = r"[0-9]{1,18}"

    def get_queryset(self):
        return (
            Submission.objects.visible_to(self.request.user)
            .select_related("city__province", "round", "updated_by")
            .prefetch_related(Prefetch("cases", queryset=Case.objects.prefetch_related("attachments")))
            .order_by("-round__year", "city_id")
        )

    def get_object(self) -> Submission:
        return get_object_or_404(self.get_queryset(), pk=self.kwargs["pk"])

    def initialize_request(self, request, *args, **kwargs):
        drf_request = super().initialize_request(request, *args, **kwargs)
        # Size limits before anything reads the body (session authentication's CSRF check does).
        if self.action == "import_":
            limit_upload(request)
        elif self.action == "attachments":
            uploads.limit_upload(request, settings.GIGACITY_MAX_ATTACHMENT_BYTES)
        return drf_request

    def _read(self, pk: int, code: int = status.HTTP_200_OK) -> Response:
        submission = get_object_or_404(self.get_queryset(), pk=pk)
        return _etag(Response(self.get_serializer(submission).data, status=code), submission)

    def retrieve(self, request, *args, **kwargs):
        return self._read(kwargs["pk"])

    @extend_schema(request=CreateInput, responses={201: SubmissionSerializer})
    def create(self, request):
        """Open the city's form for a round (an empty draft). A form that exists already answers 409."""
        data = CreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        city = City.objects.filter(code=data.validated_data["city"]).first()
        round_ = Round.objects.visible_to(request.user).filter(year=data.validated_data["round"]).first()
        if city is None or round_ is None:
            raise Http404
        existing = Submission.objects.visible_to(request.user).filter(city=city, round=round_).first()
        if existing is not None:
            return Response(
                {"detail": _("This city already has a form for the round."), "code": "exists", "id": existing.pk},
                status=status.HTTP_409_CONFLICT,
            )
        submission = services.submission_get_or_create(city=city, round_=round_, actor=request.user)
        return self._read(submission.pk, status.HTTP_201_CREATED)

    @extend_schema(
        request=inline_serializer(
            "SubmissionPatch",
            {
                "version": serializers.IntegerField(required=False),
                "data_as_of": serializers.DateField(required=False),
                "contact": serializers.DictField(required=False),
                "inputs": serializers.DictField(required=False),
                "key_sites": serializers.DictField(required=False),
                "practices": serializers.DictField(required=False),
                "cases": serializers.ListField(child=serializers.DictField(), required=False),
            },
        ),
        parameters=[
            OpenApiParameter(
                "If-Match",
                str,
                OpenApiParameter.HEADER,
                required=False,
                description='The version edited, e.g. "3" (or send a version field)',
            )
        ],
        responses={
            200: SubmissionSerializer,
            400: OpenApiResponse(description="Errors by field"),
            409: OpenApiResponse(description="Stale version in the body, or not editable now"),
            412: OpenApiResponse(description="Stale If-Match"),
            428: OpenApiResponse(description="No version given"),
        },
    )
    def partial_update(self, request, pk=None):
        """Save any part of the form (a draft may be incomplete). `cases`, when given, is the whole list:
        items with an id are updated, items without one are added, and missing cases are removed."""
        submission = self.get_object()
        version, via_header = expected_version(request)
        try:
            data, cases = parse_submission_body(request.data, submission)
            services.submission_update(
                submission_id=submission.pk,
                actor=request.user,
                data=data,
                cases=cases,
                expected_version=version,
                via_header=via_header,
                source=ChangeSource.API,
            )
        except ValidationError as exc:
            _raise_public(exc)
        return self._read(submission.pk)

    def _transition(
        self, request, pk, service, serializer_class=ReasonInput, extra: Callable[[dict], dict] = lambda data: {}
    ):
        submission = self.get_object()
        data = serializer_class(data=request.data)
        data.is_valid(raise_exception=True)
        header = request.headers.get("If-Match")
        version, via_header = expected_version(request) if header or "version" in request.data else (None, False)
        try:
            service(
                submission_id=submission.pk,
                actor=request.user,
                expected_version=version,
                via_header=via_header,
                **extra(data.validated_data),
            )
        except ValidationError as exc:
            _raise_public(exc)
        return self._read(submission.pk)

    @extend_schema(request=SubmitInput, responses={200: SubmissionSerializer})
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        """The city submits its complete form to the provincial bureau."""
        return self._transition(
            request,
            pk,
            services.submission_submit,
            SubmitInput,
            lambda d: {"confirm_inconsistent": d["confirm_inconsistent"]},
        )

    @extend_schema(request=ReturnInput, responses={200: SubmissionSerializer})
    @action(detail=True, methods=["post"], url_path="return", url_name="return")
    def return_(self, request, pk=None):
        """The bureau returns the form to the city with a reason and comments per field."""
        from reviews.services import submission_return

        def extra(d):
            comments = {_model_field(key): message for key, message in (d.get("comments") or {}).items()}
            return {"reason": d["reason"], "comments": comments}

        return self._transition(request, pk, submission_return, ReturnInput, extra)

    @extend_schema(request=RecommendInput, responses={200: SubmissionSerializer})
    @action(detail=True, methods=["post"])
    def recommend(self, request, pk=None):
        """The bureau recommends the city to the ministry, with the cases it recommends as excellent."""
        from reviews.services import submission_recommend

        return self._transition(
            request,
            pk,
            submission_recommend,
            RecommendInput,
            lambda d: {"excellent_case_ids": d["excellent_cases"], "note": d["note"]},
        )

    @extend_schema(request=ReasonInput, responses={200: SubmissionSerializer})
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        """The ministry names the city a Gigabit City of the round's year."""
        from reviews.services import submission_approve

        return self._transition(request, pk, submission_approve, extra=lambda d: {"reason": d["reason"]})

    @extend_schema(request=ReasonInput, responses={200: SubmissionSerializer})
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        from reviews.services import submission_reject

        return self._transition(request, pk, submission_reject, extra=lambda d: {"reason": d["reason"]})

    @extend_schema(request=ReasonInput, responses={200: SubmissionSerializer})
    @action(detail=True, methods=["post"], url_path="send-back", url_name="send-back")
    def send_back(self, request, pk=None):
        """The ministry sends the submission back to the bureau with a reason."""
        from reviews.services import submission_send_back

        return self._transition(request, pk, submission_send_back, extra=lambda d: {"reason": d["reason"]})

    @extend_schema(
        responses={
            200: inline_serializer(
                "History",
                {
                    "events": serializers.ListField(child=serializers.DictField()),
                    "changes": serializers.ListField(child=serializers.DictField()),
                },
            )
        }
    )
    @action(detail=True, methods=["get"])
    def history(self, request, pk=None):
        """The workflow events (actor, role, from, to, reason, time) and data changes, oldest first."""
        submission = self.get_object()
        events = [
            {
                "action": e.action,
                "actor": str(e.actor),
                "role": e.actor_role,
                "from": e.from_status,
                "to": e.to_status,
                "reason": e.reason,
                "time": e.created_at,
                "version": e.version,
                "comments": [
                    {"field": PUBLIC_NAMES.get(c.field, c.field), "message": c.message} for c in e.field_comments.all()
                ],
            }
            for e in submission.events.select_related("actor").prefetch_related("field_comments")
        ]
        changes = [
            {
                "actor": str(c.actor),
                "role": c.actor_role,
                "source": c.source,
                "time": c.created_at,
                "version": c.version,
                "changes": {PUBLIC_NAMES.get(k, k): v for k, v in c.changes.items()},
            }
            for c in submission.data_changes.select_related("actor")
        ]
        return Response({"events": events, "changes": changes})

    @extend_schema(
        responses={
            200: inline_serializer(
                "Score",
                {
                    "status": serializers.ChoiceField(choices=["pending", "scored", "failed", "idle"]),
                    "indicators": serializers.ListField(child=serializers.DictField()),
                    "meets_all": serializers.BooleanField(allow_null=True),
                    "flags": serializers.ListField(child=serializers.DictField()),
                },
            )
        }
    )
    @action(detail=True, methods=["get"])
    def score(self, request, pk=None):
        """The latest score: per indicator value, threshold, passed and margin; meets_all; flags."""
        submission = self.get_object()
        score = selectors.latest_score(submission)
        body: dict[str, Any] = {
            "status": submission.scoring_state,
            # The technical reason is for ministry staff and administrators; cities and bureaus are told
            # in words they can act on.
            "error": (
                submission.scoring_error
                if request.user.has_national_scope
                else _("The automatic check could not be completed; reviewers check this form by hand.")
            )
            if submission.scoring_error and submission.scoring_state == "failed"
            else None,
            "indicators": [],
            "meets_all": None,
            "missed": None,
            "flags": [],
        }
        if score is not None:
            body.update(
                version=score.version,
                threshold_version=score.threshold_version,
                scored_at=score.created_at,
                indicators=score.results,
                meets_all=score.meets_all,
                missed=score.missed,
                cases=score.cases_count,
                case_domains=score.case_domains,
                flags=[
                    {
                        "code": f.code,
                        "severity": f.severity_label,
                        "indicator": f.indicator or None,
                        "message": f.message,
                        "message_zh": f.message_zh,
                        "message_en": f.message_en,
                    }
                    for f in score.flags.all()
                ],
            )
        return Response(body)

    @extend_schema(
        request={
            "multipart/form-data": inline_serializer(
                "AttachmentUpload", {"file": serializers.FileField(), "case": serializers.IntegerField(required=False)}
            )
        },
        responses={201: AttachmentSerializer},
    )
    @action(detail=True, methods=["post"], parser_classes=[MultiPartParser])
    def attachments(self, request, pk=None):
        """Attach evidence to the form or to one of its cases (PDF, Office, PNG, JPEG)."""
        submission = self.get_object()
        upload = request.FILES.get("file")  # reading the body applies the size limit
        if uploads.too_large(request._request):
            limit_mb = settings.GIGACITY_MAX_ATTACHMENT_BYTES // (1024 * 1024)
            raise ApplicationError(_("The file is larger than %(mb)s MB.") % {"mb": limit_mb})
        if upload is None:
            raise ValidationError({"file": [_("Choose a file.")]})
        case = request.data.get("case")
        case_id = int_param(case)
        if case not in (None, "") and case_id is None:
            raise ValidationError({"case": [_("Must be a whole number.")]})
        attachment = services.attachment_add(
            submission_id=submission.pk, case_id=case_id, upload=upload, actor=request.user
        )
        return Response(AttachmentSerializer(attachment).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        operation_id="submissions_template_xlsx",
        summary="Download the form's Excel template",
        description=(
            "The survey form of one city and round as a pre-filled workbook (sheets 填表说明, 指标数据, 应用案例, "
            "典型做法), signed so that it can only be imported back into this form. Anybody who can see the "
            "form can download it; importing needs the right to edit."
        ),
        responses={
            (200, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"): OpenApiTypes.BINARY,
            404: OpenApiResponse(description="Not found, or outside the caller's scope"),
        },
    )
    def template(self, request, pk=None):
        """GET /api/v1/submissions/{id}/template.xlsx (wired in gigacity/urls.py: no trailing slash)."""
        submission = self.get_object()
        return xlsx_response(city_template(submission=submission), template_filename(submission))

    @extend_schema(
        summary="Import a filled-in Excel template",
        description=(
            "Upload the workbook downloaded from `template.xlsx` (multipart field `file`). With `?dry_run=1` "
            "nothing is saved: 200 with the changes the import would make and every problem as "
            "`sheet!cell: message`. Without it the import is applied all or nothing: 200 when saved, 400 with "
            "`errors` when anything is wrong (nothing saved). A file that is not a readable template of this "
            "form (.xls, .xlsm, password-protected, a zip bomb, another city's template, an edited layout, "
            "over the size limit) is a 400 in both modes. Send the version the dry run reported (`If-Match` or "
            "a `version` field) to get 409/412 instead of overwriting changes made since."
        ),
        request={"multipart/form-data": WorkbookUploadSerializer},
        parameters=[
            *IMPORT_PARAMETERS,
            OpenApiParameter(
                "If-Match", str, OpenApiParameter.HEADER, required=False, description='The version checked, e.g. "3"'
            ),
        ],
        responses={
            200: WorkbookImportReportSerializer,
            400: OpenApiResponse(WorkbookImportReportSerializer, description="Problems (`errors`); nothing saved"),
            403: OpenApiResponse(description="The role may not edit forms"),
            404: OpenApiResponse(description="Not found, or outside the caller's scope"),
            409: OpenApiResponse(description="The form cannot be changed now, or a stale `version`"),
            412: OpenApiResponse(description="Stale If-Match"),
        },
    )
    @action(detail=True, methods=["post"], url_path="import", url_name="import", parser_classes=[MultiPartParser])
    def import_(self, request, pk=None):
        submission = self.get_object()
        upload, dry_run, version, via_header = _import_arguments(request)
        if upload is None:
            result = ImportResult(kind="city", dry_run=dry_run).reject([Problem("", size_message(None))])
        else:
            try:
                result = city_import(
                    submission_id=submission.pk,
                    actor=request.user,
                    upload=upload,
                    dry_run=dry_run,
                    expected_version=version,
                    force=_flag(request, "force"),
                )
            except StaleVersion as exc:
                raise StaleVersion(
                    exc.message, current_version=exc.extra["current_version"], via_header=via_header
                ) from None
        return import_response(result)


def _flag(request, name: str) -> bool:
    """A yes/no option given as ?name=1 or as a form field."""
    return str(request.query_params.get(name) or request.data.get(name) or "").lower() in TRUE


def _import_arguments(request) -> tuple[Any, bool, int | None, bool]:
    """(file or None when it was over the size limit, dry_run, expected version, via If-Match)."""
    dry_run = _flag(request, "dry_run")
    if too_large(request._request):
        return None, dry_run, None, False
    upload = request.FILES.get("file")
    if upload is None:
        raise ValidationError({"file": [_("Choose a file.")]})
    if request.headers.get("If-Match") or request.data.get("version") not in (None, ""):
        version, via_header = expected_version(request)
        return upload, dry_run, version, via_header
    return upload, dry_run, None, False


TRUE = {"1", "true", "yes", "on"}


def _plan_body(plan: Plan) -> dict[str, Any]:
    return {
        "city": plan.city,
        "city_name": plan.city_name,
        "id": plan.submission_id,
        "new": plan.new,
        "base_version": plan.base_version,
        "version": plan.version,
        "changes": [{**change, "field": PUBLIC_NAMES.get(change["field"], change["field"])} for change in plan.fields],
        "cases": {
            "added": plan.cases_added,
            "changed": plan.cases_changed,
            "removed": plan.cases_removed,
            "reordered": plan.cases_reordered,
        },
    }


def import_response(result: ImportResult) -> Response:
    """The report of a dry run or an import; 400 when the file was refused, or when an import (not a
    dry run) met problems."""
    body: dict[str, Any] = {
        "dry_run": result.dry_run,
        "applied": result.applied,
        "errors": result.errors,
        "problems": [problem.as_dict() for problem in result.problems],
        "warnings": result.warnings,
    }
    if result.kind == "city":
        plan = _plan_body(result.plans[0]) if result.plans else {}
        body.update({key: plan.get(key) for key in ("base_version", "version", "changes", "cases")})
    else:
        body["cities"] = [_plan_body(plan) for plan in result.plans]
    if result.rejected or (result.problems and not result.dry_run):
        body = {
            "detail": _("The workbook has problems; nothing was saved."),
            "code": "invalid_workbook",
            **body,
        }
        return Response(body, status=status.HTTP_400_BAD_REQUEST)
    return Response(body)


def _bureau_province(request, code: str) -> Province:
    """The province of the URL if it is the caller's; 404 for any other (no existence leak), 403 for a
    role that has no province workbook."""
    province = Province.objects.visible_to(request.user).filter(pk=code).first()
    if province is None:
        raise Http404
    if request.user.role != Role.BUREAU:
        raise RoleNotAllowed(_("Only a provincial bureau can use the province workbook."))
    return province


@extend_schema(tags=["submissions"])
class ProvinceWorkbookView(APIView):
    @extend_schema(
        operation_id="provinces_workbook_xlsx",
        summary="Download the province workbook",
        description=(
            "For a provincial bureau: one row per city of its province whose form can still be changed, "
            "pre-filled with the round's current data (the open round), and their cases keyed by city code."
        ),
        responses={
            (200, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"): OpenApiTypes.BINARY,
            403: OpenApiResponse(description="Not a provincial bureau"),
            404: OpenApiResponse(description="Not the caller's province"),
            409: OpenApiResponse(description="No round is open"),
        },
    )
    def get(self, request, code: str):
        province = _bureau_province(request, code)
        round_ = open_round()
        return xlsx_response(province_workbook(province=province, round_=round_), province_filename(province, round_))


@extend_schema(tags=["submissions"])
class ProvinceImportView(APIView):
    parser_classes = [MultiPartParser]

    def initialize_request(self, request, *args, **kwargs):
        drf_request = super().initialize_request(request, *args, **kwargs)
        limit_upload(request)  # before anything reads the body
        return drf_request

    @extend_schema(
        summary="Import a province workbook",
        description=(
            "Creates or updates the drafts of the bureau's cities from the workbook, on their behalf, all or "
            "nothing. `?dry_run=1` reports the changes per city and every problem as `sheet!cell: message` "
            "without saving (200); an import with problems saves nothing (400). Rows of submitted cities or "
            "of other provinces are problems."
        ),
        request={"multipart/form-data": WorkbookUploadSerializer},
        parameters=[
            *IMPORT_PARAMETERS,
        ],
        responses={
            200: ProvinceWorkbookImportReportSerializer,
            400: OpenApiResponse(
                ProvinceWorkbookImportReportSerializer, description="Problems (`errors`); nothing saved"
            ),
            403: OpenApiResponse(description="Not a provincial bureau"),
            404: OpenApiResponse(description="Not the caller's province"),
            409: OpenApiResponse(description="No round is open"),
        },
    )
    def post(self, request, code: str):
        _bureau_province(request, code)
        dry_run = _flag(request, "dry_run")
        if too_large(request._request):
            return import_response(
                ImportResult(kind="province", dry_run=dry_run).reject([Problem("", size_message(None))])
            )
        upload = request.FILES.get("file")
        if upload is None:
            raise ValidationError({"file": [_("Choose a file.")]})
        return import_response(
            province_import(actor=request.user, upload=upload, dry_run=dry_run, force=_flag(request, "force"))
        )


@extend_schema(tags=["submissions"])
class AttachmentViewSet(mixins.DestroyModelMixin, viewsets.GenericViewSet):
    """Remove an attachment (while the form can be changed). Download: the `url` of the attachment."""

    queryset = Attachment.objects.all()
    serializer_class = AttachmentSerializer
    lookup_value_regex = r"[0-9]{1,18}"

    def destroy(self, request, pk=None):
        services.attachment_delete(attachment_id=int(pk), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


def _model_field(public: str) -> str:
    """The model field of a public name in a comment key ("inputs.bs5g_count" → "bs5g_count")."""
    reverse_names = {v: k for k, v in PUBLIC_NAMES.items()}
    return reverse_names.get(public, public)

"""The submissions viewset: list, read, open and save a form, its history and score, attachments,
and (from `CityWorkbookActions`) its Excel template and import. The workflow actions (submit,
return, …) are the rows of `reviews.actions`, served by `reviews.api`."""

from __future__ import annotations

from collections.abc import Mapping

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Prefetch
from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiRequest, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.parsers import JSONParser, MultiPartParser
from rest_framework.response import Response

from gigacity import uploads
from gigacity.errors import TooLarge
from gigacity.models import City
from gigacity.params import int_param
from gigacity.viewsets import ScopedViewSet
from indicators.models import Round

from .. import explain, selectors, services
from ..excel.api import CityWorkbookActions
from ..excel.uploads import limit_upload
from ..models import Attachment, Case, ChangeSource, FiguresCheck, Submission
from ..public import raise_public
from .parsing import expected_version, if_match_parameter, parse_submission_body
from .serializers import SECTIONS, AttachmentSerializer, CreateInput, SubmissionFilter, SubmissionSerializer


def submission_response(request, pk: int, code: int = status.HTTP_200_OK) -> Response:
    """The form as the API reads it, with its version as the ETag (what If-Match sends back)."""
    submission = (
        SubmissionViewSet.queryset.visible_to(request.user).filter(pk=pk).first()  # the same joins as the list
    )
    if submission is None:
        raise Http404
    response = Response(SubmissionSerializer(submission, context={"request": request}).data, status=code)
    response["ETag"] = f'"{submission.version}"'
    return response


@extend_schema(tags=["submissions"])
class SubmissionViewSet(mixins.ListModelMixin, CityWorkbookActions, ScopedViewSet):
    """Survey forms in the caller's scope: a city official its own city's, a bureau its province's,
    ministry staff all. Objects outside the scope answer 404."""

    serializer_class = SubmissionSerializer
    parser_classes = [JSONParser]  # the uploads say multipart themselves
    queryset = (
        Submission.objects.select_related("city__province", "round", "updated_by", "carried_from__round")
        .prefetch_related(Prefetch("cases", queryset=Case.objects.prefetch_related("attachments")))
        .order_by("-round__year", "city_id")
    )
    filterset_class = SubmissionFilter

    def initialize_request(self, request, *args, **kwargs):
        drf_request = super().initialize_request(request, *args, **kwargs)
        # Size limits before anything reads the body (session authentication's CSRF check does).
        if self.action == "import_":
            limit_upload(request)
        elif self.action == "attachments":
            uploads.limit_upload(request, settings.GIGACITY_MAX_ATTACHMENT_BYTES)
        return drf_request

    def retrieve(self, request, pk=None):
        return submission_response(request, self.get_object().pk)

    @extend_schema(request=CreateInput, responses={201: SubmissionSerializer})
    def create(self, request):
        """Open the city's form for a round, and fill it in with the same sections as PATCH when the
        body has them: all in one step, or nothing (a refused section leaves no empty draft
        behind). A form that exists already answers 409."""
        body = request.data if isinstance(request.data, Mapping) else {}
        data = CreateInput(data={key: body[key] for key in ("city", "round") if key in body})
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
        content = {key: value for key, value in body.items() if key not in ("city", "round")}
        try:
            with transaction.atomic():
                submission = services.submission_get_or_create(city=city, round_=round_, actor=request.user)
                if content:
                    fields, cases = parse_submission_body(content, submission)
                    services.submission_update(
                        submission_id=submission.pk,
                        actor=request.user,
                        data=fields,
                        cases=cases,
                        expected_version=submission.version,
                        source=ChangeSource.API,
                    )
        except ValidationError as exc:
            raise_public(exc)
        return submission_response(request, submission.pk, status.HTTP_201_CREATED)

    @extend_schema(
        request=inline_serializer(
            "SubmissionPatch",
            {"version": serializers.IntegerField(required=False, min_value=0), **SECTIONS},
        ),
        parameters=[if_match_parameter('The version edited, e.g. "3" (or send a version field)')],
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
            raise_public(exc)
        return submission_response(request, submission.pk)

    @extend_schema(
        responses={
            200: inline_serializer(
                "History",
                {
                    "events": serializers.ListField(child=serializers.DictField()),
                    "changes": serializers.ListField(child=serializers.DictField()),
                    "figures": serializers.ListField(
                        child=inline_serializer(
                            "FiguresHistoryEntry",
                            {
                                "time": serializers.DateTimeField(help_text="When the last of its reports came"),
                                "previous": serializers.ChoiceField(choices=FiguresCheck.choices),
                                "verdict": serializers.ChoiceField(choices=FiguresCheck.choices),
                                "outside": serializers.IntegerField(help_text="Counts outside the tolerance after"),
                                "unreported": serializers.IntegerField(help_text="Counts no operator has reported"),
                                "text": serializers.CharField(),
                                "reports": serializers.ListField(
                                    child=inline_serializer(
                                        "FiguresHistoryReport",
                                        {
                                            "operator": serializers.CharField(
                                                allow_null=True, help_text="null for the city's officials"
                                            ),
                                            "operator_name": serializers.CharField(allow_null=True),
                                            "actor": serializers.CharField(allow_null=True),
                                            "role": serializers.CharField(allow_null=True),
                                            "on_behalf": serializers.BooleanField(allow_null=True),
                                            "time": serializers.DateTimeField(),
                                            "counts": serializers.IntegerField(
                                                help_text="Counts reported (a first report) or changed"
                                            ),
                                            "first": serializers.BooleanField(),
                                        },
                                    )
                                ),
                            },
                        ),
                        help_text="Operators' figures that changed the form's comparison verdict (issue 13)",
                    ),
                },
            )
        }
    )
    @action(detail=True, methods=["get"])
    def history(self, request, pk=None):
        """The workflow events (actor, role, from, to, reason, time), data changes and the operators'
        figures that changed the comparison verdict (which operator only for reviewers), oldest first."""
        return Response(selectors.history_payload(self.get_object(), user=request.user))

    @extend_schema(
        responses={
            200: inline_serializer(
                "Score",
                {
                    "status": serializers.ChoiceField(choices=["pending", "scored", "failed", "idle"]),
                    "indicators": serializers.ListField(child=serializers.DictField()),
                    "meets_all": serializers.BooleanField(allow_null=True),
                    "outdated": serializers.BooleanField(
                        required=False,
                        help_text="The score is of older data or of thresholds changed since; it is being redone",
                    ),
                    "current": serializers.DictField(
                        required=False,
                        allow_null=True,
                        help_text="While outdated: the current data's result (meets_all, missed)",
                    ),
                    "flags": serializers.ListField(child=serializers.DictField()),
                },
            )
        }
    )
    @action(detail=True, methods=["get"])
    def score(self, request, pk=None):
        """The latest score: per indicator value, threshold, passed and margin; meets_all; flags."""
        return Response(selectors.score_payload(self.get_object(), user=request.user))

    @extend_schema(
        summary="Explain the score, indicator by indicator, in plain words",
        description=(
            "The form's current data judged against the round's current thresholds by the scoring worker's "
            "own rules. Per indicator: the raw counts, the formula with the numbers filled in (`worked`), "
            "value, threshold, passed, margin (absolute and relative), last round's value and the change, "
            "the position among the round's reported cities (rank, of, percentile: the share of the others "
            "below), and every flag with the rule that raised it. Sentences follow Accept-Language."
        ),
        responses={
            200: OpenApiTypes.OBJECT,
            401: OpenApiResponse(description="Not logged in"),
            404: OpenApiResponse(description="No such form, or outside the caller's scope"),
        },
    )
    @action(detail=True, methods=["get"])
    def explain(self, request, pk=None):
        """Why the form scores as it does, indicator by indicator."""
        return Response(explain.explanation_payload(explain.score_explanation(self.get_object())))

    @extend_schema(
        request={
            "multipart/form-data": OpenApiRequest(
                inline_serializer(
                    "AttachmentUpload",
                    {"file": serializers.FileField(), "case": serializers.IntegerField(required=False, min_value=0)},
                ),
                encoding={"file": {"contentType": "application/pdf, image/png, image/jpeg"}},
            )
        },
        responses={201: AttachmentSerializer, 413: OpenApiResponse(description="Larger than the limit")},
    )
    @action(detail=True, methods=["post"], parser_classes=[MultiPartParser])
    def attachments(self, request, pk=None):
        """Attach evidence to the form or to one of its cases (PDF, Office, PNG, JPEG)."""
        submission = self.get_object()
        upload = request.FILES.get("file")  # reading the body applies the size limit
        if uploads.too_large(request._request):
            limit_mb = settings.GIGACITY_MAX_ATTACHMENT_BYTES // (1024 * 1024)
            raise TooLarge(_("The file is larger than %(mb)s MB.") % {"mb": limit_mb})
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


@extend_schema(tags=["submissions"])
class AttachmentViewSet(mixins.DestroyModelMixin, ScopedViewSet):
    """Remove an attachment (while the form can be changed). Download: the `url` of the attachment."""

    queryset = Attachment.objects.all()
    serializer_class = AttachmentSerializer

    def destroy(self, request, pk=None):
        services.attachment_delete(attachment_id=self.get_object().pk, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

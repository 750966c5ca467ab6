"""API of the workflow actions (one operation per row of `reviews.actions`), the dashboards and
exports: the same services, selectors and workbooks as the pages.

Who gets what: the national dashboard is for ministry staff and administrators; a provincial
dashboard for its own bureau and for them (another province answers 404, as everything outside a
caller's scope does); exports for bureaus (their province) and the ministry (the nation). City
officials have their own page and no dashboard or export: 403.
"""

from __future__ import annotations

import io
from typing import IO

from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404
from django.urls import re_path, reverse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from gigacity.errors import RoleNotAllowed
from gigacity.models import Province, Role, User
from gigacity.viewsets import ScopedViewSet
from indicators.catalogue import CATALOGUE
from indicators.models import Round
from submissions.api.parsing import expected_version
from submissions.api.serializers import SubmissionSerializer
from submissions.api.views import submission_response
from submissions.models import Submission
from submissions.public import raise_public

from . import dashboards, exports, simulation
from .actions import REVIEW_ACTIONS, ReviewAction
from .models import ExportJob, ExportKind, ExportState

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

ROUND_PARAMETER = OpenApiParameter(
    "round", int, description="The round's year (default: the current round).", required=False
)


class XlsxRenderer(BaseRenderer):
    """Lets clients ask for a workbook with `Accept: <xlsx>`; the views send the bytes themselves."""

    media_type = XLSX
    format = "xlsx"
    charset = None
    render_style = "binary"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return data if isinstance(data, bytes) else b""


def ensure_national(user: User) -> None:
    if not user.has_national_scope:
        raise RoleNotAllowed(_("The national dashboard is for ministry staff."))


def ensure_dashboard(user: User) -> None:
    if user.role == Role.CITY:
        raise RoleNotAllowed(_("City officials follow their own form on their home page."))


class RoundQuery(serializers.Serializer):
    round = serializers.IntegerField(required=False, min_value=1900, max_value=9999)
    cumulative = serializers.BooleanField(required=False, default=False)


def round_from(request) -> Round:
    query = RoundQuery(data=request.query_params)
    query.is_valid(raise_exception=True)
    return dashboards.dashboard_round(user=request.user, year=query.validated_data.get("round"))


def workbook_response(content: bytes | IO[bytes], filename: str) -> FileResponse:
    """A workbook as a download under a readable (Chinese) file name."""
    stream = io.BytesIO(content) if isinstance(content, bytes) else content
    response = FileResponse(stream, as_attachment=True, filename=filename, content_type=XLSX)
    response["X-Content-Type-Options"] = "nosniff"
    return response


# ------------------------------------------------------------------------------------------------
# Workflow actions
# ------------------------------------------------------------------------------------------------
class SubmissionActionView(APIView):
    """POST /api/v1/submissions/{id}/<action>/: one row of `reviews.actions`. The version is
    optional here (If-Match or a `version` field): given, a stale one is refused (409/412)."""

    row: ReviewAction

    def post(self, request, pk: str):
        submission = Submission.objects.visible_to(request.user).filter(pk=pk).first()
        if submission is None:
            raise Http404
        if request.headers.get("If-Match") or (isinstance(request.data, dict) and "version" in request.data):
            version, via_header = expected_version(request)
        else:
            version, via_header = None, False
        try:
            self.row.perform(
                submission_id=submission.pk,
                actor=request.user,
                body=request.data,
                expected_version=version,
                via_header=via_header,
            )
        except ValidationError as exc:
            raise_public(exc)
        return submission_response(request, submission.pk)


def _action_view(row: ReviewAction) -> type[SubmissionActionView]:
    @extend_schema(
        operation_id=f"submissions_{row.action.value.replace('-', '_')}_create",
        summary=row.summary,
        tags=["submissions"],
        request=row.input,
        responses={200: SubmissionSerializer},
    )
    def post(self, request, pk: str):
        return SubmissionActionView.post(self, request, pk)

    name = f"{row.action.name.title().replace('_', '')}ActionView"
    return type(name, (SubmissionActionView,), {"row": row, "post": post})


def action_urls() -> list:
    """One route per action: /submissions/{id}/submit/, …/return/, …/send-back/ (URL names
    submission-<action>)."""
    return [
        re_path(
            rf"^submissions/(?P<pk>[0-9]{{1,18}})/{row.action.value}/$",
            _action_view(row).as_view(),
            name=f"submission-{row.action.value}",
        )
        for row in REVIEW_ACTIONS.values()
    ]


# ------------------------------------------------------------------------------------------------
# Dashboards
# ------------------------------------------------------------------------------------------------
@extend_schema(
    parameters=[ROUND_PARAMETER],
    responses={200: OpenApiTypes.OBJECT, 403: OpenApiResponse(description="Not ministry staff")},
    summary="The national dashboard of a round",
    description=(
        "Counts by status (with `not_started`), Gigabit Cities by batch, region and province, the mean "
        "of each indicator over the named cities (overall and by batch) beside the round's national "
        "reference value, the top 10 cities per indicator and each indicator's distribution. Indicator "
        "figures use submitted forms only (not drafts, not forms returned to the city)."
    ),
)
class NationalDashboardApi(APIView):
    def get(self, request):
        ensure_national(request.user)
        round_ = round_from(request)
        return Response(dashboards.as_json(dashboards.national_dashboard(user=request.user, round_=round_)))


@extend_schema(
    parameters=[ROUND_PARAMETER],
    responses={
        200: OpenApiTypes.OBJECT,
        403: OpenApiResponse(description="City officials"),
        404: OpenApiResponse(description="A province outside the caller's scope"),
    },
    summary="The dashboard of one province",
    description=(
        "The province's cities with their status, deadline (with extensions) and values against the "
        "thresholds; the province's means beside the national means and reference values; its leaders "
        "and distributions. A bureau sees its own province only (any other answers 404)."
    ),
)
class ProvinceDashboardApi(APIView):
    def get(self, request, code: str):
        ensure_dashboard(request.user)
        province = dashboards.dashboard_province(user=request.user, code=code)
        round_ = round_from(request)
        data = dashboards.province_dashboard(user=request.user, province=province, round_=round_)
        return Response(dashboards.as_json(data))


# ------------------------------------------------------------------------------------------------
# What-if thresholds
# ------------------------------------------------------------------------------------------------
class VersionsQuery(serializers.Serializer):
    base_version = serializers.IntegerField(required=False, min_value=1, max_value=1_000_000)
    version = serializers.IntegerField(required=False, min_value=1, max_value=1_000_000)


@extend_schema(
    parameters=[
        *(
            OpenApiParameter(
                spec.code,
                str,
                description=f"Candidate threshold of {spec.name_en} ({spec.unit_en}); absent: the base value.",
                required=False,
            )
            for spec in CATALOGUE
        ),
        OpenApiParameter(
            "base_version", int, description="Compare from this saved threshold version (default: the current one)."
        ),
        OpenApiParameter(
            "version",
            int,
            description="Compare to this saved threshold version instead of typed values (typed values still win).",
        ),
    ],
    responses={
        200: OpenApiTypes.OBJECT,
        400: OpenApiResponse(
            description="A candidate value that is not a number or outside what a city could "
            "report, or an unknown version; the message is on its field"
        ),
        401: OpenApiResponse(description="Not logged in"),
        403: OpenApiResponse(description="Not ministry staff"),
        404: OpenApiResponse(description="No such round"),
    },
    summary="What-if thresholds: what other thresholds would do to a round (nothing is saved)",
    description=(
        "Every reported form of the round judged against the base thresholds (current, or a saved "
        "version) and against the candidate ones, by the same rules the scoring worker runs. Per "
        "indicator how many forms pass before and after; how many meet all; the forms whose overall "
        "result changes, with their province and the values it turns on; the same for the Gigabit "
        "Cities of earlier rounds filing their annual report."
    ),
)
class WhatIfApi(APIView):
    def get(self, request, year: int):
        ensure_national(request.user)
        round_ = get_object_or_404(Round.objects.visible_to(request.user), year=year)
        versions = VersionsQuery(data=request.query_params)
        versions.is_valid(raise_exception=True)
        typed, errors = simulation.candidate_problems(
            {spec.code: request.query_params.get(spec.code) for spec in CATALOGUE}
        )
        base_version, version = versions.validated_data.get("base_version"), versions.validated_data.get("version")
        base = simulation.saved_thresholds(round_, base_version)
        if base is None:
            errors["base_version"] = [_("The round has no threshold version %(v)s.") % {"v": base_version}]
        saved = simulation.saved_thresholds(round_, version) if version is not None else {}
        if saved is None:
            errors["version"] = [_("The round has no threshold version %(v)s.") % {"v": version}]
        if errors:
            raise ValidationError(errors)
        result = simulation.simulate(
            user=request.user,
            round_=round_,
            base=base,
            candidate={**saved, **typed},
            base_label=f"v{base_version or round_.threshold_version}",
            candidate_label=f"v{version}" if version and not typed else "candidate",
        )
        return Response(simulation.as_payload(result))


# ------------------------------------------------------------------------------------------------
# Exports produced at once (small: bounded by the number of Gigabit Cities or provinces)
# ------------------------------------------------------------------------------------------------
@extend_schema(
    parameters=[
        ROUND_PARAMETER,
        OpenApiParameter(
            "cumulative", bool, description="Every Gigabit City named up to the round, not only that year's."
        ),
    ],
    responses={(200, XLSX): OpenApiTypes.BINARY, 403: OpenApiResponse(description="City officials")},
    summary="MIIT's summary table of key indicators (关键指标情况汇总表)",
)
class SummaryExportApi(APIView):
    renderer_classes = [JSONRenderer, XlsxRenderer]

    def get(self, request):
        exports.ensure_can_export(request.user)
        query = RoundQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        round_ = dashboards.dashboard_round(user=request.user, year=query.validated_data.get("round"))
        cumulative = query.validated_data["cumulative"]
        out = io.BytesIO()
        exports.summary_workbook(user=request.user, round_=round_, cumulative=cumulative, out=out)
        return workbook_response(out.getvalue(), exports.summary_filename(round_, cumulative=cumulative))


@extend_schema(
    parameters=[ROUND_PARAMETER],
    responses={(200, XLSX): OpenApiTypes.BINARY, 403: OpenApiResponse(description="Not ministry staff")},
    summary="The national dashboard's tables as a workbook",
)
class NationalDashboardExportApi(APIView):
    renderer_classes = [JSONRenderer, XlsxRenderer]

    def get(self, request):
        ensure_national(request.user)
        round_ = round_from(request)
        data = dashboards.national_dashboard(user=request.user, round_=round_)
        out = io.BytesIO()
        exports.dashboard_workbook(data=data, out=out)
        return workbook_response(out.getvalue(), exports.dashboard_filename(data))


@extend_schema(
    parameters=[ROUND_PARAMETER],
    responses={(200, XLSX): OpenApiTypes.BINARY, 403: OpenApiResponse(description="City officials")},
    summary="A provincial dashboard's tables as a workbook",
)
class ProvinceDashboardExportApi(APIView):
    renderer_classes = [JSONRenderer, XlsxRenderer]

    def get(self, request, code: str):
        ensure_dashboard(request.user)
        province = dashboards.dashboard_province(user=request.user, code=code)
        round_ = round_from(request)
        data = dashboards.province_dashboard(user=request.user, province=province, round_=round_)
        out = io.BytesIO()
        exports.dashboard_workbook(data=data, out=out)
        return workbook_response(out.getvalue(), exports.dashboard_filename(data))


# ------------------------------------------------------------------------------------------------
# Exports produced in the background
# ------------------------------------------------------------------------------------------------
class ExportJobSerializer(serializers.ModelSerializer):
    round = serializers.IntegerField(source="round.year", read_only=True)
    province = serializers.CharField(source="province_id", read_only=True, allow_null=True)
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)
    state_label = serializers.CharField(source="get_state_display", read_only=True)
    url = serializers.SerializerMethodField()
    download_url = serializers.SerializerMethodField()

    # The technical reason stays in the admin; the person who asked gets words they can act on.
    error = serializers.SerializerMethodField()

    class Meta:
        model = ExportJob
        fields = [
            "id",
            "kind",
            "kind_label",
            "round",
            "province",
            "cumulative",
            "state",
            "state_label",
            "progress",
            "rows",
            "filename",
            "error",
            "created_at",
            "finished_at",
            "url",
            "download_url",
        ]

    def get_error(self, job: ExportJob) -> str:
        if not job.error:
            return ""
        return _("The export could not be written. Please ask for it again; if it fails again, tell the administrator.")

    def get_url(self, job: ExportJob) -> str:
        return reverse("api:export-detail", args=[job.pk])

    def get_download_url(self, job: ExportJob) -> str | None:
        return reverse("api:export-download", args=[job.pk]) if job.state == ExportState.DONE else None


class ExportRequestInput(serializers.Serializer):
    kind = serializers.ChoiceField(choices=ExportKind.choices)
    round = serializers.IntegerField(min_value=1900, max_value=9999)
    province = serializers.RegexField(r"^\d{6}$", required=False, allow_null=True)
    cumulative = serializers.BooleanField(required=False, default=False)


class ExportJobViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Workbooks prepared in the background (the case collection, city lists, the summary table):
    POST asks for one and answers 202; poll the job until `state` is `done`, then GET `download_url`.
    Each person sees and downloads only the exports they asked for."""

    serializer_class = ExportJobSerializer
    queryset = ExportJob.objects.select_related("round")
    lookup_value_regex = r"[0-9a-f-]{36}"

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        exports.ensure_can_export(request.user)

    @extend_schema(request=ExportRequestInput, responses={202: ExportJobSerializer})
    def create(self, request):
        data = ExportRequestInput(data=request.data)
        data.is_valid(raise_exception=True)
        round_ = dashboards.dashboard_round(user=request.user, year=data.validated_data["round"])
        code = data.validated_data.get("province")
        province = get_object_or_404(Province.objects.visible_to(request.user), code=code) if code else None
        job = exports.export_request(
            user=request.user,
            kind=data.validated_data["kind"],
            round_=round_,
            province=province,
            cumulative=data.validated_data["cumulative"],
        )
        job.refresh_from_db()
        return Response(ExportJobSerializer(job).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(responses={(200, XLSX): OpenApiTypes.BINARY, 404: OpenApiResponse(description="Not ready")})
    @action(detail=True, methods=["get"], renderer_classes=[JSONRenderer, XlsxRenderer])
    def download(self, request, pk=None):
        job = self.get_object()
        if job.state != ExportState.DONE or not job.file:
            raise Http404
        return workbook_response(job.file.open("rb"), job.filename)

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
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import re_path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.parsers import JSONParser
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from gigacity.api import query_data
from gigacity.audit import audit_record
from gigacity.errors import RoleNotAllowed
from gigacity.models import AuditKind, Province, Region, Role, User
from gigacity.viewsets import ScopedViewSet
from indicators.api import RoundSerializer, RoundViewSet
from indicators.catalogue import CATALOGUE
from indicators.models import Round
from submissions.api.parsing import expected_version, if_match_parameter
from submissions.api.serializers import SubmissionSerializer
from submissions.api.views import submission_response
from submissions.models import Submission
from submissions.public import raise_public

from . import dashboards, exports, freshness, lifecycle, progress, quality, simulation
from .actions import REVIEW_ACTIONS, ReviewAction
from .models import ExportJob, ExportKind, ExportState

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"

ROUND_PARAMETER = OpenApiParameter(
    "round",
    {"type": "integer", "minimum": 1900, "maximum": 9999},
    description="The round's year (default: the current round).",
    required=False,
)


class XlsxRenderer(BaseRenderer):
    """Lets clients ask for a workbook with `Accept: <xlsx>`; the views send the bytes themselves."""

    media_type = XLSX
    format = "xlsx"
    charset = None
    render_style = "binary"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return data if isinstance(data, bytes) else b""


class DocxRenderer(XlsxRenderer):
    """Lets clients ask for a Word document with `Accept: <docx>`."""

    media_type = DOCX
    format = "docx"


def ensure_national(user: User) -> None:
    if not user.has_national_scope:
        raise RoleNotAllowed(_("The national dashboard is for ministry staff."))


def ensure_dashboard(user: User) -> None:
    if user.role == Role.CITY:
        raise RoleNotAllowed(_("City officials follow their own form on their home page."))


class RoundQuery(serializers.Serializer):
    round = serializers.IntegerField(required=False, min_value=1900, max_value=9999)
    cumulative = serializers.BooleanField(required=False, default=False)


class FiguresRenderer(JSONRenderer):
    """DRF's JSON, written straight from a dashboard's figures: decimals as numbers, dates as ISO
    text (`dashboards.ChartEncoder`, the conversions of `dashboards.as_json`) as the encoder meets
    them, without copying the figures first."""

    encoder_class = dashboards.ChartEncoder


def _plain_json(request) -> bool:
    """Whether the answer is DRF's JSON as the renderer writes it without a context (no indent)."""
    renderer = request.accepted_renderer
    return type(renderer) is JSONRenderer and renderer.get_indent(request.accepted_media_type, {}) is None


def round_from(request) -> Round:
    query = RoundQuery(data=query_data(request))
    query.is_valid(raise_exception=True)
    return dashboards.dashboard_round(user=request.user, year=query.validated_data.get("round"))


def audit_export(request, *, what: str, round_: Round, **details) -> None:
    """Whole-country data leaving the system goes into the security audit trail."""
    audit_record(
        kind=AuditKind.EXPORT,
        request=request,
        target=round_,
        details={"what": what, **details},
    )


def workbook_response(content: bytes | IO[bytes], filename: str, content_type: str = XLSX) -> FileResponse:
    """A workbook (or document) as a download under a readable (Chinese) file name."""
    stream = io.BytesIO(content) if isinstance(content, bytes) else content
    response = FileResponse(stream, as_attachment=True, filename=filename, content_type=content_type)
    response["X-Content-Type-Options"] = "nosniff"
    return response


# ------------------------------------------------------------------------------------------------
# Workflow actions
# ------------------------------------------------------------------------------------------------
class SubmissionActionView(APIView):
    """POST /api/v1/submissions/{id}/<action>/: one row of `reviews.actions`. The version is
    optional here (If-Match or a `version` field): given, a stale one is refused (409/412)."""

    row: ReviewAction
    parser_classes = [JSONParser]

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
        parameters=[if_match_parameter('The version the caller saw, e.g. "3" (or a version field)')],
        responses={
            200: SubmissionSerializer,
            400: OpenApiResponse(description="Errors by field (`errors`)"),
            403: OpenApiResponse(description="The caller's role may not take this action"),
            404: OpenApiResponse(description="No such form, or outside the caller's scope"),
            409: OpenApiResponse(
                description="Not in a state that allows it; a stale version; or (recommend, approve, confirm) an "
                "evidence request on the form is not settled (`evidence_requests` lists them)"
            ),
            412: OpenApiResponse(description="A stale version in If-Match"),
        },
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
# Rounds with their Gigabit Cities and annual reports
# ------------------------------------------------------------------------------------------------
class GigabitCountsSerializer(serializers.Serializer):
    named_in_round = serializers.IntegerField(help_text="Named a Gigabit City in this round")
    named_total = serializers.IntegerField(help_text="Gigabit Cities named in this round or before (累计)")
    reports_expected = serializers.IntegerField(help_text="Gigabit Cities named before: each owes an annual report")
    reports_received = serializers.IntegerField(help_text="Annual reports submitted (or further)")
    confirmed = serializers.IntegerField(help_text="Annual reports confirmed (复核通过)")
    not_confirmed = serializers.IntegerField(help_text="Annual reports not confirmed (复核未通过)")


class RoundWithCountsSerializer(RoundSerializer):
    gigabit_cities = serializers.SerializerMethodField(
        help_text="Over the caller's cities: the same numbers as the dashboards and the rounds page"
    )

    class Meta(RoundSerializer.Meta):
        fields = [*RoundSerializer.Meta.fields, "gigabit_cities"]

    @extend_schema_field(GigabitCountsSerializer)
    def get_gigabit_cities(self, round_: Round) -> dict[str, int]:
        return self.context["gigabit"][round_.year]["total"]


class RoundCountsViewSet(RoundViewSet):
    """Evaluation rounds by year, with their current thresholds and their Gigabit Cities and annual
    reports (`lifecycle.gigabit_counts`, three queries for any number of rounds). Rounds still being
    prepared are visible to ministry staff only."""

    serializer_class = RoundWithCountsSerializer

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if getattr(self, "swagger_fake_view", False):  # the schema generator has no user
            return context
        years = self.get_queryset().values_list("year", flat=True)
        context["gigabit"] = lifecycle.gigabit_counts(user=self.request.user, years=years)
        return context


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

        def figures():
            return dashboards.national_dashboard_shared(user=request.user, round_=round_)

        if not _plain_json(request):  # the browsable API, or JSON indented on request
            return Response(dashboards.as_json(figures()))
        # The answer as JSON is what is kept: written once per version of the data by the renderer
        # every JSON answer goes through, and sent as it is on every repeat.
        content = freshness.cached(
            "national-api-json",
            (*freshness.request_parts(request), round_.pk),
            lambda: FiguresRenderer().render(figures()),
            reads=freshness.DASHBOARDS,
            round_=round_,
        )
        return HttpResponse(content, content_type=FiguresRenderer.media_type)


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
# Progress over time (burn-up) and data quality by province
# ------------------------------------------------------------------------------------------------
PROGRESS_DESCRIPTION = (
    "Per day from the round's opening to its deadline (later when decisions or extensions came later, and up "
    "to today while the round is undecided): the forms started, submitted, recommended and decided. Each "
    "count is cumulative: the forms that had reached the stage by the end of the day, each once, from the "
    "first time it got there (a form returned and resubmitted counts as submitted from its first "
    "submission). `days` holds the dates; every series has one number per date."
)


@extend_schema(
    parameters=[ROUND_PARAMETER],
    responses={
        200: OpenApiTypes.OBJECT,
        400: OpenApiResponse(description="A round that is not a year"),
        401: OpenApiResponse(description="Not logged in"),
        403: OpenApiResponse(description="Not ministry staff"),
        404: OpenApiResponse(description="No such round"),
    },
    summary="The round's progress over time, nationally, by region and by province (burn-up)",
    description=PROGRESS_DESCRIPTION,
)
class NationalProgressApi(APIView):
    def get(self, request):
        ensure_national(request.user)
        round_ = round_from(request)
        return Response(dashboards.as_json(progress.progress_series(user=request.user, round_=round_)))


@extend_schema(
    parameters=[ROUND_PARAMETER],
    responses={
        200: OpenApiTypes.OBJECT,
        400: OpenApiResponse(description="A round that is not a year"),
        401: OpenApiResponse(description="Not logged in"),
        403: OpenApiResponse(description="City officials"),
        404: OpenApiResponse(description="A province outside the caller's scope, or no such round"),
    },
    summary="One province's progress over time (burn-up)",
    description=PROGRESS_DESCRIPTION + " A bureau sees its own province only (any other answers 404).",
)
class ProvinceProgressApi(APIView):
    def get(self, request, code: str):
        ensure_dashboard(request.user)
        province = dashboards.dashboard_province(user=request.user, code=code)
        round_ = round_from(request)
        data = progress.progress_series(user=request.user, round_=round_, province=province)
        return Response(dashboards.as_json(data))


@extend_schema(
    parameters=[ROUND_PARAMETER],
    responses={
        (200, XLSX): OpenApiTypes.BINARY,
        401: OpenApiResponse(description="Not logged in"),
        403: OpenApiResponse(description="Not ministry staff"),
        404: OpenApiResponse(description="No such round"),
    },
    summary="The round's progress over time as a workbook (one row per day and scope)",
)
class NationalProgressExportApi(APIView):
    renderer_classes = [JSONRenderer, XlsxRenderer]

    def get(self, request):
        ensure_national(request.user)
        round_ = round_from(request)
        data = progress.progress_series(user=request.user, round_=round_)
        out = io.BytesIO()
        exports.progress_workbook(data=data, out=out)
        audit_export(request, what="progress", round_=round_)
        return workbook_response(out.getvalue(), exports.progress_filename(data))


@extend_schema(
    parameters=[ROUND_PARAMETER],
    responses={
        (200, XLSX): OpenApiTypes.BINARY,
        401: OpenApiResponse(description="Not logged in"),
        403: OpenApiResponse(description="City officials"),
        404: OpenApiResponse(description="A province outside the caller's scope, or no such round"),
    },
    summary="One province's progress over time as a workbook",
)
class ProvinceProgressExportApi(APIView):
    renderer_classes = [JSONRenderer, XlsxRenderer]

    def get(self, request, code: str):
        ensure_dashboard(request.user)
        province = dashboards.dashboard_province(user=request.user, code=code)
        round_ = round_from(request)
        data = progress.progress_series(user=request.user, round_=round_, province=province)
        out = io.BytesIO()
        exports.progress_workbook(data=data, out=out)
        return workbook_response(out.getvalue(), exports.progress_filename(data, province))


QUALITY_DESCRIPTION = (
    "Per province, over the forms of the round submitted at least once: returns per form, distinct fields "
    "commented per form, flags of the latest score per form by severity, the share whose contradicting "
    "numbers the city confirmed, the median days from submission (or send-back) to the bureau's decision and "
    "from recommendation to the ministry's, the share first submitted by the city's deadline (extensions "
    "included), and the share of inputs within tolerance of the operators' figures (null until computed). "
    "`trend` holds the same figures for up to four earlier rounds; `national_median` is the median over the "
    "provinces with a reported form. Ranked by returns per form, highest first (`ranking`)."
)


@extend_schema(
    parameters=[ROUND_PARAMETER],
    responses={
        200: OpenApiTypes.OBJECT,
        400: OpenApiResponse(description="A round that is not a year"),
        401: OpenApiResponse(description="Not logged in"),
        403: OpenApiResponse(description="Not ministry staff"),
        404: OpenApiResponse(description="No such round"),
    },
    summary="Data quality by province, ranked, with the national median",
    description=QUALITY_DESCRIPTION,
)
class NationalQualityApi(APIView):
    def get(self, request):
        ensure_national(request.user)
        round_ = round_from(request)
        return Response(dashboards.as_json(quality.data_quality(user=request.user, round_=round_)))


@extend_schema(
    parameters=[ROUND_PARAMETER],
    responses={
        200: OpenApiTypes.OBJECT,
        400: OpenApiResponse(description="A round that is not a year"),
        401: OpenApiResponse(description="Not logged in"),
        403: OpenApiResponse(description="City officials"),
        404: OpenApiResponse(description="A province outside the caller's scope, or no such round"),
    },
    summary="One province's data quality against the national median",
    description=QUALITY_DESCRIPTION + " A bureau sees its own province only (any other answers 404), without rank.",
)
class ProvinceQualityApi(APIView):
    def get(self, request, code: str):
        ensure_dashboard(request.user)
        province = dashboards.dashboard_province(user=request.user, code=code)
        round_ = round_from(request)
        data = quality.data_quality(user=request.user, round_=round_, province=province)
        return Response(dashboards.as_json(data))


@extend_schema(
    parameters=[ROUND_PARAMETER],
    responses={
        (200, XLSX): OpenApiTypes.BINARY,
        401: OpenApiResponse(description="Not logged in"),
        403: OpenApiResponse(description="Not ministry staff"),
        404: OpenApiResponse(description="No such round"),
    },
    summary="Data quality by province as a workbook",
)
class NationalQualityExportApi(APIView):
    renderer_classes = [JSONRenderer, XlsxRenderer]

    def get(self, request):
        ensure_national(request.user)
        round_ = round_from(request)
        data = quality.data_quality(user=request.user, round_=round_)
        out = io.BytesIO()
        exports.quality_workbook(data=data, out=out)
        audit_export(request, what="data quality", round_=round_)
        return workbook_response(out.getvalue(), exports.quality_filename(data))


@extend_schema(
    parameters=[ROUND_PARAMETER],
    responses={
        (200, XLSX): OpenApiTypes.BINARY,
        401: OpenApiResponse(description="Not logged in"),
        403: OpenApiResponse(description="City officials"),
        404: OpenApiResponse(description="A province outside the caller's scope, or no such round"),
    },
    summary="One province's data quality against the national median, as a workbook",
)
class ProvinceQualityExportApi(APIView):
    renderer_classes = [JSONRenderer, XlsxRenderer]

    def get(self, request, code: str):
        ensure_dashboard(request.user)
        province = dashboards.dashboard_province(user=request.user, code=code)
        round_ = round_from(request)
        data = quality.data_quality(user=request.user, round_=round_, province=province)
        out = io.BytesIO()
        exports.quality_workbook(data=data, out=out)
        return workbook_response(out.getvalue(), exports.quality_filename(data))


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
        versions = VersionsQuery(data=query_data(request))
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
            "cumulative",
            bool,
            description="Accepted for old clients; the table always lists every Gigabit City named up to the round.",
            deprecated=True,
        ),
    ],
    responses={(200, XLSX): OpenApiTypes.BINARY, 403: OpenApiResponse(description="City officials")},
    summary="MIIT's summary table of key indicators (关键指标情况汇总表)",
)
class SummaryExportApi(APIView):
    renderer_classes = [JSONRenderer, XlsxRenderer]

    def get(self, request):
        exports.ensure_can_export(request.user)
        query = RoundQuery(data=query_data(request))
        query.is_valid(raise_exception=True)
        round_ = dashboards.dashboard_round(user=request.user, year=query.validated_data.get("round"))
        cumulative = query.validated_data["cumulative"]

        def workbook() -> tuple[bytes, int]:
            out = io.BytesIO()
            current = freshness.as_of_version(round_)
            rows = exports.summary_workbook(user=request.user, round_=current, cumulative=cumulative, out=out)
            return out.getvalue(), rows

        # The workbook says when it was exported, to the minute: so does its key.
        minute = timezone.localtime().strftime("%Y-%m-%d %H:%M")
        parts = (*freshness.request_parts(request), round_.pk, minute)
        content, rows = freshness.cached("summary-xlsx", parts, workbook, reads=freshness.SUMMARY_TABLE, round_=round_)
        if request.user.has_national_scope:
            audit_export(request, what="summary", round_=round_, rows=rows, cumulative=cumulative)
        return workbook_response(content, exports.summary_filename(round_, cumulative=cumulative))


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
        audit_export(request, what="national dashboard", round_=round_)
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
# The watch list
# ------------------------------------------------------------------------------------------------
class WatchQuery(RoundQuery):
    province = serializers.RegexField(r"^\d{6}$", required=False, help_text="A province's code")
    region = serializers.ChoiceField(choices=Region.choices, required=False)
    reason = serializers.ChoiceField(choices=lifecycle.WATCH_REASONS, required=False)


WATCH_PARAMETERS = [
    ROUND_PARAMETER,
    OpenApiParameter(
        "province", {"type": "string", "pattern": r"^\d{6}$"}, description="Only this province (6-digit code)."
    ),
    OpenApiParameter("region", str, enum=Region.values, description="Only this region."),
    OpenApiParameter("reason", str, enum=list(lifecycle.WATCH_REASONS), description="Only this reason."),
]


def watch_rows(request) -> tuple[Round, list[dict]]:
    ensure_national(request.user)
    query = WatchQuery(data=query_data(request))
    query.is_valid(raise_exception=True)
    data = query.validated_data
    round_ = dashboards.dashboard_round(user=request.user, year=data.get("round"))
    rows = lifecycle.watch_list(
        user=request.user,
        round_=round_,
        province=data.get("province", ""),
        region=data.get("region", ""),
        reason=data.get("reason", ""),
    )
    return round_, rows


@extend_schema(
    parameters=WATCH_PARAMETERS,
    responses={200: OpenApiTypes.OBJECT, 403: OpenApiResponse(description="Not ministry staff")},
    summary="The watch list of a round",
    description=(
        "Gigabit Cities named before the round whose figures of the round (reported form, else the published "
        "table) fall below a threshold (`below`: indicator, value, threshold, margin, relative margin in %), that "
        "have not reported by their deadline, or whose annual report was not confirmed (`shortfall`, "
        "`improvement_due`); `rounds` is the number of rounds in a row on the list, `since` the first of them."
    ),
)
class WatchListApi(APIView):
    def get(self, request):
        round_, rows = watch_rows(request)
        return Response(dashboards.as_json({"round": round_.year, "count": len(rows), "cities": rows}))


@extend_schema(
    parameters=WATCH_PARAMETERS,
    responses={(200, XLSX): OpenApiTypes.BINARY, 403: OpenApiResponse(description="Not ministry staff")},
    summary="The watch list as a workbook",
)
class WatchExportApi(APIView):
    renderer_classes = [JSONRenderer, XlsxRenderer]

    def get(self, request):
        round_, rows = watch_rows(request)
        out = io.BytesIO()
        exports.watch_workbook(rows=rows, round_=round_, out=out)
        return workbook_response(out.getvalue(), exports.watch_filename(round_))


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
            "excellent_only",
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
        if job.error.startswith(exports.NOTHING_TO_SHOW):
            return job.error.removeprefix(exports.NOTHING_TO_SHOW)
        return _("The export could not be written. Please ask for it again; if it fails again, tell the administrator.")

    def get_url(self, job: ExportJob) -> str:
        return reverse("api:export-detail", args=[job.pk])

    def get_download_url(self, job: ExportJob) -> str | None:
        return reverse("api:export-download", args=[job.pk]) if job.state == ExportState.DONE else None


class ExportRequestInput(serializers.Serializer):
    kind = serializers.ChoiceField(choices=ExportKind.choices)
    round = serializers.IntegerField(
        min_value=1900, max_value=9999, required=False, help_text="The round's year (default: the current round)"
    )
    province = serializers.RegexField(r"^\d{6}$", required=False, allow_null=True)
    cumulative = serializers.BooleanField(required=False, default=False)
    excellent_only = serializers.BooleanField(
        required=False,
        default=True,
        help_text="Case collection (Word): only the cases the bureaus recommended as excellent (default), or "
        "every case of the recommended forms with the excellent ones first.",
    )


class ExportJobViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Workbooks and documents prepared in the background (the case collection, city lists, the
    summary table; the draft circular and the case collection as Word documents): POST asks for one
    and answers 202; poll the job until `state` is `done`, then GET `download_url`. Each person sees
    and downloads only the exports they asked for. The draft circular is the ministry's alone; a
    document with nothing to show (a round that named nobody, no case) is refused with 409."""

    serializer_class = ExportJobSerializer
    parser_classes = [JSONParser]
    queryset = ExportJob.objects.select_related("round")
    lookup_value_regex = r"[0-9a-f-]{36}"

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        exports.ensure_can_export(request.user)

    @extend_schema(
        request=ExportRequestInput,
        responses={
            202: ExportJobSerializer,
            403: OpenApiResponse(description="City officials; the draft circular for anybody but ministry staff"),
            404: OpenApiResponse(description="A round or province outside the caller's scope"),
            409: OpenApiResponse(description="A document with nothing to show (code `nothing_to_show`)"),
        },
    )
    def create(self, request):
        data = ExportRequestInput(data=request.data)
        data.is_valid(raise_exception=True)
        round_ = dashboards.dashboard_round(user=request.user, year=data.validated_data.get("round"))
        code = data.validated_data.get("province")
        province = get_object_or_404(Province.objects.visible_to(request.user), code=code) if code else None
        job = exports.export_request(
            user=request.user,
            kind=data.validated_data["kind"],
            round_=round_,
            province=province,
            cumulative=data.validated_data["cumulative"],
            excellent_only=data.validated_data["excellent_only"],
        )
        job.refresh_from_db()
        return Response(ExportJobSerializer(job).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        responses={
            (200, XLSX): OpenApiTypes.BINARY,
            (200, DOCX): OpenApiTypes.BINARY,
            404: OpenApiResponse(description="Not ready"),
        }
    )
    @action(detail=True, methods=["get"], renderer_classes=[JSONRenderer, XlsxRenderer, DocxRenderer])
    def download(self, request, pk=None):
        job = self.get_object()
        if job.state != ExportState.DONE or not job.file:
            raise Http404
        if job.province_id is None and request.user.has_national_scope:
            audit_export(request, what=job.kind, round_=job.round, rows=job.rows, export_id=str(job.pk))
        content_type = DOCX if job.suffix == ".docx" else XLSX
        return workbook_response(job.file.open("rb"), job.filename, content_type)

"""The API of operators' figures (issue 13): the operator list, the figures (read and report), the
operator workbook and its import, and a round's tolerance. Thin: parse, call the service in
`submissions.operators` or the Excel module, answer."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.parsers import JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from gigacity.api import query_data
from gigacity.errors import RoleNotAllowed
from gigacity.models import Province, Role
from gigacity.xlsx import xlsx_response
from indicators.catalogue import OPERATOR_INPUTS
from indicators.models import Operator, Round

from ..excel.api import WorkbookProblemSerializer, refusal
from ..excel.operators import operator_filename, operator_import, operator_workbook
from ..excel.uploads import limit_upload
from ..models import OperatorFigure
from ..operators import operator_figures_report, round_tolerance_set, tolerance_version
from .parsing import expected_version, if_match_parameter

TRUE = {"1", "true", "yes", "on"}


class RoundOperatorQuery(serializers.Serializer):
    """The query of the operators' routes: which round and, for a bureau, which operator."""

    round = serializers.IntegerField(
        required=False, min_value=1900, max_value=9999, help_text="Year; default: the open round"
    )
    operator = serializers.CharField(
        required=False, max_length=20, help_text="telecom, mobile, unicom or broadnet (bureaus: required)"
    )


class FiguresQuery(RoundOperatorQuery):
    city = serializers.RegexField(r"^\d{6}$", required=False, help_text="6-digit code")
    history = serializers.BooleanField(required=False, default=False, help_text="Every report, not only the latest")


class ImportQuery(RoundOperatorQuery):
    dry_run = serializers.BooleanField(required=False, default=False, help_text="Check only")


def _query(request, serializer: type[serializers.Serializer]) -> dict:
    query = serializer(data=query_data(request))
    query.is_valid(raise_exception=True)
    return query.validated_data


class OperatorImportReportSerializer(serializers.Serializer):
    kind = serializers.CharField()
    dry_run = serializers.BooleanField()
    applied = serializers.BooleanField(help_text="True when the figures were saved")
    rejected = serializers.BooleanField(help_text="The file was refused as a whole")
    operator = serializers.CharField(allow_blank=True)
    on_behalf = serializers.BooleanField()
    plans = serializers.ListField(child=serializers.DictField(), help_text="city, city_name, changes")
    problems = WorkbookProblemSerializer(many=True)


NOT_LOGGED_IN = OpenApiResponse(description="Not logged in")
NOT_REPORTER = OpenApiResponse(description="Neither an operator's branch nor a provincial bureau")


class OperatorSerializer(serializers.ModelSerializer):
    class Meta:
        model = Operator
        fields = ["code", "name_zh", "name_en"]


class FigureSerializer(serializers.ModelSerializer):
    round = serializers.IntegerField(source="round.year")
    city = serializers.CharField(source="city_id")
    city_name = serializers.CharField(source="city.name")
    operator = serializers.CharField(source="operator_id")
    reported_by = serializers.CharField(source="reported_by.username")

    class Meta:
        model = OperatorFigure
        fields = ["id", "round", "city", "city_name", "operator", *OPERATOR_INPUTS]
        fields += ["reported_by", "on_behalf", "source", "reported_at"]


def _count_field():
    return serializers.IntegerField(required=False, allow_null=True, min_value=0)


FigureRowSerializer = inline_serializer(
    "OperatorFigureRow",
    {"city": serializers.CharField(), **{name: _count_field() for name in OPERATOR_INPUTS}},
)
ReportRequest = inline_serializer(
    "OperatorFigureReport",
    {
        "round": serializers.IntegerField(required=False, min_value=1900, max_value=9999),
        "operator": serializers.CharField(required=False, max_length=20),
        "dry_run": serializers.BooleanField(required=False),
        "rows": FigureRowSerializer.__class__(many=True),
    },
)
ReportHead = inline_serializer(
    "OperatorFigureReportHead",
    {name: field for name, field in ReportRequest.fields.items() if name != "rows"},
)
ReportResponse = inline_serializer(
    "OperatorFigureReportResult",
    {
        "operator": serializers.CharField(),
        "round": serializers.IntegerField(),
        "on_behalf": serializers.BooleanField(),
        "dry_run": serializers.BooleanField(),
        "rescored": serializers.IntegerField(help_text="Forms marked for scoring again"),
        "plans": serializers.ListField(child=serializers.DictField(), help_text="city, city_name, changes"),
    },
)


def _round(request, year: int | None) -> Round:
    rounds = Round.objects.visible_to(request.user)
    if year is not None:
        return get_object_or_404(rounds, year=year)
    round_ = rounds.current()
    if round_ is None:
        raise Http404
    return round_


def _reporter(request) -> None:
    if request.user.role not in (Role.OPERATOR, Role.BUREAU):
        raise RoleNotAllowed(
            _("Only a telecom operator's provincial branch, or its bureau, reports operators' figures.")
        )


class OperatorListApi(APIView):
    @extend_schema(
        tags=["operators"],
        summary="The telecom operators (reference data)",
        responses={200: OperatorSerializer(many=True), 401: NOT_LOGGED_IN},
    )
    def get(self, request):
        return Response(OperatorSerializer(Operator.objects.all(), many=True).data)


class OperatorFiguresApi(APIView):
    parser_classes = [JSONParser]

    @extend_schema(
        tags=["operators"],
        summary="Operators' figures in the caller's scope",
        description=(
            "The current figures of each (city, operator) for the round; `?history=1` every report, newest "
            "first. An operator's branch sees its own operator's figures in its province, a bureau every "
            "operator's in its province, ministry staff all; city officials none (403)."
        ),
        parameters=[FiguresQuery],
        responses={
            200: FigureSerializer(many=True),
            400: OpenApiResponse(description="A parameter is not valid"),
            401: NOT_LOGGED_IN,
            403: OpenApiResponse(description="City officials do not see operators' figures"),
            404: OpenApiResponse(description="No such round"),
        },
    )
    def get(self, request):
        if request.user.role == Role.CITY:
            raise RoleNotAllowed(_("City officials do not see operators' figures."))
        query = _query(request, FiguresQuery)
        figures = OperatorFigure.objects.visible_to(request.user).filter(round=_round(request, query.get("round")))
        if operator := query.get("operator"):
            figures = figures.filter(operator_id=operator)
        if city := query.get("city"):
            figures = figures.filter(city_id=city)
        if not query["history"]:
            figures = figures.current()
        figures = figures.select_related("round", "city", "reported_by").order_by("city_id", "operator__order", "-pk")
        return Response(FigureSerializer(figures, many=True).data)

    @extend_schema(
        tags=["operators"],
        summary="Report an operator's figures for cities of the caller's province",
        description=(
            "One row per city; a count left out or null is not reported. All or nothing: any problem and "
            "nothing is saved (400, `errors` keyed `rows[i].field`). A changed row is a new report (the old "
            "one stays in the history) and the city's reported forms are scored again. A bureau reports on an "
            "operator's behalf and names it in `operator`. `dry_run`: check and say what would change."
        ),
        request=ReportRequest,
        responses={
            201: ReportResponse,
            200: OpenApiResponse(ReportResponse, description="Dry run: nothing saved"),
            400: OpenApiResponse(description="Problems by row and field (`errors`); nothing saved"),
            401: NOT_LOGGED_IN,
            403: NOT_REPORTER,
            404: OpenApiResponse(description="No such round"),
            409: OpenApiResponse(description="The round is not open or closed (being prepared, or published)"),
        },
    )
    def post(self, request):
        _reporter(request)
        body = request.data
        if not isinstance(body, dict):
            raise ValidationError({"non_field_errors": [_("Send a JSON object.")]})
        rows = body.get("rows")
        if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
            raise ValidationError({"rows": [_("Give a list of rows, one object per city.")]})
        head = ReportHead.__class__(data={key: value for key, value in body.items() if key != "rows"})
        errors = {} if head.is_valid() else {key: [str(m) for m in messages] for key, messages in head.errors.items()}
        for key in body:
            if key not in ReportRequest.fields:
                errors[key] = [str(_("Unknown field"))]
        for index, row in enumerate(rows):
            for key in row:
                if key != "city" and key not in OPERATOR_INPUTS:
                    errors[f"rows[{index}].{key}"] = [str(_("Unknown field"))]
        if errors:
            raise ValidationError(errors)
        dry_run = head.validated_data.get("dry_run", False)
        report = operator_figures_report(
            actor=request.user,
            round_=_round(request, head.validated_data.get("round")),
            operator_code=head.validated_data.get("operator"),
            rows=rows,
            source="api",
            dry_run=dry_run,
        )
        return Response(report.as_dict(), status=status.HTTP_200_OK if dry_run else status.HTTP_201_CREATED)


def _workbook_operator(request, code: str | None) -> Operator:
    if request.user.role == Role.OPERATOR:
        return request.user.operator
    operator = Operator.objects.filter(code=code or "").first()
    if operator is None:
        raise ValidationError({"operator": [_("Choose the telecom operator whose figures these are.")]})
    return operator


class OperatorWorkbookApi(APIView):
    @extend_schema(
        tags=["operators"],
        summary="The operator workbook of the caller's province (one row per city)",
        parameters=[RoundOperatorQuery],
        responses={
            (200, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"): bytes,
            400: OpenApiResponse(description="A bureau did not name the operator"),
            401: NOT_LOGGED_IN,
            403: NOT_REPORTER,
            404: OpenApiResponse(description="No such round"),
        },
    )
    def get(self, request):
        _reporter(request)
        query = _query(request, RoundOperatorQuery)
        operator = _workbook_operator(request, query.get("operator"))
        round_ = _round(request, query.get("round"))
        province = Province.objects.get(code=request.user.province_id)
        content = operator_workbook(province=province, operator=operator, round_=round_)
        return xlsx_response(content, operator_filename(province, operator, round_))


class OperatorImportApi(APIView):
    parser_classes = [MultiPartParser]

    def initialize_request(self, request, *args, **kwargs):
        drf_request = super().initialize_request(request, *args, **kwargs)
        limit_upload(request)
        return drf_request

    @extend_schema(
        tags=["operators"],
        summary="Import an operator workbook",
        description=(
            "`?dry_run=1` checks the workbook and reports the changes per city and every problem as "
            "`sheet!cell: message` (200) without saving. A workbook for another province, operator or round "
            "is refused as a whole (`rejected`, 400); any problem and nothing is saved (400). A bureau "
            "imports an operator's workbook on its behalf."
        ),
        request={
            "multipart/form-data": inline_serializer(
                "OperatorWorkbookUpload",
                {"file": serializers.FileField(), "dry_run": serializers.BooleanField(required=False)},
            )
        },
        parameters=[ImportQuery],
        responses={
            200: OpenApiResponse(
                OperatorImportReportSerializer, description="Checked (dry run) or imported: `problems` empty"
            ),
            400: OpenApiResponse(
                refusal(OperatorImportReportSerializer),
                description="Refused or with problems (`problems`); nothing saved",
            ),
            401: NOT_LOGGED_IN,
            403: NOT_REPORTER,
            404: OpenApiResponse(description="No such round"),
            409: OpenApiResponse(description="The round is not open or closed"),
        },
    )
    def post(self, request):
        _reporter(request)
        upload = request.FILES.get("file")
        if upload is None:
            raise ValidationError({"file": [_("Choose a file.")]})
        query = _query(request, ImportQuery)
        dry_run = query["dry_run"] or str(request.data.get("dry_run") or "").lower() in TRUE
        result = operator_import(
            actor=request.user,
            upload=upload,
            round_=_round(request, query.get("round")),
            dry_run=dry_run,
            operator_code=query.get("operator") or request.data.get("operator") or None,
        )
        return Response(result.as_dict(), status=status.HTTP_200_OK if result.ok else status.HTTP_400_BAD_REQUEST)


class ToleranceApi(APIView):
    parser_classes = [JSONParser]

    def _round(self, request, year: int) -> Round:
        return get_object_or_404(Round.objects.visible_to(request.user), year=year)

    def _body(self, round_: Round) -> dict:
        return {
            "round": round_.year,
            "tolerance": str(round_.operator_tolerance),
            "version": tolerance_version(round_),
            "history": [
                {
                    "old": str(c.old_value),
                    "new": str(c.new_value),
                    "by": c.changed_by.username if c.changed_by else None,
                    "reason": c.reason,
                    "at": c.changed_at,
                }
                for c in round_.tolerance_changes.select_related("changed_by")
            ],
        }

    def _response(self, round_: Round) -> Response:
        body = self._body(round_)
        response = Response(body)
        response["ETag"] = f'"{body["version"]}"'
        return response

    @extend_schema(
        tags=["operators"],
        summary="The round's tolerance against the operators' figures, with its history",
        responses={
            200: inline_serializer(
                "Tolerance",
                {
                    "round": serializers.IntegerField(),
                    "tolerance": serializers.DecimalField(max_digits=5, decimal_places=2),
                    "version": serializers.IntegerField(
                        help_text="How many times the tolerance changed; send it back (If-Match or `version`) "
                        "to change it (also the ETag)"
                    ),
                    "history": serializers.ListField(child=serializers.DictField()),
                },
            ),
            401: NOT_LOGGED_IN,
            404: OpenApiResponse(description="No such round"),
        },
    )
    def get(self, request, year: int):
        return self._response(self._round(request, year))

    @extend_schema(
        tags=["operators"],
        summary="Change the round's tolerance (ministry staff)",
        description=(
            "A percentage from 0 to 100, with a reason; the round's reported forms are scored again. Send the "
            "version GET answered (If-Match or a `version` field): a change made meanwhile by somebody else is "
            "refused (409, or 412 for If-Match) rather than overwritten."
        ),
        parameters=[if_match_parameter('The version read, e.g. "2" (or send a version field)')],
        request=inline_serializer(
            "ToleranceChangeRequest",
            {
                "tolerance": serializers.CharField(),
                "reason": serializers.CharField(),
                "version": serializers.IntegerField(required=False, min_value=0),
            },
        ),
        responses={
            200: OpenApiResponse(description="The tolerance and its history, as GET answers"),
            400: OpenApiResponse(description="Not a percentage from 0 to 100, or no reason"),
            401: NOT_LOGGED_IN,
            403: OpenApiResponse(description="Not ministry staff"),
            404: OpenApiResponse(description="No such round"),
            409: OpenApiResponse(description="The round is published, or changed since the version sent"),
            412: OpenApiResponse(description="Changed since the version in If-Match"),
            428: OpenApiResponse(description="No version given"),
        },
    )
    def put(self, request, year: int):
        round_ = self._round(request, year)
        if not request.user.has_national_scope:  # refused for the role before asked for a version
            raise RoleNotAllowed(_("Only ministry staff change the tolerance."))
        version, via_header = expected_version(request)
        round_ = round_tolerance_set(
            round_=round_,
            value=request.data.get("tolerance", ""),
            actor=request.user,
            reason=request.data.get("reason", ""),
            expected_version=version,
            via_header=via_header,
        )
        round_.refresh_from_db(fields=["operator_tolerance"])  # as stored (8 → 8.00), as GET answers
        return self._response(round_)

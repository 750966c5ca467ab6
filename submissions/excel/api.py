"""The Excel endpoints of the API: a form's template and its import (as actions of the submissions
viewset, through `CityWorkbookActions`), and the bureau's province workbook. The reports are plain
dicts; the serializers here describe them for the schema."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, PolymorphicProxySerializer, extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from gigacity.errors import RoleNotAllowed, StaleVersion
from gigacity.models import Province, Role
from gigacity.schema import ValidationErrorSerializer
from gigacity.xlsx import xlsx_response

from ..api.parsing import expected_version, if_match_parameter
from ..public import public_name
from .city import city_template, template_filename
from .imports import ImportResult, Plan, city_import, open_round, province_import, size_message
from .province import province_filename, province_workbook
from .sheets import Problem
from .uploads import limit_upload, too_large


class WorkbookUploadSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="The .xlsx workbook")
    dry_run = serializers.BooleanField(required=False, help_text="Same as ?dry_run=1")
    version = serializers.IntegerField(required=False, min_value=0, help_text="The version the dry run reported")


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


def refusal(report: type[serializers.Serializer]) -> PolymorphicProxySerializer:
    """A 400 of an import: the report of a refused workbook, or the request's errors by field."""
    return PolymorphicProxySerializer(
        component_name=f"{report.__name__.removesuffix('Serializer')}Refusal",
        serializers=[report, ValidationErrorSerializer],
        resource_type_field_name=None,
    )


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


class CityWorkbookActions:
    """The template download and the import of one form, mixed into the submissions viewset."""

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
            if_match_parameter('The version checked, e.g. "3"'),
        ],
        responses={
            200: WorkbookImportReportSerializer,
            400: OpenApiResponse(
                refusal(WorkbookImportReportSerializer),
                description="Problems (`errors`); nothing saved. Or a request without a file or with a bad version "
                "(errors by field).",
            ),
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
    # The body is read first: only then is it known whether it was over the size limit (with
    # ?dry_run=1 nothing else would read it before the check).
    upload = request.FILES.get("file")
    dry_run = _flag(request, "dry_run")
    if too_large(request._request):
        return None, dry_run, None, False
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
        "changes": [{**change, "field": public_name(change["field"])} for change in plan.fields],
        "cases": {
            "added": plan.cases_added,
            "changed": plan.cases_changed,
            "removed": plan.cases_removed,
            "reordered": plan.cases_reordered,
        },
    }


NO_PLAN: dict[str, Any] = {
    "base_version": None,
    "version": None,
    "changes": [],
    "cases": {"added": [], "changed": [], "removed": [], "reordered": False},
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
        # A refused file has no plan: nothing would change (the schema's lists and objects, never null).
        plan = _plan_body(result.plans[0]) if result.plans else NO_PLAN
        body.update({key: plan[key] for key in ("base_version", "version", "changes", "cases")})
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
                refusal(ProvinceWorkbookImportReportSerializer),
                description="Problems (`errors`); nothing saved. Or a request without a file (errors by field).",
            ),
            403: OpenApiResponse(description="Not a provincial bureau"),
            404: OpenApiResponse(description="Not the caller's province"),
            409: OpenApiResponse(description="No round is open"),
        },
    )
    def post(self, request, code: str):
        _bureau_province(request, code)
        upload = request.FILES.get("file")  # reading the body first tells whether it was over the limit
        dry_run = _flag(request, "dry_run")
        if too_large(request._request):
            return import_response(
                ImportResult(kind="province", dry_run=dry_run).reject([Problem("", size_message(None))])
            )
        if upload is None:
            raise ValidationError({"file": [_("Choose a file.")]})
        return import_response(
            province_import(actor=request.user, upload=upload, dry_run=dry_run, force=_flag(request, "force"))
        )

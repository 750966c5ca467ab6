"""What every API endpoint shares: pagination and the one exception handler.

Kept free of drf-spectacular and view imports: DRF imports this module while it initialises."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.pagination import PageNumberPagination
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from .errors import ApplicationError
from .params import int_param


class Pagination(PageNumberPagination):
    """Pages of 50 by default; `page_size` 1–500 and `page` ≥ 1 or the request is refused (400), not
    quietly answered with another page size than the one asked for."""

    page_size_query_param = "page_size"
    max_page_size = 500
    max_page = 1_000_000_000  # far past any last page (a 404), and a number every reader can hold

    def paginate_queryset(self, queryset, request, view=None):
        errors = {}
        for name, low, high in (("page_size", 1, self.max_page_size), ("page", 1, self.max_page)):
            raw = request.query_params.getlist(name)
            if not raw:
                continue
            number = int_param(raw[-1]) if len(raw) == 1 else None
            if number is None or number < low or (high is not None and number > high):
                errors[name] = [
                    _("Must be a whole number from %(low)s to %(high)s.") % {"low": low, "high": high}
                    if high
                    else _("Must be a whole number of at least %(low)s.") % {"low": low}
                ]
        if errors:
            raise exceptions.ValidationError(errors)
        return super().paginate_queryset(queryset, request, view)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            parameter["schema"]["minimum"] = 1
            parameter["schema"]["maximum"] = (
                self.max_page_size if parameter["name"] == self.page_size_query_param else self.max_page
            )
        return parameters


def query_data(request) -> dict[str, str]:
    """The query string as a plain dict (the last value of a repeated name), for a serializer: given a
    QueryDict, DRF takes `?round=` for no round at all; a plain dict makes it the error it is."""
    return {name: request.query_params.getlist(name)[-1] for name in request.query_params}


class ContentNegotiation(DefaultContentNegotiation):
    """DRF's negotiation, refusing an empty `?format=` (DRF would ignore it) like any unknown format."""

    def select_renderer(self, request, renderers, format_suffix=None):
        name = self.settings.URL_FORMAT_OVERRIDE
        if name and not format_suffix and name in request.query_params and not request.query_params[name]:
            raise exceptions.ValidationError({name: [_("Choose one of the formats offered.")]})
        return super().select_renderer(request, renderers, format_suffix)


def exception_handler(exc, context):
    """Map domain and Django errors to DRF's, and give every error body the same shape:
    {"detail": message, "code": code, "errors": {field: [messages]}} (errors only for validation)."""
    json_errors(context)
    if isinstance(exc, ApplicationError):
        body = {"detail": exc.message, "code": exc.code, **exc.extra}
        return Response(body, status=exc.status_code)
    if isinstance(exc, DjangoValidationError):
        errors = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        exc = exceptions.ValidationError(errors)
    elif isinstance(exc, RequestDataTooBig):
        return Response(
            {"detail": _("The request is larger than the server accepts."), "code": "too_large"}, status=413
        )
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound(_("Not found, or not yours to see."))
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)

    # Imported here: rest_framework.views reads DEFAULT_CONTENT_NEGOTIATION_CLASS (this module) when it is
    # first imported, so importing it at the top would make this module import itself half-done
    # whenever DRF's settings load this module first (a worker's system checks do).
    from rest_framework.views import exception_handler as drf_exception_handler

    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # an unexpected error: Django logs it and answers with the generic 500
    if isinstance(exc, exceptions.ValidationError):
        data = response.data if isinstance(response.data, dict) else {"non_field_errors": response.data}
        response.data = {
            "detail": _("Some values are not valid; see the errors by field."),
            "code": "invalid",
            "errors": flat_errors(data),
        }
    elif isinstance(response.data, dict) and "detail" in response.data:
        detail = response.data["detail"]
        response.data = {"detail": str(detail), "code": getattr(detail, "code", "error")}
    return response


def json_errors(context) -> None:
    """An error is JSON even where the client asked for a workbook (`Accept: <xlsx>`): the renderer
    negotiated for the download would write an empty file."""
    request = context.get("request")
    if request is not None:
        request.accepted_renderer = JSONRenderer()
        request.accepted_media_type = JSONRenderer.media_type


def flat_errors(errors, prefix: str = "") -> dict[str, list[str]]:
    """{"inputs": {"a": ["…"]}, "cases": [{}, {"title": ["…"]}]} → {"inputs.a": ["…"], "cases.1.title": ["…"]}:
    the schema's `errors` is one level, field name → messages."""
    flat: dict[str, list[str]] = {}

    def walk(value, name: str) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                walk(inner, f"{name}.{key}" if name else str(key))
        elif isinstance(value, list) and any(isinstance(item, dict | list) for item in value):
            for index, item in enumerate(value):
                if item:
                    walk(item, f"{name}.{index}" if name else str(index))
        else:
            messages = value if isinstance(value, list) else [value]
            flat.setdefault(name or "non_field_errors", []).extend(str(m) for m in messages)

    walk(errors, prefix)
    return flat

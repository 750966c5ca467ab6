"""The OpenAPI schema's view of errors: every operation declares the error statuses it can give, each
with the one error body of `gigacity.api.exception_handler` (components `Error` and
`ValidationError`), so a client (and schemathesis, tests/api/test_contract.py) can rely on them."""

from __future__ import annotations

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from rest_framework import serializers
from rest_framework.permissions import AllowAny


class ErrorSerializer(serializers.Serializer):
    """Every error the API gives: a sentence for people, a code for programs. Some errors add fields
    (`current_version` on a stale version, `id` of the form that exists already)."""

    detail = serializers.CharField()
    code = serializers.CharField()


class ValidationErrorSerializer(ErrorSerializer):
    """A 400 with the messages by field; nested fields are named with dots (`inputs.fttr_users`,
    `cases.0.title`)."""

    errors = serializers.DictField(child=serializers.ListField(child=serializers.CharField()), required=False)


# Why each status can come; the operation's own description (from extend_schema) wins.
DESCRIPTIONS = {
    400: "Invalid parameters or body; `errors` names the fields",
    401: "Not logged in, or the token has expired",
    403: "The caller's role may not do this",
    404: "No such object, or not in the caller's scope",
    409: "The object's state does not allow this, or somebody else changed it first",
    412: "If-Match names a version other than the current one",
    413: "The request body is larger than the limit",
    415: "The body's Content-Type is not one this operation reads",
    428: "No version given (If-Match or a `version` field)",
    429: "Too many requests; `Retry-After` says when to try again",
}
BODY_METHODS = {"POST", "PUT", "PATCH"}


class AutoSchema(SpectacularAutoSchema):
    """drf-spectacular's AutoSchema, adding the error responses an operation can give."""

    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:
            return None
        responses = operation["responses"]
        for code in self._error_codes(operation):
            responses.setdefault(str(code), {"description": DESCRIPTIONS[code]})
        error = self.resolve_serializer(ErrorSerializer, "response").ref
        invalid = self.resolve_serializer(ValidationErrorSerializer, "response").ref
        for code, response in responses.items():
            if code.startswith("4") and "content" not in response:
                response["content"] = {"application/json": {"schema": invalid if code == "400" else error}}
        return operation

    def _error_codes(self, operation) -> set[int]:
        codes: set[int] = set()
        public = any(isinstance(p, AllowAny) for p in self.view.get_permissions())
        if not public:
            codes |= {401, 403, 404}
        if operation.get("parameters") or self.method in BODY_METHODS:
            codes.add(400)
        if self.method in BODY_METHODS:
            codes |= {413, 415}
        if self.view.get_throttles():
            codes.add(429)
        if any(p["in"] == "header" and p["name"] == "If-Match" for p in operation.get("parameters", [])):
            codes |= {409, 412}
        return codes


def closed_request_bodies(result, generator, request, public):
    """Every object a request body holds (the `…Request` components, COMPONENT_SPLIT_REQUEST) says
    `additionalProperties: false` unless it declares extra properties itself: the API refuses an
    unknown key with 400, so a client learns of a typo instead of losing the value."""
    for name, schema in result.get("components", {}).get("schemas", {}).items():
        if name.endswith("Request") and schema.get("type") == "object" and "additionalProperties" not in schema:
            schema["additionalProperties"] = False
    return result


def nonempty_uploads(result, generator, request, public):
    """A file field of a request says `minLength: 1`: an empty file is refused (DRF's FileField does)."""
    for schema in result.get("components", {}).get("schemas", {}).values():
        for field in schema.get("properties", {}).values():
            if field.get("type") == "string" and field.get("format") == "binary":
                field.setdefault("minLength", 1)
    return result

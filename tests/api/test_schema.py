"""The OpenAPI schema is valid and describes the public interfaces; the docs need no CDN."""

from __future__ import annotations

import io
import json

import pytest
import yaml
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def test_the_schema_validates_without_warnings():
    out = io.StringIO()
    call_command("spectacular", "--validate", "--fail-on-warn", stdout=out)
    schema = yaml.safe_load(out.getvalue())
    paths = schema["paths"]
    for path in (
        "/api/v1/auth/token/",
        "/api/v1/rounds/",
        "/api/v1/cities/",
        "/api/v1/submissions/",
        "/api/v1/submissions/{id}/",
        "/api/v1/submissions/{id}/submit/",
        "/api/v1/submissions/{id}/return/",
        "/api/v1/submissions/{id}/recommend/",
        "/api/v1/submissions/{id}/approve/",
        "/api/v1/submissions/{id}/reject/",
        "/api/v1/submissions/{id}/send-back/",
        "/api/v1/submissions/{id}/history/",
        "/api/v1/submissions/{id}/score/",
    ):
        assert path in paths, path
    assert "patch" in paths["/api/v1/submissions/{id}/"]


def test_the_schema_and_docs_are_for_logged_in_users_and_load_nothing_from_elsewhere(client, city_user):
    assert client.get("/api/schema/").status_code in (401, 403)
    client.force_login(city_user)
    assert client.get("/api/schema/").status_code == 200
    docs = client.get("/api/docs/").content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in docs
    assert "cdn" not in docs.lower() and "unpkg" not in docs.lower() and "jsdelivr" not in docs.lower()


def _schema() -> dict:
    out = io.StringIO()
    call_command("spectacular", "--format", "openapi-json", stdout=out)
    return json.loads(out.getvalue())


def test_every_operation_declares_the_errors_it_can_give_with_their_body():
    schema = _schema()
    error = "#/components/schemas/Error"
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            if path != "/api/v1/auth/token/":
                for code in ("401", "403", "404"):
                    assert code in responses, f"{method} {path} {code}"
                assert responses["401"]["content"]["application/json"]["schema"]["$ref"] == error
            if method in ("post", "patch"):
                assert {"400", "413", "415"} <= responses.keys(), f"{method} {path}"
    token = schema["paths"]["/api/v1/auth/token/"]["post"]["responses"]
    assert {"200", "400", "429"} <= token.keys() and "401" not in token


def test_the_parameters_say_their_bounds_and_the_bodies_refuse_unknown_keys():
    schema = _schema()
    paths, components = schema["paths"], schema["components"]["schemas"]

    def parameter(path, method, name):
        return next(p for p in paths[path][method]["parameters"] if p["name"] == name)

    assert parameter("/api/v1/cities/", "get", "page_size")["schema"] == {
        "type": "integer",
        "minimum": 1,
        "maximum": 500,
    }
    assert parameter("/api/v1/submissions/", "get", "page")["schema"]["minimum"] == 1
    for path in ("/api/v1/dashboard/national/", "/api/v1/exports/summary.xlsx", "/api/v1/submissions/"):
        bounds = parameter(path, "get", "round")["schema"]
        assert (bounds["minimum"], bounds["maximum"]) == (1900, 9999), path
    patch = paths["/api/v1/submissions/{id}/"]["patch"]
    assert parameter("/api/v1/submissions/{id}/", "patch", "If-Match")["schema"]["pattern"]
    assert {"409", "412", "428"} <= patch["responses"].keys()
    assert parameter("/api/v1/submissions/{id}/approve/", "post", "If-Match")["schema"]["pattern"]
    # The README: without a round, an export is of the current round.
    export = components["ExportRequestInputRequest"]
    assert "round" not in export.get("required", []) and export["additionalProperties"] is False
    assert components["InputsWriteRequest"]["additionalProperties"] is False

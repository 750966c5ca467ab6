"""The OpenAPI schema is valid and describes the public interfaces; the docs need no CDN."""

from __future__ import annotations

import io

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

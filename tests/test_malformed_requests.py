"""Malformed parameters get a clear refusal, never a server error (each row once caused a 500)."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from submissions.models import Status
from tests.factories import make_submission

pytestmark = pytest.mark.django_db

SUPERSCRIPT_TWO = "²"  # "²".isdigit() is True, int("²") fails


@pytest.fixture
def submitted(open_round, city_user):
    return make_submission(city_user.city, open_round, Status.SUBMITTED)


@pytest.mark.parametrize(
    ("role", "method", "url", "data"),
    [
        ("bureau_user", "get", "/bureau/?severity=x", None),
        ("bureau_user", "get", f"/bureau/?round={SUPERSCRIPT_TWO}", None),
        ("bureau_user", "get", "/bureau/?round=99999&status=nonsense&sort=nonsense", None),
        ("ministry_user", "get", "/ministry/queue/?severity=x&province=abc&region=x&flag=x", None),
        ("ministry_user", "get", f"/ministry/?round={SUPERSCRIPT_TWO * 4}", None),
        ("ministry_user", "get", "/ministry/reference-values/?round=abcd", None),
        ("bureau_user", "post", "/bureau/bulk/", {"ids": [SUPERSCRIPT_TWO, "abc"], "bulk_action": "recommend"}),
        (
            "bureau_user",
            "post",
            "/bureau/bulk/",
            {"ids": ["1"], "bulk_action": "recommend", "next": "https://evil.example/"},
        ),
        ("bureau_user", "post", "ACT", {"version": SUPERSCRIPT_TWO, "excellent": [SUPERSCRIPT_TWO]}),
    ],
)
def test_pages_refuse_malformed_parameters_without_a_server_error(client, request, submitted, role, method, url, data):
    client.force_login(request.getfixturevalue(role))
    url = f"/submissions/{submitted.pk}/act/recommend/" if url == "ACT" else url
    response = getattr(client, method)(url, data or {})
    assert response.status_code < 500
    if "evil.example" in str(data):
        assert "evil.example" not in response.get("Location", "")


@pytest.mark.parametrize(
    ("method", "url", "body"),
    [
        ("get", "/api/v1/submissions/abc/", None),
        ("get", "/api/v1/submissions/abc/score/", None),
        ("get", "/api/v1/submissions/abc/history/", None),
        ("delete", "/api/v1/attachments/abc/", None),
        ("patch", "SUBMISSION", {"version": 1, "cases": ["x", 3, None]}),
        ("patch", "SUBMISSION", {"version": "x"}),
        ("patch", "SUBMISSION", ["not", "an", "object"]),
        ("post", "/api/v1/submissions/", {"city": "abc", "round": "x"}),
    ],
)
def test_the_api_refuses_malformed_requests_without_a_server_error(city_user, submitted, method, url, body):
    client = APIClient()
    client.force_authenticate(city_user)
    url = f"/api/v1/submissions/{submitted.pk}/" if url == "SUBMISSION" else url
    response = getattr(client, method)(url, body, format="json")
    assert 400 <= response.status_code < 500


def test_a_published_round_refuses_threshold_changes_in_the_admin(client, admin_user, open_round):
    from reviews.services import round_set_status

    round_set_status(round_=open_round, status="closed", actor=admin_user)
    round_set_status(round_=open_round, status="published", actor=admin_user)
    client.force_login(admin_user)
    page = client.get(f"/admin/indicators/round/{open_round.pk}/change/").content.decode()
    assert 'name="status"' not in page  # the status changes through the admin actions only


@pytest.mark.parametrize(
    ("url", "body"),
    [
        ("SUBMISSION", '{"version": 1e400}'),
        ("SUBMISSION", '{"version": 1.5}'),
        ("SUBMISSION", '{"version": true}'),
        ("SUBMISSION", '{"version": VERSION, "cases": [{"id": 1e400, "title": "x"}]}'),
        ("SUBMISSION", '{"version": VERSION, "cases": [{"id": 99999999999999999999999, "title": "x"}]}'),
        ("SUBMIT", '{"version": 1e400}'),
    ],
)
def test_numbers_no_form_could_have_are_refused_in_words(city_user, open_round, url, body):
    draft = make_submission(city_user.city, open_round, Status.DRAFT)
    client = APIClient()
    client.force_authenticate(city_user)
    path = f"/api/v1/submissions/{draft.pk}/" + ("submit/" if url == "SUBMIT" else "")
    method = client.post if url == "SUBMIT" else client.patch

    response = method(path, body.replace("VERSION", str(draft.version)), content_type="application/json")

    assert response.status_code == 400, response.content
    assert "须为整数" in response.content.decode() or "不属于" in response.content.decode()


@pytest.mark.parametrize("path", ["/api/v1/submissions/{n}/", "/api/v1/attachments/{n}/", "/submissions/{n}/"])
def test_an_id_of_thousands_of_digits_is_not_found(client, city_user, path):
    client.force_login(city_user)
    url = path.format(n="9" * 5000)
    response = client.delete(url) if "attachments" in path else client.get(url)
    assert response.status_code == 404


@pytest.mark.parametrize(
    ("url", "field"),
    [
        ("/api/v1/submissions/?city=%00370200", "city"),  # PostgreSQL cannot store or compare NUL
        ("/api/v1/cities/?name=%E9%9D%92%00", "name"),
        ("/api/v1/submissions/?round=0.5", "round"),
        ("/api/v1/submissions/?province=", "province"),
        ("/api/v1/cities/?page_size=null", "page_size"),
        ("/api/v1/cities/?page_size=501", "page_size"),
        ("/api/v1/cities/?page=0", "page"),
        ("/api/v1/watch-list/?round=", "round"),
    ],
)
def test_the_api_says_which_parameter_is_wrong(ministry_user, url, field):
    client = APIClient()
    client.force_authenticate(ministry_user)
    response = client.get(url)
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert field in response.json()["errors"]


def test_an_api_error_is_json_also_where_a_workbook_was_asked_for_or_no_route_matches(city_user):
    client = APIClient()
    client.force_authenticate(city_user)
    xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    refused = client.get("/api/v1/exports/summary.xlsx", HTTP_ACCEPT=xlsx)
    no_route = client.get("/api/v1/no-such-thing/")
    assert refused.status_code == 403 and refused["Content-Type"] == "application/json"  # not an empty workbook
    assert refused.json()["code"] == "forbidden"  # city officials export nothing
    assert no_route.status_code == 404 and no_route.json() == {
        "detail": "未找到，或不在您的查看范围内。",
        "code": "not_found",
    }

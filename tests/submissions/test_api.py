"""The submissions API: reading and writing the form as JSON, version checks, errors by field, the
workflow actions, history and score. (Who may call what is in tests/api/matrix.py.)"""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from reviews.services import submission_return
from submissions.models import Status
from submissions.services import submission_get_or_create
from tests.factories import make_submission

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(city_user):
    client = APIClient()
    client.force_authenticate(city_user)
    return client


@pytest.fixture
def draft(open_round, city_user):
    return submission_get_or_create(city=city_user.city, round_=open_round, actor=city_user)


def url(submission, suffix=""):
    return f"/api/v1/submissions/{submission.pk}/{suffix}"


def test_a_submission_reads_with_public_names_and_an_etag(api, open_round, city_user):
    submission = make_submission(city_user.city, open_round, Status.DRAFT)
    response = api.get(url(submission))

    body = response.json()
    assert response["ETag"] == f'"{submission.version}"'
    assert (body["city"], body["round"], body["status"], body["version"]) == (
        "370200",
        open_round.year,
        "draft",
        submission.version,
    )
    assert set(body["inputs"]) == {
        "gigabit_capable_households",
        "urban_households",
        "pon_10g_ports",
        "pon_ports_total",
        "key_sites_5g_covered",
        "key_sites_total",
        "bs5g_count",
        "resident_population",
        "users_500m_plus",
        "broadband_users_total",
        "users_1000m",
        "users_5g",
        "mobile_users_total",
    }
    assert body["indicators"]["bs5g_per_10k"] == f"{submission.value_bs5g_per_10k:.1f}"
    assert body["indicators"]["users_1000m"] == str(submission.users_1000m)
    assert set(body["contact"]) == {"name", "phone", "email"}
    assert len(body["cases"]) == 6 and set(body["cases"][0]) >= {
        "id",
        "title",
        "domain",
        "description",
        "pain_points",
        "replicability",
        "partners",
    }


def test_patch_with_if_match_saves_and_returns_the_new_etag(api, draft):
    response = api.patch(
        url(draft),
        {"inputs": {"bs5g_count": "12,000", "resident_population": 10_000_000}},
        format="json",
        HTTP_IF_MATCH='"1"',
    )

    assert response.status_code == 200
    assert response["ETag"] == '"2"'
    assert response.json()["indicators"]["bs5g_per_10k"] == "12.0"


def test_a_stale_if_match_is_412_and_a_stale_body_version_is_409(api, draft):
    api.patch(url(draft), {"version": 1, "inputs": {"bs5g_count": 1}}, format="json")

    stale_header = api.patch(url(draft), {"inputs": {"bs5g_count": 2}}, format="json", HTTP_IF_MATCH='"1"')
    stale_body = api.patch(url(draft), {"version": 1, "inputs": {"bs5g_count": 3}}, format="json")

    assert stale_header.status_code == 412 and stale_body.status_code == 409
    assert stale_header.json()["code"] == "stale_version" and stale_header.json()["current_version"] == 2
    draft.refresh_from_db()
    assert draft.bs5g_count == 1


def test_a_write_without_a_version_is_refused_with_428(api, draft):
    response = api.patch(url(draft), {"inputs": {"bs5g_count": 1}}, format="json")
    assert response.status_code == 428
    assert "If-Match" in response.json()["detail"]


def test_errors_come_back_by_public_field_name_and_nothing_is_saved(api, draft):
    response = api.patch(
        url(draft),
        {
            "version": 1,
            "inputs": {"bs5g_count": -5, "urban_households": 100},
            "contact": {"email": "not-an-email"},
            "cases": [{"title": "x", "domain": "space"}],
        },
        format="json",
    )

    assert response.status_code == 400
    errors = response.json()["errors"]
    assert errors["inputs.bs5g_count"] == ["须为非负整数"]
    assert errors["contact.email"] == ["请输入有效的电子邮箱"]
    draft.refresh_from_db()
    assert draft.urban_households is None and draft.version == 1


def test_unknown_and_read_only_fields_are_refused_never_dropped(api, draft):
    response = api.patch(
        url(draft),
        {"version": 1, "status": "approved", "city": "110000", "colour": "red", "inputs": {"bs5g": 1}},
        format="json",
    )

    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"status", "city", "colour", "inputs.bs5g"}
    draft.refresh_from_db()
    assert draft.status == Status.DRAFT and draft.city_id == "370200"


def test_cases_are_the_whole_list(api, draft):
    api.patch(
        url(draft),
        {"version": 1, "cases": [{"title": "A", "domain": "industry"}, {"title": "B", "domain": "government"}]},
        format="json",
    )
    _first, second = draft.cases.order_by("position")

    response = api.patch(
        url(draft),
        {"version": 2, "cases": [{"id": second.pk, "title": "B2"}, {"title": "C", "domain": "consumer"}]},
        format="json",
    )

    assert [c["title"] for c in response.json()["cases"]] == ["B2", "C"]
    assert response.json()["cases"][0]["domain"] == ""  # the fields not sent are cleared: the list is the whole truth


def test_key_sites_by_category_are_summed(api, draft):
    response = api.patch(
        url(draft),
        {"version": 1, "key_sites": {"hospital": {"total": 10, "covered": 9}, "airport": {"total": 1, "covered": 1}}},
        format="json",
    )
    assert response.json()["inputs"]["key_sites_total"] == 11
    assert response.json()["inputs"]["key_sites_5g_covered"] == 10
    assert response.json()["key_sites"]["hospital"] == {"total": 10, "covered": 9}


def test_a_second_form_for_the_same_city_and_round_is_a_conflict(api, draft, open_round):
    response = api.post("/api/v1/submissions/", {"city": "370200", "round": open_round.year}, format="json")
    assert response.status_code == 409 and response.json()["id"] == draft.pk


def test_submitting_an_incomplete_form_lists_every_problem(api, draft):
    response = api.post(url(draft, "submit/"), {}, format="json")

    assert response.status_code == 400
    errors = response.json()["errors"]
    assert errors["inputs.bs5g_count"] == ["必填，请填写"]
    assert errors["cases"] == ["应用案例应不少于 5 个，目前为 0 个。"]
    draft.refresh_from_db()
    assert draft.status == Status.DRAFT


def test_submitting_a_complete_form_then_history_and_score(
    api, open_round, city_user, bureau_user, django_capture_on_commit_callbacks
):
    submission = make_submission(city_user.city, open_round, Status.DRAFT)

    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(url(submission, "submit/"), {}, format="json")

    assert response.status_code == 200 and response.json()["status"] == "submitted"
    score = api.get(url(submission, "score/")).json()
    assert score["status"] == "scored"
    assert {r["code"] for r in score["indicators"]} >= {"bs5g_per_10k", "applications"}
    assert set(score["indicators"][0]) == {"code", "value", "threshold", "passed", "margin", "margin_relative"}

    submission_return(submission_id=submission.pk, actor=bureau_user, reason="请核实", comments={"bs5g_count": "偏高"})
    history = api.get(url(submission, "history/")).json()
    assert [(e["from"], e["to"]) for e in history["events"]] == [("draft", "submitted"), ("submitted", "returned")]
    assert history["events"][1]["comments"] == [{"field": "inputs.bs5g_count", "message": "偏高"}]
    assert history["events"][1]["role"] == "bureau" and history["events"][1]["reason"] == "请核实"
    assert history["changes"][0]["changes"]["inputs.bs5g_count"][0] is None


def test_a_return_needs_a_reason(open_round, city_user, bureau_user):
    submission = make_submission(city_user.city, open_round, Status.SUBMITTED)
    client = APIClient()
    client.force_authenticate(bureau_user)

    response = client.post(url(submission, "return/"), {"reason": "  "}, format="json")

    assert response.status_code == 400 and response.json()["errors"]["reason"] == ["请填写理由。"]


def test_attachments_are_checked_by_content_and_stored_privately(
    api, draft, client, city_user, city_user_same_province
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    fake = SimpleUploadedFile("report.pdf", b"MZ\x90\x00 not a pdf", content_type="application/pdf")
    assert api.post(url(draft, "attachments/"), {"file": fake}, format="multipart").status_code == 400

    real = SimpleUploadedFile("../../etc/证明 材料.pdf", b"%PDF-1.4 evidence", content_type="application/pdf")
    response = api.post(url(draft, "attachments/"), {"file": real}, format="multipart")

    assert response.status_code == 201
    attachment = draft.attachments.get()
    assert attachment.original_name == "证明 材料.pdf"
    assert ".." not in attachment.file.name and "证明" not in attachment.file.name
    client.force_login(city_user)
    download = client.get(response.json()["url"])
    assert download.status_code == 200
    assert download["Content-Disposition"].startswith("attachment;")
    assert b"".join(download.streaming_content) == b"%PDF-1.4 evidence"
    client.force_login(city_user_same_province)
    assert client.get(response.json()["url"]).status_code == 404


def test_an_attachment_over_the_limit_is_refused_while_uploading(api, draft, settings):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.GIGACITY_MAX_ATTACHMENT_BYTES = 1024
    big = SimpleUploadedFile("big.pdf", b"%PDF-1.4 " + b"x" * 5000, content_type="application/pdf")

    response = api.post(url(draft, "attachments/"), {"file": big}, format="multipart")

    assert response.status_code == 413
    assert "0 MB" in response.json()["detail"] or "MB" in response.json()["detail"]
    assert not draft.attachments.exists()


def test_submitting_contradicting_numbers_through_the_api_needs_a_confirmation(api, open_round, city_user):
    submission = make_submission(city_user.city, open_round, Status.DRAFT, users_1000m=900_000, users_500m_plus=800_000)

    refused = api.post(url(submission, "submit/"), {}, format="json")
    assert refused.status_code == 400
    assert "inputs.users_1000m" in refused.json()["errors"] and "confirm_inconsistent" in refused.json()["errors"]

    accepted = api.post(url(submission, "submit/"), {"confirm_inconsistent": True}, format="json")
    assert accepted.status_code == 200 and accepted.json()["status"] == "submitted"


def test_a_form_is_opened_and_filled_in_with_one_post(api, open_round, city_user):
    response = api.post(
        "/api/v1/submissions/",
        {
            "city": "370200",
            "round": open_round.year,
            "inputs": {"bs5g_count": 12000, "resident_population": 10_000_000},
            "contact": {"name": "张三"},
            "cases": [{"title": "5G+智慧港口", "domain": "industry"}],
        },
        format="json",
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["inputs"]["bs5g_count"] == 12000 and body["contact"]["name"] == "张三"
    assert [case["title"] for case in body["cases"]] == ["5G+智慧港口"]
    assert body["indicators"]["bs5g_per_10k"] == "12.0"  # 12 000 ÷ (10 000 000 ÷ 10 000)


@pytest.mark.parametrize(
    ("inputs", "field"), [({"nonsense": 1}, "inputs.nonsense"), ({"bs5g_count": -5}, "inputs.bs5g_count")]
)
def test_a_post_with_a_wrong_section_opens_no_form_at_all(api, open_round, city_user, inputs, field):
    response = api.post(
        "/api/v1/submissions/", {"city": "370200", "round": open_round.year, "inputs": inputs}, format="json"
    )

    assert response.status_code == 400
    assert set(response.json()["errors"]) == {field}
    assert not city_user.city.submissions.exists()  # no empty draft left behind


def test_an_action_refuses_what_it_does_not_take(open_round, city_user, bureau_user):
    submission = make_submission(city_user.city, open_round, Status.SUBMITTED)
    client = APIClient()
    client.force_authenticate(bureau_user)

    response = client.post(url(submission, "recommend/"), {"note": "好", "reason": "不在此处"}, format="json")
    listed = client.post(url(submission, "recommend/"), ["not", "an", "object"], format="json")

    assert response.status_code == 400 and response.json()["errors"] == {"reason": ["无此字段"]}
    assert listed.status_code == 400
    submission.refresh_from_db()
    assert submission.status == Status.SUBMITTED


def test_the_api_says_whether_the_caller_may_change_the_form_and_why_not(api, open_round, city_user, ministry_user):
    submission = make_submission(city_user.city, open_round, Status.DRAFT)
    assert api.get(url(submission)).json()["editable"] is True

    open_round.status = "closed"
    open_round.save()
    closed = api.get(url(submission)).json()
    refused = api.patch(url(submission), {"version": submission.version, "contact": {"name": "李四"}}, format="json")

    assert closed["editable"] is False
    assert closed["not_editable_reason"] == f"{open_round.year}年度评估未在进行中，调查表不能再修改。"
    assert refused.status_code == 409 and refused.json()["detail"] == closed["not_editable_reason"]
    ministry = APIClient()
    ministry.force_authenticate(ministry_user)
    reason = ministry.get(url(submission)).json()["not_editable_reason"]
    assert reason == "只有城市本身或代其填报的省通信管理局可以修改调查表。"

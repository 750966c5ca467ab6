"""The Excel endpoints of the API: GET /api/v1/submissions/{id}/template.xlsx and
POST /api/v1/submissions/{id}/import/ (?dry_run=1), and the province workbook for bureau scripts."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from submissions.models import DataChange, Status, Submission
from submissions.services import submission_update
from tests.factories import make_submission
from tests.submissions.excel_helpers import load, save, type_into, xls_file

pytestmark = pytest.mark.django_db


@pytest.fixture
def draft(open_round, city_user):
    return make_submission(city_user.city, open_round, Status.DRAFT)


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def xlsx(content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile("调查表.xlsx", content)


def edited(client, draft, **values) -> bytes:
    workbook = load(client.get(f"/api/v1/submissions/{draft.pk}/template.xlsx").content)
    for label, value in values.items():
        type_into(workbook, label, value)
    return save(workbook)


def test_the_template_downloads_at_its_public_address(draft, city_user):
    response = api(city_user).get(f"/api/v1/submissions/{draft.pk}/template.xlsx")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert response["Content-Disposition"].startswith("attachment;")
    assert load(response.content)["指标数据"]["C2"].value == "青岛市"


def test_another_citys_template_is_not_found(draft, city_user_same_province):
    assert api(city_user_same_province).get(f"/api/v1/submissions/{draft.pk}/template.xlsx").status_code == 404


def test_a_dry_run_answers_the_changes_and_saves_nothing(draft, city_user):
    client = api(city_user)
    content = edited(client, draft, **{"5G基站数": "20,000"})

    response = client.post(
        f"/api/v1/submissions/{draft.pk}/import/?dry_run=1", {"file": xlsx(content)}, format="multipart"
    )

    assert response.status_code == 200, response.data
    body = response.json()
    assert (body["dry_run"], body["applied"], body["errors"]) == (True, False, [])
    (change,) = body["changes"]
    assert change["field"] == "inputs.bs5g_count" and change["after"] == 20000
    assert change["cell"].startswith("指标数据!C") and change["before"] == draft.bs5g_count
    assert body["base_version"] == draft.version
    draft.refresh_from_db()
    assert draft.bs5g_count != 20000


def test_an_import_with_problems_answers_400_with_each_cell_and_saves_nothing(draft, city_user):
    client = api(city_user)
    workbook = load(client.get(f"/api/v1/submissions/{draft.pk}/template.xlsx").content)
    cell = type_into(workbook, "5G基站数", "一万")
    type_into(workbook, "常住人口数", 7_000_000)
    changes = DataChange.objects.count()

    response = client.post(
        f"/api/v1/submissions/{draft.pk}/import/", {"file": xlsx(save(workbook))}, format="multipart"
    )

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid_workbook" and body["applied"] is False
    assert body["errors"] == [f"{cell}: 须为非负整数"]
    assert body["problems"] == [{"cell": cell, "item": "5G基站数", "message": "须为非负整数"}]
    assert DataChange.objects.count() == changes


def test_a_dry_run_with_problems_is_a_200_that_lists_them(draft, city_user):
    client = api(city_user)
    content = edited(client, draft, **{"5G基站数": -1})

    response = client.post(
        f"/api/v1/submissions/{draft.pk}/import/?dry_run=1", {"file": xlsx(content)}, format="multipart"
    )

    assert response.status_code == 200
    assert response.json()["errors"][0].endswith(": 须为非负整数")


def test_an_import_saves_and_answers_the_new_version(draft, city_user):
    client = api(city_user)
    content = edited(client, draft, **{"5G基站数": 30303})

    response = client.post(
        f"/api/v1/submissions/{draft.pk}/import/", {"file": xlsx(content), "version": draft.version}, format="multipart"
    )

    assert response.status_code == 200, response.data
    body = response.json()
    assert body["applied"] is True and body["version"] == draft.version + 1
    assert Submission.objects.get(pk=draft.pk).bs5g_count == 30303


@pytest.mark.parametrize(("how", "status"), [("body", 409), ("header", 412)])
def test_an_import_against_a_version_changed_since_the_dry_run_is_refused(draft, city_user, how, status):
    client = api(city_user)
    content = edited(client, draft, **{"5G基站数": 40404})
    checked = client.post(
        f"/api/v1/submissions/{draft.pk}/import/?dry_run=1", {"file": xlsx(content)}, format="multipart"
    ).json()
    submission_update(
        submission_id=draft.pk, actor=city_user, data={"contact_name": "王强"}, expected_version=draft.version
    )
    data = {"file": xlsx(content)}
    headers = {}
    if how == "body":
        data["version"] = checked["base_version"]
    else:
        headers["HTTP_IF_MATCH"] = f'"{checked["base_version"]}"'

    response = client.post(f"/api/v1/submissions/{draft.pk}/import/", data, format="multipart", **headers)

    assert response.status_code == status
    assert response.json()["code"] == "stale_version"
    assert Submission.objects.get(pk=draft.pk).bs5g_count != 40404


@pytest.mark.parametrize("dry_run", ["?dry_run=1", ""])
def test_a_file_that_is_no_template_is_a_400_with_its_message(draft, city_user, dry_run):
    response = api(city_user).post(
        f"/api/v1/submissions/{draft.pk}/import/{dry_run}", {"file": xlsx(xls_file())}, format="multipart"
    )

    assert response.status_code == 400
    assert response.json()["errors"][0].startswith("这是旧版 .xls 文件")


@pytest.mark.parametrize("dry_run", ["?dry_run=1", ""])
def test_a_file_over_the_size_limit_is_refused_by_the_application(draft, city_user, settings, dry_run):
    settings.GIGACITY_MAX_WORKBOOK_BYTES = 4096
    client = api(city_user)
    content = edited(client, draft)

    response = client.post(
        f"/api/v1/submissions/{draft.pk}/import/{dry_run}", {"file": xlsx(content)}, format="multipart"
    )

    assert response.status_code == 400
    assert "超出了工作簿的大小上限" in response.json()["errors"][0]


def test_with_a_session_and_csrf_the_size_limit_still_applies_while_receiving(draft, city_user, settings):
    # Session authentication checks CSRF by reading the body: the limit is installed before that.
    settings.GIGACITY_MAX_WORKBOOK_BYTES = 4096
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(city_user)
    content = client.get(f"/api/v1/submissions/{draft.pk}/template.xlsx").content
    client.get("/city/")
    token = client.cookies[settings.CSRF_COOKIE_NAME].value

    response = client.post(
        f"/api/v1/submissions/{draft.pk}/import/", {"file": xlsx(content)}, format="multipart", HTTP_X_CSRFTOKEN=token
    )

    assert response.status_code == 400
    assert "超出了工作簿的大小上限" in response.json()["errors"][0]


def test_a_missing_file_is_a_field_error(draft, city_user):
    response = api(city_user).post(f"/api/v1/submissions/{draft.pk}/import/", {}, format="multipart")

    assert response.status_code == 400
    assert "file" in response.json()["errors"]


def test_a_submitted_form_takes_no_import(open_round, city_user):
    submitted = make_submission(city_user.city, open_round, Status.SUBMITTED)
    client = api(city_user)
    content = client.get(f"/api/v1/submissions/{submitted.pk}/template.xlsx").content

    response = client.post(f"/api/v1/submissions/{submitted.pk}/import/", {"file": xlsx(content)}, format="multipart")

    assert response.status_code == 409


def test_a_bureau_script_fills_in_its_province(open_round, bureau_user, draft):
    client = api(bureau_user)
    workbook = load(client.get("/api/v1/provinces/370000/workbook.xlsx").content)
    sheet = workbook["城市数据"]
    column = next(c for c in range(1, sheet.max_column + 1) if sheet.cell(row=2, column=c).value == "5G基站数（个）")
    row = next(r for r in range(3, sheet.max_row + 1) if sheet.cell(row=r, column=1).value == "370600")
    sheet.cell(row=row, column=column).value = 6060

    checked = client.post(
        "/api/v1/provinces/370000/import/?dry_run=1", {"file": xlsx(save(workbook))}, format="multipart"
    )
    assert checked.status_code == 200
    assert [(c["city"], c["new"], c["changes"][0]["field"]) for c in checked.json()["cities"] if c["changes"]] == [
        ("370600", True, "inputs.bs5g_count")
    ]
    assert not Submission.objects.filter(city_id="370600").exists()

    applied = client.post("/api/v1/provinces/370000/import/", {"file": xlsx(save(workbook))}, format="multipart")

    assert applied.status_code == 200 and applied.json()["applied"] is True
    assert Submission.objects.get(city_id="370600", round=open_round).bs5g_count == 6060


def test_the_schema_describes_the_excel_endpoints(city_user):
    schema = api(city_user).get("/api/schema/?format=json").json()

    paths = schema["paths"]
    template = paths["/api/v1/submissions/{id}/template.xlsx"]["get"]
    assert (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" in template["responses"]["200"]["content"]
    )
    imports = paths["/api/v1/submissions/{id}/import/"]["post"]
    assert "multipart/form-data" in imports["requestBody"]["content"]
    assert {p["name"] for p in imports["parameters"]} >= {"dry_run", "If-Match"}
    assert {"200", "400", "404", "409", "412"} <= set(imports["responses"])
    assert "errors" in schema["components"]["schemas"]["WorkbookImportReport"]["properties"]
    assert "/api/v1/provinces/{code}/import/" in paths


def test_an_outdated_template_does_not_overwrite_newer_changes_unless_forced(draft, city_user, bureau_user):
    client = api(city_user)
    content = edited(client, draft, **{"5G基站数": "20,000"})
    # After the download, the bureau adds a case on the city's behalf.
    cases = [{"id": c.pk, "title": c.title} for c in draft.cases.all()] + [
        {"title": "新增智慧港口", "domain": "industry"}
    ]
    submission_update(submission_id=draft.pk, actor=bureau_user, data={}, cases=cases, expected_version=draft.version)

    refused = client.post(f"/api/v1/submissions/{draft.pk}/import/", {"file": xlsx(content)}, format="multipart")

    assert refused.status_code == 409
    assert "下载" in refused.json()["detail"]
    assert Submission.objects.get(pk=draft.pk).cases.filter(title="新增智慧港口").exists()

    forced = client.post(f"/api/v1/submissions/{draft.pk}/import/?force=1", {"file": xlsx(content)}, format="multipart")
    assert forced.status_code == 200
    assert Submission.objects.get(pk=draft.pk).bs5g_count == 20_000

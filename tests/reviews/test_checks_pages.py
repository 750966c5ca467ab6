"""Evidence requests and sample checks through the pages and the API (issue 13): what a person sees
and is told, in Chinese; a recommendation refused while a request is open, on the page and as 409."""

from __future__ import annotations

import datetime
import io

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from rest_framework.test import APIClient

from reviews.evidence import evidence_request_create
from reviews.models import EvidenceRequest, SampleDraw
from tests.factories import make_submission

pytestmark = pytest.mark.django_db


def in_days(n: int) -> str:
    return (timezone.localdate() + datetime.timedelta(days=n)).isoformat()


@pytest.fixture
def submitted(city_user, open_round):
    return make_submission(city_user.city, open_round, "submitted", scored=False)


def test_the_bureau_asks_on_the_page_and_the_request_stands_next_to_its_field(client, submitted, bureau_user):
    client.force_login(bureau_user)
    response = client.post(
        f"/submissions/{submitted.pk}/evidence/",
        {"field": "bs5g_count", "question": "请提供基站开通清单", "due_on": in_days(5)},
        follow=True,
    )

    page = response.content.decode()
    assert response.status_code == 200
    assert "已要求城市提供核实材料" in page
    assert 'data-testid="evidence-marker-bs5g_count"' in page
    assert "请提供基站开通清单" in page
    assert "要求提供核实材料" in page  # the history's line


@pytest.mark.parametrize(
    ("data", "field_id", "message"),
    [
        ({"field": "bs5g_count", "question": "请核实", "due_on": in_days(-1)}, "evidence-due", "答复期限必须晚于今天"),
        ({"field": "bs5g_count", "question": "请核实", "due_on": "明天"}, "evidence-due", "YYYY-MM-DD"),
        (
            {"field": "bs5g_count", "question": "  ", "due_on": in_days(3)},
            "evidence-question",
            "请填写要城市核实的问题",
        ),
        ({"field": "nope", "question": "请核实", "due_on": in_days(3)}, "evidence-field", "没有这个字段或案例"),
    ],
)
def test_bad_input_on_the_page_is_told_on_its_field_and_what_was_typed_is_kept(
    client, submitted, bureau_user, data, field_id, message
):
    client.force_login(bureau_user)
    response = client.post(f"/submissions/{submitted.pk}/evidence/", data)

    page = response.content.decode()
    assert response.status_code == 400
    assert f'id="{field_id}-error"' in page and message in page
    if data["question"].strip():
        assert data["question"] in page
    assert not EvidenceRequest.objects.exists()


def test_recommending_with_an_open_request_is_refused_on_the_page_and_in_the_api(
    client, submitted, bureau_user, city_user
):
    evidence_request_create(
        submission_id=submitted.pk,
        actor=bureau_user,
        field="users_5g",
        question="5G用户数口径？",
        due_on=timezone.localdate() + datetime.timedelta(days=3),
    )
    client.force_login(bureau_user)

    page = client.post(f"/submissions/{submitted.pk}/act/recommend/", {"version": submitted.version})

    assert page.status_code == 409
    text = page.content.decode()
    assert "不能推荐" in text and "5G用户数口径" in text and "尚未办结" in text

    api = APIClient()
    api.force_authenticate(bureau_user)
    refused = api.post(f"/api/v1/submissions/{submitted.pk}/recommend/", {}, format="json")
    assert refused.status_code == 409
    assert "5G用户数口径" in refused.json()["detail"]
    assert refused.json()["evidence_requests"] == [EvidenceRequest.objects.get().pk]
    submitted.refresh_from_db()
    assert submitted.status == "submitted"


def test_the_city_answers_through_the_api_with_a_file_and_a_wrong_file_is_refused(submitted, bureau_user, city_user):
    request = evidence_request_create(
        submission_id=submitted.pk,
        actor=bureau_user,
        field="bs5g_count",
        question="请提供清单",
        due_on=timezone.localdate() + datetime.timedelta(days=3),
    )
    api = APIClient()
    api.force_authenticate(city_user)
    wrong = SimpleUploadedFile("清单.pdf", b"MZ not a pdf", content_type="application/pdf")
    refused = api.post(
        f"/api/v1/evidence-requests/{request.pk}/answer/", {"text": "见附件", "files": [wrong]}, format="multipart"
    )
    assert refused.status_code == 400
    assert "清单.pdf" in refused.json()["errors"]["files"][0]

    as_json = api.post(f"/api/v1/evidence-requests/{request.pk}/answer/", {"text": "见附件", "files": ["x.pdf"]})
    assert as_json.status_code == 400 and "multipart" in as_json.json()["errors"]["files"][0]

    good = SimpleUploadedFile("清单.pdf", b"%PDF-1.4 list", content_type="application/pdf")
    answered = api.post(
        f"/api/v1/evidence-requests/{request.pk}/answer/", {"text": "见附件", "files": [good]}, format="multipart"
    )

    assert answered.status_code == 200
    body = answered.json()
    assert body["state"] == "answered" and body["field"] == "inputs.bs5g_count"
    assert body["answers"][0]["files"][0]["name"] == "清单.pdf"
    download = APIClient()
    download.force_login(bureau_user)
    assert download.get(body["answers"][0]["files"][0]["url"]).status_code == 200


@pytest.fixture
def recommended(city_user, city_user_same_province, open_round):
    from indicators.models import Designation

    Designation.objects.filter(city_id__in=["370200", "370100"]).delete()
    return [
        make_submission(city_user.city, open_round, "recommended", scored=False),
        make_submission(city_user_same_province.city, open_round, "recommended", scored=False),
    ]


def test_the_ministry_draws_on_the_page_sees_it_repeat_identically_and_exports_it(
    client, recommended, ministry_user, open_round
):
    client.force_login(ministry_user)
    refused = client.post("/ministry/samples/", {"round": open_round.year, "size": "0"})
    assert refused.status_code == 400
    assert "样本量至少为1" in refused.content.decode() and 'id="draw-size-error"' in refused.content.decode()
    too_many = client.post("/ministry/samples/", {"round": open_round.year, "size": "3"})
    assert "不能大于可抽取的2份" in too_many.content.decode()
    bad_share = client.post("/ministry/samples/", {"round": open_round.year, "share": "150"})
    assert "大于0且不超过100" in bad_share.content.decode()
    assert not SampleDraw.objects.exists()

    drawn = client.post("/ministry/samples/", {"round": open_round.year, "share": "50", "seed": "99"}, follow=True)

    page = drawn.content.decode()
    assert 'data-testid="repeat-identical"' in page and ">99<" in page
    record = SampleDraw.objects.get()
    assert record.size == 1  # 50 % of 2
    workbook = openpyxl.load_workbook(io.BytesIO(client.get(f"/ministry/samples/{record.pk}/export.xlsx").content))
    params = {row[0]: row[1] for row in workbook.worksheets[0].iter_rows(min_row=2, values_only=True)}
    assert params["随机种子"] == "99" and params["样本量"] == 1 and params["按种子重新抽样"] == "一致"
    items = list(workbook["抽中的调查表"].iter_rows(min_row=2, values_only=True))
    assert len(items) == 1 and items[0][5] == "尚未核验"


def test_a_refused_answer_is_told_on_its_field_and_a_case_request_stands_by_its_case(
    client, submitted, bureau_user, city_user
):
    case = submitted.cases.order_by("position").first()
    request = evidence_request_create(
        submission_id=submitted.pk,
        actor=bureau_user,
        field=f"case:{case.pk}",
        question="请提供该案例的合同",
        due_on=timezone.localdate() + datetime.timedelta(days=3),
    )
    client.force_login(city_user)
    page = client.get(f"/submissions/{submitted.pk}/").content.decode()
    assert 'data-testid="evidence-marker-case"' in page and "请提供该案例的合同" in page

    wrong = SimpleUploadedFile("合同.exe", b"MZ", content_type="application/octet-stream")
    refused = client.post(f"/evidence/{request.pk}/answer/", {"text": "见附件", "files": wrong})

    assert refused.status_code == 400
    text = refused.content.decode()
    assert f'id="files-{request.pk}-error"' in text and "合同.exe" in text
    assert "见附件" in text  # what was typed is kept
    request.refresh_from_db()
    assert request.state == "open"


def field_block(page: str, name: str) -> str:
    """The survey form's block of one field, from its container to the next field's."""
    return page.split(f'data-field="{name}"')[1].split('<div class="field')[0]


def test_on_the_survey_form_each_open_request_stands_next_to_its_field_with_a_way_to_answer(
    client, submitted, bureau_user, city_user
):
    from reviews.evidence import evidence_withdraw
    from reviews.services import submission_return

    case = submitted.cases.first()
    on_field = evidence_request_create(
        submission_id=submitted.pk,
        actor=bureau_user,
        field="bs5g_count",
        question="请提供5G基站开通清单",
        due_on=timezone.localdate() + datetime.timedelta(days=5),
    )
    on_case = evidence_request_create(
        submission_id=submitted.pk,
        actor=bureau_user,
        field=f"case:{case.pk}",
        question="请提供该案例的合同复印件",
        due_on=timezone.localdate() + datetime.timedelta(days=5),
    )
    settled = evidence_request_create(
        submission_id=submitted.pk,
        actor=bureau_user,
        field="users_5g",
        question="已撤回的问题",
        due_on=timezone.localdate() + datetime.timedelta(days=5),
    )
    evidence_withdraw(request_id=settled.pk, actor=bureau_user, reason="数据已核实")
    # The bureau returns the form: the city works on it on the survey form, the requests still open.
    submission_return(submission_id=submitted.pk, actor=bureau_user, reason="请补充材料")
    # 案例's request is past its date (the clock moved on since it was asked).
    EvidenceRequest.objects.filter(pk=on_case.pk).update(due_on=timezone.localdate() - datetime.timedelta(days=1))

    client.force_login(city_user)
    page = client.get(f"/submissions/{submitted.pk}/edit/").content.decode()

    assert 'data-testid="evidence-summary"' in page
    beside = field_block(page, "bs5g_count")
    assert 'data-testid="evidence-marker-bs5g_count"' in beside
    assert "请提供5G基站开通清单" in beside
    assert f"答复期限 {on_field.due_on:%Y-%m-%d}" in beside
    assert "待答复" in beside
    assert f'href="/submissions/{submitted.pk}/#evidence-{on_field.pk}"' in beside
    assert "在表单页答复" in beside

    card = page.split(f'data-case-id="{case.pk}"')[1].split("</article>")[0]
    assert "请提供该案例的合同复印件" in card and "已逾期" in card
    assert f"#evidence-{on_case.pk}" in card
    # A withdrawn request is settled: history on the form's page, not a task on the survey form.
    assert "已撤回的问题" not in page

    # The link leads to the answer's form on the form's page.
    detail = client.get(f"/submissions/{submitted.pk}/").content.decode()
    assert f'id="evidence-{on_field.pk}"' in detail and f'action="/evidence/{on_field.pk}/answer/"' in detail

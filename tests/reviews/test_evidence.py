"""Evidence requests (核实材料, issue 13): who may ask, answer and judge; the states; the refusals on bad
input; the form's history and notifications; and recommending or approving refused while a request is
not settled."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.http import Http404
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from gigacity.errors import Conflict, RoleNotAllowed
from reviews.evidence import (
    evidence_accept,
    evidence_answer,
    evidence_reject,
    evidence_request_create,
    evidence_withdraw,
)
from reviews.models import CheckEvent, CheckFile, EvidenceRequest, Notification
from reviews.services import submission_approve, submission_recommend
from submissions.forms import field_label
from submissions.selectors import history_payload
from tests.conftest import statements_run
from tests.factories import make_submission

pytestmark = pytest.mark.django_db

QUESTION = "请提供5G基站数的运营商盖章统计表"


def tomorrow() -> datetime.date:
    return timezone.localdate() + datetime.timedelta(days=1)


def pdf(name: str = "基站统计.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, b"%PDF-1.4 evidence", content_type="application/pdf")


@pytest.fixture
def submitted(city_user, open_round):
    return make_submission(city_user.city, open_round, "submitted", scored=False)


def ask(submission, actor, **overrides):
    kwargs = {"field": "bs5g_count", "question": QUESTION, "due_on": tomorrow(), **overrides}
    return evidence_request_create(submission_id=submission.pk, actor=actor, **kwargs)


def test_the_bureau_asks_the_city_answers_with_a_file_the_bureau_accepts_and_then_recommends(
    submitted, city_user, bureau_user
):
    request = ask(submitted, bureau_user)
    assert request.state == "open"
    assert Notification.objects.filter(recipient=city_user, kind="evidence_requested").count() == 1

    with pytest.raises(Conflict) as refused:
        submission_recommend(submission_id=submitted.pk, actor=bureau_user)
    assert "5G基站" in refused.value.message or "基站" in refused.value.message
    assert QUESTION[:20] in refused.value.message

    evidence_answer(request_id=request.pk, actor=city_user, text="已附运营商统计表", files=[pdf()])
    request.refresh_from_db()
    assert request.state == "answered"
    assert CheckFile.objects.filter(answer__request=request).get().original_name == "基站统计.pdf"
    assert Notification.objects.filter(recipient=bureau_user, kind="evidence_answered").count() == 1
    # Answered but not judged still stops the recommendation.
    with pytest.raises(Conflict):
        submission_recommend(submission_id=submitted.pk, actor=bureau_user)

    evidence_accept(request_id=request.pk, actor=bureau_user)
    recommended = submission_recommend(submission_id=submitted.pk, actor=bureau_user)

    assert recommended.status == "recommended"
    kinds = [event["kind"] for event in history_payload(recommended, user=bureau_user)["checks"]]
    assert kinds == ["evidence_requested", "evidence_answered", "evidence_accepted"]
    actors = [event["actor"] for event in history_payload(recommended, user=bureau_user)["checks"]]
    assert actors == [str(bureau_user), str(city_user), str(bureau_user)]


def test_a_rejected_answer_goes_back_to_the_city_which_answers_again(submitted, city_user, bureau_user):
    request = ask(submitted, bureau_user)
    evidence_answer(request_id=request.pk, actor=city_user, text="见附件")
    evidence_reject(request_id=request.pk, actor=bureau_user, reason="附件未盖章")
    request.refresh_from_db()
    assert request.state == "rejected"
    assert Notification.objects.filter(recipient=city_user, kind="evidence_rejected").get().text == "附件未盖章"
    with pytest.raises(Conflict):
        submission_recommend(submission_id=submitted.pk, actor=bureau_user)

    evidence_answer(request_id=request.pk, actor=city_user, text="已补盖章件", files=[pdf("盖章件.pdf")])

    request.refresh_from_db()
    assert request.state == "answered"
    assert [a.text for a in request.answers.all()] == ["见附件", "已补盖章件"]


def test_a_withdrawn_request_needs_a_reason_and_no_longer_stops_the_recommendation(submitted, bureau_user):
    request = ask(submitted, bureau_user)
    with pytest.raises(ValidationError) as refused:
        evidence_withdraw(request_id=request.pk, actor=bureau_user, reason="  ")
    assert "reason" in refused.value.message_dict

    evidence_withdraw(request_id=request.pk, actor=bureau_user, reason="已电话核实")

    assert submission_recommend(submission_id=submitted.pk, actor=bureau_user).status == "recommended"
    assert CheckEvent.objects.filter(request=request).last().text == "已电话核实"


def test_the_ministry_asks_on_a_recommended_form_and_cannot_approve_until_it_is_settled(
    city_user, open_round, ministry_user, bureau_user
):
    from indicators.models import Designation

    Designation.objects.filter(city=city_user.city).delete()  # an evaluation: approve applies
    submission = make_submission(city_user.city, open_round, "recommended", scored=False)
    request = ask(submission, ministry_user, field="users_1000m")

    with pytest.raises(Conflict) as refused:
        submission_approve(submission_id=submission.pk, actor=ministry_user)
    assert "1000" in refused.value.message
    # Only the side that asked judges: the bureau may not accept the ministry's question.
    evidence_answer(request_id=request.pk, actor=city_user, text="见附件")
    with pytest.raises(RoleNotAllowed):
        evidence_accept(request_id=request.pk, actor=bureau_user)

    evidence_accept(request_id=request.pk, actor=ministry_user)
    assert submission_approve(submission_id=submission.pk, actor=ministry_user).status == "approved"


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"due_on": timezone.localdate()}, "due_on", "晚于今天"),
        ({"due_on": timezone.localdate() - datetime.timedelta(days=3)}, "due_on", "晚于今天"),
        ({"due_on": None}, "due_on", "答复期限"),
        ({"question": "   "}, "question", "问题"),
        ({"field": "no_such_field"}, "field", "没有这个字段或案例"),
        ({"field": "case:999999"}, "field", "没有这个字段或案例"),
    ],
)
def test_a_request_with_bad_input_is_refused_on_its_field_in_chinese_and_nothing_is_saved(
    submitted, bureau_user, overrides, field, message
):
    with pytest.raises(ValidationError) as refused:
        ask(submitted, bureau_user, **overrides)

    assert message in " ".join(refused.value.message_dict[field])
    assert not EvidenceRequest.objects.exists()
    assert not CheckEvent.objects.exists()


def test_a_request_on_one_of_the_forms_cases(submitted, bureau_user):
    case = submitted.cases.first()
    request = ask(submitted, bureau_user, field=f"case:{case.pk}")
    assert request.field == f"case:{case.pk}"


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (SimpleUploadedFile("脚本.exe", b"MZ\x90\x00", content_type="application/octet-stream"), "PDF"),
        (SimpleUploadedFile("假的.pdf", b"not a pdf at all", content_type="application/pdf"), ".pdf"),
    ],
)
def test_an_answer_with_a_wrong_file_is_refused_by_name_and_nothing_is_saved(
    submitted, city_user, bureau_user, upload, message
):
    request = ask(submitted, bureau_user)
    with pytest.raises(ValidationError) as refused:
        evidence_answer(request_id=request.pk, actor=city_user, text="见附件", files=[upload])

    assert message in " ".join(refused.value.message_dict["files"])
    request.refresh_from_db()
    assert request.state == "open" and not request.answers.exists() and not CheckFile.objects.exists()


def test_a_file_too_large_is_refused(submitted, city_user, bureau_user, settings):
    settings.GIGACITY_MAX_ATTACHMENT_BYTES = 1024 * 1024
    request = ask(submitted, bureau_user)
    big = SimpleUploadedFile("大文件.pdf", b"%PDF-" + b"0" * (1024 * 1024), content_type="application/pdf")
    with pytest.raises(ValidationError) as refused:
        evidence_answer(request_id=request.pk, actor=city_user, text="见附件", files=[big])
    assert "1 MB" in " ".join(refused.value.message_dict["files"])


def test_roles_and_scope(
    submitted, city_user, city_user_same_province, bureau_user, bureau_user_other_province, admin_user
):
    # A city asks nothing; another province's bureau does not see the form (404); an administrator
    # takes no part.
    with pytest.raises(RoleNotAllowed):
        ask(submitted, city_user)
    with pytest.raises(Http404):
        ask(submitted, bureau_user_other_province)
    with pytest.raises(RoleNotAllowed):
        ask(submitted, admin_user)
    request = ask(submitted, bureau_user)
    with pytest.raises(Http404):
        evidence_answer(request_id=request.pk, actor=city_user_same_province, text="x")
    with pytest.raises(RoleNotAllowed):
        evidence_answer(request_id=request.pk, actor=bureau_user, text="代答")
    # Accepting before an answer is the wrong moment.
    with pytest.raises(Conflict):
        evidence_accept(request_id=request.pk, actor=bureau_user)


def test_no_request_on_a_draft(city_user, open_round, bureau_user):
    draft = make_submission(city_user.city, open_round, "draft", scored=False)
    with pytest.raises(Conflict):
        ask(draft, bureau_user)


def test_a_notification_names_the_field_in_the_readers_language(submitted, city_user, bureau_user):
    """The bureau asks in Chinese; a city official who reads in English sees the field's English name,
    and a case by the title it had when the request was made."""
    from django.utils import translation

    from reviews.notifications import notification_title

    case = submitted.cases.first()
    with translation.override("zh-hans"):
        ask(submitted, bureau_user)
        ask(submitted, bureau_user, field=f"case:{case.pk}")
    number, on_case = Notification.objects.filter(recipient=city_user, kind="evidence_requested").order_by("pk")
    case_title = case.title
    case.title = "改过的标题"
    case.save()

    with translation.override("en"):
        assert "“5G base stations”" in notification_title(number)
        assert f"“Case “{case_title}”" in notification_title(on_case)
    with translation.override("zh-hans"):
        assert "“5G基站数" in notification_title(number)
        assert f"案例“{case_title}”" in notification_title(on_case)


def test_a_notification_made_before_the_field_key_was_kept_reads_as_written(submitted, city_user, bureau_user):
    from django.utils import translation

    from reviews.notifications import notification_title

    ask(submitted, bureau_user)
    notification = Notification.objects.get(recipient=city_user, kind="evidence_requested")
    notification.extra = {key: value for key, value in notification.extra.items() if key != "field_key"}
    notification.extra["field"] = "5G基站数（个）"
    notification.save()

    with translation.override("en"):
        assert "“5G基站数（个）”" in notification_title(notification)


def test_the_submission_page_shows_the_checks_in_its_history_and_reads_none_of_a_form_never_checked(
    submitted, bureau_user, client
):
    """The page reads with the form whether it was ever checked: a form never checked has no check
    steps to read; once evidence is asked, the step is in the page's history at once."""
    client.force_login(bureau_user)
    url = f"/submissions/{submitted.pk}/"
    with CaptureQueriesContext(connection) as queries:
        page = client.get(url).content.decode()
    assert QUESTION not in page
    assert not any(sql.startswith('SELECT "reviews_checkevent"') for sql in statements_run(queries))

    ask(submitted, bureau_user)

    with CaptureQueriesContext(connection) as queries:
        page = client.get(url).content.decode()
    history = page[page.index('aria-labelledby="history-h"') :]
    [step] = CheckEvent.objects.filter(submission=submitted)
    assert step.get_kind_display() in history
    assert f'<span class="muted">{field_label("bs5g_count")}</span>' in history  # what was asked about
    assert any(sql.startswith('SELECT "reviews_checkevent"') for sql in statements_run(queries))

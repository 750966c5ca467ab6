"""The round's tolerance against the operators' figures on the ministry's round page (issue 13): edited
with a reason and kept in a history beside the thresholds', refused on its field when it is not a
percentage from 0 to 100, never overwriting a change made meanwhile, and the round's forms compared
again under it through the scoring path."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import TestCase

from indicators.models import ToleranceChange
from submissions.models import Status
from submissions.operators import operator_figures_report, round_tolerance_set
from tests.factories import make_submission

pytestmark = pytest.mark.django_db


def page_url(round_) -> str:
    return f"/ministry/rounds/{round_.year}/"


def post(client, round_, **data):
    return client.post(page_url(round_), {"tolerance_was": "5.00", "save_tolerance": "1", **data})


def test_the_ministry_changes_the_tolerance_and_sees_its_history(client, ministry_user, open_round):
    client.force_login(ministry_user)
    page = client.get(page_url(open_round)).content.decode()
    assert "与运营商数据的允许偏差" in page
    assert 'name="tolerance" value="5"' in page  # 5.00 stored, 5 shown

    response = post(client, open_round, tolerance="8.5", reason="运营商统计口径差异")

    assert response.status_code == 302
    open_round.refresh_from_db()
    assert open_round.operator_tolerance == Decimal("8.5")
    page = client.get(page_url(open_round)).content.decode()
    assert "允许偏差已改为 8.5 %" in page
    history = page.split('data-testid="tolerance-history"')[1].split("</table>")[0]
    assert "5 %" in history and "8.5 %" in history
    assert "miit" in history and "运营商统计口径差异" in history
    # Beside the thresholds' history, which it does not mix with.
    assert "运营商统计口径差异" not in page.split('data-testid="threshold-history"')[1].split("</table>")[0]


@pytest.mark.parametrize(
    ("typed", "words"),
    [
        ("-1", "0到100之间"),
        ("100.5", "0到100之间"),
        ("abc", "0到100之间"),
        ("", "0到100之间"),
        ("3.125", "最多保留两位小数"),
    ],
    ids=["negative", "above-100", "not-a-number", "blank", "three-decimals"],
)
def test_a_bad_tolerance_is_refused_on_its_field_and_nothing_is_saved(client, ministry_user, open_round, typed, words):
    client.force_login(ministry_user)

    response = post(client, open_round, tolerance=typed, reason="试")

    assert response.status_code == 400
    page = response.content.decode()
    field = page.split('data-testid="tolerance-form"')[1].split("</form>")[0]
    assert words in field, field
    assert f'name="tolerance" value="{typed}"' in field or typed == ""  # what was typed stays
    open_round.refresh_from_db()
    assert open_round.operator_tolerance == Decimal("5")
    assert not ToleranceChange.objects.exists()


def test_a_change_needs_a_reason_and_an_unchanged_value_changes_nothing(client, ministry_user, open_round):
    client.force_login(ministry_user)

    refused = post(client, open_round, tolerance="10", reason="")
    unchanged = post(client, open_round, tolerance="5.0", reason="")

    assert refused.status_code == 400 and "请填写修改理由" in refused.content.decode()
    assert unchanged.status_code == 302
    assert "没有修改：允许偏差保持不变" in client.get(page_url(open_round)).content.decode()
    assert not ToleranceChange.objects.exists()


def test_a_change_made_meanwhile_is_not_overwritten(client, ministry_user, open_round):
    client.force_login(ministry_user)
    shown = client.get(page_url(open_round)).content.decode()
    assert 'name="tolerance_was" value="5.00"' in shown
    # Somebody else changes it to 7 % while the page is open …
    round_tolerance_set(round_=open_round, value="7", actor=ministry_user, reason="另一处修改")

    response = post(client, open_round, tolerance="10", reason="放宽")

    assert response.status_code == 409
    field = response.content.decode().split('data-testid="tolerance-form"')[1].split("</form>")[0]
    assert "miit 已将允许偏差从 5 % 改为 7 %" in field
    assert 'name="tolerance" value="10"' in field  # what was typed stays on the page
    open_round.refresh_from_db()
    assert open_round.operator_tolerance == Decimal("7")
    assert list(ToleranceChange.objects.values_list("reason", flat=True)) == ["另一处修改"]


@pytest.mark.parametrize(
    ("fixture", "status"),
    [("bureau_user", 403), ("city_user", 403), ("operator_user", 403), ("admin_user", 403)],
)
def test_only_the_ministry_changes_the_tolerance_on_the_page(client, open_round, fixture, status, request):
    client.force_login(request.getfixturevalue(fixture))

    response = post(client, open_round, tolerance="50", reason="试")

    assert response.status_code == status
    open_round.refresh_from_db()
    assert open_round.operator_tolerance == Decimal("5")


def test_changing_the_tolerance_compares_the_rounds_forms_again(
    client, ministry_user, operator_user, operator_user_other, open_round
):
    # Given 青岛's form with 20,000 5G base stations, and the operators' 9,000 + 6,000 = 15,000:
    # 5,000 (33.3 %) apart, beyond the 5 % tolerance.
    submission = make_submission(
        operator_user.province.cities.get(code="370200"), open_round, Status.SUBMITTED, bs5g_count=20000
    )
    with TestCase.captureOnCommitCallbacks(execute=True):
        for actor, count in ((operator_user, 9000), (operator_user_other, 6000)):
            operator_figures_report(
                actor=actor,
                round_=open_round,
                operator_code=None,
                rows=[{"city": "370200", "bs5g_count": count}],
                source="api",
            )
    submission.refresh_from_db()
    assert submission.figures_check == "mismatch"
    version = submission.version

    # When the ministry allows 40 % (6,000 of 15,000 ≥ 5,000)
    client.force_login(ministry_user)
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = post(client, open_round, tolerance="40", reason="试点期间放宽")

    # Then the form is scored again, same version, and the mismatch is gone; the other counts are
    # still unreported by any operator.
    assert response.status_code == 302
    submission.refresh_from_db()
    assert (submission.version, submission.scoring_state) == (version, "scored")
    assert submission.figures_check == "unreported"
    latest = submission.scores.latest()
    assert not latest.flags.filter(code="operator_mismatch").exists()
    assert latest.figures_key.endswith(":40.00")


# ------------------------------------------------------------------------------------------------
# The API: the same refusal of a change made from an outdated read (If-Match or a `version` field)
# ------------------------------------------------------------------------------------------------
def api_url(round_) -> str:
    return f"/api/v1/rounds/{round_.year}/tolerance/"


@pytest.fixture
def api(ministry_user):
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(ministry_user)
    return client


def test_the_api_gives_the_version_to_send_back_and_a_change_moves_it_on(api, open_round):
    read = api.get(api_url(open_round))
    assert read.status_code == 200
    assert read.json()["version"] == 0 and read["ETag"] == '"0"'

    changed = api.put(api_url(open_round), {"tolerance": "8", "reason": "统计时点差异", "version": 0}, format="json")

    assert changed.status_code == 200
    assert changed.json()["tolerance"] == "8.00" and changed.json()["version"] == 1
    assert changed["ETag"] == '"1"'
    # The next change sends the new version, here in If-Match.
    again = api.put(
        api_url(open_round), {"tolerance": "6", "reason": "回调"}, format="json", HTTP_IF_MATCH=changed["ETag"]
    )
    assert again.status_code == 200 and again.json()["version"] == 2


@pytest.mark.parametrize(("via_header", "status"), [(False, 409), (True, 412)])
def test_the_api_refuses_a_change_made_from_an_outdated_read(api, open_round, ministry_user, via_header, status):
    assert api.get(api_url(open_round)).json()["version"] == 0
    # Somebody else changes it to 7 % after the client read it …
    round_tolerance_set(round_=open_round, value="7", actor=ministry_user, reason="另一处修改")

    body = {"tolerance": "10", "reason": "放宽"}
    if via_header:
        response = api.put(api_url(open_round), body, format="json", HTTP_IF_MATCH='"0"')
    else:
        response = api.put(api_url(open_round), {**body, "version": 0}, format="json")

    assert response.status_code == status
    assert "miit 已将允许偏差从 5 % 改为 7 %，请核对后再保存" in response.json()["detail"]
    assert response.json()["current_version"] == 1
    open_round.refresh_from_db()
    assert open_round.operator_tolerance == Decimal("7")
    assert list(ToleranceChange.objects.values_list("reason", flat=True)) == ["另一处修改"]


def test_the_api_refuses_a_change_without_a_version_and_saves_nothing(api, open_round):
    response = api.put(api_url(open_round), {"tolerance": "10", "reason": "放宽"}, format="json")

    assert response.status_code == 428
    assert "请说明您修改的是哪个版本" in response.json()["detail"]
    open_round.refresh_from_db()
    assert open_round.operator_tolerance == Decimal("5")
    assert not ToleranceChange.objects.exists()


def test_the_api_refuses_other_roles_before_asking_for_a_version(client, bureau_user, open_round):
    client.force_login(bureau_user)
    response = client.put(api_url(open_round), {"tolerance": "10", "reason": "放宽"}, content_type="application/json")
    assert response.status_code == 403

"""Every state × every action × every role: allowed, or the right refusal (409 wrong state or kind of
form, 403 wrong role, 404 outside the caller's scope), through the API, with nothing changed on a
refusal. City A (青岛) has been a Gigabit City since 2021, so its form is an annual report: the ministry
confirms it or does not, and never approves it (which would name it again). The expected outcome comes
from the brief's workflow written out by hand (`tests.workflow_spec`)."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from gigacity.models import City
from indicators.models import Designation
from submissions.models import Action, FormKind, Status, SubmissionEvent
from tests.factories import make_submission
from tests.workflow_spec import ALLOWED, WORKFLOW, WRONG_ROLE, outcome

pytestmark = pytest.mark.django_db

ACTORS = ("city", "city_same_province", "bureau", "bureau_other_province", "ministry", "admin")
ROLE_OF = {
    "city": "city",
    "city_same_province": "city",
    "bureau": "bureau",
    "bureau_other_province": "bureau",
    "ministry": "ministry",
    "admin": "admin",
}
OUT_OF_SCOPE = {"city_same_province", "bureau_other_province"}


def expected_status(state: str, action: Action, actor: str, kind: str = FormKind.ANNUAL_REPORT) -> int:
    if actor in OUT_OF_SCOPE:
        return 404
    return {ALLOWED: 200, WRONG_ROLE: 403}.get(outcome(ROLE_OF[actor], state, action.value, kind), 409)


def body_of(action: Action) -> dict:
    """Each action's own body: an unknown key is refused, not dropped."""
    if action == Action.NOT_CONFIRM:
        due = (timezone.localdate() + datetime.timedelta(days=200)).isoformat()
        return {"reason": "理由", "shortfall": ["pon_10g_share"], "improvement_due": due}
    return {Action.SUBMIT: {}, Action.RECOMMEND: {"note": "理由"}}.get(action, {"reason": "理由"})


@pytest.fixture
def actors(city_user, city_user_same_province, bureau_user, bureau_user_other_province, ministry_user, admin_user):
    return {
        "city": city_user,
        "city_same_province": city_user_same_province,
        "bureau": bureau_user,
        "bureau_other_province": bureau_user_other_province,
        "ministry": ministry_user,
        "admin": admin_user,
    }


# The actions with an operation of their own; REOPEN is taken only by recording a sample check's finding
# (issue 13: tests/reviews/test_sampling.py and the API matrix's sample-item row).
OWN_ACTIONS = [action for action in Action if WORKFLOW[action.value].button]


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize("action", OWN_ACTIONS, ids=lambda a: a.value)
@pytest.mark.parametrize("state", Status.values)
def test_transition_matrix(actors, open_round, state, action, actor):
    submission = make_submission(actors["city"].city, open_round, state)
    events_before = SubmissionEvent.objects.filter(submission=submission).count()
    client = APIClient()
    client.force_authenticate(actors[actor])

    response = client.post(f"/api/v1/submissions/{submission.pk}/{action.value}/", body_of(action), format="json")

    expected = expected_status(state, action, actor)
    assert response.status_code == expected, response.json()
    submission.refresh_from_db()
    if expected == 200:
        assert submission.status == WORKFLOW[action.value].target
        event = SubmissionEvent.objects.filter(submission=submission).last()
        assert (event.action, event.from_status, event.to_status, event.actor) == (
            action,
            state,
            WORKFLOW[action.value].target,
            actors[actor],
        )
    else:
        assert submission.status == state
        assert SubmissionEvent.objects.filter(submission=submission).count() == events_before
        assert response.json()["detail"]  # a message a person can read


DECISIONS = (Action.APPROVE, Action.REJECT, Action.CONFIRM, Action.NOT_CONFIRM)


@pytest.mark.parametrize("action", DECISIONS, ids=lambda a: a.value)
def test_the_decisions_fit_the_kind_of_form(actors, open_round, action):
    # 烟台 has never been named: its form is an evaluation, approved or rejected, never confirmed.
    submission = make_submission(City.objects.get(pk="370600"), open_round, Status.RECOMMENDED)
    assert submission.kind == FormKind.EVALUATION
    client = APIClient()
    client.force_authenticate(actors["ministry"])

    response = client.post(f"/api/v1/submissions/{submission.pk}/{action.value}/", body_of(action), format="json")

    expected = expected_status(Status.RECOMMENDED, action, "ministry", FormKind.EVALUATION)
    assert response.status_code == expected, response.json()
    submission.refresh_from_db()
    if expected == 409:
        assert submission.status == Status.RECOMMENDED
        assert "尚未" in response.json()["detail"] and "评估申报" in response.json()["detail"]
    else:
        assert submission.status == WORKFLOW[action.value].target
    assert Designation.objects.filter(city_id="370600").exists() == (action == Action.APPROVE)


def test_a_published_rounds_decisions_are_frozen(actors, open_round):
    from reviews.services import round_set_status

    submission = make_submission(actors["city"].city, open_round, Status.RECOMMENDED)
    round_set_status(round_=open_round, status="closed", actor=actors["ministry"])
    round_set_status(round_=open_round, status="published", actor=actors["ministry"])
    client = APIClient()
    client.force_authenticate(actors["ministry"])

    response = client.post(f"/api/v1/submissions/{submission.pk}/confirm/", {}, format="json")

    assert response.status_code == 409
    assert "已发布" in response.json()["detail"]


def test_the_refusal_says_who_changed_it_first(actors, open_round):
    submission = make_submission(actors["city"].city, open_round, Status.APPROVED)
    client = APIClient()
    client.force_authenticate(actors["ministry"])

    response = client.post(f"/api/v1/submissions/{submission.pk}/send-back/", {"reason": "x"}, format="json")

    assert response.status_code == 409
    detail = response.json()["detail"]
    assert "ministry-factory" in detail or "miit" in detail
    assert "复核通过" in detail

"""Every state × every action × every role: allowed, or the right refusal (409 wrong state, 403 wrong
role, 404 outside the caller's scope), through the API, with nothing changed on a refusal. The
expected outcome comes from the brief's workflow written out by hand (`tests.workflow_spec`)."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from submissions.models import Action, Status, SubmissionEvent
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


def expected_status(state: str, action: Action, actor: str) -> int:
    if actor in OUT_OF_SCOPE:
        return 404
    return {ALLOWED: 200, WRONG_ROLE: 403}.get(outcome(ROLE_OF[actor], state, action.value), 409)


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


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize("action", list(Action), ids=lambda a: a.value)
@pytest.mark.parametrize("state", Status.values)
def test_transition_matrix(actors, open_round, state, action, actor):
    submission = make_submission(actors["city"].city, open_round, state)
    events_before = SubmissionEvent.objects.filter(submission=submission).count()
    client = APIClient()
    client.force_authenticate(actors[actor])

    # Each action's own body: an unknown key is refused, not dropped.
    body = {Action.SUBMIT: {}, Action.RECOMMEND: {"note": "理由"}}.get(action, {"reason": "理由"})
    response = client.post(f"/api/v1/submissions/{submission.pk}/{action.value}/", body, format="json")

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


def test_a_published_rounds_decisions_are_frozen(actors, open_round):
    from reviews.services import round_set_status

    submission = make_submission(actors["city"].city, open_round, Status.RECOMMENDED)
    round_set_status(round_=open_round, status="closed", actor=actors["ministry"])
    round_set_status(round_=open_round, status="published", actor=actors["ministry"])
    client = APIClient()
    client.force_authenticate(actors["ministry"])

    response = client.post(f"/api/v1/submissions/{submission.pk}/approve/", {}, format="json")

    assert response.status_code == 409
    assert "已发布" in response.json()["detail"]


def test_the_refusal_says_who_changed_it_first(actors, open_round):
    submission = make_submission(actors["city"].city, open_round, Status.APPROVED)
    client = APIClient()
    client.force_authenticate(actors["ministry"])

    response = client.post(f"/api/v1/submissions/{submission.pk}/reject/", {"reason": "x"}, format="json")

    assert response.status_code == 409
    detail = response.json()["detail"]
    assert "ministry-factory" in detail or "miit" in detail
    assert "已认定" in detail

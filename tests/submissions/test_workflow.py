"""The workflow against the product brief's own statement of it (`tests.workflow_spec`, written by
hand): every role × state × action through the services people use, the reasons each step needs,
journeys that check the version and the history after every step, stale versions, the snapshot the
bureau's diff relies on, and the buttons each person sees on a form's page."""

from __future__ import annotations

import datetime
import re
from unittest import mock

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone, translation

from gigacity.errors import Conflict, RoleNotAllowed, StaleVersion
from reviews import services as review_services
from reviews.services import round_set_status
from submissions.models import Submission, SubmissionEvent
from submissions.selectors import changes_since_return
from submissions.services import submission_submit, submission_update
from submissions.workflow import allowed_actions, transition
from tests.factories import make_submission
from tests.workflow_spec import (
    ACTIONS,
    ALLOWED,
    KINDS,
    ROLES,
    STATES,
    WORKFLOW,
    WRONG_ROLE,
    WRONG_STATE,
    actions_for,
    outcome,
)

pytestmark = pytest.mark.django_db

REASON = "请核实第三季度的基站数"


def act(action: str, submission_id: int, actor, *, reason: str = REASON, expected_version: int | None = None):
    """Take `action` as a person does, through the service behind the page and the API."""
    if action == "submit":
        return submission_submit(submission_id=submission_id, actor=actor, expected_version=expected_version)
    if action == "recommend":
        return review_services.submission_recommend(
            submission_id=submission_id, actor=actor, note=reason, expected_version=expected_version
        )
    if action == "not-confirm":
        return review_services.submission_not_confirm(
            submission_id=submission_id,
            actor=actor,
            reason=reason,
            shortfall=["pon_10g_share"],
            improvement_due=timezone.localdate() + datetime.timedelta(days=180),
            expected_version=expected_version,
        )
    service = {
        "return": review_services.submission_return,
        "approve": review_services.submission_approve,
        "reject": review_services.submission_reject,
        "confirm": review_services.submission_confirm,
        "send-back": review_services.submission_send_back,
        # Issue 13: taken when a sample check's outcome reopens the form (reviews.sampling).
        "reopen": review_services.submission_reopen,
    }[action]
    return service(submission_id=submission_id, actor=actor, reason=reason, expected_version=expected_version)


@pytest.fixture(autouse=True)
def _not_yet_named(reference):
    """These tests walk an evaluation's workflow (a city not yet named: approve or reject). 青岛 and 济南
    are 2021 Gigabit Cities in the reference data; here they have not been named, so their forms are
    evaluations. The annual report's decisions (confirm, not confirm) are in test_lifecycle.py, and
    both kinds go through the role × state × action check below."""
    from indicators.models import Designation

    Designation.objects.filter(city_id__in=["370200", "370100"]).delete()


def form_in(city, round_, state: str, kind: str = "evaluation") -> Submission:
    """A form of `kind` walked to `state`: an annual report is the form of a city named in an earlier
    round, which the ministry confirms or does not confirm."""
    if kind == "annual_report":
        name_in_an_earlier_round(city)
    submission = make_submission(city, round_, state, scored=False)
    assert submission.kind == kind
    return submission


class _Undo(Exception):
    """Raised to roll one attempt back, so every attempt starts from the same form."""


@pytest.fixture
def people(city_user, bureau_user, ministry_user, admin_user, city_user_same_province):
    """One person of each role, all in the form's scope (青岛, 山东), and 济南's official."""
    return {
        "city": city_user,
        "bureau": bureau_user,
        "ministry": ministry_user,
        "admin": admin_user,
        "city_user_same_province": city_user_same_province,
    }


def test_the_spec_names_every_state_and_action_of_the_code():
    from submissions.models import Action, Status

    assert set(STATES) == set(Status.values)
    assert set(ACTIONS) == set(Action.values)


# ------------------------------------------------------------------------------------------------
# Who may do what from which state
# ------------------------------------------------------------------------------------------------
def name_in_an_earlier_round(city) -> None:
    """The city named a Gigabit City in 2021 (as 青岛 was): its forms from then on are annual reports."""
    from indicators.models import Designation, Round

    Designation.objects.create(city=city, round=Round.objects.get(year=2021), source="published")


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("state", STATES)
def test_every_role_and_action_from_each_state_is_allowed_or_refused_as_the_brief_says(people, open_round, state, kind):
    submission = form_in(people["city"].city, open_round, state, kind)
    events_before = submission.events.count()
    wrong = []
    for role in ROLES:  # the people of ROLES only: 济南's official never sees 青岛's form
        for action in ACTIONS:
            expected = WORKFLOW[action]
            try:
                with transaction.atomic():
                    act(action, submission.pk, people[role])
                    after = Submission.objects.get(pk=submission.pk)
                    event = after.events.last()
                    got = ALLOWED
                    details = (after.status, after.version, after.events.count(), event.from_status, event.to_status)
                    if details != (
                        expected.target,
                        submission.version + 1,
                        events_before + 1,
                        state,
                        expected.target,
                    ):
                        wrong.append(f"{role} {action} from {state}: allowed, but recorded {details}")
                    raise _Undo
            except _Undo:
                pass
            except RoleNotAllowed:
                got = WRONG_ROLE
            except StaleVersion:  # no version was sent: this must never happen
                got = "stale version"
            except Conflict:
                got = WRONG_STATE
            except ValidationError as exc:
                got = f"invalid: {exc.messages}"
            want = outcome(role, state, action, kind)
            if got != want:
                wrong.append(f"{role} {action} from {state}: expected {want}, got {got}")
    submission.refresh_from_db()
    assert wrong == []
    assert submission.status == state and submission.events.count() == events_before


def test_the_bureau_cannot_approve_what_it_recommended(people, open_round):
    submission = make_submission(people["city"].city, open_round, "recommended", scored=False)

    with pytest.raises(RoleNotAllowed):
        act("approve", submission.pk, people["bureau"])

    submission.refresh_from_db()
    assert submission.status == "recommended"
    assert not submission.city.designations.filter(round=open_round).exists()


@pytest.mark.parametrize("state", ["submitted", "sent_back", "returned", "draft"])
def test_the_ministry_cannot_decide_on_a_form_no_bureau_recommended(people, open_round, state):
    submission = make_submission(people["city"].city, open_round, state, scored=False)

    for action in ("approve", "reject", "send-back"):
        with pytest.raises(Conflict):
            act(action, submission.pk, people["ministry"])

    submission.refresh_from_db()
    assert submission.status == state
    assert not submission.city.designations.filter(round=open_round).exists()


def test_a_city_resubmits_a_returned_form_after_correcting_it(people, open_round):
    submission = make_submission(people["city"].city, open_round, "returned", scored=False)
    corrected = submission_update(
        submission_id=submission.pk,
        actor=people["city"],
        data={"bs5g_count": submission.bs5g_count + 100},
        expected_version=submission.version,
    )

    resubmitted = act("submit", submission.pk, people["city"], expected_version=corrected.version)

    assert resubmitted.status == "submitted"
    assert resubmitted.events.last().from_status == "returned"


@pytest.mark.parametrize(
    ("action", "state", "role", "kind"),
    [
        ("return", "submitted", "bureau", "evaluation"),
        ("reject", "recommended", "ministry", "evaluation"),
        ("not-confirm", "recommended", "ministry", "annual_report"),
        ("send-back", "recommended", "ministry", "evaluation"),
        ("send-back", "recommended", "ministry", "annual_report"),
        # Issue 13: a sample check reopens a form with its findings as the reason.
        ("reopen", "approved", "ministry", "evaluation"),
    ],
)
@pytest.mark.parametrize("reason", ["", "   \n "], ids=["empty", "blank"])
def test_returning_rejecting_not_confirming_and_sending_back_need_a_reason(
    people, open_round, action, state, role, kind, reason
):
    assert WORKFLOW[action].reason_required
    submission = form_in(people["city"].city, open_round, state, kind)

    with pytest.raises(ValidationError) as refused:
        act(action, submission.pk, people[role], reason=reason)

    assert "reason" in refused.value.message_dict
    submission.refresh_from_db()
    assert submission.status == state and submission.version == submission.events.last().version


@pytest.mark.parametrize(
    ("action", "state", "role", "kind"),
    [
        ("submit", "draft", "city", "evaluation"),
        ("recommend", "submitted", "bureau", "evaluation"),
        ("approve", "recommended", "ministry", "evaluation"),
        ("confirm", "recommended", "ministry", "annual_report"),
    ],
)
def test_submitting_recommending_approving_and_confirming_need_no_reason(people, open_round, action, state, role, kind):
    assert not WORKFLOW[action].reason_required
    submission = form_in(people["city"].city, open_round, state, kind)

    done = act(action, submission.pk, people[role], reason="")

    assert done.status == WORKFLOW[action].target
    assert done.events.last().reason == ""


def test_the_reason_is_recorded_without_surrounding_blanks(people, open_round):
    submission = make_submission(people["city"].city, open_round, "recommended", scored=False)

    act("reject", submission.pk, people["ministry"], reason="  10G-PON占比不足  \n")

    assert submission.events.last().reason == "10G-PON占比不足"


def test_nothing_changes_once_the_rounds_results_are_published(people, open_round):
    submission = make_submission(people["city"].city, open_round, "recommended", scored=False)
    round_set_status(round_=open_round, status="closed", actor=people["ministry"])
    round_set_status(round_=open_round, status="published", actor=people["ministry"])

    for language, words in (
        ("zh-hans", f"{open_round.year}年度结果已发布，审定结果不能再更改。"),
        ("en", f"The results of the {open_round.year} round are published; decisions can no longer change."),
    ):
        with translation.override(language), pytest.raises(Conflict) as refused:
            act("approve", submission.pk, people["ministry"])
        with translation.override(language):
            assert str(refused.value.message) == words

    submission.refresh_from_db()
    assert submission.status == "recommended"
    assert allowed_actions(submission, people["ministry"]) == []


# ------------------------------------------------------------------------------------------------
# Journeys: the version and the history after every step
# ------------------------------------------------------------------------------------------------
def test_a_journey_through_every_step_adds_one_version_and_one_event_each(people, open_round):
    submission = make_submission(people["city"].city, open_round, "draft", scored=False)
    version, events = submission.version, submission.events.count()
    steps = [
        ("submit", "city", "", "draft", "submitted"),
        ("return", "bureau", "请补充应用案例", "submitted", "returned"),
        ("submit", "city", "", "returned", "submitted"),
        ("recommend", "bureau", "", "submitted", "recommended"),
        ("send-back", "ministry", "请复核人口数据", "recommended", "sent_back"),
        ("recommend", "bureau", "已复核", "sent_back", "recommended"),
        ("approve", "ministry", "", "recommended", "approved"),
    ]
    for action, role, reason, source, target in steps:
        after = act(action, submission.pk, people[role], reason=reason, expected_version=version)

        stored = Submission.objects.get(pk=submission.pk)
        event = stored.events.last()
        assert (stored.status, stored.version, stored.updated_by) == (target, version + 1, people[role]), action
        assert after.version == version + 1
        assert stored.events.count() == events + 1
        assert (event.action, event.from_status, event.to_status) == (action, source, target)
        assert (event.actor, event.actor_role, event.reason, event.version) == (people[role], role, reason, version + 1)
        assert event.created_at == stored.updated_at
        version, events = stored.version, events + 1
    assert submission.city.designations.filter(round=open_round).exists()


def test_an_action_on_a_version_somebody_changed_meanwhile_is_refused(people, open_round):
    submission = make_submission(people["city"].city, open_round, "returned", scored=False)
    seen_by_bureau = submission.version
    act("submit", submission.pk, people["city"], expected_version=seen_by_bureau)  # the city resubmits

    with pytest.raises(StaleVersion) as refused:
        act("recommend", submission.pk, people["bureau"], expected_version=seen_by_bureau)

    stored = Submission.objects.get(pk=submission.pk)
    assert refused.value.status_code == 409
    assert refused.value.extra["current_version"] == seen_by_bureau + 1 == stored.version
    assert people["city"].username in refused.value.message  # told who changed it
    assert stored.status == "submitted" and stored.events.last().action == "submit"
    # With the version it has now, the same action goes through.
    assert act("recommend", submission.pk, people["bureau"], expected_version=stored.version).status == "recommended"


def test_a_stale_version_sent_in_an_if_match_header_is_a_failed_precondition(people, open_round):
    submission = make_submission(people["city"].city, open_round, "recommended", scored=False)

    with pytest.raises(StaleVersion) as refused:
        transition(
            submission_id=submission.pk,
            action="approve",
            actor=people["ministry"],
            expected_version=submission.version - 1,
            via_header=True,
        )

    assert refused.value.status_code == 412
    submission.refresh_from_db()
    assert submission.status == "recommended"


def test_a_stale_version_is_refused_before_the_state_is_looked_at(people, open_round):
    # The person acted on what they saw; telling them the form changed (and to reload) is the
    # useful answer even if their action would no longer fit the new state.
    submission = make_submission(people["city"].city, open_round, "recommended", scored=False)
    seen = submission.version
    act("reject", submission.pk, people["ministry"], reason="未达标")

    with pytest.raises(StaleVersion):
        act("approve", submission.pk, people["ministry"], expected_version=seen)


def test_the_events_snapshot_keeps_the_data_of_its_moment_so_the_bureau_sees_what_changed(client, people, open_round):
    submission = make_submission(people["city"].city, open_round, "returned", scored=False)
    before = submission.bs5g_count
    corrected = submission_update(
        submission_id=submission.pk,
        actor=people["city"],
        data={"bs5g_count": before + 1234, "contact_name": "王工"},
        expected_version=submission.version,
    )
    act("submit", submission.pk, people["city"])

    returned, resubmitted = list(submission.events.filter(action__in=["return", "submit"]).order_by("pk"))[-2:]
    assert returned.action == "return" and resubmitted.action == "submit"
    assert returned.snapshot["fields"]["bs5g_count"] == before
    assert resubmitted.snapshot["fields"]["bs5g_count"] == before + 1234 == corrected.bs5g_count
    assert resubmitted.snapshot["fields"]["contact_name"] == "王工"
    assert [c["title"] for c in resubmitted.snapshot["cases"]] == [c.title for c in corrected.cases.all()]
    assert changes_since_return(Submission.objects.get(pk=submission.pk)).changes["bs5g_count"] == [
        before,
        before + 1234,
    ]
    client.force_login(people["bureau"])
    page = client.get(f"/submissions/{submission.pk}/").content.decode()
    diff = page[page.index('data-testid="diff"') :]
    diff = diff[: diff.index("</section>")]
    assert f"{before:,}" in diff or str(before) in diff
    assert f"{before + 1234:,}" in diff or str(before + 1234) in diff
    assert "王工" in diff


def test_refusals_leave_the_form_its_version_and_its_history_as_they_were(people, open_round):
    submission = make_submission(people["city"].city, open_round, "submitted", scored=False)
    last = submission.events.last()

    for action, role in [("approve", "ministry"), ("submit", "city"), ("return", "admin"), ("recommend", "city")]:
        with pytest.raises((Conflict, RoleNotAllowed)):
            act(action, submission.pk, people[role])

    stored = Submission.objects.get(pk=submission.pk)
    assert (stored.status, stored.version) == ("submitted", submission.version)
    assert stored.updated_at == submission.updated_at
    assert stored.events.last() == last


def test_a_form_outside_the_persons_scope_is_not_found(people, open_round, bureau_user_other_province):
    from django.http import Http404

    submission = make_submission(people["city"].city, open_round, "submitted", scored=False)

    with pytest.raises(Http404):
        act("recommend", submission.pk, bureau_user_other_province)


def test_the_refusal_of_a_late_action_names_who_acted_first(people, open_round):
    submission = make_submission(people["city"].city, open_round, "recommended", scored=False)
    act("approve", submission.pk, people["ministry"])

    approved = submission.events.last()
    # A day later: the refusal gives the time of the decision, not the time of the refusal.
    with (
        mock.patch("django.utils.timezone.now", return_value=approved.created_at + datetime.timedelta(days=1)),
        pytest.raises(Conflict) as refused,
    ):
        act("send-back", submission.pk, people["ministry"], reason="请复核")

    when = timezone.localtime(approved.created_at).strftime("%Y-%m-%d %H:%M")
    assert refused.value.message == f"无法发回省局：{people['ministry']} 已于 {when} 处理，当前状态为“已认定”。"
    assert SubmissionEvent.objects.filter(submission=submission, action="send-back").count() == 0


def test_a_refusal_says_the_forms_state_and_the_role_in_words(people, open_round):
    draft = make_submission(people["city"].city, open_round, "draft", scored=False)
    recommended = make_submission(people["city_user_same_province"].city, open_round, "recommended", scored=False)

    with pytest.raises(Conflict) as wrong_state:
        act("recommend", draft.pk, people["bureau"])
    with pytest.raises(RoleNotAllowed) as wrong_role:
        act("approve", recommended.pk, people["bureau"])
    with pytest.raises(ValidationError) as no_reason:
        act("reject", recommended.pk, people["ministry"], reason="")

    assert wrong_state.value.message == "调查表当前为“草稿”状态，无法推荐。"
    assert wrong_role.value.message == "您的角色无权认定调查表。"
    assert no_reason.value.message_dict == {"reason": ["请填写理由。"]}


def test_a_stale_version_says_who_changed_the_form_and_when(people, open_round):
    submission = make_submission(people["city"].city, open_round, "recommended", scored=False)
    stored = Submission.objects.get(pk=submission.pk)
    when = timezone.localtime(stored.updated_at).strftime("%Y-%m-%d %H:%M")

    a_day_later = stored.updated_at + datetime.timedelta(days=1)
    with mock.patch("django.utils.timezone.now", return_value=a_day_later), pytest.raises(StaleVersion) as refused:
        act("approve", submission.pk, people["ministry"], expected_version=stored.version - 1)
    assert refused.value.message.startswith(f"您打开本页后，{stored.updated_by} 于 {when} 修改了调查表。")

    # Saved by nobody on record: the last person who acted on it, or "somebody else".
    Submission.objects.filter(pk=submission.pk).update(updated_by=None)
    with pytest.raises(StaleVersion) as refused:
        act("approve", submission.pk, people["ministry"], expected_version=stored.version - 1)
    assert refused.value.message.startswith(f"您打开本页后，{submission.events.last().actor} 于 {when}")
    fresh = make_submission(people["city_user_same_province"].city, open_round, "draft", complete=False)
    Submission.objects.filter(pk=fresh.pk).update(updated_by=None)
    with pytest.raises(StaleVersion) as refused:
        act("submit", fresh.pk, people["city_user_same_province"], expected_version=fresh.version + 1)
    assert refused.value.message.startswith("您打开本页后，其他人 于 ")


# ------------------------------------------------------------------------------------------------
# The buttons a person sees
# ------------------------------------------------------------------------------------------------
ACTION_URL = re.compile(r'/submissions/\d+/act/([a-z-]+)/"')


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("state", STATES)
def test_each_person_sees_the_buttons_of_exactly_the_actions_the_brief_gives_them(
    client, people, open_round, state, kind
):
    submission = form_in(people["city"].city, open_round, state, kind)
    for role in ("city", "bureau", "ministry"):
        expected = actions_for(role, state, kind)

        assert {str(a) for a in allowed_actions(submission, people[role])} == expected, role
        client.force_login(people[role])
        page = client.get(f"/submissions/{submission.pk}/").content.decode()
        # The city submits from its form, not from this page: the page shows the review actions.
        assert set(ACTION_URL.findall(page)) == expected - {"submit"}, role
        if role == "city":
            form = client.get(f"/submissions/{submission.pk}/edit/", follow=True).content.decode()
            assert ('name="action" value="submit"' in form) == ("submit" in expected)

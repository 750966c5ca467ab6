"""Random sequences of edits and workflow actions by random people: whatever happens, the workflow's
invariants hold after every step (reliability.md SEC-13). What is allowed comes from the brief's
workflow written out by hand (`tests.workflow_spec`), not from the code's table. Two cities: 青岛, a
Gigabit City since 2021 (its forms are annual reports), and 烟台, never named (its form is an evaluation
until an approval names it; every later example's form is then an annual report)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from gigacity.models import Role
from indicators.models import Designation, Round, RoundStatus
from indicators.reference import ensure_thresholds
from reviews import services as review_services
from submissions.models import Action, FormKind, Status, SubmissionEvent
from submissions.services import submission_submit, submission_update
from tests.conftest import make_user
from tests.factories import make_submission
from tests.workflow_spec import ALLOWED, WORKFLOW, outcome

ROLES = ("city", "bureau", "ministry", "other_city", "other_bureau")


@pytest.mark.django_db
@pytest.mark.parametrize("code", ["370200", "370600"])
def test_workflow_invariants_hold_under_random_sequences(
    code, open_round, bureau_user, ministry_user, city_user_same_province, bureau_user_other_province
):
    city_user = make_user(f"city{code}", Role.CITY, city=code)
    people = {
        "city": city_user,
        "bureau": bureau_user,
        "ministry": ministry_user,
        "other_city": city_user_same_province,
        "other_bureau": bureau_user_other_province,
    }
    years = iter(range(3000, 4000))

    class Workflow(RuleBasedStateMachine):
        @initialize()
        def fresh_draft(self):
            # History is append-only, so every example gets a round of its own rather than a reset.
            self.round = Round.objects.create(year=next(years), status=RoundStatus.OPEN, deadline=open_round.deadline)
            ensure_thresholds(self.round)
            self.submission = make_submission(city_user.city, self.round, Status.DRAFT, scored=False)
            self.status = Status.DRAFT
            self.kind = self.submission.kind

        def _attempt(self, action: Action, who: str, work):
            # The other city and the other province's bureau never see this form.
            allowed = who in ("city", "bureau", "ministry") and (
                outcome(people[who].role, self.status, action.value, self.kind) == ALLOWED
            )
            refusal = None
            try:
                work()
            except Exception as exc:
                refusal = exc
            if refusal is not None:
                assert not allowed, f"{who} could not {action} from {self.status}: {refusal}"
            else:
                assert allowed, f"{who} was able to {action} from {self.status}"
                self.status = WORKFLOW[action.value].target

        def _act(self, action: Action, who: str, reason: str = "理由"):
            actor = people[who]
            if action == Action.SUBMIT:
                work = lambda: submission_submit(submission_id=self.submission.pk, actor=actor)  # noqa: E731
            else:
                service = {
                    Action.RETURN: review_services.submission_return,
                    Action.RECOMMEND: review_services.submission_recommend,
                    Action.APPROVE: review_services.submission_approve,
                    Action.REJECT: review_services.submission_reject,
                    Action.CONFIRM: review_services.submission_confirm,
                    Action.NOT_CONFIRM: review_services.submission_not_confirm,
                    Action.SEND_BACK: review_services.submission_send_back,
                    # Issue 13: a sample check's finding reopens a recommended or decided form.
                    Action.REOPEN: review_services.submission_reopen,
                }[action]
                kwargs = {} if action == Action.RECOMMEND else {"reason": reason}
                if action == Action.NOT_CONFIRM:
                    kwargs.update(shortfall=["bs5g_per_10k"], improvement_due=open_round.deadline)
                work = lambda: service(submission_id=self.submission.pk, actor=actor, **kwargs)  # noqa: E731
            self._attempt(action, who, work)

        # The right person acting, so that sequences get far through the workflow ...
        @rule()
        def city_submits(self):
            self._act(Action.SUBMIT, "city")

        @rule(action=st.sampled_from([Action.RECOMMEND, Action.RETURN]))
        def bureau_reviews(self, action):
            self._act(action, "bureau")

        @rule(
            action=st.sampled_from(
                [Action.APPROVE, Action.REJECT, Action.CONFIRM, Action.NOT_CONFIRM, Action.SEND_BACK, Action.REOPEN]
            )
        )
        def ministry_decides(self, action):
            self._act(action, "ministry")

        # ... and anybody trying anything, which must be refused unless the table allows it.
        @rule(who=st.sampled_from(ROLES), action=st.sampled_from(list(Action)))
        def anybody_tries(self, who, action):
            self._act(action, who)

        @rule(who=st.sampled_from(ROLES))
        def return_without_a_reason_is_refused(self, who):
            with pytest.raises(Exception):  # noqa: B017 - Http404, 403, 409 or the missing reason
                review_services.submission_return(submission_id=self.submission.pk, actor=people[who], reason="")

        @rule(who=st.sampled_from(ROLES), value=st.integers(0, 10**6))
        def edit(self, who, value):
            self.submission.refresh_from_db()
            editable = self.status in (Status.DRAFT, Status.RETURNED) and who in ("city", "bureau")
            try:
                submission_update(
                    submission_id=self.submission.pk,
                    actor=people[who],
                    data={"bs5g_count": value},
                    expected_version=self.submission.version,
                )
            except Exception:  # any refusal is checked against `editable`
                assert not editable
            else:
                assert editable

        @invariant()
        def state_matches_the_last_event(self):
            self.submission.refresh_from_db()
            assert self.submission.status == self.status
            last = SubmissionEvent.objects.filter(submission=self.submission).last()
            assert (last.to_status if last else Status.DRAFT) == self.status

        @invariant()
        def named_once_and_only_by_approving_an_evaluation(self):
            designations = Designation.objects.filter(city=city_user.city)
            assert designations.count() <= 1
            named_here = designations.filter(round=self.round).exists()
            if self.kind == FormKind.EVALUATION:
                assert named_here == (self.status == Status.APPROVED)
            else:
                assert not named_here

        @invariant()
        def every_event_follows_the_transition_table(self):
            for event in SubmissionEvent.objects.filter(submission=self.submission):
                step = WORKFLOW[event.action]
                assert event.from_status in step.sources and event.to_status == step.target
                assert event.actor_role == step.role
                if step.reason_required:
                    assert event.reason

    Workflow.TestCase.settings = settings(
        max_examples=25,
        stateful_step_count=12,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    Workflow.TestCase().runTest()

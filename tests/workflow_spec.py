"""The workflow as the product brief states it, written out by hand for the tests.

PRODUCT.md, "Workflow": draft → submitted (city) → returned (by bureau, with comments per field; city
edits and resubmits) or recommended (bureau → ministry) → approved (named a Gigabit City of that
year) or rejected or sent back to the bureau. A form sent back is the bureau's to look at again:
it returns it to the city or recommends it again. Every transition records why; a reason is
required where the person is refusing something (returning, rejecting, sending back: issue 11),
while submitting, recommending and approving need none.

Issue 12 and PRODUCT.md "Since the first version": a city is named once. A city not yet named files an
evaluation (评估申报), which the ministry approves (naming it) or rejects; a Gigabit City files an annual
report (年度复核) with the same form and review, which the ministry confirms (复核通过) or does not
confirm (复核未通过, with the reason); it is never approved, which would name it again. Sending back is
the same for both kinds.

The tests check the code against this table, never against `submissions.workflow.TRANSITIONS`: a
wrong edit to the code's table must make them fail. Plain strings on purpose: these are the public
names of the API (`status`, `POST /submissions/{id}/<action>/`).
"""

from __future__ import annotations

from dataclasses import dataclass

STATES = ("draft", "submitted", "returned", "recommended", "sent_back", "approved", "rejected")
ACTIONS = ("submit", "return", "recommend", "approve", "reject", "confirm", "not-confirm", "send-back", "reopen")
KINDS = ("evaluation", "annual_report")
# Administrators manage accounts in the Django admin; they take no part in the evaluation.
ROLES = ("city", "bureau", "ministry", "admin")


@dataclass(frozen=True)
class Step:
    role: str
    sources: frozenset[str]
    target: str
    reason_required: bool
    kinds: frozenset[str] = frozenset(KINDS)
    # A button of its own on the form's page; False for a step taken only as the consequence of
    # another record (issue 13: a sample check's finding reopens the form).
    button: bool = True


WORKFLOW: dict[str, Step] = {
    # The city submits its form: the first time, and again after the bureau returned it.
    "submit": Step("city", frozenset({"draft", "returned"}), "submitted", reason_required=False),
    # The bureau checks a submitted form, or looks again at one the ministry sent back: back to the
    # city with its reason ...
    "return": Step("bureau", frozenset({"submitted", "sent_back"}), "returned", reason_required=True),
    # ... or on to the ministry.
    "recommend": Step("bureau", frozenset({"submitted", "sent_back"}), "recommended", reason_required=False),
    # The ministry decides only on what a bureau recommended: an evaluation is approved or rejected ...
    "approve": Step("ministry", frozenset({"recommended"}), "approved", False, frozenset({"evaluation"})),
    "reject": Step("ministry", frozenset({"recommended"}), "rejected", True, frozenset({"evaluation"})),
    # ... an annual report confirmed or not confirmed (the same end states, in the words of a review).
    "confirm": Step("ministry", frozenset({"recommended"}), "approved", False, frozenset({"annual_report"})),
    "not-confirm": Step("ministry", frozenset({"recommended"}), "rejected", True, frozenset({"annual_report"})),
    "send-back": Step("ministry", frozenset({"recommended"}), "sent_back", reason_required=True),
    # Issue 13: the ministry's sample check (抽查核验) of recommended or approved forms finds a problem
    # and reopens the form to its bureau, which looks at it again as at a form sent back. The finding
    # is the reason, so one is required; it is no button of its own but part of recording the outcome.
    "reopen": Step("ministry", frozenset({"recommended", "approved"}), "sent_back", True, button=False),
}

ALLOWED, WRONG_ROLE, WRONG_STATE = "allowed", "wrong role", "wrong state"


def outcome(role: str, state: str, action: str, kind: str = "evaluation") -> str:
    """What happens when a person of `role`, in scope, tries `action` on a form of `kind` in `state`:
    a role that may never take the action is told so whatever the state (403); the right role at the
    wrong moment, or on the other kind of form, is told why not (409)."""
    step = WORKFLOW[action]
    if role != step.role:
        return WRONG_ROLE
    if state not in step.sources or kind not in step.kinds:
        return WRONG_STATE
    return ALLOWED


def actions_for(role: str, state: str, kind: str = "evaluation") -> set[str]:
    """The actions a person of `role` can take on a form of `kind` in `state` (the buttons they see)."""
    return {action for action in ACTIONS if WORKFLOW[action].button and outcome(role, state, action, kind) == ALLOWED}

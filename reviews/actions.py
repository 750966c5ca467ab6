"""The workflow actions on a form, one row each: the body it takes, the service that carries it out,
what the page says when it is done, and whether a queue may apply it to several forms at once.
Who may take it, from which states and whether it needs a reason are the transition's, in
`submissions.workflow.TRANSITIONS`; the API (`reviews.api`), the submission page and the bulk
actions of the queues (`reviews.views`) all read this table. A new action is one row here and one
in TRANSITIONS."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from gigacity.models import User
from gigacity.params import int_params
from submissions.models import Action, Submission
from submissions.public import model_field, public_name
from submissions.services import submission_submit
from submissions.workflow import TRANSITIONS, Transition

from . import services
from .forms import parse_comments

REASON_LIMIT = 5000
COMMENT_LIMIT = services.COMMENT_LIMIT


# ------------------------------------------------------------------------------------------------
# Bodies
# ------------------------------------------------------------------------------------------------
class ActionInput(serializers.Serializer):
    """What every action's body may also carry: the version the caller saw (or send If-Match)."""

    version = serializers.IntegerField(
        required=False, min_value=0, help_text="The version the caller saw: a stale one is refused (409)"
    )


class SubmitInput(ActionInput):
    confirm_inconsistent = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Submit although some numbers contradict each other (a part above its whole): the city has "
        "checked them; reviewers see a critical flag.",
    )


GIVE_A_REASON = _("Please give a reason.")


def reason_field(action: Action) -> serializers.CharField:
    """The reason an action takes: required exactly when its transition says so (TRANSITIONS is the
    one place of that rule; the body, and so the API's schema, follow it)."""
    if not TRANSITIONS[action].reason_required:
        return serializers.CharField(required=False, allow_blank=True, max_length=REASON_LIMIT, default="")
    # Blank or only spaces is no reason (the pattern says so in the schema too).
    return serializers.CharField(
        max_length=REASON_LIMIT,
        validators=[RegexValidator(r"\S", message=GIVE_A_REASON)],
        error_messages={"required": GIVE_A_REASON, "blank": GIVE_A_REASON, "null": GIVE_A_REASON},
    )


class ReturnInput(ActionInput):
    reason = reason_field(Action.RETURN)
    comments = serializers.DictField(
        child=serializers.CharField(allow_blank=True, max_length=COMMENT_LIMIT),
        required=False,
        help_text='Per field, in public names: {"inputs.bs5g_count": "...", "case:12": "..."}',
    )


class ApproveInput(ActionInput):
    reason = reason_field(Action.APPROVE)


class RejectInput(ActionInput):
    reason = reason_field(Action.REJECT)


class SendBackInput(ActionInput):
    reason = reason_field(Action.SEND_BACK)


class RecommendInput(ActionInput):
    # Leave out to keep the cases chosen before; [] says that none is excellent.
    excellent_cases = serializers.ListField(
        child=serializers.IntegerField(min_value=1), required=False, allow_null=True, default=None
    )
    note = serializers.CharField(required=False, allow_blank=True, max_length=COMMENT_LIMIT, default="")


class ConfirmInput(ActionInput):
    reason = reason_field(Action.CONFIRM)


class NotConfirmInput(ActionInput):
    reason = reason_field(Action.NOT_CONFIRM)
    # Checked by the service once the role and state allow the decision (then 400 by field).
    shortfall = serializers.ListField(
        child=serializers.ChoiceField(choices=services.SHORTFALL_CODES),
        required=False,
        default=list,
        help_text="The indicators that fell short (indicator codes; `applications` for the cases): at least one.",
    )
    improvement_due = serializers.DateField(
        required=False,
        allow_null=True,
        default=None,
        help_text="The date by which the city is to improve (after today).",
    )


# ------------------------------------------------------------------------------------------------
# The table
# ------------------------------------------------------------------------------------------------
def _reason(data: Mapping[str, Any]) -> dict[str, Any]:
    return {"reason": data["reason"]}


def _reason_from_page(post) -> dict[str, Any]:
    return {"reason": post.get("reason", "")}


@dataclass(frozen=True)
class ReviewAction:
    action: Action
    input: type[serializers.Serializer]
    service: Callable[..., Submission]
    # The validated body → the service's own keyword arguments (besides submission, actor and version).
    arguments: Callable[[Mapping[str, Any]], dict[str, Any]]
    done: Promise  # what the page says once it is done
    summary: str  # for the API's documentation
    # The submission page's form → the body, in the API's terms.
    from_page: Callable[[Any], dict[str, Any]] = _reason_from_page
    # For a queue's bulk action: the body from the one reason typed for all the selected forms;
    # None when the action is taken one form at a time.
    bulk_body: Callable[[str], dict[str, Any]] | None = None

    @property
    def transition(self) -> Transition:
        return TRANSITIONS[self.action]

    def allowed_to(self, user: User) -> bool:
        return user.role in self.transition.roles

    def perform(self, *, submission_id: int, actor: User, body: Any, **version) -> Submission:
        """Validate `body` with the row's input and carry out the action. A body that is no object,
        has a key the action does not take, or a wrong value is refused by field: nothing sent is
        ever silently dropped."""
        if not isinstance(body, Mapping):
            raise ValidationError({"non_field_errors": [_("Send a JSON object.")]})
        data = self.input(data=body)
        valid = data.is_valid()
        errors = {field: [str(m) for m in messages] for field, messages in (data.errors if not valid else {}).items()}
        for key in body:
            if key not in data.fields and key != "version":
                errors[key] = [str(_("Unknown field"))]
        if errors:
            raise ValidationError(errors)
        return self.service(submission_id=submission_id, actor=actor, **version, **self.arguments(data.validated_data))


def _return_arguments(data: Mapping[str, Any]) -> dict[str, Any]:
    comments = {model_field(key): message for key, message in (data.get("comments") or {}).items()}
    return {"reason": data["reason"], "comments": comments}


def _return_from_page(post) -> dict[str, Any]:
    return {
        "reason": post.get("reason", ""),
        "comments": {public_name(field): text for field, text in parse_comments(post).items()},
    }


def _recommend_from_page(post) -> dict[str, Any]:
    # The page always shows the case choices: nothing ticked means that none is excellent.
    return {"note": post.get("note", ""), "excellent_cases": int_params(post.getlist("excellent"))}


def _reason_body(reason: str) -> dict[str, Any]:
    return {"reason": reason}


def _not_confirm_arguments(data: Mapping[str, Any]) -> dict[str, Any]:
    return {"reason": data["reason"], "shortfall": data["shortfall"], "improvement_due": data["improvement_due"]}


def _not_confirm_from_page(post) -> dict[str, Any]:
    # An empty date field is no date (the service says so in words), not a malformed one.
    return {
        "reason": post.get("reason", ""),
        "shortfall": post.getlist("shortfall"),
        "improvement_due": post.get("improvement_due") or None,
    }


REVIEW_ACTIONS: dict[Action, ReviewAction] = {
    row.action: row
    for row in (
        ReviewAction(
            Action.SUBMIT,
            SubmitInput,
            submission_submit,
            lambda data: {"confirm_inconsistent": data["confirm_inconsistent"]},
            _("Submitted to the provincial bureau."),
            "The city submits its complete form to the provincial bureau.",
            from_page=lambda post: {"confirm_inconsistent": post.get("confirm_inconsistent") in ("1", "on", "true")},
        ),
        ReviewAction(
            Action.RETURN,
            ReturnInput,
            services.submission_return,
            _return_arguments,
            _("Returned to the city with your reason; the city has been notified."),
            "The bureau returns the form to the city with a reason and comments per field.",
            from_page=_return_from_page,
            bulk_body=_reason_body,
        ),
        ReviewAction(
            Action.RECOMMEND,
            RecommendInput,
            services.submission_recommend,
            lambda data: {"excellent_case_ids": data["excellent_cases"], "note": data["note"]},
            _("Recommended to the ministry."),
            "The bureau recommends the city to the ministry, with the cases it recommends as excellent.",
            from_page=_recommend_from_page,
            # The cases chosen before are kept: a bulk recommendation does not choose them.
            bulk_body=lambda reason: {"note": reason},
        ),
        ReviewAction(
            Action.APPROVE,
            ApproveInput,
            services.submission_approve,
            _reason,
            _("Approved: the city is now a Gigabit City of this round."),
            "The ministry names a city not yet named (an evaluation) a Gigabit City of the round's year. An "
            "annual report is confirmed instead (409 here).",
            bulk_body=_reason_body,
        ),
        ReviewAction(
            Action.REJECT,
            RejectInput,
            services.submission_reject,
            _reason,
            _("Rejected; the city and the bureau have been notified."),
            "The ministry decides that a city not yet named (an evaluation) does not meet the standard, with the "
            "reason.",
            bulk_body=_reason_body,
        ),
        ReviewAction(
            Action.CONFIRM,
            ConfirmInput,
            services.submission_confirm,
            _reason,
            _("Confirmed: the city still meets the Gigabit City standard."),
            "The ministry confirms a Gigabit City's annual report: it still meets the standard (复核通过). "
            "Nothing is named again.",
            bulk_body=_reason_body,
        ),
        ReviewAction(
            Action.NOT_CONFIRM,
            NotConfirmInput,
            services.submission_not_confirm,
            _not_confirm_arguments,
            _("Recorded as not confirmed, with the shortfall and the date for improvement."),
            "The ministry records that a Gigabit City's annual report falls short (复核未通过): the reason, the "
            "indicators that fell short and the date by which the city is to improve.",
            from_page=_not_confirm_from_page,
        ),
        ReviewAction(
            Action.SEND_BACK,
            SendBackInput,
            services.submission_send_back,
            _reason,
            _("Sent back to the provincial bureau."),
            "The ministry sends the form back to the provincial bureau to look at again, with the reason.",
            bulk_body=_reason_body,
        ),
    )
}


def bulk_actions_for(user: User) -> list[ReviewAction]:
    """The actions a queue offers this user for several forms at once."""
    return [row for row in REVIEW_ACTIONS.values() if row.bulk_body is not None and row.allowed_to(user)]

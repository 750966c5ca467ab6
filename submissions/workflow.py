"""The workflow of a submission: one table of allowed transitions, and one function that carries
out any of them the same way.

Every transition locks the row, checks the caller's scope, role and the current state, applies its
own changes, bumps the version and writes an event (actor, role, from, to, reason, time, snapshot)
in the same transaction. Two people acting at once: the second waits for the lock, then finds the
state changed and is told by whom.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import django.dispatch
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from gigacity.errors import Conflict, RoleNotAllowed, StaleVersion
from gigacity.models import Role, User

from .models import Action, FormKind, Status, Submission, SubmissionEvent
from .snapshots import snapshot

BOTH_KINDS = (FormKind.EVALUATION, FormKind.ANNUAL_REPORT)


@dataclass(frozen=True)
class Transition:
    sources: tuple[Status, ...]
    target: Status
    roles: tuple[Role, ...]
    reason_required: bool = False
    # The kinds of form it applies to: the ministry approves or rejects an evaluation, and confirms
    # or does not confirm an annual report; everything before the decision is the same for both.
    kinds: tuple[FormKind, ...] = BOTH_KINDS
    # Offered as a button on the form's page (and in `allowed_actions`); False: taken only as the
    # consequence of another record (a sample check's finding reopens the form), never on its own.
    offered: bool = True


TRANSITIONS: dict[Action, Transition] = {
    # The city submits its form, first time or after a return.
    Action.SUBMIT: Transition((Status.DRAFT, Status.RETURNED), Status.SUBMITTED, (Role.CITY,)),
    # The bureau checks it: back to the city with reasons, or on to the ministry.
    Action.RETURN: Transition((Status.SUBMITTED, Status.SENT_BACK), Status.RETURNED, (Role.BUREAU,), True),
    Action.RECOMMEND: Transition((Status.SUBMITTED, Status.SENT_BACK), Status.RECOMMENDED, (Role.BUREAU,)),
    # The ministry decides, or asks the bureau to look again. An evaluation is approved (the city is
    # named a Gigabit City, once) or rejected; an annual report is confirmed (复核通过) or not
    # confirmed (复核未通过, with the shortfall and a date for improvement).
    Action.APPROVE: Transition((Status.RECOMMENDED,), Status.APPROVED, (Role.MINISTRY,), kinds=(FormKind.EVALUATION,)),
    Action.REJECT: Transition(
        (Status.RECOMMENDED,), Status.REJECTED, (Role.MINISTRY,), True, kinds=(FormKind.EVALUATION,)
    ),
    Action.CONFIRM: Transition(
        (Status.RECOMMENDED,), Status.APPROVED, (Role.MINISTRY,), kinds=(FormKind.ANNUAL_REPORT,)
    ),
    Action.NOT_CONFIRM: Transition(
        (Status.RECOMMENDED,), Status.REJECTED, (Role.MINISTRY,), True, kinds=(FormKind.ANNUAL_REPORT,)
    ),
    Action.SEND_BACK: Transition((Status.RECOMMENDED,), Status.SENT_BACK, (Role.MINISTRY,), True),
    # A sample check (抽查核验) found a problem in a recommended or decided form: it goes back to its
    # bureau, as a form sent back does (the bureau returns it to the city or recommends it again). An
    # approval is undone with it (reviews.sampling.sample_item_record); a published round is frozen.
    Action.REOPEN: Transition(
        (Status.RECOMMENDED, Status.APPROVED), Status.SENT_BACK, (Role.MINISTRY,), True, offered=False
    ),
}

# Checks other apps add before a transition is carried out, on the locked form: each takes the form
# and the action and returns the refusal (a Conflict) or None. The reviews app adds one: an evidence
# request not settled stops a form from being recommended or approved (reviews.evidence).
Precondition = Callable[[Submission, Action], Conflict | None]
preconditions: list[Precondition] = []

# Sent after every transition, inside its transaction: notifications and scoring hang off it.
transitioned = django.dispatch.Signal()


def allowed_actions(submission: Submission, user: User) -> list[Action]:
    """The actions the user could take on the submission now (to show the right buttons)."""
    if submission.round.is_frozen:
        return []
    return [
        action
        for action, t in TRANSITIONS.items()
        if t.offered and user.role in t.roles and submission.status in t.sources and submission.kind in t.kinds
    ]


def lock_submission(*, submission_id: int, actor: User) -> Submission:
    """The submission, locked for the rest of the transaction; a 404 when outside the actor's scope."""
    try:
        return (
            Submission.objects.visible_to(actor)
            .select_for_update(of=("self",))
            .select_related("round", "city__province")
            .get(pk=submission_id)
        )
    except Submission.DoesNotExist:
        raise Http404 from None


def check_version(submission: Submission, expected_version: int | None, *, via_header: bool) -> None:
    if expected_version is None or expected_version == submission.version:
        return
    last = submission.events.select_related("actor").last()
    who = submission.updated_by or (last.actor if last else None)
    when = timezone.localtime(submission.updated_at)
    raise StaleVersion(
        _(
            "This form was changed by %(who)s at %(when)s after you opened it. Reload to see the latest "
            "version; your own changes are kept on this page so you can copy them over."
        )
        % {"who": who or _("somebody else"), "when": date_format(when, "Y-m-d H:i")},
        current_version=submission.version,
        via_header=via_header,
    )


def _state_conflict(submission: Submission, action: Action) -> Conflict:
    last = submission.events.select_related("actor").last()
    status = submission.status_label
    if last is not None:
        return Conflict(
            _("Cannot %(action)s: it was already changed by %(who)s at %(when)s and is now “%(status)s”.")
            % {
                "action": Action(action).label,
                "who": last.actor,
                "when": date_format(timezone.localtime(last.created_at), "Y-m-d H:i"),
                "status": status,
            }
        )
    return Conflict(
        _("Cannot %(action)s a submission that is “%(status)s”.") % {"action": Action(action).label, "status": status}
    )


def _kind_conflict(submission: Submission, action: Action) -> Conflict:
    names = {"city": submission.city.name, "year": submission.round.year, "action": Action(action).label}
    if submission.kind == FormKind.ANNUAL_REPORT:
        return Conflict(
            _(
                "%(city)s is already a Gigabit City: its %(year)s form is an annual report, which the ministry "
                "confirms or does not confirm. A city is named only once; “%(action)s” does not apply."
            )
            % names
        )
    return Conflict(
        _(
            "%(city)s is not yet a Gigabit City: its %(year)s form is an evaluation, which the ministry approves "
            "(naming the city) or rejects; “%(action)s” does not apply."
        )
        % names
    )


def transition(
    *,
    submission_id: int,
    action: Action,
    actor: User,
    reason: str = "",
    expected_version: int | None = None,
    via_header: bool,
    details: dict | None = None,
    apply: Callable[[Submission], None] | None = None,
) -> tuple[Submission, SubmissionEvent]:
    """Carry out one transition of TRANSITIONS. `apply` makes the transition's own changes to the
    locked row (and may raise to refuse); everything is saved in one transaction or not at all."""
    rule = TRANSITIONS[action]
    reason = (reason or "").strip()
    with transaction.atomic():
        submission = lock_submission(submission_id=submission_id, actor=actor)
        if actor.role not in rule.roles:
            raise RoleNotAllowed(_("Your role may not %(action)s submissions.") % {"action": Action(action).label})
        if submission.round.is_frozen:
            raise Conflict(
                _("The results of the %(year)s round are published; decisions can no longer change.")
                % {"year": submission.round.year}
            )
        check_version(submission, expected_version, via_header=via_header)
        if submission.status not in rule.sources:
            raise _state_conflict(submission, action)
        if submission.kind not in rule.kinds:
            raise _kind_conflict(submission, action)
        if rule.reason_required and not reason:
            raise ValidationError({"reason": _("Please give a reason.")})
        for check in preconditions:
            if (refusal := check(submission, action)) is not None:
                raise refusal

        source = submission.status
        if apply is not None:
            apply(submission)
        now = timezone.now()
        submission.status = rule.target
        submission.version += 1
        submission.updated_at = now
        submission.updated_by = actor
        submission.save()
        event = SubmissionEvent.objects.create(
            submission=submission,
            action=action,
            from_status=source,
            to_status=rule.target,
            actor=actor,
            actor_role=actor.role,
            reason=reason,
            details=details if details is not None else {},
            snapshot=snapshot(submission),
            version=submission.version,
            created_at=now,
        )
        transitioned.send(sender=Submission, submission=submission, event=event)
    return submission, event

"""Evidence requests (核实材料): a reviewer asks the city for evidence on one field or one case of its
form; the city answers with text and files; the reviewer accepts the answer, rejects it (the city
answers again) or withdraws the question with a reason. Each step is a `CheckEvent` in the form's
history and a notification to the other side.

The rule the workflow keeps: a form with a request not settled (open, answered and not yet judged, or
rejected and waiting for a new answer) cannot be recommended or approved. It is
`unsettled_evidence_refusal`, added to the workflow's preconditions (`submissions.workflow`) when the
app is ready, so the page, the API and the queues' bulk actions refuse alike.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from contextlib import contextmanager
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from gigacity.errors import ApplicationError, Conflict, RoleNotAllowed
from gigacity.models import Role, User
from gigacity.params import int_param
from submissions.forms import field_label
from submissions.models import FINAL_STATES, Action, Status, Submission
from submissions.services import upload_check
from submissions.snapshots import DATA_FIELDS
from submissions.workflow import lock_submission

from .models import (
    CheckEvent,
    CheckEventKind,
    CheckFile,
    EvidenceAnswer,
    EvidenceRequest,
    EvidenceState,
    NotificationKind,
)
from .notifications import bureau_reviewers, city_officials, ministry_staff, notify

QUESTION_LIMIT = 2000
ANSWER_LIMIT = 5000
MAX_FILES = 10
REVIEWER_ROLES = (Role.BUREAU, Role.MINISTRY)
# Fields a request may concern besides the data fields and the form's own cases.
EXTRA_FIELDS = ("cases", "attachments")
# The transitions an unsettled request stops: those that send the form on or name the city.
BLOCKED_ACTIONS = (Action.RECOMMEND, Action.APPROVE, Action.CONFIRM)


# ------------------------------------------------------------------------------------------------
# The workflow's rule
# ------------------------------------------------------------------------------------------------
def request_label(request: EvidenceRequest) -> str:
    titles = {case.pk: case.title for case in request.submission.cases.all()}
    return field_label(request.field, titles)


def notification_extra(request: EvidenceRequest) -> dict[str, Any]:
    """What a notification about the request keeps: the field's key, and for a case its title at the
    time, so that the field is named in the reader's language when read (`notifications.
    evidence_field`); the name as written then (for notifications made before the key was kept);
    the request and its date."""
    extra = {
        "field": request_label(request),
        "field_key": request.field,
        "request": request.pk,
        "due": request.due_on.isoformat(),
    }
    if request.field.startswith("case:"):
        case_id = int_param(request.field[5:].partition(".")[0])
        extra["case_title"] = next((c.title for c in request.submission.cases.all() if c.pk == case_id), "")
    return extra


def unsettled_evidence_refusal(submission: Submission, action: Action) -> Conflict | None:
    """Why the form cannot be recommended or approved now, naming the first request not settled;
    None when every request is accepted or withdrawn (or the action is not one it stops)."""
    if action not in BLOCKED_ACTIONS:
        return None
    pending = list(EvidenceRequest.objects.filter(submission=submission).unsettled().order_by("created_at", "pk"))
    if not pending:
        return None
    first = pending[0]
    message = _(
        "Cannot %(action)s: the evidence request on “%(field)s” (“%(question)s”, %(state)s) is not settled. "
        "Accept the city's answer or withdraw the request first."
    ) % {
        "action": Action(action).label,
        "field": request_label(first),
        "question": first.question[:80],
        "state": EvidenceState(first.state).label,
    }
    if len(pending) > 1:
        message += " " + _("%(n)s more requests are not settled either.") % {"n": len(pending) - 1}
    return Conflict(message, extra={"evidence_requests": [request.pk for request in pending]})


# ------------------------------------------------------------------------------------------------
# Checks shared by the steps
# ------------------------------------------------------------------------------------------------
def _known_field(submission: Submission, field: str) -> bool:
    if field in DATA_FIELDS or field in EXTRA_FIELDS:
        return True
    if field.startswith("case:"):
        key = field.removeprefix("case:")
        return key.isdigit() and submission.cases.filter(pk=int(key)).exists()
    return False


def _check_files(files: Iterable[UploadedFile]) -> list[tuple[UploadedFile, str, str, str]]:
    """Every file checked before anything is saved: one bad file refuses the answer, by name."""
    checked, errors = [], []
    files = list(files or ())
    if len(files) > MAX_FILES:
        raise ValidationError({"files": [_("At most %(n)s files at a time.") % {"n": MAX_FILES}]})
    for upload in files:
        try:
            checked.append((upload, *upload_check(upload)))
        except ApplicationError as exc:
            errors.append(f"{upload.name}: {exc.message}")
    if errors:
        raise ValidationError({"files": errors})
    return checked


def save_files(checked, *, submission: Submission, actor: User, stored: list, **owner) -> list[CheckFile]:
    """Write the checked files; `stored` collects the paths written, for the caller to remove should
    its transaction not commit (as `attachment_add` does)."""
    saved = []
    for upload, name, content_type, sha256 in checked:
        row = CheckFile(
            submission=submission,
            original_name=name,
            content_type=content_type,
            size=upload.size,
            sha256=sha256,
            uploaded_by=actor,
            **owner,
        )
        row.file.save(name, upload, save=False)
        stored.append((row.file.storage, row.file.name))
        row.save()
        saved.append(row)
    return saved


@contextmanager
def files_kept_only_on_commit():
    """The files written inside are removed again when the block raises (its transaction is then
    rolled back): no file without its row."""
    stored: list = []
    try:
        yield stored
    except BaseException:
        for storage, path in stored:
            storage.delete(path)
        raise


def _event(request: EvidenceRequest, kind: str, actor: User, text: str = "", **details) -> CheckEvent:
    return CheckEvent.objects.create(
        submission_id=request.submission_id,
        kind=kind,
        request=request,
        actor=actor,
        actor_role=actor.role,
        text=text,
        details=details,
    )


def _asker_side(request: EvidenceRequest) -> list[User]:
    if request.asked_role == Role.MINISTRY:
        return ministry_staff()
    return bureau_reviewers(request.submission.city.province_id)


def _notify(request: EvidenceRequest, kind: str, recipients: list[User], actor: User, text: str = "") -> None:
    submission = request.submission
    notify(
        recipients,
        kind=kind,
        city_id=submission.city_id,
        round_id=submission.round_id,
        submission=submission,
        actor=actor,
        text=text,
        extra=notification_extra(request),
    )


def _lock_request(request_id: int, actor: User) -> EvidenceRequest:
    """The request, locked; a 404 when its form is outside the actor's scope."""
    request = (
        EvidenceRequest.objects.visible_to(actor)
        .select_for_update(of=("self",))
        .select_related("submission__city", "submission__round")
        .filter(pk=request_id)
        .first()
    )
    if request is None:
        raise Http404
    return request


def _ensure_reviewer_of(request: EvidenceRequest, actor: User) -> None:
    """A request is judged by the side that asked: a bureau's by the bureau, the ministry's by the
    ministry (who asked knows what would satisfy them)."""
    if actor.role not in REVIEWER_ROLES:
        raise RoleNotAllowed(_("Only the provincial bureau or the ministry can judge evidence."))
    if actor.role != request.asked_role:
        raise RoleNotAllowed(
            _("This request was made by the %(side)s; only they can accept, reject or withdraw it.")
            % {"side": Role(request.asked_role).label}
        )


def _ensure_open_round(submission: Submission) -> None:
    if submission.round.is_frozen:
        raise Conflict(
            _("The results of the %(year)s round are published; its forms can no longer be checked.")
            % {"year": submission.round.year}
        )


def _state_conflict(request: EvidenceRequest, verb: str) -> Conflict:
    return Conflict(
        _("Cannot %(verb)s this request: it is “%(state)s”.")
        % {"verb": verb, "state": EvidenceState(request.state).label}
    )


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": [_("Please give a reason.")]})
    if len(reason) > QUESTION_LIMIT:
        raise ValidationError({"reason": [_("At most %(n)s characters") % {"n": QUESTION_LIMIT}]})
    return reason


# ------------------------------------------------------------------------------------------------
# The steps
# ------------------------------------------------------------------------------------------------
def evidence_request_create(
    *, submission_id: int, actor: User, field: str, question: str, due_on: datetime.date | None
) -> EvidenceRequest:
    """A bureau reviewer (of the form's province) or ministry staff asks the city for evidence on one
    field or one case of a form that has been submitted and is not decided."""
    question = (question or "").strip()
    field = (field or "").strip()
    with transaction.atomic():
        submission = lock_submission(submission_id=submission_id, actor=actor)
        if actor.role not in REVIEWER_ROLES:
            raise RoleNotAllowed(_("Only the provincial bureau or the ministry can ask for evidence."))
        _ensure_open_round(submission)
        if submission.status == Status.DRAFT or submission.status in FINAL_STATES:
            raise Conflict(
                _(
                    "Evidence can be asked for on a form that has been submitted and is not decided; "
                    "this one is “%(status)s”."
                )
                % {"status": submission.status_label}
            )
        errors: dict[str, list[str]] = {}
        if not field:
            errors["field"] = [_("Choose the field or case the question is about.")]
        elif not _known_field(submission, field):
            errors["field"] = [_("The form has no such field or case.")]
        if not question:
            errors["question"] = [_("Write the question for the city.")]
        elif len(question) > QUESTION_LIMIT:
            errors["question"] = [_("At most %(n)s characters") % {"n": QUESTION_LIMIT}]
        if due_on is None:
            errors["due_on"] = [_("Give the date by which the city is to answer.")]
        elif due_on <= timezone.localdate():
            errors["due_on"] = [_("The date to answer by must be after today.")]
        if errors:
            raise ValidationError(errors)
        request = EvidenceRequest.objects.create(
            submission=submission,
            field=field,
            question=question,
            due_on=due_on,
            asked_by=actor,
            asked_role=actor.role,
        )
        _event(request, CheckEventKind.EVIDENCE_REQUESTED, actor, question, field=field, due_on=due_on.isoformat())
        _notify(request, NotificationKind.EVIDENCE_REQUESTED, city_officials(submission.city_id), actor, question)
    return request


def evidence_answer(*, request_id: int, actor: User, text: str, files: Iterable[UploadedFile] = ()) -> EvidenceRequest:
    """The city answers an open request (or answers again one whose answer was not accepted), with
    text and, optionally, files (checked as attachments are: type, content and size)."""
    text = (text or "").strip()
    checked = _check_files(files)
    with files_kept_only_on_commit() as stored, transaction.atomic():
        request = _lock_request(request_id, actor)
        if actor.role != Role.CITY:
            raise RoleNotAllowed(_("Only the city answers an evidence request."))
        _ensure_open_round(request.submission)
        if request.state not in (EvidenceState.OPEN, EvidenceState.REJECTED):
            raise _state_conflict(request, _("answer"))
        if not text:
            raise ValidationError({"text": [_("Write your answer.")]})
        if len(text) > ANSWER_LIMIT:
            raise ValidationError({"text": [_("At most %(n)s characters") % {"n": ANSWER_LIMIT}]})
        answer = EvidenceAnswer.objects.create(request=request, text=text, answered_by=actor)
        stored = save_files(checked, submission=request.submission, actor=actor, stored=stored, answer=answer)
        request.state = EvidenceState.ANSWERED
        request.updated_at = timezone.now()
        request.save(update_fields=["state", "updated_at"])
        _event(request, CheckEventKind.EVIDENCE_ANSWERED, actor, text, files=[f.original_name for f in stored])
        _notify(request, NotificationKind.EVIDENCE_ANSWERED, _asker_side(request), actor, text)
    return request


def evidence_accept(*, request_id: int, actor: User, reason: str = "") -> EvidenceRequest:
    """The reviewer is satisfied with the city's answer: the request is settled."""
    with transaction.atomic():
        request = _lock_request(request_id, actor)
        _ensure_reviewer_of(request, actor)
        _ensure_open_round(request.submission)
        if request.state != EvidenceState.ANSWERED:
            raise _state_conflict(request, _("accept"))
        return _judge(request, actor, EvidenceState.ACCEPTED, (reason or "").strip())


def evidence_reject(*, request_id: int, actor: User, reason: str) -> EvidenceRequest:
    """The reviewer is not satisfied with the answer: back to the city, which answers again. The
    question still stands (so the form still cannot be recommended)."""
    with transaction.atomic():
        request = _lock_request(request_id, actor)
        _ensure_reviewer_of(request, actor)
        _ensure_open_round(request.submission)
        if request.state != EvidenceState.ANSWERED:
            raise _state_conflict(request, _("reject"))
        return _judge(request, actor, EvidenceState.REJECTED, _reason(reason))


def evidence_withdraw(*, request_id: int, actor: User, reason: str) -> EvidenceRequest:
    """The reviewer takes back a question not settled yet, saying why."""
    with transaction.atomic():
        request = _lock_request(request_id, actor)
        _ensure_reviewer_of(request, actor)
        _ensure_open_round(request.submission)
        if not request.is_unsettled:
            raise _state_conflict(request, _("withdraw"))
        return _judge(request, actor, EvidenceState.WITHDRAWN, _reason(reason))


JUDGEMENTS = {
    EvidenceState.ACCEPTED: (CheckEventKind.EVIDENCE_ACCEPTED, NotificationKind.EVIDENCE_ACCEPTED),
    EvidenceState.REJECTED: (CheckEventKind.EVIDENCE_REJECTED, NotificationKind.EVIDENCE_REJECTED),
    EvidenceState.WITHDRAWN: (CheckEventKind.EVIDENCE_WITHDRAWN, NotificationKind.EVIDENCE_WITHDRAWN),
}


def _judge(request: EvidenceRequest, actor: User, state: str, reason: str) -> EvidenceRequest:
    event_kind, notification_kind = JUDGEMENTS[state]
    request.state = state
    request.closing_reason = reason
    request.updated_at = timezone.now()
    request.save(update_fields=["state", "closing_reason", "updated_at"])
    _event(request, event_kind, actor, reason)
    _notify(request, notification_kind, city_officials(request.submission.city_id), actor, reason)
    return request


def city_may_answer(request: EvidenceRequest, user: User) -> bool:
    return user.role == Role.CITY and request.state in (EvidenceState.OPEN, EvidenceState.REJECTED)


def may_judge(request: EvidenceRequest, user: User) -> bool:
    return user.role == request.asked_role and user.role in REVIEWER_ROLES


def may_ask(submission: Submission, user: User) -> bool:
    return (
        user.role in REVIEWER_ROLES
        and not submission.round.is_frozen
        and submission.status != Status.DRAFT
        and submission.status not in FINAL_STATES
    )

"""The reviewers' and the ministry's writes: returning, recommending, deciding, extensions, round
management and thresholds. Each workflow step goes through `submissions.workflow.transition`, which
locks the row, checks scope, role and state, and writes the event."""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import Http404
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from gigacity.audit import audit_record, changed_values, snapshot
from gigacity.errors import ApplicationError, Conflict, RoleNotAllowed
from gigacity.i18n import pick
from gigacity.models import AuditKind, City, Role, User
from indicators.catalogue import CATALOGUE, CATALOGUE_BY_CODE, INDICATOR_CODES
from indicators.models import (
    ROUND_SETTINGS,
    Designation,
    ReferenceValue,
    Round,
    RoundStatus,
    Threshold,
    ThresholdChange,
)
from indicators.rules import indicator_value_problem, shift_years
from indicators.services import designation_create, lock_city
from submissions.models import Action, Extension, FieldComment, Submission
from submissions.scoring import request_round_rescoring, request_scoring
from submissions.snapshots import DATA_FIELDS
from submissions.workflow import transition

COMMENT_LIMIT = 2000
# Fields a reviewer may comment on besides the data fields: the cases as a whole and attachments.
COMMENTABLE_EXTRA = ("cases", "attachments")


def _clean_comments(submission: Submission, comments: Mapping[str, str] | None) -> dict[str, str]:
    cleaned: dict[str, str] = {}
    errors: dict[str, list[str]] = {}
    case_ids = {str(pk) for pk in submission.cases.values_list("pk", flat=True)}
    for field, message in (comments or {}).items():
        message = (message or "").strip()
        if not message:
            continue
        known = (
            field in DATA_FIELDS
            or field in COMMENTABLE_EXTRA
            or (field.startswith("case:") and field.removeprefix("case:") in case_ids)
        )
        if not known:
            errors[f"comments.{field}"] = [_("Unknown field")]
        elif len(message) > COMMENT_LIMIT:
            errors[f"comments.{field}"] = [_("At most %(n)s characters") % {"n": COMMENT_LIMIT}]
        else:
            cleaned[field] = message
    if errors:
        raise ValidationError(errors)
    return cleaned


def submission_return(
    *,
    submission_id: int,
    actor: User,
    reason: str,
    comments: Mapping[str, str] | None = None,
    expected_version: int | None = None,
    via_header: bool = False,
) -> Submission:
    """The bureau returns the form to the city with a reason and, optionally, a comment on individual
    fields or cases; the city sees each comment next to what it concerns."""
    checked: dict[str, str] = {}
    details: dict = {"comments": 0}

    def apply(submission: Submission) -> None:
        checked.update(_clean_comments(submission, comments))
        details["comments"] = len(checked)

    with transaction.atomic():
        submission, event = transition(
            submission_id=submission_id,
            action=Action.RETURN,
            actor=actor,
            reason=reason,
            expected_version=expected_version,
            via_header=via_header,
            apply=apply,
            details=details,
        )
        FieldComment.objects.bulk_create(
            FieldComment(submission=submission, event=event, field=field, message=message)
            for field, message in checked.items()
        )
    return submission


def submission_recommend(
    *,
    submission_id: int,
    actor: User,
    excellent_case_ids: Iterable[int] | None = None,
    note: str = "",
    expected_version: int | None = None,
    via_header: bool = False,
) -> Submission:
    """The bureau recommends the city to the ministry, naming the cases it recommends as excellent.
    Without `excellent_case_ids` (a bulk recommendation, say) the cases chosen before are kept;
    an empty list says that none is excellent."""
    details: dict = {}

    def apply(submission: Submission) -> None:
        if excellent_case_ids is None:
            chosen = set(submission.cases.filter(is_excellent=True).values_list("pk", flat=True))
        else:
            chosen = {int(pk) for pk in excellent_case_ids}
            if chosen - set(submission.cases.values_list("pk", flat=True)):
                raise ValidationError({"excellent_cases": [_("Choose among this submission's own cases.")]})
            submission.cases.update(is_excellent=False)
            submission.cases.filter(pk__in=chosen).update(is_excellent=True)
        details["excellent_cases"] = sorted(chosen)
        submission.recommend_note = (note or "").strip()[:COMMENT_LIMIT]
        request_scoring(submission)

    submission, _event = transition(
        submission_id=submission_id,
        action=Action.RECOMMEND,
        actor=actor,
        reason=note,
        expected_version=expected_version,
        via_header=via_header,
        apply=apply,
        details=details,
    )
    return submission


def submission_approve(
    *,
    submission_id: int,
    actor: User,
    reason: str = "",
    expected_version: int | None = None,
    via_header: bool = False,
) -> Submission:
    """The ministry names the city a Gigabit City of the round's year: an evaluation only (the
    transition refuses an annual report), and only once (`designation_create` refuses a city named in
    another round; nothing of the decision is saved then)."""
    with transaction.atomic():
        # The city first, then its form (`lock_city`): a concurrent naming of the same city waits here.
        city_id = Submission.objects.filter(pk=submission_id).values_list("city_id", flat=True).first()
        if city_id is not None:
            lock_city(city_id)
        submission, _event = transition(
            submission_id=submission_id,
            action=Action.APPROVE,
            actor=actor,
            reason=reason,
            expected_version=expected_version,
            via_header=via_header,
        )
        designation_create(
            city_id=submission.city_id,
            round_=submission.round,
            source=Designation.Source.APPROVED,
            designated_on=timezone.localdate(),
        )
    return submission


def submission_confirm(
    *,
    submission_id: int,
    actor: User,
    reason: str = "",
    expected_version: int | None = None,
    via_header: bool = False,
) -> Submission:
    """The ministry confirms a Gigabit City's annual report: it still meets the standard (复核通过).
    Nothing is named: the city keeps the batch it was named in."""

    def apply(submission: Submission) -> None:
        submission.shortfall, submission.improvement_due = [], None

    submission, _event = transition(
        submission_id=submission_id,
        action=Action.CONFIRM,
        actor=actor,
        reason=reason,
        expected_version=expected_version,
        via_header=via_header,
        apply=apply,
    )
    return submission


# What an annual report can fall short on: the seven indicators and the application cases.
SHORTFALL_CODES: tuple[str, ...] = tuple(spec.code for spec in CATALOGUE)


def submission_not_confirm(
    *,
    submission_id: int,
    actor: User,
    reason: str,
    shortfall: Iterable[str],
    improvement_due: datetime.date | None,
    expected_version: int | None = None,
    via_header: bool = False,
) -> Submission:
    """The ministry records that a Gigabit City's annual report does not meet the standard (复核未通过):
    the reason, the indicators that fell short and the date by which the city is to improve. The city
    stays a Gigabit City of its batch and is on the watch list."""
    codes = list(dict.fromkeys(shortfall or ()))
    details: dict = {}

    def apply(submission: Submission) -> None:
        # Checked once the role, state and kind are known to allow the decision: a bureau is told it
        # may not decide, not that a date is missing.
        errors: dict[str, list[str]] = {}
        if not codes:
            errors["shortfall"] = [_("Choose at least one indicator that fell short.")]
        elif unknown := [code for code in codes if code not in SHORTFALL_CODES]:
            errors["shortfall"] = [_("Unknown indicator: %(codes)s") % {"codes": ", ".join(unknown)}]
        if improvement_due is None:
            errors["improvement_due"] = [_("Give the date by which the city is to improve.")]
        elif improvement_due <= timezone.localdate():
            errors["improvement_due"] = [_("The date for improvement must be after today.")]
        if errors:
            raise ValidationError(errors)
        submission.shortfall, submission.improvement_due = codes, improvement_due
        details.update(shortfall=codes, improvement_due=improvement_due.isoformat())

    submission, _event = transition(
        submission_id=submission_id,
        action=Action.NOT_CONFIRM,
        actor=actor,
        reason=reason,
        expected_version=expected_version,
        via_header=via_header,
        apply=apply,
        details=details,
    )
    return submission


def submission_reject(
    *,
    submission_id: int,
    actor: User,
    reason: str,
    expected_version: int | None = None,
    via_header: bool = False,
) -> Submission:
    submission, _event = transition(
        submission_id=submission_id,
        action=Action.REJECT,
        actor=actor,
        reason=reason,
        expected_version=expected_version,
        via_header=via_header,
    )
    return submission


def submission_send_back(
    *,
    submission_id: int,
    actor: User,
    reason: str,
    expected_version: int | None = None,
    via_header: bool = False,
) -> Submission:
    """The ministry sends the submission back to the bureau to look at again."""
    submission, _event = transition(
        submission_id=submission_id,
        action=Action.SEND_BACK,
        actor=actor,
        reason=reason,
        expected_version=expected_version,
        via_header=via_header,
    )
    return submission


def submission_reopen(
    *,
    submission_id: int,
    actor: User,
    reason: str,
    expected_version: int | None = None,
    via_header: bool = False,
) -> Submission:
    """A sample check's finding sends a recommended or decided form back to its bureau (抽查核验发现
    问题), which looks at it again as at a form sent back. An approval is undone with it: the city was
    named by this form, and is named again only when the ministry approves it again. Taken only
    through `reviews.sampling.sample_item_record` (no button of its own)."""
    with transaction.atomic():
        city_id = Submission.objects.filter(pk=submission_id).values_list("city_id", flat=True).first()
        if city_id is not None:
            lock_city(city_id)
        submission, event = transition(
            submission_id=submission_id,
            action=Action.REOPEN,
            actor=actor,
            reason=reason,
            expected_version=expected_version,
            via_header=via_header,
        )
        if event.from_status == "approved":
            # The naming this form made (an evaluation's); a confirmed annual report named nobody.
            Designation.objects.filter(
                city_id=submission.city_id, round=submission.round, source=Designation.Source.APPROVED
            ).delete()
    return submission


@dataclass(frozen=True)
class BulkOutcome:
    submission_id: int
    ok: bool
    message: str


def bulk_apply(submission_ids: Iterable[int], action) -> list[BulkOutcome]:
    """Apply `action(submission_id)` to each submission on its own: every one is re-checked (scope,
    role, state), and one refusal does not undo the others."""
    outcomes = []
    for submission_id in dict.fromkeys(int(pk) for pk in submission_ids):
        try:
            action(submission_id)
        except Http404:
            outcomes.append(BulkOutcome(submission_id, False, _("Not found, or not yours to see.")))
        except ValidationError as exc:
            outcomes.append(BulkOutcome(submission_id, False, " ".join(exc.messages)))
        except ApplicationError as exc:
            outcomes.append(BulkOutcome(submission_id, False, exc.message))
        else:
            outcomes.append(BulkOutcome(submission_id, True, ""))
    return outcomes


# ------------------------------------------------------------------------------------------------
# Extensions
# ------------------------------------------------------------------------------------------------
def extension_grant(*, city: City, round_: Round, until: datetime.date, reason: str, actor: User) -> Extension:
    """The bureau lets one city submit after the deadline, until a date, for a reason."""
    if actor.role != Role.BUREAU:
        raise RoleNotAllowed(_("Only the provincial bureau can grant an extension."))
    if not City.objects.visible_to(actor).filter(pk=city.pk).exists():
        raise Http404
    reason = (reason or "").strip()
    errors: dict[str, list[str]] = {}
    if not reason:
        errors["reason"] = [_("Please give a reason.")]
    if round_.status != RoundStatus.OPEN:
        raise Conflict(_("The %(year)s round is not open.") % {"year": round_.year})
    if round_.deadline and until <= round_.deadline:
        errors["until"] = [
            _("Must be after the round's deadline (%(date)s).") % {"date": date_format(round_.deadline, "Y-m-d")}
        ]
    elif until < timezone.localdate():
        errors["until"] = [_("Must not be in the past.")]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        extension = Extension.objects.create(city=city, round=round_, until=until, reason=reason, granted_by=actor)
        from .notifications import notify_extension

        notify_extension(extension)
    return extension


# ------------------------------------------------------------------------------------------------
# Rounds and thresholds (ministry)
# ------------------------------------------------------------------------------------------------
def _ensure_ministry(actor: User) -> None:
    if actor.role not in (Role.MINISTRY, Role.ADMIN):
        raise RoleNotAllowed(_("Only ministry staff can manage rounds."))


def thresholds_update(*, round_: Round, values: Mapping[str, object], reason: str, actor: User) -> int:
    """Change some of a round's thresholds, keep the history, and score the round's submissions again
    in the background. Returns the number of thresholds that changed."""
    _ensure_ministry(actor)
    if round_.is_frozen:
        raise Conflict(
            _("The %(year)s round is published; its thresholds can no longer change.") % {"year": round_.year}
        )
    known = {spec.code for spec in CATALOGUE}
    cleaned: dict[str, Decimal] = {}
    errors: dict[str, list[str]] = {}
    for code, raw in values.items():
        if code not in known:
            errors[code] = [_("Unknown indicator")]
            continue
        try:
            value = Decimal(str(raw).strip().replace(",", ""))
        except (InvalidOperation, ValueError):
            errors[code] = [_("Enter a number")]
            continue
        if problem := indicator_value_problem(CATALOGUE_BY_CODE[code], value):
            errors[code] = [pick(*problem)]
        else:
            cleaned[code] = value.quantize(Decimal("0.01"))
    if not (reason or "").strip():
        errors["reason"] = [_("Please give a reason.")]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        round_ = Round.objects.select_for_update().get(pk=round_.pk)
        current = {t.indicator_id: t for t in round_.thresholds.all()}
        changed = {code: v for code, v in cleaned.items() if code not in current or current[code].value != v}
        if not changed:
            return 0
        round_.threshold_version += 1
        round_.save(update_fields=["threshold_version"])
        for code, value in changed.items():
            old = current[code].value if code in current else None
            Threshold.objects.update_or_create(round=round_, indicator_id=code, defaults={"value": value})
            ThresholdChange.objects.create(
                round=round_,
                indicator_id=code,
                old_value=old,
                new_value=value,
                version=round_.threshold_version,
                changed_by=actor,
                reason=reason.strip(),
            )
        audit_record(
            kind=AuditKind.THRESHOLDS_CHANGED,
            actor=actor,
            target=round_,
            before={code: current[code].value if code in current else None for code in changed},
            after=changed,
            details={"reason": reason.strip(), "threshold_version": round_.threshold_version},
        )
        request_round_rescoring(round_id=round_.pk)
    return len(changed)


ROUND_STATUS_FLOW = {
    RoundStatus.DRAFT: (RoundStatus.OPEN,),
    RoundStatus.OPEN: (RoundStatus.CLOSED,),
    RoundStatus.CLOSED: (RoundStatus.OPEN, RoundStatus.PUBLISHED),
    RoundStatus.PUBLISHED: (),
}


def round_set_status(*, round_: Round, status: str, actor: User) -> Round:
    """Open, close (or reopen) a round, or publish the year's list, after which its decisions are
    frozen."""
    _ensure_ministry(actor)
    with transaction.atomic():
        round_ = Round.objects.select_for_update().get(pk=round_.pk)
        if status not in ROUND_STATUS_FLOW[RoundStatus(round_.status)]:
            raise Conflict(
                _("A round that is “%(from)s” cannot become “%(to)s”.")
                % {"from": RoundStatus(round_.status).label, "to": RoundStatus(status).label}
            )
        before = round_.status
        round_.status = status
        if status == RoundStatus.PUBLISHED:
            round_.published_on = timezone.localdate()
        round_.save(update_fields=["status", "published_on"])
        audit_record(
            kind=AuditKind.ROUND_STATUS_CHANGED,
            actor=actor,
            target=round_,
            before={"status": before},
            after={"status": status},
        )
    return round_


# The round's flag settings, carried over as they are.
FLAG_SETTINGS = ("borderline_margin", "jump_ratio", "population_change_limit", "outlier_z")


def round_create_next(*, actor: User, source: Round | None = None, year: int | None = None) -> Round:
    """Prepare next year's round from the last one (or `source`): its thresholds (with the case
    requirement), national reference values and flag settings, and its dates shifted by the years
    between. The new round is being prepared (draft): ministry staff edit it, then open it; the
    cities' forms are opened from their last ones (`submissions.services.carry_over`). A year that
    has a round already is refused."""
    _ensure_ministry(actor)
    source = source or Round.objects.order_by("-year").first()
    if source is None:
        raise Conflict(_("There is no round to start from."))
    year = source.year + 1 if year is None else year
    if not 2000 <= year <= 2100:
        raise ValidationError({"year": [_("Enter a year between 2000 and 2100.")]})
    if Round.objects.filter(year=year).exists():
        raise ValidationError({"year": [_("The %(year)s round already exists.") % {"year": year}]})
    years = year - source.year
    with transaction.atomic():
        try:
            with transaction.atomic():
                round_ = Round.objects.create(
                    year=year,
                    status=RoundStatus.DRAFT,
                    opens_on=shift_years(source.opens_on, years),
                    deadline=shift_years(source.deadline, years),
                    data_as_of=shift_years(source.data_as_of, years),
                    thresholds_provisional=source.thresholds_provisional,
                    **{name: getattr(source, name) for name in FLAG_SETTINGS},
                )
        except IntegrityError:  # created by somebody else a moment ago
            raise ValidationError({"year": [_("The %(year)s round already exists.") % {"year": year}]}) from None
        reason = _("Carried over from the %(year)s round") % {"year": source.year}
        for threshold in source.thresholds.all():
            Threshold.objects.create(round=round_, indicator_id=threshold.indicator_id, value=threshold.value)
            ThresholdChange.objects.create(
                round=round_,
                indicator_id=threshold.indicator_id,
                old_value=None,
                new_value=threshold.value,
                version=round_.threshold_version,
                changed_by=actor,
                reason=reason,
            )
        ReferenceValue.objects.bulk_create(
            ReferenceValue(round=round_, indicator_id=ref.indicator_id, value=ref.value, source=ref.source)
            for ref in source.reference_values.all()
        )
    return round_


def round_update(*, round_: Round, actor: User, **fields) -> Round:
    """Edit a round's dates, notice and flag settings."""
    _ensure_ministry(actor)
    unknown = set(fields) - set(ROUND_SETTINGS)
    if unknown:
        raise ValidationError({name: [_("Unknown field")] for name in unknown})
    with transaction.atomic():
        round_ = Round.objects.select_for_update().get(pk=round_.pk)
        before = snapshot(round_, related=False)
        for name, value in fields.items():
            setattr(round_, name, value)
        round_.full_clean()
        round_.save()
        old, new = changed_values(before, snapshot(round_, related=False))
        if old or new:
            audit_record(kind=AuditKind.ROUND_CHANGED, actor=actor, target=round_, before=old, after=new)
    return round_


def reference_value_set(
    *, round_: Round, indicator_code: str, value: Decimal | None, actor: User, source: str = ""
) -> None:
    """Set (or clear, with None) the national reference value of an indicator for a round."""
    _ensure_ministry(actor)
    if value is None:
        ReferenceValue.objects.filter(round=round_, indicator_id=indicator_code).delete()
    else:
        ReferenceValue.objects.update_or_create(
            round=round_, indicator_id=indicator_code, defaults={"value": value, "source": source}
        )


def reference_values_update(*, round_: Round, values: Mapping[str, tuple[Decimal | None, str]], actor: User) -> int:
    """Set a round's national reference values together ({code: (value or None, source)}); returns
    how many changed. One transaction: the dashboard never shows half an edit."""
    _ensure_ministry(actor)
    unknown = set(values) - set(INDICATOR_CODES)
    if unknown:
        raise ValidationError({code: [_("Unknown indicator")] for code in sorted(unknown)})
    errors = {
        code: [pick(*problem)]
        for code, (value, _source) in values.items()
        if value is not None and (problem := indicator_value_problem(CATALOGUE_BY_CODE[code], value))
    }
    if errors:
        raise ValidationError(errors)
    current = {ref.indicator_id: ref for ref in ReferenceValue.objects.filter(round=round_)}
    changed = 0
    with transaction.atomic():
        for code, (value, source) in values.items():
            before = current.get(code)
            if (before is None and value is None) or (
                before is not None and before.value == value and before.source == source
            ):
                continue
            reference_value_set(round_=round_, indicator_code=code, value=value, actor=actor, source=source)
            changed += 1
    return changed

"""Every write to a submission's data goes through these functions: the form, the Excel import, the
API, the admin and the demo seed all call them, so the rules never fork."""

from __future__ import annotations

import datetime
import hashlib
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.http import Http404
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from gigacity.errors import ApplicationError, Conflict, RoleNotAllowed
from gigacity.i18n import pick
from gigacity.models import City, Role, User
from gigacity.params import int_param
from indicators.catalogue import MAX_CASES, MIN_CASES
from indicators.models import Round, RoundStatus
from indicators.rules import Inconsistency, compute_indicators, inconsistencies, input_problems, key_site_sums

from .inputs import clean_data
from .kinds import kind_for
from .models import (
    Action,
    Attachment,
    AttachmentKind,
    Case,
    CaseDomain,
    ChangeSource,
    DataChange,
    Submission,
    deadline_expression,
)
from .scoring import request_scoring
from .snapshots import BASIC_FIELDS, CASE_FIELDS, PRACTICE_FIELDS, diff, snapshot
from .workflow import check_version, lock_submission, transition

CASE_TEXT_LIMITS = {
    "title": 200,
    "partners": 500,
    "description": 20_000,
    "pain_points": 20_000,
    "replicability": 20_000,
}
REQUIRED_CASE_FIELDS = ("title", "domain", "description", "pain_points", "replicability")
REQUIRED_PRACTICES = ("practice_network", "practice_users", "practice_applications")
REQUIRED_BASIC = ("data_as_of", "contact_name", "contact_phone", "contact_email")


# ------------------------------------------------------------------------------------------------
# Who may edit what
# ------------------------------------------------------------------------------------------------
def editable_cities(user: User):
    """The cities whose forms the user may fill in: a city official its own, a bureau (on the city's
    behalf) its province's. Ministry staff review, they do not fill in."""
    if user.role in (Role.CITY, Role.BUREAU):
        return City.objects.visible_to(user)
    return City.objects.none()


def ensure_editable(submission: Submission, actor: User) -> None:
    """Refuse, with its reason, a change `Submission.edit_refusal` does not allow."""
    refusal = submission.edit_refusal(actor)
    if refusal is not None:
        raise refusal


def submission_get_or_create(*, city: City, round_: Round, actor: User) -> Submission:
    """The city's form for the round, created as an empty draft the first time it is opened."""
    if actor.role not in (Role.CITY, Role.BUREAU):
        raise RoleNotAllowed(_("Only the city, or its provincial bureau on its behalf, can change the form."))
    if not editable_cities(actor).filter(pk=city.pk).exists():
        raise Http404
    submission = Submission.objects.filter(city=city, round=round_).first()
    if submission is not None:
        return submission
    if round_.status != RoundStatus.OPEN:
        raise Conflict(_("The %(year)s round is not open.") % {"year": round_.year})
    try:
        with transaction.atomic():
            submission = Submission.objects.create(
                city=city, round=round_, updated_by=actor, kind=kind_for(city.pk, round_)
            )
            carry_over(submission=submission, actor=actor)
            return submission
    except IntegrityError:
        # Two tabs opened the form at the same moment; the other one created it.
        return Submission.objects.get(city=city, round=round_)


# What a new form takes over from the city's last one: who to contact and how the city works. The
# raw counts are this year's figures and start empty; attachments are last year's evidence and stay
# with last year's form.
CARRIED_FIELDS = (*BASIC_FIELDS[1:], *PRACTICE_FIELDS)


def carry_over(*, submission: Submission, actor: User) -> Submission | None:
    """Start a new form from the city's last form (the latest earlier round): the contact, the
    practices and the cases, the cases marked as last year's until the city changes them. Recorded in
    the form's history. Returns the form it started from (None: the city has none)."""
    last = (
        Submission.objects.filter(city_id=submission.city_id, round__year__lt=submission.round.year)
        .select_related("round")
        .prefetch_related("cases")
        .order_by("-round__year")
        .first()
    )
    if last is None:
        return None
    before = snapshot(submission, [])
    for name in CARRIED_FIELDS:
        setattr(submission, name, getattr(last, name))
    cases = Case.objects.bulk_create(
        Case(
            submission=submission,
            position=position,
            carried_from_year=last.round.year,
            **{name: getattr(case, name) for name in CASE_FIELDS},
        )
        for position, case in enumerate(last.cases.all())
    )
    submission.carried_from = last
    submission.cases_count = len(cases)
    submission.save(update_fields=[*CARRIED_FIELDS, "carried_from", "cases_count"])
    changes = diff(before, snapshot(submission, cases))
    if changes:
        record_change(submission=submission, actor=actor, changes=changes, source=ChangeSource.SYSTEM)
    return last


# ------------------------------------------------------------------------------------------------
# Editing the data
# ------------------------------------------------------------------------------------------------
def _apply_cases(
    submission: Submission, current: Sequence[Case], items: Sequence[Mapping[str, Any]], errors: dict[str, list[str]]
) -> list[Case]:
    """Make the submission's cases (`current`, in order) equal `items` (in that order): an item with
    an `id` updates that case, one without creates a case, and a case missing from the list is
    removed. Blank new items (a row added and never filled) are ignored. Returns the cases after,
    in order (unchanged when there are errors: nothing is written then)."""
    existing = {case.pk: case for case in current}
    kept: list[Case] = []
    changed: list[Case] = []
    if len(items) > MAX_CASES:
        errors["cases"] = [_("At most %(n)s cases") % {"n": MAX_CASES}]
        return list(current)
    for index, item in enumerate(items):
        if not isinstance(item, Mapping):
            errors[f"cases[{index}]"] = [_("Each case must be an object with its fields.")]
            continue
        values = {name: ("" if item.get(name) is None else str(item.get(name)).strip()) for name in CASE_FIELDS}
        unknown = set(item) - {*CASE_FIELDS, "id"}
        if unknown:
            errors[f"cases[{index}]"] = [_("Unknown field: %(names)s") % {"names": ", ".join(sorted(unknown))}]
            continue
        case_id = item.get("id")
        if case_id in (None, "") and not any(values.values()):
            continue
        for name, limit in CASE_TEXT_LIMITS.items():
            if len(values[name]) > limit:
                errors.setdefault(f"cases[{index}].{name}", []).append(_("At most %(n)s characters") % {"n": limit})
        if values["domain"] and values["domain"] not in CaseDomain.values:
            errors.setdefault(f"cases[{index}].domain", []).append(_("Choose one of the listed domains"))
        if case_id not in (None, ""):
            case = existing.pop(int_param(case_id), None)
            if case is None:
                errors.setdefault(f"cases[{index}]", []).append(_("This case does not belong to the form"))
                continue
        else:
            case = Case(submission=submission)
        before = _case_state(case)
        for name, value in values.items():
            setattr(case, name, value)
        case.position = len(kept)
        kept.append(case)
        if case.pk is None or _case_state(case) != before:
            if case.carried_from_year is not None and _case_state(case)[1:] != before[1:]:
                case.carried_from_year = None  # changed by the city: this year's case now
            changed.append(case)
    if errors:
        return list(current)
    removed = list(existing.values())
    for case in removed:
        files = [a.file.name for a in case.attachments.all()]
        case.delete()
        transaction.on_commit(lambda files=files: _delete_files(files))
    # Only what changed is written: a form is saved whole, every case with it, and most saves change
    # a number or two (one UPDATE per unchanged case was most of a draft save's queries).
    for case in changed:
        case.save()
    return kept


def _case_state(case: Case) -> tuple:
    return (case.position, *(getattr(case, name) for name in CASE_FIELDS))


def _delete_files(names: Sequence[str]) -> None:
    from django.core.files.storage import default_storage

    for name in names:
        default_storage.delete(name)


def recompute(submission: Submission, cases_count: int | None = None) -> None:
    """Derive everything the server computes from what was entered: key-site sums, the indicators
    and the number of cases (`cases_count` when the caller knows it). The server's values are the
    truth."""
    covered, total = key_site_sums(submission.key_site_counts)
    if total is not None:
        submission.key_sites_5g_covered, submission.key_sites_total = covered, total
    for code, value in compute_indicators(submission.inputs).items():
        setattr(submission, f"value_{code}", value)
    submission.cases_count = submission.cases.count() if cases_count is None else cases_count


def submission_update(
    *,
    submission_id: int,
    actor: User,
    data: Mapping[str, Any],
    cases: Sequence[Mapping[str, Any]] | None = None,
    expected_version: int,
    via_header: bool = False,
    source: str = ChangeSource.FORM,
) -> Submission:
    """Save a draft: any subset of the fields, complete or not, and optionally the whole list of cases.
    Refused with every problem by field when anything is wrong (nothing is saved then), or with a
    conflict when somebody saved a newer version first."""
    with transaction.atomic():
        submission = lock_submission(submission_id=submission_id, actor=actor)
        ensure_editable(submission, actor)
        check_version(submission, expected_version, via_header=via_header)
        # The cases are read once: for the snapshot before, the update, the count and the snapshot after.
        current = list(submission.cases.all())
        before = snapshot(submission, current)

        cleaned, errors = clean_data(data)
        for name, value in cleaned.items():
            setattr(submission, name, value)
        _check_key_site_sums(submission, cleaned, errors)
        if cases is not None and not errors:
            current = _apply_cases(submission, current, cases, errors)
        if errors:
            raise ValidationError(errors)

        recompute(submission, cases_count=len(current))
        changes = diff(before, snapshot(submission, current))
        if not changes:
            return submission
        submission.version += 1
        submission.updated_at = timezone.now()
        submission.updated_by = actor
        submission.save()
        record_change(submission=submission, actor=actor, source=source, changes=changes)
    return submission


def record_change(*, submission: Submission, actor: User, changes: dict, source: str = ChangeSource.FORM) -> DataChange:
    """Keep what changed, with its before and after, in the submission's history (inside the
    caller's transaction, after the change itself)."""
    return DataChange.objects.create(
        submission=submission,
        version=submission.version,
        actor=actor,
        actor_role=actor.role,
        source=source,
        changes=changes,
    )


def _check_key_site_sums(submission: Submission, cleaned: Mapping[str, Any], errors: dict[str, list[str]]) -> None:
    covered, total = key_site_sums(submission.key_site_counts)
    if total is None:
        return
    for name, expected in (("key_sites_total", total), ("key_sites_5g_covered", covered)):
        given = cleaned.get(name)
        if given is not None and given != expected:
            errors.setdefault(name, []).append(
                _("Does not match the sum of the key-site categories (%(sum)s)") % {"sum": f"{expected:,}"}
            )


# ------------------------------------------------------------------------------------------------
# Submitting
# ------------------------------------------------------------------------------------------------
CONFIRM_INCONSISTENT = "confirm_inconsistent"


def submit_problems(
    submission: Submission, found: Sequence[Inconsistency], *, confirm_inconsistent: bool = False
) -> dict[str, list[str]]:
    """Everything that must be fixed before the form can be submitted, by field.

    A part above its whole (more 5G users than mobile users, say) is impossible by definition but can
    come from sources that count differently: it is refused next to the field unless the city
    confirms that it has checked (`confirm_inconsistent`); the reviewers then see it as a critical
    flag ("justify to proceed")."""
    problems: dict[str, list[str]] = {}
    if not confirm_inconsistent:
        for problem in found:
            problems.setdefault(problem.part, []).append(pick(problem.message_zh, problem.message_en))
        if found:
            problems[CONFIRM_INCONSISTENT] = [
                _(
                    "Some numbers contradict each other (see the fields marked). Correct them, or confirm that you "
                    "have checked them and submit again."
                )
            ]
    for name in REQUIRED_BASIC:
        if getattr(submission, name) in (None, ""):
            problems.setdefault(name, []).append(_("Required"))
    for problem in input_problems(submission.inputs, require_all=True):
        problems.setdefault(problem.field, []).append(pick(problem.message_zh, problem.message_en))
    for name in REQUIRED_PRACTICES:
        if not getattr(submission, name).strip():
            problems.setdefault(name, []).append(_("Required"))
    cases = list(submission.cases.all())
    first_with_title: dict[str, int] = {}
    for index, case in enumerate(cases):
        for name in REQUIRED_CASE_FIELDS:
            if not getattr(case, name):
                problems.setdefault(f"cases[{index}].{name}", []).append(_("Required"))
        # The same application entered twice would count twice towards the five cases.
        title = "".join(unicodedata.normalize("NFKC", case.title).split()).casefold()  # ５Ｇ is 5G
        if title and (first := first_with_title.setdefault(title, index)) != index:
            problems.setdefault(f"cases[{index}].title", []).append(
                _("Case %(n)s has the same title: each case must be a different application.") % {"n": first + 1}
            )
    if (
        submission.round.cover_letter_required
        and not submission.attachments.filter(kind=AttachmentKind.COVER_LETTER).exists()
    ):
        problems.setdefault("cover_letter", []).append(
            _("The round requires the stamped cover letter (盖章报送函): upload it before submitting.")
        )
    if len(cases) < MIN_CASES:
        problems.setdefault("cases", []).append(
            _("At least %(min)s application cases are needed; there are %(n)s.") % {"min": MIN_CASES, "n": len(cases)}
        )
    return problems


def effective_deadline(city: City, round_: Round) -> datetime.date | None:
    """The city's deadline in the round (see `deadline_expression`)."""
    return (
        City.objects.filter(pk=city.pk)
        .annotate(deadline=deadline_expression(round_))
        .values_list("deadline", flat=True)
        .first()
    )


@dataclass(frozen=True)
class CityDeadline:
    """A city's deadline in a round as its pages show it: the date (extended or not), the days
    left and whether it has passed, all counted from the same date."""

    date: datetime.date | None
    extended: bool
    days_left: int | None
    passed: bool


def city_deadline(city: City, round_: Round) -> CityDeadline:
    date = effective_deadline(city, round_)
    days_left = (date - timezone.localdate()).days if date else None
    return CityDeadline(
        date=date,
        extended=bool(date and round_.deadline and date > round_.deadline),
        days_left=days_left,
        passed=days_left is not None and days_left < 0,
    )


def submission_submit(
    *,
    submission_id: int,
    actor: User,
    expected_version: int | None = None,
    via_header: bool = False,
    confirm_inconsistent: bool = False,
) -> Submission:
    """The city submits its form to the provincial bureau. Only when complete and valid, while the
    round is open and before the deadline (or the city's extension); numbers that contradict each
    other only when the city confirms it has checked them (recorded in the event)."""
    details: dict = {}

    def apply(submission: Submission) -> None:
        round_ = submission.round
        if round_.status != RoundStatus.OPEN:
            raise Conflict(_("The %(year)s round is not open for submissions.") % {"year": round_.year})
        today = timezone.localdate()
        deadline = effective_deadline(submission.city, round_)
        if deadline is not None and today > deadline:
            raise Conflict(
                _("The deadline (%(date)s) has passed. Ask your provincial bureau for an extension.")
                % {"date": date_format(deadline, "Y-m-d")}
            )
        found = inconsistencies(submission.checked_inputs)
        problems = submit_problems(submission, found, confirm_inconsistent=confirm_inconsistent)
        if problems:
            raise ValidationError(problems)
        if found:
            details["confirmed_inconsistencies"] = [problem.code for problem in found]
        submission.submitted_at = timezone.now()
        request_scoring(submission)

    submission, _event = transition(
        submission_id=submission_id,
        action=Action.SUBMIT,
        actor=actor,
        expected_version=expected_version,
        via_header=via_header,
        apply=apply,
        details=details,
    )
    return submission


def late_days(submission: Submission) -> int:
    """Days after the round's deadline the submission came in (0 when on time)."""
    if not submission.submitted_at or not submission.round.deadline:
        return 0
    return max(0, (timezone.localdate(submission.submitted_at) - submission.round.deadline).days)


# ------------------------------------------------------------------------------------------------
# Attachments
# ------------------------------------------------------------------------------------------------
# Evidence files people attach: documents and pictures, recognised by their content, not their name.
ATTACHMENT_TYPES = {
    ".pdf": ("application/pdf", (b"%PDF-",)),
    ".png": ("image/png", (b"\x89PNG\r\n\x1a\n",)),
    ".jpg": ("image/jpeg", (b"\xff\xd8\xff",)),
    ".jpeg": ("image/jpeg", (b"\xff\xd8\xff",)),
    ".docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", (b"PK\x03\x04",)),
    ".xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", (b"PK\x03\x04",)),
    ".pptx": ("application/vnd.openxmlformats-officedocument.presentationml.presentation", (b"PK\x03\x04",)),
}
MAX_ATTACHMENTS = 60


# The stamped cover letter is a scan or a photo of a signed, stamped page.
COVER_LETTER_TYPES = (".pdf", ".png", ".jpg", ".jpeg")


def _upload_name(upload: UploadedFile) -> tuple[str, str]:
    name = (upload.name or "").replace("\\", "/").rsplit("/", 1)[-1][:255] or "file"
    suffix = ("." + name.rsplit(".", 1)[-1].lower()) if "." in name else ""
    return name, suffix


def cover_letter_upload(*, submission_id: int, upload: UploadedFile, actor: User) -> Attachment:
    """The form's stamped cover letter (盖章报送函), a PDF or an image, uploaded while the form can be
    changed; it replaces the one uploaded before (both stay in the history)."""
    _name, suffix = _upload_name(upload)
    if suffix not in COVER_LETTER_TYPES:
        raise ApplicationError(_("The cover letter must be a PDF, PNG or JPEG file."))
    return attachment_add(
        submission_id=submission_id, case_id=None, upload=upload, actor=actor, kind=AttachmentKind.COVER_LETTER
    )


def upload_check(upload: UploadedFile) -> tuple[str, str, str]:
    """The one check of an evidence file, wherever it is given (a form's attachment, an answer to an
    evidence request, a verification): its type by name and by content, and its size. Returns the
    file's name, content type and SHA-256; an ApplicationError says what is wrong with it."""
    name, suffix = _upload_name(upload)
    if suffix not in ATTACHMENT_TYPES:
        raise ApplicationError(_("Only PDF, Word, Excel, PowerPoint, PNG and JPEG files can be attached."))
    if upload.size > settings.GIGACITY_MAX_ATTACHMENT_BYTES:
        raise ApplicationError(
            _("The file is larger than %(mb)s MB.") % {"mb": settings.GIGACITY_MAX_ATTACHMENT_BYTES // (1024 * 1024)}
        )
    content_type, magics = ATTACHMENT_TYPES[suffix]
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    if not head.startswith(magics):
        raise ApplicationError(_("The file's content does not match its extension %(ext)s.") % {"ext": suffix})
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    return name, content_type, digest.hexdigest()


def attachment_add(
    *,
    submission_id: int,
    case_id: int | None,
    upload: UploadedFile,
    actor: User,
    kind: str = AttachmentKind.EVIDENCE,
) -> Attachment:
    name, content_type, sha256 = upload_check(upload)
    stored: list[str] = []
    try:
        with transaction.atomic():
            submission = lock_submission(submission_id=submission_id, actor=actor)
            ensure_editable(submission, actor)
            case = None
            if case_id is not None:
                case = submission.cases.filter(pk=case_id).first()
                if case is None:
                    raise Http404
            if submission.attachments.count() >= MAX_ATTACHMENTS:
                raise ApplicationError(_("At most %(n)s attachments per form.") % {"n": MAX_ATTACHMENTS})
            replaced = []
            if kind == AttachmentKind.COVER_LETTER:
                replaced = list(submission.attachments.filter(kind=AttachmentKind.COVER_LETTER))
            attachment = Attachment(
                submission=submission,
                kind=kind,
                case=case,
                original_name=name,
                content_type=content_type,
                size=upload.size,
                sha256=sha256,
                uploaded_by=actor,
            )
            attachment.file.save(name, upload, save=False)
            stored.append(attachment.file.name)
            attachment.save()
            changes = {f"attachment:{attachment.pk}": [None, name]}
            for old in replaced:
                changes[f"attachment:{old.pk}"] = [old.original_name, None]
                old_file = old.file.name
                old.delete()
                transaction.on_commit(lambda old_file=old_file: _delete_files([old_file]))
            record_change(submission=submission, actor=actor, changes=changes)
    except Exception:
        # The row was rolled back: the file written for it must not stay behind.
        _delete_files(stored)
        raise
    return attachment


def attachment_delete(*, attachment_id: int, actor: User) -> None:
    with transaction.atomic():
        attachment = (
            Attachment.objects.filter(submission__in=Submission.objects.visible_to(actor))
            .select_related("submission")
            .filter(pk=attachment_id)
            .first()
        )
        if attachment is None:
            raise Http404
        submission = lock_submission(submission_id=attachment.submission_id, actor=actor)
        ensure_editable(submission, actor)
        name, file_name = attachment.original_name, attachment.file.name
        attachment.delete()
        record_change(submission=submission, actor=actor, changes={f"attachment:{attachment_id}": [name, None]})
        transaction.on_commit(lambda: _delete_files([file_name]))

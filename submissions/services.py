"""Every write to a submission's data goes through these functions: the form, the Excel import, the
API, the admin and the demo seed all call them, so the rules never fork."""

from __future__ import annotations

import datetime
import hashlib
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, connection, models, transaction
from django.http import Http404
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from gigacity.errors import ApplicationError, Conflict, RoleNotAllowed, StaleVersion
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
from .scoring import UNREAD, request_scoring
from .snapshots import BASIC_FIELDS, CASE_FIELDS, DATA_FIELDS, PRACTICE_FIELDS, diff, snapshot
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
@dataclass
class _CasePlan:
    """What a save does to a form's cases: the list after (in order), the cases to create or update,
    and those to remove. Worked out in memory: nothing is written until every form of the save is
    valid."""

    kept: list[Case]
    changed: list[Case]
    removed: list[Case]


def _plan_cases(
    submission: Submission, current: Sequence[Case], items: Sequence[Mapping[str, Any]], errors: dict[str, list[str]]
) -> _CasePlan:
    """Make the submission's cases (`current`, in order) equal `items` (in that order): an item with
    an `id` updates that case, one without creates a case, and a case missing from the list is
    removed. Blank new items (a row added and never filled) are ignored. With errors, the plan keeps
    the cases as they are."""
    existing = {case.pk: case for case in current}
    kept: list[Case] = []
    changed: list[Case] = []
    unchanged = _CasePlan(kept=list(current), changed=[], removed=[])
    if len(items) > MAX_CASES:
        errors["cases"] = [_("At most %(n)s cases") % {"n": MAX_CASES}]
        return unchanged
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
        return unchanged
    return _CasePlan(kept=kept, changed=changed, removed=list(existing.values()))


# What a save writes of a case that changed (all of it but its form, its creation and the bureau's mark).
_CASE_WRITTEN = ("position", *CASE_FIELDS, "carried_from_year")


def _write_cases(plans: Sequence[_CasePlan]) -> None:
    """Carry out the case plans of every form of a save at once: the removed cases (and their
    attachments' files, once committed) in one delete, the new ones in one insert, the changed ones
    in one update. Only what changed is written (most saves change a number or two)."""
    removed = [case.pk for plan in plans for case in plan.removed]
    if removed:
        files = list(Attachment.objects.filter(case_id__in=removed).values_list("file", flat=True))
        Case.objects.filter(pk__in=removed).delete()
        if files:
            transaction.on_commit(lambda: _delete_files(files))
    changed = [case for plan in plans for case in plan.changed]
    updated = [case for case in changed if case.pk is not None]
    Case.objects.bulk_create([case for case in changed if case.pk is None])
    update_rows(updated, _CASE_WRITTEN)


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


@dataclass(frozen=True)
class DraftEdit:
    """One form's part of a save (`drafts_update`): any subset of its fields and optionally the whole
    list of its cases, against the version the person edited (None: whatever is stored)."""

    submission_id: int
    data: Mapping[str, Any]
    cases: Sequence[Mapping[str, Any]] | None = None
    expected_version: int | None = None


@dataclass
class DraftOutcome:
    """What a save did, or would have done, to one form: the form (locked, as saved), what changed
    ({} when nothing did: no new version then), its cases after, in order. When refused: the
    problems by field (`errors`) or why the form cannot be changed at all (`refusal`: not editable
    now, or a stale version)."""

    submission: Submission
    changes: dict[str, list] = field(default_factory=dict)
    cases: list[Case] = field(default_factory=list)
    errors: dict[str, list[str]] = field(default_factory=dict)
    refusal: ApplicationError | None = None

    @property
    def ok(self) -> bool:
        return not self.errors and self.refusal is None


class DraftsRefused(Exception):
    """A save was refused: nothing was saved, in any of its forms. `outcomes` has every form's
    problems, in the order of the edits (the forms without any have none)."""

    def __init__(self, outcomes: Sequence[DraftOutcome]):
        super().__init__("drafts refused")
        self.outcomes = list(outcomes)

    def first(self) -> Exception:
        """The first form's refusal (a form that cannot be changed before any problem with the data),
        as the one-form save raises it."""
        for outcome in self.outcomes:
            if outcome.refusal is not None:
                return outcome.refusal
        return ValidationError(next(outcome.errors for outcome in self.outcomes if outcome.errors))


def _draft_fields() -> list[str]:
    """What a save writes of a form: what a person enters, what the server derives from it, and the
    version with who saved it when (never the workflow's or the scoring's fields)."""
    derived = [f.name for f in Submission._meta.concrete_fields if f.name.startswith("value_")]
    names = [*DATA_FIELDS, "key_sites_5g_covered", "key_sites_total", *derived, "cases_count"]
    return [*dict.fromkeys(names), "version", "updated_at", "updated_by"]


def update_rows(objects: Sequence[models.Model], fields: Sequence[str]) -> None:
    """Write `fields` of many rows of one table in one statement (UPDATE … FROM VALUES), each row its
    own values. Django's `bulk_update` builds a CASE per field with a WHEN per row, which costs more
    to build than the whole rest of a province import; this is the same statement PostgreSQL
    runs for a batch of single-row updates, without the round trips."""
    if not objects:
        return
    model = type(objects[0])
    if connection.vendor != "postgresql":
        # SQLite (a newcomer's first run) has neither `::` casts nor a column list on VALUES.
        model.objects.bulk_update(objects, fields)
        return
    meta = model._meta
    columns = [meta.pk, *(meta.get_field(name) for name in fields)]
    quote = connection.ops.quote_name
    row = "(" + ", ".join(f"%s::{column.db_type(connection)}" for column in columns) + ")"
    params = [
        column.get_db_prep_save(getattr(obj, column.attname), connection) for obj in objects for column in columns
    ]
    names = ", ".join(quote(column.column) for column in columns)
    assignments = ", ".join(f"{quote(column.column)} = v.{quote(column.column)}" for column in columns[1:])
    pk = quote(meta.pk.column)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {quote(meta.db_table)} AS t SET {assignments} "  # the names come from the model
            f"FROM (VALUES {', '.join([row] * len(objects))}) AS v({names}) WHERE t.{pk} = v.{pk}",
            params,
        )


def drafts_update(
    *, actor: User, edits: Sequence[DraftEdit], via_header: bool = False, source: str = ChangeSource.FORM
) -> list[DraftOutcome]:
    """Save the drafts of one or many forms at once, all or nothing: the browser form, the API and a
    city template save one, a province workbook every city it lists. Each form is checked as if it
    were saved alone (may it be changed now, by this person; is its version the one edited; every
    problem by field) and keeps its own history: a new version and one data change per form that
    changed, none for a form that did not.

    In one transaction, with the forms locked in the order of their keys (two saves over the same
    forms cannot deadlock), their cases read in one query and everything written in a few
    statements, however many forms. Refused (DraftsRefused, with every form's problems) when any
    form has one: nothing is saved then. Forms outside the actor's scope: Http404."""
    ids = [edit.submission_id for edit in edits]
    if len(set(ids)) != len(ids):
        raise ValueError("each form may appear once in a save")
    with transaction.atomic():
        locked = {
            submission.pk: submission
            for submission in Submission.objects.visible_to(actor)
            .select_for_update(of=("self",))
            .select_related("round", "city__province")
            .filter(pk__in=ids)
            .order_by("pk")
        }
        if len(locked) != len(ids):
            raise Http404
        current: dict[int, list[Case]] = {pk: [] for pk in ids}
        for case in Case.objects.filter(submission_id__in=ids).order_by("submission_id", "position", "pk"):
            current[case.submission_id].append(case)

        outcomes: list[DraftOutcome] = []
        plans: list[_CasePlan] = []
        befores: list[dict] = []
        for edit in edits:
            submission = locked[edit.submission_id]
            cases = current[submission.pk]
            outcome = DraftOutcome(submission=submission, cases=cases)
            outcomes.append(outcome)
            outcome.refusal = submission.edit_refusal(actor)
            if outcome.refusal is None:
                try:
                    check_version(submission, edit.expected_version, via_header=via_header)
                except StaleVersion as exc:
                    outcome.refusal = exc
            if outcome.refusal is not None:
                continue
            # The cases are read once: for the snapshot before, the update, the count and the snapshot after.
            befores.append(snapshot(submission, cases))
            cleaned, errors = clean_data(edit.data)
            for name, value in cleaned.items():
                setattr(submission, name, value)
            _check_key_site_sums(submission, cleaned, errors)
            plan = _CasePlan(kept=cases, changed=[], removed=[])
            if edit.cases is not None and not errors:
                plan = _plan_cases(submission, cases, edit.cases, errors)
            outcome.errors = errors
            plans.append(plan)
        if not all(outcome.ok for outcome in outcomes):
            raise DraftsRefused(outcomes)

        _write_cases(plans)
        now = timezone.now()
        changed: list[Submission] = []
        for outcome, plan, before in zip(outcomes, plans, befores, strict=True):
            submission = outcome.submission
            recompute(submission, cases_count=len(plan.kept))
            outcome.cases = plan.kept
            outcome.changes = diff(before, snapshot(submission, plan.kept))
            if outcome.changes:
                submission.version += 1
                submission.updated_at = now
                submission.updated_by = actor
                changed.append(submission)
        if changed:
            update_rows(changed, _draft_fields())
            DataChange.objects.bulk_create(
                _data_change(submission=outcome.submission, actor=actor, source=source, changes=outcome.changes)
                for outcome in outcomes
                if outcome.changes
            )
    return outcomes


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
    conflict when somebody saved a newer version first. The one-form case of `drafts_update`."""
    edit = DraftEdit(submission_id=submission_id, data=data, cases=cases, expected_version=expected_version)
    try:
        [outcome] = drafts_update(actor=actor, edits=[edit], via_header=via_header, source=source)
    except DraftsRefused as refused:
        raise refused.first() from None
    return outcome.submission


def _data_change(*, submission: Submission, actor: User, changes: dict, source: str) -> DataChange:
    return DataChange(
        submission=submission,
        version=submission.version,
        actor=actor,
        actor_role=actor.role,
        source=source,
        changes=changes,
    )


def record_change(*, submission: Submission, actor: User, changes: dict, source: str = ChangeSource.FORM) -> DataChange:
    """Keep what changed, with its before and after, in the submission's history (inside the
    caller's transaction, after the change itself)."""
    change = _data_change(submission=submission, actor=actor, changes=changes, source=source)
    change.save()
    return change


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


def city_deadline(city: City, round_: Round, date: datetime.date | object | None = UNREAD) -> CityDeadline:
    """`date`: the city's deadline in the round, when the caller read it already (a form read by
    `selectors.submission_for_form` carries it as `deadline`)."""
    if date is UNREAD:
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

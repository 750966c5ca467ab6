"""Importing a city template or a province workbook: the dry run and the import.

A dry run is the import itself carried out in a transaction that is rolled back, so the changes and
problems it reports are exactly those the import would make or meet: the same save as the browser
form's (`drafts_update`, of which the form's `submission_update` is the one-form case) validates
and records them (one place of validation, one diff). A province workbook is saved in one call for
all its cities, each with the version the dry run was computed against: a form changed in between
is a conflict, never silently overwritten. Any problem anywhere and nothing is saved (for a
province: in no city).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import IO, Any

from django.conf import settings
from django.db import transaction
from django.db.models import Count
from django.http import Http404
from django.utils.translation import gettext as _
from openpyxl.utils import column_index_from_string

from gigacity.errors import ApplicationError, Conflict, RoleNotAllowed, StaleVersion
from gigacity.i18n import pick
from gigacity.models import City, Province, Role, User
from gigacity.xlsx import WorkbookRejected
from indicators.models import Round
from indicators.rules import Inconsistency, inconsistencies

from ..forms import field_label
from ..models import EDITABLE_STATES, Attachment, CaseDomain, ChangeSource, Status, Submission
from ..services import DraftEdit, DraftOutcome, DraftsRefused, drafts_update, ensure_editable, submission_get_or_create
from ..snapshots import CASE_FIELDS, DATA_FIELDS
from .city import read_city_workbook
from .layout import (
    CASE_COL,
    COL_VALUE,
    DATA_FIELD_ROWS,
    PRACTICE_ROWS,
    PROVINCE_CASE_COL,
    PROVINCE_FIELD_COLS,
    SHEET_CASES,
    SHEET_CITIES,
    SHEET_DATA,
    SHEET_GUIDE,
    SHEET_PRACTICES,
    city_field_cell,
    ref,
)
from .province import read_province_workbook
from .sheets import LayoutChanged, Problem

SHEET_ORDER = (SHEET_GUIDE, SHEET_DATA, SHEET_CITIES, SHEET_CASES, SHEET_PRACTICES)
# The service's error keys name a case by its place in the list given ("cases[2].title"); its diff
# keys by its id ("case:17.title").
_ERROR_CASE_KEY = re.compile(r"^cases\[(\d+)\](?:\.(\w+))?$")
_DIFF_CASE_KEY = re.compile(r"^case:(\d+)(?:\.(\w+))?$")
_CELL = re.compile(r"^(?P<sheet>[^!]+)!(?P<col>[A-Z]+)(?P<row>\d+)$")


# ------------------------------------------------------------------------------------------------
# Results
# ------------------------------------------------------------------------------------------------
@dataclass
class Plan:
    """What an import changes (or changed) in one city's form, field by field and case by case."""

    city: str
    city_name: str
    submission_id: int | None = None
    new: bool = False  # the form does not exist yet: the import creates the draft
    base_version: int | None = None  # the version the changes are computed against
    version: int | None = None  # the version after the import
    fields: list[dict[str, Any]] = field(default_factory=list)
    cases_added: list[dict[str, Any]] = field(default_factory=list)
    cases_changed: list[dict[str, Any]] = field(default_factory=list)
    cases_removed: list[dict[str, Any]] = field(default_factory=list)
    cases_reordered: bool = False

    @property
    def has_changes(self) -> bool:
        return bool(self.fields or self.cases_added or self.cases_changed or self.cases_removed or self.cases_reordered)


@dataclass
class ImportResult:
    """The outcome of a dry run or an import: the plans, the problems (`sheet!cell: message`) and
    warnings that do not stop the import. `rejected`: the file itself was refused, nothing was read."""

    kind: str  # "city" or "province"
    dry_run: bool
    applied: bool = False
    rejected: bool = False
    plans: list[Plan] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def has_changes(self) -> bool:
        return any(plan.has_changes for plan in self.plans)

    @property
    def errors(self) -> list[str]:
        return [str(problem) for problem in self.problems]

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "dry_run": self.dry_run,
            "applied": self.applied,
            "rejected": self.rejected,
            "plans": [asdict(plan) for plan in self.plans],
            "problems": [problem.as_dict() for problem in self.problems],
            "warnings": list(self.warnings),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ImportResult:
        return cls(
            kind=data["kind"],
            dry_run=data["dry_run"],
            applied=data["applied"],
            rejected=data["rejected"],
            plans=[Plan(**plan) for plan in data["plans"]],
            problems=[Problem(**problem) for problem in data["problems"]],
            warnings=list(data["warnings"]),
        )

    def reject(self, problems: Sequence[Problem]) -> ImportResult:
        self.rejected = True
        self.problems = list(problems)
        return self


# ------------------------------------------------------------------------------------------------
# City template
# ------------------------------------------------------------------------------------------------
def city_import(
    *,
    submission_id: int,
    actor: User,
    upload: IO[bytes],
    dry_run: bool,
    expected_version: int | None = None,
    force: bool = False,
) -> ImportResult:
    """Dry-run or import an uploaded city template into one submission. Outside the actor's scope:
    Http404; a role that may not edit: RoleNotAllowed; a form that cannot be changed now or a stale
    `expected_version`: Conflict/StaleVersion. Everything about the file is in the result.

    A workbook downloaded before the form last changed would replace those changes (and remove cases
    added since, with their attachments): it is imported only against the version a dry run showed
    (`expected_version`) or when the caller says so (`force`)."""
    submission = Submission.objects.visible_to(actor).select_related("city", "round").filter(pk=submission_id).first()
    if submission is None:
        raise Http404
    # Said before the file is read: a submitted form cannot take any workbook, however good.
    ensure_editable(submission, actor)
    result = ImportResult(kind="city", dry_run=dry_run)
    upload_data = _read(upload, read_city_workbook, result)
    if upload_data is None:
        return result
    meta = upload_data.meta
    if meta.get("city") != submission.city_id or meta.get("year") != submission.round.year:
        other = City.objects.filter(pk=str(meta.get("city"))).first()
        return result.reject(
            [
                Problem(
                    "",
                    _(
                        "This template is for %(city)s, %(year)s round, but this form is %(this_city)s, "
                        "%(this_year)s round. Download this form's template and copy the data into it."
                    )
                    % {
                        "city": other.name if other else meta.get("city"),
                        "year": meta.get("year"),
                        "this_city": submission.city.name,
                        "this_year": submission.round.year,
                    },
                )
            ]
        )
    if meta.get("version") != submission.version and not dry_run and expected_version is None and not force:
        raise StaleVersion(
            _(
                "The form was changed (now version %(now)s) after this template was downloaded (version "
                "%(then)s). Download the template again, or check the changes with a dry run and import "
                "with force to replace them."
            )
            % {"now": submission.version, "then": meta.get("version")},
            current_version=submission.version,
        )
    if meta.get("version") != submission.version:
        result.warnings.append(
            _(
                "The form was changed (now version %(now)s) after this template was downloaded (version "
                "%(then)s). Importing replaces those changes with the workbook's content: check the changes "
                "below."
            )
            % {"now": submission.version, "then": meta.get("version")}
        )

    base = submission.version if expected_version is None else expected_version
    plan = Plan(
        city=submission.city_id,
        city_name=submission.city.name,
        submission_id=submission.pk,
        base_version=base,
    )
    locate = _Locator(
        field_cell=city_field_cell,
        case_cell=lambda row, name: ref(SHEET_CASES, row, CASE_COL[name]),
        case_rows=upload_data.case_rows,
        cases_sheet=SHEET_CASES,
    )
    problems = list(upload_data.problems)
    keep = not dry_run and not problems
    with transaction.atomic():
        edit = DraftEdit(
            submission_id=submission.pk, data=upload_data.data, cases=upload_data.cases, expected_version=base
        )
        [outcome] = _attempt(
            actor=actor,
            edits=[edit],
            source=ChangeSource.EXCEL,
            keep=keep,
            preview_cases=not _on_sheet(problems, SHEET_CASES),
        )
        if isinstance(outcome, ApplicationError):
            raise outcome
        problems.extend(_new_cells(problems, locate.problems(outcome.errors)))
        _describe(plan, outcome, upload_data.cases, locate, _attachment_counts([submission.pk]))
        result.warnings.extend(_inconsistency_warnings(outcome, locate))
    plan.version = outcome.version
    result.plans = [plan]
    result.problems = sort_problems(problems, kind="city")
    result.applied = keep and not outcome.errors
    return result


def _read(upload: IO[bytes], reader: Callable[[IO[bytes]], Any], result: ImportResult) -> Any | None:
    """What `reader` reads from the upload, or None with `result` rejected: a file too large, not a
    workbook we can open safely, or not our template."""
    try:
        check_size(upload)
        return reader(upload)
    except WorkbookRejected as exc:
        result.reject([Problem("", str(exc))])
    except LayoutChanged as exc:
        result.reject(exc.problems)
    return None


def check_size(upload: IO[bytes]) -> None:
    """The size limit, enforced by the application whatever a proxy in front does (UP-1)."""
    size = getattr(upload, "size", None)
    if size is None:
        upload.seek(0, 2)
        size = upload.tell()
        upload.seek(0)
    if size > settings.GIGACITY_MAX_WORKBOOK_BYTES:
        raise WorkbookRejected(size_message(size))


def size_message(size: int | None) -> str:
    """Said when a file is over the limit (`size` None: stopped while receiving, size unknown)."""
    limit = settings.GIGACITY_MAX_WORKBOOK_BYTES // 2**20
    if size is None:
        return _("The file is larger than %(limit)s MB, the most a workbook may be.") % {"limit": limit}
    return _("The file is %(size)s MB; a workbook may be at most %(limit)s MB.") % {
        "size": f"{size / 2**20:.1f}",
        "limit": limit,
    }


# ------------------------------------------------------------------------------------------------
# Province workbook
# ------------------------------------------------------------------------------------------------
def open_round() -> Round:
    round_ = Round.objects.open()
    if round_ is None:
        raise Conflict(_("No evaluation round is open, so no form can be changed."))
    return round_


def province_import(
    *,
    actor: User,
    upload: IO[bytes],
    dry_run: bool,
    expected_versions: Mapping[str, int] | None = None,
    force: bool = False,
) -> ImportResult:
    """Dry-run or import a province workbook: creates or updates the drafts of the bureau's cities,
    on their behalf, all or nothing. `expected_versions` (city code → version, 0 for no form yet)
    are the versions a dry run was computed against. Without them, forms changed after the workbook
    was downloaded are only replaced when the caller says so (`force`)."""
    if actor.role != Role.BUREAU or not actor.province_id:
        raise RoleNotAllowed(_("Only a provincial bureau can import a province workbook."))
    round_ = open_round()
    province = actor.province
    result = ImportResult(kind="province", dry_run=dry_run)
    upload_data = _read(upload, read_province_workbook, result)
    if upload_data is None:
        return result
    meta = upload_data.meta
    if meta.get("province") != province.code or meta.get("year") != round_.year:
        return result.reject(
            [
                Problem(
                    "",
                    _(
                        "This workbook is for %(province)s, %(year)s round; you can import only %(own)s, "
                        "%(this_year)s round. Download your province's workbook."
                    )
                    % {
                        "province": _province_name(meta.get("province")),
                        "year": meta.get("year"),
                        "own": province.name,
                        "this_year": round_.year,
                    },
                )
            ]
        )

    problems = list(upload_data.problems)
    cities = {city.code: city for city in City.objects.visible_to(actor)}
    submissions = {
        s.city_id: s for s in Submission.objects.filter(round=round_, city__in=list(cities)).select_related("city")
    }
    downloaded = meta.get("versions") or {}
    work: list[tuple[City, Any]] = []
    listed: set[str] = set()
    stale: list[str] = []
    for city_row in upload_data.rows:
        at = ref(SHEET_CITIES, city_row.row, 1)
        city = cities.get(city_row.code)
        if city is None:
            problems.append(Problem(at, _outside_message(city_row.code, province.name)))
            continue
        if city.code in listed:
            problems.append(Problem(at, _("%(city)s appears in more than one row.") % {"city": city.name}))
            continue
        listed.add(city.code)
        submission = submissions.get(city.code)
        if submission is not None and submission.status not in EDITABLE_STATES:
            problems.append(
                Problem(
                    at,
                    _(
                        "%(city)s's form is “%(status)s” and cannot be changed by the workbook (only forms not "
                        "started, drafts and returned forms can). Delete this row."
                    )
                    % {"city": city.name, "status": Status(submission.status).label},
                )
            )
            continue
        has_cases = any(item is not None for item, _row in upload_data.cases.get(city.code, []))
        if submission is None and not has_cases and all(v in (None, "") for v in city_row.data.values()):
            continue  # an empty row of a city without a form: nothing to create
        if submission is not None and downloaded.get(city.code, 0) != submission.version:
            if not dry_run and expected_versions is None and not force:
                stale.append(city.name)
            result.warnings.append(
                _(
                    "%(city)s: the form was changed after the workbook was downloaded; importing replaces those "
                    "changes with the workbook's content."
                )
                % {"city": city.name}
            )
        work.append((city, city_row))
    if stale:
        raise StaleVersion(
            _(
                "The forms of %(cities)s were changed after this workbook was downloaded. Download the workbook "
                "again, or check the changes with a dry run and import with force to replace them."
            )
            % {"cities": "、".join(stale)},
            current_version=0,
        )
    for code, pairs in upload_data.cases.items():
        if code not in listed:
            problems.extend(
                Problem(
                    ref(SHEET_CASES, row, PROVINCE_CASE_COL["city"]),
                    _("The city %(code)s is not among the rows of “城市数据”; its cases cannot be imported.")
                    % {"code": code},
                )
                for _item, row in pairs
            )

    attachments = _attachment_counts([s.pk for s in submissions.values()])
    cases_unreadable = _on_sheet(upload_data.problems, SHEET_CASES)
    plans: list[Plan] = []
    keep = not dry_run and not problems
    with transaction.atomic():
        edits: list[DraftEdit] = []
        entries: list[tuple[City, Plan, list[Mapping[str, Any]], _Locator, int]] = []
        for city, city_row in work:
            submission = submissions.get(city.code)
            new = submission is None
            if new:
                submission = submission_get_or_create(city=city, round_=round_, actor=actor)
            # The version the dry run saw (0 or missing: no form then, so the new draft's 1).
            base = (expected_versions.get(city.code) or 1) if expected_versions is not None else submission.version
            case_pairs = [(item, row) for item, row in upload_data.cases.get(city.code, []) if item is not None]
            items = [item for item, _row in case_pairs]
            row_of_city = city_row.row
            locate = _Locator(
                field_cell=lambda name, row=row_of_city: ref(SHEET_CITIES, row, PROVINCE_FIELD_COLS[name]),
                case_cell=lambda row, name: ref(SHEET_CASES, row, PROVINCE_CASE_COL[name]),
                case_rows=[row for _item, row in case_pairs],
                cases_sheet=SHEET_CASES,
                prefix=f"{city.name}：",
            )
            plan = Plan(city=city.code, city_name=city.name, new=new, base_version=base, submission_id=submission.pk)
            edits.append(DraftEdit(submission_id=submission.pk, data=city_row.data, cases=items, expected_version=base))
            entries.append((city, plan, items, locate, row_of_city))
        # Every city at once; the whole province is kept or rolled back below.
        outcomes = _attempt(
            actor=actor,
            edits=edits,
            source=ChangeSource.PROVINCE_EXCEL,
            keep=True,
            preview_cases=not cases_unreadable,
        )
        for (city, plan, items, locate, row_of_city), outcome in zip(entries, outcomes, strict=True):
            if isinstance(outcome, StaleVersion):
                problems.append(Problem(ref(SHEET_CITIES, row_of_city, 1), _stale_message(city.name)))
                continue
            if isinstance(outcome, Conflict):
                problems.append(Problem(ref(SHEET_CITIES, row_of_city, 1), f"{city.name}：{outcome.message}"))
                continue
            if isinstance(outcome, ApplicationError):
                raise outcome
            problems.extend(_new_cells(problems, locate.problems(outcome.errors)))
            _describe(plan, outcome, items, locate, attachments)
            result.warnings.extend(_inconsistency_warnings(outcome, locate))
            plan.version = outcome.version
            plans.append(plan)
        keep = keep and not problems
        if not keep:
            transaction.set_rollback(True)
            for plan in plans:
                if plan.new:
                    plan.submission_id = None  # created in the rolled-back transaction only
    result.plans = plans
    result.problems = sort_problems(problems, kind="province")
    result.applied = keep
    return result


def _stale_message(city: str) -> str:
    return _(
        "%(city)s: the form was changed by somebody else after the check, so nothing was imported "
        "(to overwrite nobody's work). Upload the workbook again to check it against the latest version."
    ) % {"city": city}


def _province_name(code: Any) -> str:
    province = Province.objects.filter(pk=str(code)).first()
    return province.name if province else str(code)


def _outside_message(code: str, province: str) -> str:
    city = City.objects.filter(pk=code).select_related("province").first()
    if city is None:
        return _("There is no city with the code %(code)s.") % {"code": code}
    return _("%(city)s (%(code)s) is not a city of %(province)s; you can import only your province's cities.") % {
        "city": city.name,
        "code": code,
        "province": province,
    }


# ------------------------------------------------------------------------------------------------
# The attempt: drafts_update in a savepoint
# ------------------------------------------------------------------------------------------------
@dataclass
class _Outcome:
    version: int
    changes: dict[str, list] = field(default_factory=dict)
    errors: dict[str, list[str]] = field(default_factory=dict)
    positions: dict[int, int] = field(default_factory=dict)  # case pk → position after the save
    inconsistent: list[Inconsistency] = field(default_factory=list)  # parts above their wholes, once saved


def _attempt(
    *,
    actor: User,
    edits: Sequence[DraftEdit],
    source: str,
    keep: bool,
    preview_cases: bool = True,
) -> list[_Outcome | ApplicationError]:
    """Save every edit at once with `drafts_update` in a savepoint, rolled back unless `keep`, and
    say what it changed in each form; a form that cannot be changed (not editable now, a stale
    version) gets its refusal instead.

    When the save is refused (nothing is saved then), more rolled-back runs complete the report:
    the forms without problems (what they would change), the cases alone of the forms whose fields
    have problems (the service checks the cases only once the fields are valid, and one upload
    should list every problem), and everything that is valid of those forms (so the person sees
    that the rest of the workbook was understood). Each run is one call for all the forms in it."""
    try:
        with transaction.atomic():
            saved = drafts_update(actor=actor, edits=edits, source=source)
            results: list[_Outcome | ApplicationError | None] = [
                _read_back(outcome, edit, keep) for outcome, edit in zip(saved, edits, strict=True)
            ]
            if not keep:
                transaction.set_rollback(True)
        return results
    except DraftsRefused as refused:
        outcomes = refused.outcomes
    results = [None] * len(edits)
    failed: list[int] = []
    for index, (edit, outcome) in enumerate(zip(edits, outcomes, strict=True)):
        if outcome.refusal is not None:
            results[index] = outcome.refusal
        elif outcome.errors:
            results[index] = _Outcome(version=edit.expected_version, errors=dict(outcome.errors))
            failed.append(index)
    passed = [index for index, found in enumerate(results) if found is None]
    for index, found in zip(passed, _preview(actor, [edits[i] for i in passed], source, keep=keep), strict=True):
        results[index] = found
    fields_only = [index for index in failed if not _case_errors(results[index].errors)]
    cases_alone = [replace(edits[index], data={}) for index in fields_only]
    for index, found in zip(fields_only, _preview(actor, cases_alone, source, keep=False), strict=True):
        results[index].errors.update(found.errors)
    valid_parts = []
    for index in failed:
        edit, errors = edits[index], results[index].errors
        cases_valid = preview_cases and not _case_errors(errors)
        data = {name: value for name, value in edit.data.items() if name not in errors}
        valid_parts.append(replace(edit, data=data, cases=edit.cases if cases_valid else None))
    for index, found in zip(failed, _preview(actor, valid_parts, source, keep=False), strict=True):
        if not found.errors:
            results[index].changes, results[index].positions = found.changes, found.positions
    return results


def _preview(actor: User, edits: Sequence[DraftEdit], source: str, *, keep: bool) -> list[_Outcome]:
    """What each edit would change, saved together and rolled back; an edit refused gets its errors
    (and the others are tried again without it). `keep`: report the versions a kept save makes."""
    found = [_Outcome(version=edit.expected_version) for edit in edits]
    pending = list(range(len(edits)))
    while pending:
        try:
            with transaction.atomic():
                saved = drafts_update(actor=actor, edits=[edits[i] for i in pending], source=source)
                for index, outcome in zip(pending, saved, strict=True):
                    found[index] = _read_back(outcome, edits[index], keep)
                transaction.set_rollback(True)
        except DraftsRefused as refused:
            remaining = []
            for index, outcome in zip(pending, refused.outcomes, strict=True):
                if outcome.ok:
                    remaining.append(index)
                else:
                    found[index].errors = dict(outcome.errors)
            pending = remaining
        else:
            pending = []
    return found


def _read_back(saved: DraftOutcome, edit: DraftEdit, keep: bool) -> _Outcome:
    outcome = _Outcome(version=edit.expected_version, inconsistent=inconsistencies(saved.submission.checked_inputs))
    if saved.changes:
        outcome.changes = saved.changes
        outcome.positions = {case.pk: case.position for case in saved.cases}
        if keep:
            outcome.version = saved.submission.version
    return outcome


def _case_errors(errors: Mapping[str, Any]) -> bool:
    return any(key.startswith("cases") for key in errors)


def _on_sheet(problems: Sequence[Problem], sheet: str) -> bool:
    return any(problem.cell == sheet or problem.cell.startswith(f"{sheet}!") for problem in problems)


def _new_cells(known: Sequence[Problem], found: Sequence[Problem]) -> list[Problem]:
    """The service's problems at cells the reader has not already explained (its message is the more
    specific one: "choose from the list: …" rather than "not a listed domain")."""
    cells = {problem.cell for problem in known if problem.cell}
    return [problem for problem in found if not problem.cell or problem.cell not in cells]


def _attachment_counts(submission_ids: Sequence[int]) -> dict[int, int]:
    rows = (
        Attachment.objects.filter(submission_id__in=submission_ids, case__isnull=False)
        .values("case")
        .annotate(n=Count("pk"))
    )
    return {row["case"]: row["n"] for row in rows}


# ------------------------------------------------------------------------------------------------
# From the service's keys to cells, and from its diff to a plan a person reads
# ------------------------------------------------------------------------------------------------
@dataclass
class _Locator:
    field_cell: Callable[[str], str]
    case_cell: Callable[[int, str], str]  # (sheet row, case field) → cell
    case_rows: Sequence[int]  # the sheet row of each case item, in the order given to the service
    cases_sheet: str
    prefix: str = ""

    def cell(self, key: str) -> str:
        match = _ERROR_CASE_KEY.match(key)
        if match:
            index, name = int(match[1]), match[2] or "id"
            if index < len(self.case_rows):
                return self.case_cell(self.case_rows[index], name if name in CASE_FIELDS else "id")
            return self.cases_sheet
        if key == "cases":
            return self.cases_sheet
        try:
            return self.field_cell(key)
        except KeyError:
            return ""

    def problems(self, errors: Mapping[str, Sequence[str]]) -> list[Problem]:
        return [
            Problem(self.cell(key), self.prefix + str(message))
            for key, messages in errors.items()
            for message in messages
        ]


def _describe(
    plan: Plan,
    outcome: _Outcome,
    items: Sequence[Mapping[str, Any]],
    locate: _Locator,
    attachments: Mapping[int, int],
) -> None:
    changes = outcome.changes
    for name in DATA_FIELDS:
        if name in changes:
            before, after = changes[name]
            plan.fields.append(
                {"field": name, "label": field_label(name), "cell": locate.cell(name), "before": before, "after": after}
            )
    index_of = {item["id"]: index for index, item in enumerate(items) if item.get("id")}
    for pk, position in outcome.positions.items():
        index_of.setdefault(pk, position)  # a case the save created sits where its row was
    changed: dict[int, dict[str, Any]] = {}
    for key, (before, after) in changes.items():
        match = _DIFF_CASE_KEY.match(key)
        if key == "cases.order":
            plan.cases_reordered = True
        if not match:
            continue
        case_id, name = int(match[1]), match[2]
        index = index_of.get(case_id)
        title_cell = locate.cell(f"cases[{index}].title") if index is not None else locate.cases_sheet
        if name is None and before is None:
            plan.cases_added.append({"title": after, "cell": title_cell})
        elif name is None:
            plan.cases_removed.append({"id": case_id, "title": before, "attachments": attachments.get(case_id, 0)})
        else:
            entry = changed.setdefault(
                case_id,
                {
                    "id": case_id,
                    "title": items[index]["title"] if index is not None else "",
                    "cell": title_cell,
                    "fields": [],
                },
            )
            if name == "domain":
                before, after = _domain_label(before), _domain_label(after)
            entry["fields"].append(
                {
                    "field": name,
                    "label": field_label(name),
                    "cell": locate.cell(f"cases[{index}].{name}") if index is not None else "",
                    "before": before,
                    "after": after,
                }
            )
    plan.cases_changed = list(changed.values())


def _inconsistency_warnings(outcome: _Outcome, locate: _Locator) -> list[str]:
    """Numbers that contradict each other do not stop an import (the draft may be corrected later)
    but will stop the submission unless the city confirms them: say so now, at the cell."""
    return [
        str(
            Problem(
                locate.cell(found.part),
                locate.prefix
                + _("%(problem)s. Correct it, or confirm when submitting that it has been checked.")
                % {"problem": pick(found.message_zh, found.message_en)},
            )
        )
        for found in outcome.inconsistent
    ]


def _domain_label(code: Any) -> Any:
    return str(CaseDomain(code).label) if code in CaseDomain.values else code


def sort_problems(problems: Sequence[Problem], *, kind: str) -> list[Problem]:
    """File-level problems first, then by sheet (in the workbook's order), row and column; each named
    with the item its cell holds."""

    def key(problem: Problem):
        match = _CELL.match(problem.cell)
        if not problem.cell:
            return (0, 0, 0, "")
        if not match:
            return (1, _sheet_rank(problem.cell), 0, "")
        return (1, _sheet_rank(match["sheet"]), int(match["row"]), f"{len(match['col']):02d}{match['col']}")

    return [
        replace(problem, item=problem.item or _item_at(problem.cell, kind=kind))
        for problem in sorted(problems, key=key)
    ]


def _item_at(cell: str, *, kind: str) -> str:
    """What a cell of our layouts holds, in the user's language ("" when it is no field)."""
    match = _CELL.match(cell)
    if not match:
        return ""
    sheet, row, col = match["sheet"], int(match["row"]), column_index_from_string(match["col"])
    name = None
    if sheet == SHEET_DATA and col == COL_VALUE:
        name = next((field for field, at in DATA_FIELD_ROWS.items() if at == row), None)
    elif sheet == SHEET_PRACTICES and col == 2:
        name = next((field for field, at in PRACTICE_ROWS.items() if at == row), None)
    elif sheet == SHEET_CITIES:
        name = next((field for field, at in PROVINCE_FIELD_COLS.items() if at == col), None)
    elif sheet == SHEET_CASES:
        columns = PROVINCE_CASE_COL if kind == "province" else CASE_COL
        case_field = next((field for field, at in columns.items() if at == col), None)
        return field_label(case_field) if case_field in CASE_FIELDS else ""
    return field_label(name) if name else ""


def _sheet_rank(sheet: str) -> int:
    return SHEET_ORDER.index(sheet) if sheet in SHEET_ORDER else len(SHEET_ORDER)

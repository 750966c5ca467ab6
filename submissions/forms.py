"""The survey form in the browser: its layout, and the state of a filled-in page.

Validation is not done here but by `submissions.inputs` and the services, so the page, the API and
Excel refuse the same things with the same messages. This module only turns a POST into the
service's arguments and back into what the page shows, keeping exactly what the person typed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext_lazy as _

from gigacity.i18n import pick
from gigacity.params import int_param
from indicators.catalogue import (
    INDICATORS_BY_CODE,
    INPUTS_BY_NAME,
    KEY_SITE_CATEGORIES,
    IndicatorSpec,
    InputSpec,
    key_site_field,
)

from .models import CaseDomain, Submission
from .snapshots import BASIC_FIELDS, CASE_FIELDS, DATA_FIELDS, PRACTICE_FIELDS

MAX_CASE_ROWS = 50


@dataclass(frozen=True)
class IndicatorGroup:
    """One indicator with the raw inputs it is computed from, as the form shows them."""

    indicator: IndicatorSpec
    inputs: tuple[InputSpec, ...]
    key_sites: bool = False


def _group(code: str, *inputs: str, key_sites: bool = False) -> IndicatorGroup:
    return IndicatorGroup(INDICATORS_BY_CODE[code], tuple(INPUTS_BY_NAME[n] for n in inputs), key_sites)


NETWORK = (
    _group("fiber_gigabit_coverage", "gigabit_capable_households", "urban_households"),
    _group("pon_10g_share", "pon_10g_ports", "pon_ports_total"),
    _group("key_sites_5g_reach", "key_sites_5g_covered", "key_sites_total", key_sites=True),
    _group("bs5g_per_10k", "bs5g_count", "resident_population"),
)
USERS = (
    _group("users_500m_share", "users_500m_plus", "broadband_users_total"),
    _group("users_1000m", "users_1000m"),
    _group("users_5g_share", "users_5g", "mobile_users_total"),
)

SECTIONS = (
    ("basic", _("Basic information")),
    ("network", _("Network building")),
    ("users", _("User adoption")),
    ("cases", _("Application innovation")),
    ("practices", _("Typical practices and policies")),
)
SECTION_FIELDS = {
    "basic": BASIC_FIELDS,
    "network": tuple(i.name for g in NETWORK for i in g.inputs)
    + tuple(key_site_field(c.key, p) for c in KEY_SITE_CATEGORIES for p in ("total", "covered")),
    "users": tuple(i.name for g in USERS for i in g.inputs),
    "practices": PRACTICE_FIELDS,
}
PRACTICE_LABELS = {
    "practice_network": (
        _("Typical practices in network building"),
        _("Planning, shared infrastructure, access to public facilities, funding …"),
    ),
    "practice_users": (
        _("Typical practices in user adoption"),
        _("Speed-up campaigns, packages, terminals, publicity …"),
    ),
    "practice_applications": (
        _("Typical practices in applications"),
        _("How applications were found, supported and spread …"),
    ),
    "support_policies": (
        _("Local support policies"),
        _("Plans, funds, rules on access to buildings and public resources …"),
    ),
}


def display_value(name: str, value: Any) -> str:
    """A stored value as the page shows it: counts with thousands separators, dates as ISO."""
    if value is None:
        return ""
    if name in INPUTS_BY_NAME or name.startswith("ks_"):
        return f"{value:,}"
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


class FieldErrors(dict):
    """Messages by field name. A field without any reads as no messages rather than as a missing
    key: the page asks each of its fields (`case.errors.title`), and a template's failed lookup is
    an exception caught and searched through every time."""

    def __missing__(self, key: str) -> tuple:
        if hasattr(dict, key):  # `errors.items` in a template: the method, as for any dict
            raise KeyError(key)
        return ()


@dataclass
class CaseState:
    id: int | None
    values: dict[str, str]
    attachments: list = field(default_factory=list)
    comments: list[str] = field(default_factory=list)
    errors: dict[str, list[str]] = field(default_factory=FieldErrors)
    carried_from_year: int | None = None  # last year's case, carried over and not changed since

    @property
    def is_blank(self) -> bool:
        return self.id is None and not any(self.values.values())

    def as_item(self) -> dict[str, Any]:
        return {**({"id": self.id} if self.id else {}), **self.values}


@dataclass
class FormState:
    """What the page shows: every value as typed (or as stored), the cases, the version edited."""

    values: dict[str, str]
    cases: list[CaseState]
    version: int
    errors: dict[str, list[str]] = field(default_factory=FieldErrors)
    cases_sent: bool = True  # False: the page sent no cases, so they are not touched

    @classmethod
    def from_submission(cls, submission: Submission) -> FormState:
        values = {name: display_value(name, getattr(submission, name)) for name in DATA_FIELDS}
        cases = [
            CaseState(
                case.pk,
                {name: getattr(case, name) for name in CASE_FIELDS},
                list(case.attachments.all()),
                carried_from_year=case.carried_from_year,
            )
            for case in submission.cases.all()
        ]
        return cls(values, cases, submission.version)

    @classmethod
    def from_post(cls, post: Mapping[str, Any]) -> FormState:
        """What the page sent, as typed: all a save needs. The page shows it again, after a refusal,
        `beside` the stored form."""
        values = {name: post.get(name, "") for name in DATA_FIELDS}
        version = int_param(post.get("version"))
        version = -1 if version is None else version  # no version: a conflict rather than an unchecked save
        total = int_param(post.get("cases-TOTAL"))
        if total is None:
            # A page that did not send its cases (a tampered or cut-off form) leaves them as they are.
            return cls(values, [], version, cases_sent=False)
        cases = [
            CaseState(
                int_param(post.get(f"cases-{index}-id", "")),
                {name: post.get(f"cases-{index}-{name}", "") for name in CASE_FIELDS},
            )
            for index in range(min(total, MAX_CASE_ROWS))
        ]
        return cls(values, cases, version)

    def beside(self, submission: Submission) -> FormState:
        """This state with what the page shows of the stored form (`submission`, read with its cases
        and their attachments): each typed case's attachments and whether it is last year's, or the
        stored cases when the page sent none."""
        if not self.cases_sent:
            self.cases = FormState.from_submission(submission).cases
            return self
        stored = {case.pk: case for case in submission.cases.all()}
        for case in self.cases:
            found = stored.get(case.id)
            if found is not None:
                case.attachments = list(found.attachments.all())
                case.carried_from_year = found.carried_from_year
        return self

    def data(self) -> dict[str, str]:
        """The fields for submission_update. The key-site totals are derived from the categories when
        any category is filled in, so the typed totals are only sent when no category is."""
        data = dict(self.values)
        if any(self.values.get(key_site_field(c.key, p)) for c in KEY_SITE_CATEGORIES for p in ("total", "covered")):
            data.pop("key_sites_total", None)
            data.pop("key_sites_5g_covered", None)
        return data

    def case_items(self) -> list[dict[str, Any]] | None:
        """The cases for submission_update: the whole list, or None to leave them as they are."""
        return [case.as_item() for case in self.cases] if self.cases_sent else None

    def attach_errors(self, errors: Mapping[str, list[str]]) -> None:
        """Spread errors by field over the values and the cases (keys like cases[2].title)."""
        self.errors = FieldErrors()
        for key, messages in errors.items():
            if key.startswith("cases[") and "]" in key:
                index_text, _sep, rest = key[len("cases[") :].partition("]")
                index = int_param(index_text)
                if index is not None and index < len(self.cases):
                    case = self.cases[index]
                    case.errors.setdefault(rest.lstrip(".") or "general", []).extend(messages)
                    continue
            self.errors.setdefault(key, []).extend(messages)

    def attach_comments(self, comments) -> dict[str, list[str]]:
        """The reviewer's comments of the last return: case comments go to their case, the others are
        returned by field."""
        by_field: dict[str, list[str]] = {}
        cases = {case.id: case for case in self.cases if case.id}
        for comment in comments:
            if comment.field.startswith("case:") and int_param(comment.field[5:]) is not None:
                case = cases.get(int_param(comment.field[5:]))
                if case is not None:
                    case.comments.append(comment.message)
                    continue
            by_field.setdefault(comment.field, []).append(comment.message)
        return by_field


CASE_TEXT_FIELDS = (
    ("description", _("Description")),
    ("pain_points", _("Difficulties, pain points or bottlenecks solved (难点、痛点、堵点)")),
    ("replicability", _("Why it can be replicated elsewhere")),
)
BASIC_LABELS = {
    "data_as_of": _("Data as of"),
    "contact_name": _("Contact person"),
    "contact_phone": _("Phone"),
    "contact_email": _("E-mail"),
}
CASE_LABELS = {"title": _("Title"), "domain": _("Domain"), "partners": _("Partners"), **dict(CASE_TEXT_FIELDS)}


def field_label(name: str, case_titles: Mapping[int, str] | None = None) -> str:
    """The name a person reads for any field of the form (inputs, key sites, practices, cases), for
    error keys (cases[<index>].title) and for history keys (case:<id>.title, attachment:<id>)."""
    if name in INPUTS_BY_NAME:
        return input_label(INPUTS_BY_NAME[name])
    if name.startswith("ks_"):
        key, _sep, part = name[3:].rpartition("_")
        category = next((c for c in KEY_SITE_CATEGORIES if c.key == key), None)
        if category is not None:
            part_label = _("sites") if part == "total" else _("reached by 5G")
            return f"{pick(category.label_zh, category.label_en)} · {part_label}"
    if name in BASIC_LABELS:
        return str(BASIC_LABELS[name])
    if name in PRACTICE_LABELS:
        return str(PRACTICE_LABELS[name][0])
    if name in CASE_LABELS:
        return str(CASE_LABELS[name])
    if name == "cases":
        return str(_("Application cases"))
    if name == "cover_letter":
        return str(_("Stamped cover letter"))
    if name.startswith("case:"):
        key, _sep, rest = name[5:].partition(".")
        title = (case_titles or {}).get(int_param(key))
        prefix = _("Case “%(title)s”") % {"title": title} if title else _("A case")
        return f"{prefix} · {field_label(rest)}" if rest else str(prefix)
    if name.startswith("attachment:"):
        return str(_("Attachment"))
    if name == "confirm_inconsistent":
        return str(_("Numbers that contradict each other"))
    if name == "cases.order":
        return str(_("Order of the cases"))
    if name.startswith("cases[") and "]" in name:
        index, _sep, rest = name[6:].partition("]")
        position = int_param(index)
        prefix = _("Case %(n)s") % {"n": position + 1} if position is not None else _("A case")
        rest = rest.lstrip(".")
        return f"{prefix} · {field_label(rest)}" if rest else str(prefix)
    return name


def change_display(name: str, value: Any, case_titles: Mapping[int, str] | None = None) -> str:
    """A value of the history or of the bureau's diff (`name` as in `field_label`) as people read it:
    counts with thousands separators, a case's domain by its name in the active language, the order
    of the cases by their titles; "—" for nothing."""
    if value is None or value == "":
        return "—"
    if name == "domain" or (name.startswith("case:") and name.endswith(".domain")):
        return str(CaseDomain(value).label) if value in CaseDomain.values else str(value)
    if name == "cases.order" and isinstance(value, list):
        titles = case_titles or {}
        quote = pick("「%s」", "“%s”")
        return pick("、", ", ").join(quote % (titles.get(int_param(v)) or _("A case")) for v in value)
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


def domain_choices() -> list[tuple[str, str]]:
    return [("", _("— choose a domain —")), *CaseDomain.choices]


def input_label(spec: InputSpec) -> str:
    return pick(spec.label_zh, spec.label_en)

"""The case collection (案例集) as a Word document: a cover, the contents by domain (信息消费, 垂直行业,
社会民生, 数字政府, 其他), then each case with its city, title, the problem it solves, what was done,
why it can be replicated, its partners and the attachments listed.

Its scope is the Excel case collection's (`dashboards.case_collection`): the cases of forms the
bureaus recommended and the ministry has not rejected, in the requester's scope (a bureau its
province, the ministry the nation). The requester chooses between the cases the bureaus recommended
as excellent only, and every case of those forms with the excellent ones first.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import IO

from django.conf import settings
from django.db.models import Case, Prefetch, QuerySet, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from gigacity import docx as word
from gigacity.errors import NothingToShow
from gigacity.i18n import in_english, pick
from gigacity.models import Province, User
from indicators.catalogue import CASE_DOMAINS
from indicators.models import Round
from submissions.models import Attachment, Submission
from submissions.models import Case as ApplicationCase

from .circular import Steps, ordinal
from .dashboards import CASE_COLLECTION_STATES

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Chapter:
    code: str
    label: str
    cases: list[ApplicationCase]


def casebook_cases(
    *, user: User, round_: Round, province: Province | None = None, excellent_only: bool = True
) -> QuerySet[ApplicationCase]:
    """The cases of the collection, by domain (the catalogue's order), excellent first, then province,
    city and the city's own order; each with its form, city and attachments."""
    forms = Submission.objects.visible_to(user).filter(round=round_, status__in=CASE_COLLECTION_STATES)
    if province is not None:
        forms = forms.filter(city__province=province)
    cases = ApplicationCase.objects.filter(submission__in=forms)
    if excellent_only:
        cases = cases.filter(is_excellent=True)
    domain_order = Case(
        *(When(domain=code, then=Value(i)) for i, (code, _zh, _en) in enumerate(CASE_DOMAINS)),
        default=Value(len(CASE_DOMAINS) - 1),  # a case without a domain counts as 其他
    )
    return (
        cases.annotate(domain_order=domain_order)
        .select_related("submission__city__province")
        .prefetch_related(Prefetch("attachments", queryset=Attachment.objects.order_by("uploaded_at", "pk")))
        .order_by(
            "domain_order",
            "-is_excellent",
            "submission__city__province_id",
            "submission__city_id",
            "position",
            "pk",
        )
    )


def nothing_to_collect(round_: Round, *, excellent_only: bool) -> NothingToShow:
    if excellent_only:
        return NothingToShow(
            _(
                "There is no case to collect for the %(year)s round yet: the bureaus have not recommended any "
                "case as excellent in the forms they recommended."
            )
            % {"year": round_.year}
        )
    return NothingToShow(
        _("There is no case to collect for the %(year)s round yet: no recommended form has one.")
        % {"year": round_.year}
    )


def ensure_cases(*, user: User, round_: Round, province: Province | None, excellent_only: bool) -> None:
    """Refuse a case collection without a case, rather than an empty document."""
    if not casebook_cases(user=user, round_=round_, province=province, excellent_only=excellent_only).exists():
        raise nothing_to_collect(round_, excellent_only=excellent_only)


def chapters(cases: list[ApplicationCase]) -> list[Chapter]:
    """The cases by domain, every domain listed (an empty one says so in the contents)."""
    known = {code for code, _zh, _en in CASE_DOMAINS}
    return [
        Chapter(
            code,
            pick(zh, en),
            [c for c in cases if (c.domain if c.domain in known else "other") == code],
        )
        for code, zh, en in CASE_DOMAINS
    ]


def casebook_filename(round_: Round, province: Province | None = None) -> str:
    if province is not None:
        return _("%(province)s case collection %(year)s.docx") % {
            "province": province.display_name,
            "year": round_.year,
        }
    return _("Case collection %(year)s.docx") % {"year": round_.year}


def casebook_document(
    *,
    user: User,
    round_: Round,
    out: IO[bytes],
    province: Province | None = None,
    excellent_only: bool = True,
    progress: Progress | None = None,
) -> int:
    """Write the case collection; returns the number of cases. NothingToShow when there is none."""
    cases = list(casebook_cases(user=user, round_=round_, province=province, excellent_only=excellent_only))
    if not cases:
        raise nothing_to_collect(round_, excellent_only=excellent_only)
    steps = Steps(progress, len(cases))
    parts = chapters(cases)
    document = word.new_document()
    heading = (
        _("Excellent “dual gigabit” application cases of %(year)s")
        if excellent_only
        else _("“Dual gigabit” application cases of %(year)s")
    ) % {"year": round_.year}
    document.core_properties.title = heading
    document.core_properties.author = str(settings.GIGACITY_SYSTEM_NAME)

    # The cover.
    for _blank in range(6):
        word.blank(document)
    word.title(document, heading)
    if province is not None:
        word.centred(document, province.display_name, font=word.SUBHEADING_FONT)
    word.blank(document)
    word.centred(
        document,
        _("%(n)s cases · exported from %(system)s on %(date)s")
        % {"n": len(cases), "system": settings.GIGACITY_SYSTEM_NAME, "date": timezone.localdate().isoformat()},
        size=word.SIZE_S4,
    )
    word.centred(
        document,
        _("The cases the provincial bureaus recommended as excellent, from the forms they recommended.")
        if excellent_only
        else _(
            "Every case of the forms the provincial bureaus recommended; those they recommended as excellent first."
        ),
        size=word.SIZE_S4,
    )

    # The contents: a Word table of contents, filled in already so that it reads without updating
    # (Word adds the page numbers when asked to update it).
    word.page_break(document)
    word.title(document, _("Contents"), size=word.SIZE_3)
    entries = []
    for number, chapter in enumerate(parts, start=1):
        count = f" ({len(chapter.cases)})" if in_english() else f"（{len(chapter.cases)}）"
        entries.append((1, f"{ordinal(number)}{chapter.label}{count}"))
        for index, case in enumerate(chapter.cases, start=1):
            entries.append((2, f"{index}. {case_title(case)}"))
    word.table_of_contents(document, entries)

    for number, chapter in enumerate(parts, start=1):
        word.page_break(document)
        word.heading(document, f"{ordinal(number)}{chapter.label}")
        if not chapter.cases:
            word.body(document, _("No case in this domain."))
        for index, case in enumerate(chapter.cases, start=1):
            _case(document, index, case, show_excellent=not excellent_only)
            steps()
    word.save(document, out)
    return len(cases)


def case_title(case: ApplicationCase) -> str:
    city = case.submission.city
    title = case.title or _("(untitled)")
    return f"{title} ({city.name})" if in_english() else f"{title}（{city.name}）"


def _case(document, index: int, case: ApplicationCase, *, show_excellent: bool) -> None:
    city = case.submission.city
    word.heading(document, f"{index}. {case_title(case)}", level=2)
    where = f"{city.province.display_name}{' ' if in_english() else ''}{city.name}"
    if show_excellent and case.is_excellent:
        where += _(" · recommended as excellent by the provincial bureau")
    word.body(document, where, bold_lead=_("City: "))
    word.user_text(document, case.pain_points, label=_("Problem solved: "))
    word.user_text(document, case.description, label=_("What was done: "))
    word.user_text(document, case.replicability, label=_("Why it can be replicated: "))
    word.user_text(document, case.partners, label=_("Partners: "))
    names = [a.original_name for a in case.attachments.all()]
    word.user_text(document, "\n".join(names), label=_("Attachments: "), empty=_("none"))

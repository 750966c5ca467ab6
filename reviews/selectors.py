"""Reads for reviewers: the bureau's queue, the ministry's queue, and what changed since a return."""

from __future__ import annotations

import unicodedata
from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Exists, OuterRef, QuerySet

from gigacity.models import City, Province, Region, User, reader_scope
from gigacity.params import int_param
from gigacity.statements import Statement
from indicators.models import Designation, Round
from indicators.rules import ScoreResult
from submissions.kinds import kind_of
from submissions.models import (
    NOT_STARTED,
    Extension,
    FiguresCheck,
    Flag,
    Status,
    Submission,
    score_outdated,
)
from submissions.selectors import current_result


@dataclass(frozen=True)
class QueuedForm:
    """What the bureau's queue shows of a city's form, and what its filters and sorts read (read as
    values: a province's forms made model instances cost more than the rest of the page)."""

    pk: int
    status: str
    kind: str
    updated_at: datetime
    updated_by: str  # who changed it last, as the user's name shows; "" when unknown
    scoring_state: str
    meets_all: bool | None
    missed_count: int | None
    flag_severity: int
    flags_count: int
    figures_check: str
    data_changed_since_score: bool
    score_outdated: bool


@dataclass
class QueueRow:
    """A city of the queue with its form for the round (None: not started) and its extension."""

    city: City
    submission: QueuedForm | None
    extension: Extension | None = None
    # The current data judged now, when the form's latest score no longer describes it.
    current: ScoreResult | None = None
    batch: int | None = None  # the year the city was named a Gigabit City
    year: int = 0  # the round's

    @property
    def status(self) -> str:
        return self.submission.status if self.submission else NOT_STARTED

    @property
    def meets_all(self) -> bool | None:
        if self.current is not None:
            return self.current.meets_all
        return self.submission.meets_all if self.submission else None

    @property
    def kind(self) -> str:
        """The kind of the city's form, or of the form it owes."""
        return self.submission.kind if self.submission else kind_of(self.batch, self.year)

    @property
    def severity(self) -> int:
        return self.submission.flag_severity if self.submission else 0


QUEUE_SORTS = {
    "city": lambda row: row.city.code,
    "status": lambda row: (row.status, row.city.code),
    "changed": lambda row: -(row.submission.updated_at.timestamp() if row.submission else 0),
    "flags": lambda row: (-row.severity, -(row.submission.flags_count if row.submission else 0), row.city.code),
}


# What the ministry's queue shows of a form: the form's other columns (its inputs, values and long
# texts) stay in the database.
QUEUE_FIELDS = (
    "city",
    "status",
    "kind",
    "updated_at",
    "scoring_state",
    "meets_all",
    "missed_count",
    "flag_severity",
    "flags_count",
)


# The review queue is what a bureau comes back to after every step: its forms' read is built once
# per process (`gigacity.statements`).
_QUEUED_FORMS = Statement(
    lambda kind, round_, **scope: (
        Submission.objects.in_scope(kind, **scope)
        .filter(round_id=round_)
        .with_latest_score()
        .values(
            "pk",
            "city_id",
            "status",
            "kind",
            "updated_at",
            "updated_by__full_name",
            "updated_by__username",
            "scoring_state",
            "meets_all",
            "missed_count",
            "flag_severity",
            "flags_count",
            "figures_check",
            "scored_version",
            "scored_threshold_version",
            "data_changed_since_score",
        )
    )
)


def bureau_queue(*, user: User, round_: Round) -> list[QueueRow]:
    """The user's cities for the round with their submission (or none yet) and extension, in code
    order. A province has at most about twenty cities, all loaded in four queries."""
    cities = list(City.objects.visible_to(user).select_related("province").order_by("code"))
    kind, scope = reader_scope(user)
    forms = {row["city_id"]: _queued_form(row, round_) for row in _QUEUED_FORMS(kind, round_=round_.pk, **scope)}
    extensions: dict[str, Extension] = {}
    for extension in Extension.objects.filter(round=round_, city__in=cities).order_by("created_at", "pk"):
        extensions[extension.city_id] = extension  # the latest one applies
    current = _current_results(round_, [form.pk for form in forms.values() if form.score_outdated])
    batches = dict(Designation.objects.filter(city__in=cities).values_list("city_id", "round__year"))
    return [
        QueueRow(
            city,
            forms.get(city.pk),
            extensions.get(city.pk),
            current.get(city.pk),
            batches.get(city.pk),
            round_.year,
        )
        for city in cities
    ]


def _queued_form(row: dict, round_: Round) -> QueuedForm:
    return QueuedForm(
        pk=row["pk"],
        status=row["status"],
        kind=row["kind"],
        updated_at=row["updated_at"],
        # As `User.__str__` names the user.
        updated_by=row["updated_by__full_name"] or row["updated_by__username"] or "",
        scoring_state=row["scoring_state"],
        meets_all=row["meets_all"],
        missed_count=row["missed_count"],
        flag_severity=row["flag_severity"],
        flags_count=row["flags_count"],
        figures_check=row["figures_check"],
        data_changed_since_score=row["data_changed_since_score"],
        score_outdated=score_outdated(
            scored_version=row["scored_version"],
            scored_threshold_version=row["scored_threshold_version"],
            data_changed_since_score=row["data_changed_since_score"],
            threshold_version=round_.threshold_version,
        ),
    )


def _current_results(round_: Round, outdated: list[int]) -> dict[str, ScoreResult | None]:
    """By city: the current data judged now, for each form (by id) whose latest score is outdated
    (three more queries whatever their number: the round's thresholds, the forms whole and their
    cases)."""
    if not outdated:
        return {}
    thresholds = round_.threshold_map()
    forms = list(Submission.objects.filter(pk__in=outdated).prefetch_related("cases"))
    for form in forms:
        form.round = round_
    return {s.city_id: current_result(s, thresholds) for s in forms}


def search_terms(text: str) -> str:
    """What a reviewer typed in the search box, as it is compared: full-width digits and letters made
    plain (an IME types "３７０２"), spaces and case ignored, at most 50 characters."""
    return "".join(unicodedata.normalize("NFKC", text or "").split()).casefold()[:50]


def matches(city: City, query: str) -> bool:
    """A city matches a part of its name (青岛, 青岛市, 岛) or the start of its code (3702, 370200)."""
    return query in city.name.casefold() or city.code.startswith(query)


def filter_queue(
    rows: list[QueueRow],
    *,
    status: str = "",
    severity: str = "",
    result: str = "",
    sort: str = "city",
    q: str = "",
    figures: str = "",
) -> list[QueueRow]:
    """The rows a reviewer asked for, in the order asked for (filtering a province's few rows in
    Python keeps the rules readable)."""
    if query := search_terms(q):
        rows = [row for row in rows if matches(row.city, query)]
    if status:
        rows = [row for row in rows if row.status == status]
    if int_param(severity):
        rows = [row for row in rows if row.severity >= int_param(severity)]
    if result in ("meets", "misses"):
        rows = [row for row in rows if row.meets_all is (result == "meets")]
    if figures in FiguresCheck.values:
        # Issue 13: the forms whose counts disagree with the operators' (or are not yet reported by any).
        rows = [row for row in rows if row.submission is not None and row.submission.figures_check == figures]
    return sorted(rows, key=QUEUE_SORTS.get(sort, QUEUE_SORTS["city"]))


def ministry_queue(
    *, user: User, round_: Round, province: str = "", region: str = "", flag: str = "", severity: str = ""
) -> QuerySet[Submission]:
    """Recommended submissions waiting for a decision, the ones a reviewer should look at first (by
    flag severity, then number of flags) on top."""
    submissions = (
        Submission.objects.visible_to(user)
        .filter(round=round_, status=Status.RECOMMENDED)
        .select_related("city__province")
        .only(*QUEUE_FIELDS, "city__name", "city__province__name", "city__province__name_en")
    )
    if province:
        submissions = submissions.filter(city__province_id=province)
    if region in Region.values:
        submissions = submissions.filter(city__province__region=region)
    if int_param(severity):
        submissions = submissions.filter(flag_severity__gte=int_param(severity))
    if flag:
        # Flags of the current score only: a score under older thresholds may carry flags that no
        # longer apply.
        latest_flags = Flag.objects.filter(
            score__submission=OuterRef("pk"),
            code=flag,
            score__version=OuterRef("version"),
            score__threshold_version=OuterRef("round__threshold_version"),
        )
        submissions = submissions.filter(Exists(latest_flags))
    return submissions.order_by("-flag_severity", "-flags_count", "updated_at", "city_id")


def queue_filter_choices() -> dict[str, list[tuple[str, str]]]:
    """The provinces and the regions a list of cities can be filtered by, as (value, label) pairs."""
    provinces = [(p.code, p.display_name) for p in Province.objects.order_by("code")]
    return {"provinces": provinces, "regions": Region.choices}


def status_counts(rows: list[QueueRow]) -> dict[str, int]:
    counts = Counter(row.status for row in rows)
    return {key: counts.get(key, 0) for key in [NOT_STARTED, *Status.values]}

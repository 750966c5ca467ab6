"""Reads for reviewers: the bureau's queue, the ministry's queue, and what changed since a return."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from django.db.models import Exists, OuterRef, QuerySet

from gigacity.models import City, Province, Region, User
from gigacity.params import int_param
from indicators.models import Designation, Round
from submissions.kinds import kind_of
from submissions.models import NOT_STARTED, Extension, Flag, Status, Submission


@dataclass
class QueueRow:
    """A city of the queue with its form for the round (None: not started) and its extension."""

    city: City
    submission: Submission | None
    extension: Extension | None = None
    batch: int | None = None  # the year the city was named a Gigabit City
    year: int = 0  # the round's

    @property
    def status(self) -> str:
        return self.submission.status if self.submission else NOT_STARTED

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


def bureau_queue(*, user: User, round_: Round) -> list[QueueRow]:
    """The user's cities for the round with their submission (or none yet) and extension, in code
    order. A province has at most about twenty cities, all loaded in four queries."""
    cities = City.objects.visible_to(user).select_related("province").order_by("code")
    submissions = {
        s.city_id: s for s in Submission.objects.visible_to(user).filter(round=round_).select_related("updated_by")
    }
    extensions: dict[str, Extension] = {}
    for extension in Extension.objects.filter(round=round_, city__in=cities).order_by("created_at", "pk"):
        extensions[extension.city_id] = extension  # the latest one applies
    batches = dict(Designation.objects.filter(city__in=cities).values_list("city_id", "round__year"))
    return [
        QueueRow(city, submissions.get(city.pk), extensions.get(city.pk), batches.get(city.pk), round_.year)
        for city in cities
    ]


def filter_queue(
    rows: list[QueueRow], *, status: str = "", severity: str = "", result: str = "", sort: str = "city"
) -> list[QueueRow]:
    """The rows a reviewer asked for, in the order asked for (filtering a province's few rows in
    Python keeps the rules readable)."""
    if status:
        rows = [row for row in rows if row.status == status]
    if int_param(severity):
        rows = [row for row in rows if row.severity >= int_param(severity)]
    if result in ("meets", "misses"):
        rows = [row for row in rows if row.submission and row.submission.meets_all is (result == "meets")]
    return sorted(rows, key=QUEUE_SORTS.get(sort, QUEUE_SORTS["city"]))


def ministry_queue(
    *, user: User, round_: Round, province: str = "", region: str = "", flag: str = "", severity: str = ""
) -> QuerySet[Submission]:
    """Recommended submissions waiting for a decision, the ones a reviewer should look at first (by
    flag severity, then number of flags) on top."""
    submissions = (
        Submission.objects.visible_to(user)
        .filter(round=round_, status=Status.RECOMMENDED)
        .select_related("city__province", "round")
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


def queue_filter_choices():
    return {"provinces": Province.objects.order_by("code"), "regions": Region.choices}


def status_counts(rows: list[QueueRow]) -> dict[str, int]:
    counts = Counter(row.status for row in rows)
    return {key: counts.get(key, 0) for key in [NOT_STARTED, *Status.values]}

"""Reads for reviewers: the bureau's queue, the ministry's queue, and what changed since a return."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Q, QuerySet

from gigacity.models import City, Province, Region, User
from indicators.models import Round
from submissions.models import Extension, Flag, Status, Submission
from submissions.selectors import CityRow

NOT_STARTED = "not_started"


@dataclass
class QueueRow(CityRow):
    extension: Extension | None = None

    @property
    def severity(self) -> int:
        return self.submission.flag_severity if self.submission else 0


QUEUE_SORTS = {
    "city": lambda row: row.city.code,
    "status": lambda row: (row.status, row.city.code),
    "changed": lambda row: -(row.submission.updated_at.timestamp() if row.submission else 0),
    "flags": lambda row: (-row.severity, -(row.submission.flags_count if row.submission else 0), row.city.code),
}


def queue_rows(*, user: User, round_: Round) -> list[QueueRow]:
    """The bureau's queue: every city of the user's scope with its submission for the round (or none
    yet) and its extension, by code. A province has at most about twenty cities, all loaded in three
    queries; `filter_queue` then filters and sorts them in Python, which keeps the rules readable."""
    cities = City.objects.visible_to(user).select_related("province").order_by("code")
    submissions = {
        s.city_id: s for s in Submission.objects.visible_to(user).filter(round=round_).select_related("updated_by")
    }
    extensions: dict[str, Extension] = {}
    for extension in Extension.objects.filter(round=round_, city__in=cities).order_by("created_at", "pk"):
        extensions[extension.city_id] = extension  # the latest one applies
    return [QueueRow(city, submissions.get(city.pk), extensions.get(city.pk)) for city in cities]


def filter_queue(
    rows: list[QueueRow], *, status: str = "", severity: str = "", result: str = "", sort: str = "city"
) -> list[QueueRow]:
    """The rows of `queue_rows` that pass the filters, sorted."""
    if status:
        rows = [row for row in rows if row.status == status]
    if severity:
        rows = [row for row in rows if row.severity >= int(severity)]
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
    if severity:
        submissions = submissions.filter(flag_severity__gte=int(severity))
    if flag:
        latest_flags = Flag.objects.filter(
            score__submission=OuterRef("pk"), code=flag, score__version=OuterRef("version")
        )
        submissions = submissions.filter(Exists(latest_flags))
    return submissions.order_by("-flag_severity", "-flags_count", "updated_at", "city_id")


def queue_filter_choices():
    return {"provinces": Province.objects.order_by("code"), "regions": Region.choices}


def waiting_counts(user: User, round_: Round) -> dict[str, int]:
    """For the navigation: how many submissions wait for this user's decision."""
    submissions = Submission.objects.visible_to(user).filter(round=round_)
    return {
        "bureau": submissions.filter(Q(status=Status.SUBMITTED) | Q(status=Status.SENT_BACK)).count(),
        "ministry": submissions.filter(status=Status.RECOMMENDED).count(),
    }

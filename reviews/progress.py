"""The evaluation's progress over time (burn-up): per day of a round, how many forms had been started,
submitted, recommended and decided, nationally, by region and by province.

Derived from what is already recorded, never a second bookkeeping: a form is started when it was
created (`Submission.created_at`), and reaches the later stages with the workflow events
(`SubmissionEvent`, written by `submissions.workflow.transition` for every step).

What a point of the chart means — the reading a ministry official expects of a burn-up: **the number
of forms that had reached the stage by the end of that day, each form counted once, at the first time
it got there.** A form returned to its city and resubmitted counts as submitted from its first
submission and is not counted again; a form sent back to the bureau and recommended again counts as
recommended from its first recommendation. So every line only rises, a past round reads the same
today as it did then, and "recommended" can never exceed "submitted" (a form is recommended only
after it was submitted). A return is not undone on the chart: where forms stand now is the
dashboards' status counts.

Which days: from the round's opening to its deadline (so that the deadline is on the chart from the
first day; days still to come have no figure, null); when the last thing recorded of the round came
later (decisions after the deadline, forms under an extension), up to that day; and while the round
is still open or closed with forms left undecided, up to today, so that the ministry sees the days
after the deadline it is living through. A published round ends at its last recorded event.

Queries: three, whatever the number of forms, provinces or days (tests assert it): the provinces,
the units per province, and one row per form with its four first times (the aggregates are
conditional MINs over the form's events in one pass). Python only buckets those rows by day.
"""

from __future__ import annotations

import datetime
from bisect import bisect_right
from collections import defaultdict
from itertools import accumulate
from typing import Any

from django.db.models import Min, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from gigacity.i18n import pick
from gigacity.models import CityScope, Province, Region, User, of_scope
from gigacity.statements import Statement
from indicators.models import Round, RoundStatus
from submissions.models import FINAL_STATES, Action, Submission

STAGES: tuple[str, ...] = ("started", "submitted", "recommended", "decided")
# The ministry's decisions: approve/reject an evaluation, confirm/not confirm an annual report.
DECISIONS = (Action.APPROVE, Action.REJECT, Action.CONFIRM, Action.NOT_CONFIRM)
# A round more than this many days long is not a round (a mistyped year); the chart stops there.
MAX_DAYS = 800


def stage_labels() -> dict[str, str]:
    return {
        "started": _("Started"),
        "submitted": _("Submitted"),
        "recommended": _("Recommended"),
        "decided": _("Decided"),
    }


def definition() -> str:
    """The reading of the chart, in the reader's language (shown under it and in the export)."""
    return _(
        "Each line counts the forms that had reached the stage by the end of the day, each form once, "
        "from the first time it got there: a form returned and resubmitted counts as submitted from its "
        "first submission. The lines only rise; where forms stand today is in the status counts above."
    )


# Where each form's first time at each stage is, in the rows read (`progress_series`).
TIMES = ("created_at", *(f"first_{s}" for s in STAGES[1:]))


def _local_dates(rows: list[dict[str, Any]]) -> list[tuple[datetime.date | None, ...]]:
    """Each row's first days at the stages (`TIMES`), in the current time zone (`timezone.localdate`,
    the zone looked up once rather than for each of the thousands of times)."""
    zone = timezone.get_current_timezone()
    return [tuple(row[key].astimezone(zone).date() if row[key] else None for key in TIMES) for row in rows]


def _days(
    round_: Round, dates: list[tuple[datetime.date | None, ...]], undecided: bool, today: datetime.date
) -> list[datetime.date]:
    """The days of the chart (see the module's docstring)."""
    recorded = [day for days in dates for day in days if day]
    first = min(recorded, default=None)
    start = round_.opens_on or first or today
    end = round_.deadline or start
    if recorded:
        end = max(end, max(recorded))
    if undecided and round_.status in (RoundStatus.OPEN, RoundStatus.CLOSED):
        end = max(end, today)
    end = min(end, start + datetime.timedelta(days=MAX_DAYS))
    return [start + datetime.timedelta(days=n) for n in range((end - start).days + 1)]


def _cumulate(per_day: dict[datetime.date, int], days: list[datetime.date], today: datetime.date) -> list[int | None]:
    """Running totals at the end of each day; what happened before the first day counts on it. Days
    still to come (an open round's days before its deadline) have no figure yet: None."""
    if not days:
        return []
    # The days follow each other from the first (`_days`): a day's place is its distance from the
    # first. Only the few days something happened on are visited, the running total is C's
    # `accumulate` over a list (a dashboard draws some 140 such series of a round's days).
    first, counts, before = days[0], [0] * len(days), 0
    for day, n in per_day.items():
        place = (day - first).days
        if place < 0:
            before += n
        elif place < len(counts):
            counts[place] += n
    totals = list(accumulate(counts, initial=before))[1:]
    known = bisect_right(days, today)
    return totals[:known] + [None] * (len(days) - known)


# Each form of a round of a scope's cities with its first times at the stages (`TIMES`).
_FORM_TIMES = Statement(
    lambda kind, narrowed, round_, **scope: (
        of_scope(Submission.objects.filter(round_id=round_), kind, narrowed, **scope)
        .order_by()
        .values("pk", "city__province_id", "created_at", "status")
        .annotate(
            first_submitted=Min("events__created_at", filter=Q(events__action=Action.SUBMIT)),
            first_recommended=Min("events__created_at", filter=Q(events__action=Action.RECOMMEND)),
            first_decided=Min("events__created_at", filter=Q(events__action__in=DECISIONS)),
        )
    )
)


def progress_series(
    *,
    user: User,
    round_: Round,
    province: Province | None = None,
    today: datetime.date | None = None,
    each_province: bool = True,
) -> dict[str, Any]:
    """The burn-up of `round_` over the caller's scope (one province when given): per day the
    cumulative number of forms started, submitted, recommended and decided, for the whole scope
    ("national" for ministry staff), by region and by province, with the units of each.

    `each_province=False` (the national dashboard's page) leaves out the provinces' series, not the
    provinces: the page draws one province at a time, asked of the province's API when chosen."""
    today = today or timezone.localdate()
    scope = CityScope.of(user).within(province.code if province is not None else "")
    provinces = scope.provinces()
    units = scope.units_by_province()
    rows = _FORM_TIMES(*scope.shape, round_=round_.pk, **scope.values())
    # Forms still to be decided: reported and not decided, or not yet reported at all.
    undecided = any(row["status"] not in FINAL_STATES for row in rows)
    dates = _local_dates(rows)
    days = _days(round_, dates, undecided, today)

    # (province, stage) → {day: forms reaching the stage that day}
    per_day: dict[tuple[str, str], dict[datetime.date, int]] = defaultdict(lambda: defaultdict(int))
    for row, row_dates in zip(rows, dates, strict=True):
        code = row["city__province_id"]
        for stage, day in zip(STAGES, row_dates, strict=True):
            if day is not None:
                per_day[(code, stage)][day] += 1

    def series(codes: list[str]) -> dict[str, list[int]]:
        out = {}
        for stage in STAGES:
            merged: dict[datetime.date, int] = defaultdict(int)
            for code in codes:
                for day, n in per_day.get((code, stage), {}).items():
                    merged[day] += n
            out[stage] = _cumulate(merged, days, today)
        return out

    province_rows = [
        {
            "code": p["code"],
            "name": pick(p["name"], p["name_en"]),
            "short_name": p["short_name"],
            "region": p["region"],
            "units": units.get(p["code"], 0),
            **(series([p["code"]]) if each_province or province is not None else {}),
        }
        for p in provinces
    ]
    result: dict[str, Any] = {
        "round": round_.year,
        "opens_on": round_.opens_on,
        "deadline": round_.deadline,
        "start": days[0] if days else None,
        "end": days[-1] if days else None,
        "today": today,
        "days": days,
        "stages": list(STAGES),
        "stage_labels": stage_labels(),
        "definition": definition(),
        "provinces": province_rows,
    }
    if province is None:
        result["scope"] = "national"
        codes = [p["code"] for p in provinces]
        result["total"] = {"units": sum(units.get(c, 0) for c in codes), **series(codes)}
        result["regions"] = [
            {
                "code": region.value,
                "label": region.label,
                "units": sum(units.get(p["code"], 0) for p in provinces if p["region"] == region.value),
                **series([p["code"] for p in provinces if p["region"] == region.value]),
            }
            for region in Region
        ]
    else:
        result["scope"] = "province"
        result["total"] = {key: province_rows[0][key] for key in ("units", *STAGES)} if province_rows else {}
        result["regions"] = []
    return result


def latest(block: dict[str, Any]) -> list[int]:
    """The latest figure of each stage (the last day that has one: the table under the chart)."""
    return [next((n for n in reversed(block[stage]) if n is not None), 0) for stage in STAGES]

"""Data quality by province: how much correcting each province's forms needed in a round, how fast
the bureau and the ministry decided, and how punctual the cities were — with the previous rounds
beside, ranked.

Everything is derived from what the workflow recorded (events, field comments, scores and their
flags, extensions); nothing is counted twice or kept elsewhere.

The forms counted ("reported", the denominator of every "per form" and "share"): the province's forms
of the round that were submitted at least once (they have a submit event). A draft never submitted
has had no check and says nothing of the data's quality.

- returns per form: the bureau's returns to the city (return events) ÷ forms;
- fields commented per form: the distinct fields (or cases) the bureau commented on, over all its
  returns, ÷ forms (a field commented at two returns counts once);
- flags per form by severity: the flags of each form's latest score ÷ forms;
- contradictions confirmed: the share of forms submitted at least once with numbers that contradict
  each other (a part above its whole) which the city confirmed it had checked — the submit event
  records them (`details["confirmed_inconsistencies"]`, `submissions.services.submission_submit`);
- the bureau's time: the median, over every decision of the bureau (a return or a recommendation),
  of the days since the form came to it (its submission, or the ministry sending it back);
- the ministry's time: the median, over every decision of the ministry (approve, reject, confirm,
  not confirm), of the days since the recommendation it decided on;
- on time: the share of forms first submitted on or before the city's deadline, extensions included
  (`submissions.models.deadline_expression`, the one rule of it);
- inputs within tolerance: of the inputs the forms' latest scores compared with the operators'
  figures (`Score.comparison`: an input no operator has reported is not compared), the share within
  the round's tolerance; "—" while no operator has reported.

Ranking (RANKING_KEY): returns per form, highest first — the province whose forms needed the most
correcting leads; ties by critical flags per form, then by code. Provinces without a reported form
come last, unranked.

A bureau sees its own province's row and the national median (the median over the provinces with a
reported form, of each figure); never another province's row or its rank.

Queries: four, whatever the number of forms or provinces (the rounds, the provinces, one row per
form with correlated counts, one row per decision with the time of the event before it).
"""

from __future__ import annotations

import datetime
import statistics
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import (
    Case,
    Count,
    DateField,
    Exists,
    IntegerField,
    JSONField,
    OuterRef,
    Q,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from gigacity.i18n import pick
from gigacity.models import Province, Region, User
from indicators.models import Round
from submissions.models import (
    Action,
    FieldComment,
    Flag,
    Score,
    Submission,
    SubmissionEvent,
    deadline_expression,
)

# Rounds shown: the chosen one and up to this many before it (the trend).
TREND_ROUNDS = 4
BUREAU_DECISIONS = (Action.RETURN, Action.RECOMMEND)
MINISTRY_DECISIONS = (Action.APPROVE, Action.REJECT, Action.CONFIRM, Action.NOT_CONFIRM)
SEVERITIES = {"critical": Flag.Severity.CRITICAL, "warning": Flag.Severity.WARNING, "info": Flag.Severity.INFO}
FIGURES = (
    "returns_per_form",
    "fields_commented_per_form",
    "critical_flags_per_form",
    "warning_flags_per_form",
    "info_flags_per_form",
    "confirmed_contradictions_share",
    "median_bureau_days",
    "median_ministry_days",
    "on_time_share",
    "inputs_within_tolerance_share",
)
RANKING_KEY = "returns_per_form"


def ranking_text() -> str:
    return _(
        "Ranked by returns per form, highest first (the province whose forms needed the most correcting "
        "leads); ties by critical flags per form. Provinces without a reported form are not ranked."
    )


def figure_labels() -> dict[str, str]:
    return {
        "forms": _("Forms reported"),
        "returns_per_form": _("Returns per form"),
        "fields_commented_per_form": _("Fields commented per form"),
        "critical_flags_per_form": _("Critical flags per form"),
        "warning_flags_per_form": _("Warnings per form"),
        "info_flags_per_form": _("Notes per form"),
        "confirmed_contradictions_share": _("Contradictions confirmed (%)"),
        "median_bureau_days": _("Bureau's decision, median days"),
        "median_ministry_days": _("Ministry's decision, median days"),
        "on_time_share": _("Submitted on time (%)"),
        "inputs_within_tolerance_share": _("Inputs within tolerance of operators' figures (%)"),
    }


def _ratio(part: float, whole: int, places: str = "0.01") -> Decimal | None:
    if not whole:
        return None
    return (Decimal(part) / whole).quantize(Decimal(places), rounding=ROUND_HALF_UP)


def _share(part: int, whole: int) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(part) * 100 / whole).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def _median_days(values: list[float]) -> Decimal | None:
    if not values:
        return None
    return Decimal(str(statistics.median(values))).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def _count(queryset, ref: str = "pk") -> Coalesce:
    """SQL: how many rows `queryset` (already filtered on the outer row) has."""
    counted = queryset.order_by().values(ref).annotate(n=Count("*")).values("n")
    return Coalesce(Subquery(counted[:1], output_field=IntegerField()), Value(0))


def _form_rows(rounds: list[Round]) -> list[dict[str, Any]]:
    """One row per form of `rounds` submitted at least once, with its counts (one query)."""
    events = SubmissionEvent.objects.filter(submission=OuterRef("pk"))
    scores = Score.objects.filter(submission=OuterRef("pk")).order_by("-created_at", "-pk")
    latest_score = scores.values("pk")[:1]
    first_submit = events.filter(action=Action.SUBMIT).order_by("created_at", "pk").values("created_at")[:1]
    deadline = Case(
        *(When(round_id=round_.pk, then=deadline_expression(round_, "city")) for round_ in rounds),
        output_field=DateField(),
    )
    fields = (
        FieldComment.objects.filter(submission=OuterRef("pk"))
        .order_by()
        .values("submission")
        .annotate(n=Count("field", distinct=True))
        .values("n")
    )
    return list(
        Submission.objects.filter(round__in=rounds)
        .annotate(
            first_submitted=Subquery(first_submit),
            latest_score=Subquery(latest_score),
            comparison=Subquery(scores.values("comparison")[:1], output_field=JSONField()),
        )
        .filter(first_submitted__isnull=False)
        .annotate(
            returns=_count(events.filter(action=Action.RETURN), "submission"),
            fields_commented=Coalesce(Subquery(fields[:1], output_field=IntegerField()), Value(0)),
            confirmed=Exists(events.filter(action=Action.SUBMIT, details__has_key="confirmed_inconsistencies")),
            deadline=deadline,
            **{
                f"{name}_flags": _count(Flag.objects.filter(score=OuterRef("latest_score"), severity=level), "score")
                for name, level in SEVERITIES.items()
            },
        )
        .order_by()
        .values(
            "round_id",
            "city__province_id",
            "first_submitted",
            "deadline",
            "returns",
            "fields_commented",
            "confirmed",
            "comparison",
            *(f"{name}_flags" for name in SEVERITIES),
        )
    )


def _decision_rows(rounds: list[Round]) -> list[dict[str, Any]]:
    """Every decision of the bureau or the ministry in `rounds`, with the time of the event before it
    on the same form (one query). A correlated subquery rather than a window: a filter on the action
    would apply before a window and hide the submissions the decisions follow."""
    earlier = Q(created_at__lt=OuterRef("created_at")) | Q(created_at=OuterRef("created_at"), pk__lt=OuterRef("pk"))
    previous = (
        SubmissionEvent.objects.filter(earlier, submission=OuterRef("submission"))
        .order_by("-created_at", "-pk")
        .values("created_at")[:1]
    )
    return list(
        SubmissionEvent.objects.filter(
            submission__round__in=rounds, action__in=(*BUREAU_DECISIONS, *MINISTRY_DECISIONS)
        )
        .annotate(previous_at=Subquery(previous))
        .order_by()
        .values("submission__round_id", "submission__city__province_id", "action", "created_at", "previous_at")
    )


def _figures(forms: list[dict[str, Any]], bureau: list[float], ministry: list[float]) -> dict[str, Any]:
    n = len(forms)
    compared = [row["within"] for f in forms for row in f["comparison"] or () if row.get("within") is not None]
    return {
        "forms": n,
        "returns_per_form": _ratio(sum(f["returns"] for f in forms), n),
        "fields_commented_per_form": _ratio(sum(f["fields_commented"] for f in forms), n),
        **{
            f"{name}_flags_per_form": _ratio(sum(f[f"{name}_flags"] for f in forms), n)
            for name in ("critical", "warning", "info")
        },
        "confirmed_contradictions_share": _share(sum(bool(f["confirmed"]) for f in forms), n),
        "median_bureau_days": _median_days(bureau),
        "median_ministry_days": _median_days(ministry),
        "on_time_share": _share(
            sum(
                1
                for f in forms
                if f["deadline"] is None or timezone.localdate(f["first_submitted"]) <= _as_date(f["deadline"])
            ),
            n,
        ),
        "inputs_within_tolerance_share": _share(sum(compared), len(compared)),
    }


def _as_date(value: datetime.date | datetime.datetime) -> datetime.date:
    return value.date() if isinstance(value, datetime.datetime) else value


def _days_between(later: datetime.datetime, earlier: datetime.datetime) -> float:
    return (later - earlier).total_seconds() / 86400


def quality_rounds(*, user: User, round_: Round) -> list[Round]:
    """The chosen round and up to TREND_ROUNDS visible rounds before it, oldest first (those without a
    reported form are dropped once counted)."""
    earlier = list(Round.objects.visible_to(user).filter(year__lt=round_.year).order_by("-year")[:TREND_ROUNDS])
    return [*reversed(earlier), round_]


def data_quality(*, user: User, round_: Round, province: Province | None = None) -> dict[str, Any]:
    """The data-quality table of `round_`: for ministry staff every province, ranked, with the national
    median; for a bureau (or when `province` is given) that one province and the national median. Each
    row carries its figures in the earlier rounds (`trend`, oldest first)."""
    if province is None and not user.has_national_scope:
        province = user.province
    rounds = quality_rounds(user=user, round_=round_)
    provinces = list(Province.objects.order_by("code").values("code", "name", "name_en", "short_name", "region"))

    forms: dict[tuple[int, str], list[dict[str, Any]]] = defaultdict(list)
    for row in _form_rows(rounds):
        forms[(row["round_id"], row["city__province_id"])].append(row)
    bureau: dict[tuple[int, str], list[float]] = defaultdict(list)
    ministry: dict[tuple[int, str], list[float]] = defaultdict(list)
    for row in _decision_rows(rounds):
        if row["previous_at"] is None:
            continue
        key = (row["submission__round_id"], row["submission__city__province_id"])
        target = bureau if row["action"] in BUREAU_DECISIONS else ministry
        target[key].append(_days_between(row["created_at"], row["previous_at"]))

    # Every province's figures (the national median needs them all), in every round shown.
    table: dict[str, dict[int, dict[str, Any]]] = {}
    for p in provinces:
        table[p["code"]] = {}
        for r in rounds:
            key = (r.pk, p["code"])
            figures = _figures(forms.get(key, []), bureau.get(key, []), ministry.get(key, []))
            table[p["code"]][r.year] = figures

    def median_of(year: int) -> dict[str, Any]:
        with_forms = [table[p["code"]][year] for p in provinces if table[p["code"]][year]["forms"]]
        out: dict[str, Any] = {"forms": None}
        for name in FIGURES:
            values = [row[name] for row in with_forms if row[name] is not None]
            out[name] = (
                Decimal(str(statistics.median(values))).quantize(
                    Decimal("0.1") if name.endswith(("share", "days")) else Decimal("0.01"),
                    rounding=ROUND_HALF_UP,
                )
                if values
                else None
            )
        return out

    # Earlier rounds in which no province has a reported form (rounds from before the system, known only
    # by their published list) would only add dashes.
    rounds = [r for r in rounds[:-1] if any(table[p["code"]][r.year]["forms"] for p in provinces)] + [round_]
    rows = []
    for p in provinces:
        current = table[p["code"]][round_.year]
        rows.append(
            {
                "code": p["code"],
                "name": pick(p["name"], p["name_en"]),
                "short_name": p["short_name"],
                "region": p["region"],
                "region_label": str(Region(p["region"]).label),
                **current,
                "trend": [{"year": r.year, **table[p["code"]][r.year]} for r in rounds[:-1]],
                "sparkline": [table[p["code"]][r.year][RANKING_KEY] for r in rounds],
            }
        )
    ranked = sorted(
        (row for row in rows if row["forms"]),
        key=lambda row: (-row[RANKING_KEY], -(row["critical_flags_per_form"] or 0), row["code"]),
    )
    for rank, row in enumerate(ranked, start=1):
        row["rank"] = rank
    unranked = [row for row in rows if not row["forms"]]
    for row in unranked:
        row["rank"] = None
    ordered = ranked + unranked

    medians = {r.year: median_of(r.year) for r in rounds}
    national_median = {
        **medians[round_.year],
        "trend": [{"year": r.year, **medians[r.year]} for r in rounds[:-1]],
        "sparkline": [medians[r.year][RANKING_KEY] for r in rounds],
    }
    if province is not None:
        mine = [row for row in ordered if row["code"] == province.code]
        for row in mine:
            row["rank"] = None  # the rank would tell of the other provinces
        return {
            "scope": "province",
            "province": {"code": province.code, "name": province.display_name},
            "round": round_.year,
            "years": [r.year for r in rounds],
            "ranking": ranking_text(),
            "labels": figure_labels(),
            "provinces": mine,
            "national_median": national_median,
        }
    return {
        "scope": "national",
        "round": round_.year,
        "years": [r.year for r in rounds],
        "ranking": ranking_text(),
        "labels": figure_labels(),
        "provinces": ordered,
        "national_median": national_median,
    }

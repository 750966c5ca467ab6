"""Reads behind the national and provincial dashboards and their exports.

Every read starts from a queryset narrowed to the caller's scope (`visible_to(user)`). Counts over
the forms, the cities and their history are computed by the database (aggregates, conditional counts,
anti-joins), which sends back a handful of rows (at most one per province, batch or status). The
figures of the indicators — totals, pass rates, histograms, leaders, means by batch — are computed
here from the round's reported forms read once as plain rows (`reported_rows`, at most one per unit):
a dozen aggregate and top-N queries cost Django more to build on every view than the rows cost to
read and add up, exactly, in Decimal (issue 16). The number of queries is the same for 30 cities and
for 3 000 (tests assert it), and the time grows little with units and history (bench/dashboard.py
measures it).

Which forms count (reliability.md P-15): counts by status cover every form, but every indicator
figure (means, leaders, distributions, pass rates) uses only the forms that have left the city's
hands and are not back with it for correction — `REPORTED_STATES`, the same set the worker scores.
A draft or a returned form may hold half-typed numbers that nobody has vouched for yet.
"""

from __future__ import annotations

import datetime
from bisect import bisect_right
from collections import Counter, defaultdict
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal
from heapq import nlargest
from operator import itemgetter
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import (
    Case,
    Count,
    F,
    FilteredRelation,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.http import Http404
from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.translation import gettext as _

from gigacity.i18n import pick
from gigacity.models import City, CityScope, Province, Region, User, of_scope, scoped_cities
from gigacity.statements import Statement
from indicators.catalogue import CASE_DOMAINS, INDICATORS
from indicators.models import Designation, ReferenceValue, Round, RoundStatus
from indicators.rules import meets
from submissions.kinds import kind_of
from submissions.models import (
    NOT_STARTED,
    REPORTED_STATES,
    FormKind,
    Status,
    Submission,
    deadline_expression,
    latest_extension,
    status_label,
)
from submissions.models import Case as ApplicationCase

from . import freshness, lifecycle
from .lifecycle import VALUE_COLUMNS, mean, named_cities, published_figures, sums_by_batch

# A form's statuses, read once: `Status.values` builds the choices' list (labels included) each time.
FORM_STATUSES: tuple[str, ...] = tuple(Status.values)
STATUS_KEYS: tuple[str, ...] = (NOT_STARTED, *FORM_STATUSES)
LEADER_COUNT = 10
# Histograms: about this many bins, with "nice" widths (1, 2, 2.5 or 5 × 10ⁿ).
TARGET_BINS = 10


# ------------------------------------------------------------------------------------------------
# Rounds
# ------------------------------------------------------------------------------------------------
def visible_rounds(*, user: User) -> QuerySet[Round]:
    """Rounds a dashboard can show: all for ministry staff, the ones not being prepared for others."""
    return Round.objects.visible_to(user).order_by("-year")


# Every dashboard, its API and the exports look up their round first.
_ROUND_OF_YEAR = Statement(lambda national, year: Round.objects.in_scope(national=national).filter(year=year)[:1])


def dashboard_round(*, user: User, year: int | None) -> Round:
    """The round asked for, or the current one; Http404 when there is none the user may see."""
    if year is not None:
        round_ = _ROUND_OF_YEAR.first(getattr(user, "has_national_scope", False), year=year)
    else:
        round_ = Round.objects.current()
    if round_ is None:
        raise Http404
    return round_


# The years of `visible_rounds`, latest first.
_ROUND_YEARS = Statement(
    lambda national: Round.objects.in_scope(national=national).order_by("-year").values_list("year", flat=True),
    keep=True,
)


def round_heading(*, user: User, round_: Round) -> dict[str, Any]:
    """What a dashboard's heading says of its round (status, deadline, the rounds to pick from): the
    dashboard's own "round", for a heading rendered apart from its cached content."""
    return _round_info(round_, rounds=_ROUND_YEARS(getattr(user, "has_national_scope", False)))


def _round_info(round_: Round, *, rounds: list[int]) -> dict[str, Any]:
    return {
        "year": round_.year,
        "status": round_.status,
        "status_label": RoundStatus(round_.status).label,
        "opens_on": round_.opens_on,
        "deadline": round_.deadline,
        # A published round counts down to nothing: its decisions are final.
        "days_to_deadline": None if round_.is_frozen else round_.days_to_deadline(),
        "published_on": round_.published_on,
        "thresholds_provisional": round_.thresholds_provisional,
        "years": rounds,
    }


# ------------------------------------------------------------------------------------------------
# Building blocks: each reads the cities of a scope (`CityScope`) through statements built once per
# process and scope's shape (`gigacity.statements`): Django took longer to build these reads' SQL
# than PostgreSQL to answer them, and a dashboard's first view after a change runs them all.
# ------------------------------------------------------------------------------------------------
def batch_of_city(round_: Round, city_ref: str = "city") -> Subquery:
    """The year a city was first named a Gigabit City, as of `round_` (None: not named by then), for
    one row at a time (a city table); the figures use `lifecycle.named_cities` instead."""
    return Subquery(
        Designation.objects.filter(city=OuterRef(city_ref), round__year__lte=round_.year)
        .order_by("round__year")
        .values("round__year")[:1]
    )


_FORMS_BY_STATUS = Statement(
    lambda kind, narrowed, round_, **scope: (
        of_scope(Submission.objects.filter(round_id=round_), kind, narrowed, **scope)
        .order_by()
        .values_list("city__province")
        .annotate(**{status: Count("pk", filter=Q(status=status)) for status in Status.values})
    )
)


def _progress_rows(scope: CityScope, round_: Round) -> dict[str, dict[str, int]]:
    """Per province: number of units and number of forms of the round in each status (two queries)."""
    rows: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(("units", *STATUS_KEYS), 0))
    for province, units in scope.units_by_province().items():
        rows[province]["units"] = units
    for province, *counts in _FORMS_BY_STATUS(*scope.shape, round_=round_.pk, **scope.values()):
        rows[province].update(zip(FORM_STATUSES, counts, strict=True))
    for target in rows.values():
        target[NOT_STARTED] = target["units"] - sum(target[s] for s in FORM_STATUSES)
    return rows


def _total_counts(rows: dict[str, dict[str, int]]) -> dict[str, int]:
    totals = dict.fromkeys(("units", *STATUS_KEYS), 0)
    for row in rows.values():
        for key in totals:
            totals[key] += row[key]
    totals["reported"] = sum(totals[s] for s in REPORTED_STATES)
    return totals


def _named_rows(gigabit_cities: list[tuple]) -> list[dict[str, Any]]:
    """(province, batch, number of cities) of the Gigabit Cities `lifecycle.named_cities` read, as
    `lifecycle.designation_rows` counts them in SQL."""
    counts = Counter((row[2], row[-1]) for row in gigabit_cities)
    return [{"province": province, "batch": batch, "n": n} for (province, batch), n in counts.items()]


def _batches(named: list[dict[str, Any]], regions: dict[str, str]) -> list[dict[str, Any]]:
    """Named cities by batch, cumulatively and by region."""
    by_year: dict[int, dict[str, int]] = defaultdict(lambda: dict.fromkeys(Region.values, 0))
    for row in named:
        by_year[row["batch"]][regions[row["province"]]] += row["n"]
    out, cumulative = [], 0
    for year in sorted(by_year):
        count = sum(by_year[year].values())
        cumulative += count
        out.append({"year": year, "named": count, "cumulative": cumulative, "by_region": by_year[year]})
    return out


_REFERENCES = Statement(
    lambda year: (
        ReferenceValue.objects.filter(round__year__lte=year)
        .order_by("indicator_id", "-round__year")
        .values_list("indicator_id", "value", "source", "round__year")
    ),
    keep=True,
)


def round_references(round_: Round) -> dict[str, tuple[Decimal, str, int]]:
    """The national reference value of each indicator as of `round_`: the round's own, or else the
    latest one set for an earlier round, with the year it belongs to ({code: (value, source, year)}).
    A reference value is MIIT's published national figure of some year (15.7 base stations per 10k
    in 2022); a new round has none of its own until ministry staff enter one, and until then the
    latest figure is still the one to compare with, said with its year."""
    latest: dict[str, tuple[Decimal, str, int]] = {}
    for code, value, source, year in _REFERENCES(year=round_.year):
        latest.setdefault(code, (value, source, year))
    return latest


# The columns of a reported form the dashboards' figures are taken from (`reported_rows`).
FORM_COLUMNS: tuple[str, ...] = (
    "pk",
    "status",
    "kind",
    "city_id",
    "city__name",
    "city__province_id",
    "city__province__short_name",
    *VALUE_COLUMNS,
)


_REPORTED_ROWS = Statement(
    lambda kind, narrowed, round_, **scope: (
        of_scope(Submission.objects.filter(round_id=round_, status__in=REPORTED_STATES), kind, narrowed, **scope)
        .order_by()
        .values_list(*FORM_COLUMNS)
    )
)


def reported_rows(scope: CityScope, round_: Round) -> list[dict[str, Any]]:
    """The round's reported forms of the scope's cities as plain rows (`FORM_COLUMNS`), in one query:
    the dashboards' totals,
    histograms, leaders and means of the Gigabit Cities are computed from them here (issue 16). A
    dozen aggregates and top-N queries, each built by the ORM for every view, cost several times what
    the rows of a round (one per unit at most) cost to read and add up, exactly, in Decimal."""
    rows = _REPORTED_ROWS(*scope.shape, round_=round_.pk, **scope.values())
    return [dict(zip(FORM_COLUMNS, row, strict=True)) for row in rows]


def _means_by_batch(
    named: list[tuple], rows: list[dict[str, Any]], published: dict[str, tuple]
) -> dict[int, dict[str, Any]]:
    """SUM/COUNT per indicator over the `named` cities' figures of the round (their reported form in
    `rows`, else the `published` table), by batch: `lifecycle.named_sums_by_batch` of rows already
    read."""
    forms = {row["city_id"]: (row["pk"], row["kind"], *(row[column] for column in VALUE_COLUMNS)) for row in rows}
    return sums_by_batch(named, forms, published)


def _reported_totals(rows: list[dict[str, Any]], thresholds: dict[str, Decimal]) -> dict[str, Any]:
    """Over the reported forms' `rows`: SUM/COUNT per indicator, how many meet each threshold, and the
    range of each indicator (which sets the histogram's bins). NULL is no value, as in SQL."""
    out: dict[str, Any] = {}
    for spec in INDICATORS:
        code, column = spec.code, f"value_{spec.code}"
        values = [value for row in rows if (value := row[column]) is not None]
        out[f"s_{code}"] = sum(values[1:], values[0]) if values else None
        out[f"n_{code}"] = len(values)
        out[f"lo_{code}"] = min(values) if values else None
        out[f"hi_{code}"] = max(values) if values else None
        if code in thresholds:
            out[f"p_{code}"] = sum(1 for value in values if meets(value, thresholds[code]))
    return out


def _combine(rows: dict[int, dict[str, Any]], code: str) -> tuple[Decimal | None, int]:
    total, n = None, 0
    for row in rows.values():
        if row[f"n_{code}"]:
            total = (total or Decimal(0)) + row[f"s_{code}"]
            n += row[f"n_{code}"]
    return total, n


def _indicator_rows(
    *,
    by_batch: dict[int, dict[str, Any]],
    totals: dict[str, Any],
    thresholds: dict[str, Decimal],
    references: dict[str, tuple[Decimal, str, int]],
    batch_years: list[int] | None = None,
) -> list[dict[str, Any]]:
    """Per indicator: threshold, reference value, the mean over named cities (overall and for every
    batch in `batch_years`, None where a batch has no reported form) and over all reported forms."""
    years = sorted(set(batch_years or []) | set(by_batch))
    empty = dict.fromkeys((f"{k}_{spec.code}" for spec in INDICATORS for k in ("s", "n")), None)
    out = []
    for spec in INDICATORS:
        code = spec.code
        named_total, named_n = _combine(by_batch, code)
        reported_n = totals[f"n_{code}"]
        reference = references.get(code)
        out.append(
            {
                "code": code,
                "name": pick(spec.name_zh, spec.name_en),
                "unit": pick(spec.unit_zh, spec.unit_en),
                "decimals": spec.decimals,
                "threshold": thresholds.get(code),
                "reference": reference[0] if reference else None,
                "reference_source": reference[1] if reference else "",
                "reference_year": reference[2] if reference else None,
                "named_mean": mean(named_total, named_n, spec),
                "named_n": named_n,
                "by_batch": [
                    {
                        "year": year,
                        "mean": mean(row[f"s_{code}"], row[f"n_{code}"] or 0, spec),
                        "n": row[f"n_{code}"] or 0,
                    }
                    for year, row in ((year, by_batch.get(year, empty)) for year in years)
                ],
                "reported_mean": mean(totals[f"s_{code}"], reported_n, spec),
                "reported_n": reported_n,
                "passing": totals.get(f"p_{code}") if code in thresholds else None,
            }
        )
    return out


def _leaders(rows: list[dict[str, Any]], batches: dict[str, int], limit: int = LEADER_COUNT) -> list[dict[str, Any]]:
    """The top `limit` cities of each indicator among the reported forms' `rows` (highest value
    first, ties by city code), with each city's batch (`batches`: {city: year named})."""
    by_city = sorted(rows, key=itemgetter("city_id"))
    out = []
    for spec in INDICATORS:
        value = f"value_{spec.code}"
        # As sorted(…, reverse=True)[:limit], which keeps the city order within a tie.
        top = nlargest(limit, (row for row in by_city if row[value] is not None), key=itemgetter(value))
        out.append(
            {
                "code": spec.code,
                "name": pick(spec.name_zh, spec.name_en),
                "unit": pick(spec.unit_zh, spec.unit_en),
                "decimals": spec.decimals,
                "rows": [
                    {
                        "rank": rank,
                        "city": r["city_id"],
                        "city_name": r["city__name"],
                        "province": r["city__province_id"],
                        "province_name": r["city__province__short_name"],
                        "value": r[value],
                        "submission": r["pk"],
                        "status": r["status"],
                        "kind": r["kind"],
                        "batch": batches.get(r["city_id"]),
                    }
                    for rank, r in enumerate(top, start=1)
                ],
            }
        )
    return out


def nice_step(span: Decimal, target: int = TARGET_BINS) -> Decimal:
    """The smallest "nice" bin width (1, 2, 2.5 or 5 × 10ⁿ) that covers `span` in `target` bins."""
    if span <= 0:
        return Decimal(1)
    raw = span / target
    exponent = raw.adjusted()
    for mantissa in (Decimal(1), Decimal(2), Decimal("2.5"), Decimal(5), Decimal(10)):
        step = mantissa.scaleb(exponent)
        if step >= raw:
            return step
    return Decimal(10).scaleb(exponent)  # pragma: no cover - the loop always returns


def histogram_edges(low: Decimal, high: Decimal, target: int = TARGET_BINS) -> list[Decimal]:
    """Bin edges from a multiple of a nice step at or below `low` to one at or above `high`. Bins
    are [a, b) except the last, which is [a, b]: a share of exactly 100 % falls in the 90–100 bin."""
    step = nice_step(high - low, target)
    start = (low / step).to_integral_value(rounding=ROUND_FLOOR) * step
    stop = (high / step).to_integral_value(rounding=ROUND_CEILING) * step
    if stop == start:
        stop += step
    count = int((stop - start) / step)
    # Plain notation (75000, not 7.5E+4): the edges are shown and exported as they are.
    return [Decimal(f"{start + step * i:f}") for i in range(count + 1)]


def _distribution(
    rows: list[dict[str, Any]], thresholds: dict[str, Decimal], ranges: dict[str, Any]
) -> list[dict[str, Any]]:
    """A histogram of each indicator over the reported forms' `rows`; `ranges` (the lowest and highest
    value of each indicator, from `_reported_totals`) sets the bins: [a, b), the last one [a, b]."""
    out = []
    for spec in INDICATORS:
        low, high = ranges[f"lo_{spec.code}"], ranges[f"hi_{spec.code}"]
        edge = histogram_edges(low, high) if low is not None else []
        counts = [0] * max(len(edge) - 1, 0)
        column, last = f"value_{spec.code}", len(counts) - 1
        for row in rows:
            value = row[column]
            if value is not None:
                # The bin whose lower edge is the last one at or below the value; the highest value
                # may sit on the last edge, which closes the last bin.
                counts[min(bisect_right(edge, value) - 1, last)] += 1
        out.append(
            {
                "code": spec.code,
                "name": pick(spec.name_zh, spec.name_en),
                "unit": pick(spec.unit_zh, spec.unit_en),
                "decimals": spec.decimals,
                "threshold": thresholds.get(spec.code),
                "min": low,
                "max": high,
                "bins": [{"from": edge[i], "to": edge[i + 1], "count": counts[i]} for i in range(len(counts))],
            }
        )
    return out


def _with_means(rows: list[dict[str, Any]], indicators: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each block of leaders or histogram bins with its indicator's mean and reference value."""
    by_code = {row["code"]: row for row in indicators}
    for row in rows:
        row["reference"] = by_code[row["code"]]["reference"]
        row["mean"] = by_code[row["code"]]["reported_mean"]
    return rows


# ------------------------------------------------------------------------------------------------
# The national dashboard
# ------------------------------------------------------------------------------------------------
def national_dashboard(*, user: User, round_: Round) -> dict[str, Any]:
    """Everything the national dashboard shows for one round, for the caller's scope (the whole
    country for ministry staff)."""
    scope = CityScope.of(user)
    provinces = scope.provinces()
    regions = {p["code"]: p["region"] for p in provinces}
    progress = _progress_rows(scope, round_)
    gigabit_cities = named_cities(scope, round_)
    named = _named_rows(gigabit_cities)
    gigabit = lifecycle.gigabit_counts(user=user, years=[round_.year], regions=regions, named=named)[round_.year]

    province_rows = []
    for p in provinces:
        counts = progress.get(p["code"]) or dict.fromkeys(("units", *STATUS_KEYS), 0)
        reported_n = sum(counts[s] for s in REPORTED_STATES)
        province_rows.append(
            {
                "code": p["code"],
                "name": pick(p["name"], p["name_en"]),
                "short_name": p["short_name"],
                "region": p["region"],
                "region_label": Region(p["region"]).label,
                "units": counts["units"],
                "statuses": {key: counts[key] for key in STATUS_KEYS},
                "reported": reported_n,
                "progress": _share(reported_n, counts["units"]),
                "named": gigabit["provinces"][p["code"]]["named_total"],
                "named_in_round": gigabit["provinces"][p["code"]]["named_in_round"],
                "gigabit": gigabit["provinces"][p["code"]],
            }
        )

    region_rows = []
    for region in Region:
        members = [row for row in province_rows if row["region"] == region.value]
        region_rows.append(
            {
                "code": region.value,
                "label": region.label,
                "units": sum(r["units"] for r in members),
                "named": gigabit["regions"][region.value]["named_total"],
                "named_in_round": gigabit["regions"][region.value]["named_in_round"],
                "gigabit": gigabit["regions"][region.value],
            }
        )

    thresholds = round_.threshold_map()
    batches = _batches(named, regions)
    rows = reported_rows(scope, round_)
    totals = _reported_totals(rows, thresholds)
    indicators = _indicator_rows(
        by_batch=_means_by_batch(gigabit_cities, rows, published_figures(scope, round_)),
        totals=totals,
        thresholds=thresholds,
        references=round_references(round_),
        batch_years=[b["year"] for b in batches],
    )
    return {
        "scope": {"level": "national"},
        "round": round_heading(user=user, round_=round_),
        "status_counts": _total_counts(progress),
        "named_total": gigabit["total"]["named_total"],
        "named_in_round": gigabit["total"]["named_in_round"],
        "gigabit": gigabit["total"],
        "watch": watch_summary(lifecycle.watch_list(user=user, round_=round_)),
        "batches": batches,
        "regions": region_rows,
        "provinces": province_rows,
        "indicators": indicators,
        "leaders": _with_means(_leaders(rows, {row[0]: row[-1] for row in gigabit_cities}), indicators),
        "distribution": _with_means(_distribution(rows, thresholds, totals), indicators),
    }


def national_dashboard_shared(*, user: User, round_: Round) -> dict[str, Any]:
    """`national_dashboard`, computed once per version of what it reads for the page (its tables and
    its charts' data) and the API (its response) alike: the same figures."""
    parts = (freshness.scope_of(user), translation.get_language(), timezone.localdate().isoformat(), round_.pk)
    return freshness.cached(
        "national-figures",
        parts,
        lambda: national_dashboard(user=user, round_=freshness.as_of_version(round_)),
        reads=freshness.DASHBOARDS,
        round_=round_,
    )


WATCH_PANEL_ROWS = 10


def watch_summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The dashboards' watch-list panel: how many Gigabit Cities are on it, by reason, and the ones on
    it longest (the watch-list page has them all)."""
    return {
        "count": len(rows),
        "by_reason": {reason: sum(reason in row["reasons"] for row in rows) for reason in lifecycle.WATCH_REASONS},
        "rows": rows[:WATCH_PANEL_ROWS],
    }


def _share(part: int, whole: int) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(part) * 100 / whole).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


# ------------------------------------------------------------------------------------------------
# The provincial dashboard
# ------------------------------------------------------------------------------------------------
_PROVINCE_IN_SCOPE = Statement(
    lambda kind, code, **scope: Province.objects.in_scope(kind, **scope).filter(code=code)[:1]
)


def dashboard_province(*, user: User, code: str) -> Province:
    """The province, when the caller's scope includes it; Http404 otherwise (a bureau asking for
    another province learns nothing, not even that it exists)."""
    scope = CityScope.of(user)
    province = _PROVINCE_IN_SCOPE.first(scope.kind, code=code, **scope.values())
    if province is None:
        raise Http404
    return province


def _city_rows(kind: str, narrowed: bool, has_deadline: bool, **values) -> QuerySet[City]:
    """The build of `_CITY_ROWS`: the cities of a scope (`CityScope`) with their form of the round
    (`round_`, `year`, `deadline`), batch, extension and deadline."""
    round_ = lifecycle.round_of(has_deadline, values)
    return (
        scoped_cities(kind, narrowed, **values)
        .order_by("code")
        .annotate(
            form=FilteredRelation("submissions", condition=Q(submissions__round=values["round_"])),
            batch=batch_of_city(round_, "pk"),
            extended_until=latest_extension(round_),
            effective_deadline=deadline_expression(round_),
        )
        .annotate(
            state=Case(When(form__status__isnull=True, then=Value(NOT_STARTED)), default=F("form__status")),
        )
        .values(
            *lifecycle.CITY_COLUMNS,
            "batch",
            "extended_until",
            "effective_deadline",
            "state",
            "form__id",
            "form__kind",
            "form__updated_at",
            "form__submitted_at",
            "form__meets_all",
            "form__missed_count",
            "form__flags_count",
            "form__flag_severity",
            *(f"form__value_{spec.code}" for spec in INDICATORS),
        )
    )


_CITY_ROWS = Statement(_city_rows)


def city_rows(
    scope: CityScope, round_: Round, thresholds: dict[str, Decimal], today: datetime.date
) -> list[dict[str, Any]]:
    """Every city of the scope with its form of the round (or none), its batch and its deadline with
    any extension, in one query."""
    has_deadline, of_round = lifecycle.round_values(round_)
    rows = _CITY_ROWS(*scope.shape, has_deadline, **of_round, **scope.values())
    # The labels must be Python strings, not a CASE in SQL: they depend on the reader's language.
    labels = {NOT_STARTED: _("Not started"), **{s.value: s.label for s in Status}}
    kinds = dict(FormKind.choices)
    out = []
    for row in rows:
        deadline_ = row["effective_deadline"]
        reported = row["state"] in REPORTED_STATES
        # A draft's numbers are half-typed and nobody has vouched for them: shown on the form
        # itself, not in lists and exports (P-15).
        values = {spec.code: row[f"form__value_{spec.code}"] if reported else None for spec in INDICATORS}
        out.append(
            {
                "code": row["code"],
                "name": row["name"],
                "province": row["province_id"],
                "province_name": pick(row["province__name"], row["province__name_en"]),
                "status": row["state"],
                "status_label": status_label(row["state"], row["form__kind"])
                if row["form__kind"]
                else str(labels[row["state"]]),
                # Which form the city owes or filed: an annual report once it is a Gigabit City.
                "kind": row["form__kind"] or kind_of(row["batch"], round_.year),
                "kind_label": str(kinds[row["form__kind"] or kind_of(row["batch"], round_.year)]),
                "submission": row["form__id"],
                "updated_at": row["form__updated_at"],
                "submitted_at": row["form__submitted_at"],
                "deadline": deadline_,
                "extended": row["extended_until"] is not None and row["extended_until"] == deadline_,
                "days_to_deadline": (deadline_ - today).days if deadline_ else None,
                "batch": row["batch"],
                "meets_all": row["form__meets_all"] if reported else None,
                "missed": row["form__missed_count"] if reported else None,
                "flags": row["form__flags_count"] if reported else None,
                "values": values,
                "passed": {code: meets(value, thresholds.get(code)) for code, value in values.items()},
            }
        )
    return out


def province_dashboard(*, user: User, province: Province, round_: Round) -> dict[str, Any]:
    """The dashboard of one province: its cities' progress, deadlines, indicators against the
    thresholds, and the comparison with the national averages."""
    scope = CityScope.of(user).within(province.code)
    progress = _progress_rows(scope, round_)
    thresholds = round_.threshold_map()
    references = round_references(round_)
    # The national averages are the one figure a bureau sees beyond its province: the product asks
    # how the province compares with them. They are means over reported forms only, never rows. So
    # the country's reported forms, Gigabit Cities and published figures are read (three queries),
    # and the province's are those of its cities among them: the province is in the caller's scope
    # (`dashboard_province`), which is all a bureau's scope holds.
    every_city = CityScope("all")
    national_rows = reported_rows(every_city, round_)
    national_named = named_cities(every_city, round_)
    published = published_figures(every_city, round_)
    rows = [row for row in national_rows if row["city__province_id"] == province.code]
    own_named = [row for row in national_named if row[2] == province.code]
    named = _named_rows(own_named)
    batches = _batches(named, {province.code: province.region})
    totals = _reported_totals(rows, thresholds)
    indicators = _indicator_rows(
        by_batch=_means_by_batch(own_named, rows, published),
        totals=totals,
        thresholds=thresholds,
        references=references,
        batch_years=[b["year"] for b in batches],
    )
    national = _indicator_rows(
        by_batch=_means_by_batch(national_named, national_rows, published),
        totals=_reported_totals(national_rows, {}),
        thresholds=thresholds,
        references=references,
    )
    for row, nation in zip(indicators, national, strict=True):
        row["national_reported_mean"] = nation["reported_mean"]
        row["national_named_mean"] = nation["named_mean"]

    counts = _total_counts(progress)
    gigabit = lifecycle.gigabit_counts(
        user=user, years=[round_.year], province=province.code, regions={province.code: province.region}, named=named
    )[round_.year]["total"]
    return {
        "scope": {"level": "province", "code": province.code, "name": province.display_name},
        "round": round_heading(user=user, round_=round_),
        "status_counts": counts,
        "progress": _share(counts["reported"], counts["units"]),
        "named_total": gigabit["named_total"],
        "named_in_round": gigabit["named_in_round"],
        "gigabit": gigabit,
        "watch": watch_summary(lifecycle.watch_list(user=user, round_=round_, province=province.code)),
        "batches": batches,
        "cities": city_rows(scope, round_, thresholds, timezone.localdate()),
        "indicators": indicators,
        "leaders": _with_means(_leaders(rows, {row[0]: row[-1] for row in own_named}), indicators),
        "distribution": _with_means(_distribution(rows, thresholds, totals), indicators),
    }


# ------------------------------------------------------------------------------------------------
# Output
# ------------------------------------------------------------------------------------------------
# What JSON holds as it is: the burn-up's tens of thousands of counts are these, so they are let
# through before any other question is asked of them.
_PLAIN = frozenset((int, str, float, bool, type(None)))


def as_json(value: Any) -> Any:
    """The dashboard with numbers as JSON numbers and dates as ISO strings (the API's answer; the
    page's charts are written by `ChartEncoder`, with the same conversions)."""
    if type(value) in _PLAIN:
        return value
    if isinstance(value, dict):
        return {key: item if type(item) in _PLAIN else as_json(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [item if type(item) in _PLAIN else as_json(item) for item in value]
    return _json_value(value)


def _json_value(value: Any) -> Any:
    """A value JSON does not hold as it is, as the dashboards write it: a decimal as a number, a date
    as ISO text, a lazy translation in the reader's language; anything else unchanged."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime.date):  # a datetime too
        return value.isoformat()
    if isinstance(value, Promise):
        return str(value)
    return value


class ChartEncoder(DjangoJSONEncoder):
    """`as_json`'s conversions made by the JSON encoder as it writes (the page's chart data): the
    encoder asks only of the values JSON does not hold as they are, in one pass, where `as_json`
    copies the whole dashboard first."""

    def default(self, o: Any) -> Any:
        converted = _json_value(o)
        return super().default(o) if converted is o else converted


# ------------------------------------------------------------------------------------------------
# Reads behind the exports
# ------------------------------------------------------------------------------------------------
# The case collection takes the cases a bureau recommended as excellent, from forms the bureau has
# recommended and the ministry has not turned down. Rejected forms are left out: the collection goes
# out with the year's list. Returned forms are left out: the city may have rewritten the case since
# the bureau vouched for it (the flag is set again at the next recommendation).
CASE_COLLECTION_STATES: tuple[str, ...] = (Status.RECOMMENDED, Status.SENT_BACK, Status.APPROVED)


def summary_rows(*, user: User, round_: Round, cumulative: bool = True) -> list[dict[str, Any]]:
    """The rows of MIIT's summary table of `round_` (`lifecycle.summary_table`): every Gigabit City
    named up to the round, with the round's figures and its batch. MIIT's table is cumulative, so
    `cumulative` no longer changes it (kept for callers that pass it)."""
    return lifecycle.summary_table(user=user, round_=round_)["rows"]


def case_collection(*, user: User, round_: Round, province: Province | None = None) -> QuerySet:
    """The excellent cases of the round, by domain (in the catalogue's order), province and city."""
    forms = Submission.objects.visible_to(user).filter(round=round_, status__in=CASE_COLLECTION_STATES)
    if province is not None:
        forms = forms.filter(city__province=province)
    domain_order = Case(
        *(When(domain=code, then=Value(i)) for i, (code, _zh, _en) in enumerate(CASE_DOMAINS)),
        default=Value(len(CASE_DOMAINS)),
    )
    return (
        ApplicationCase.objects.filter(submission__in=forms, is_excellent=True)
        .annotate(domain_order=domain_order)
        .values(
            "pk",
            "domain",
            "title",
            "description",
            "pain_points",
            "replicability",
            "partners",
            "submission_id",
            "submission__status",
            "submission__kind",
            "submission__city__name",
            "submission__city__province__name",
            "submission__city__province__name_en",
        )
        .order_by("domain_order", "submission__city__province_id", "submission__city_id", "position", "pk")
    )


def city_list(*, user: User, round_: Round, province: Province | None = None) -> list[dict[str, Any]]:
    """Every unit in the caller's scope (optionally one province) with its form's status, deadline
    and values for the round: the list behind the dashboards' city tables."""
    scope = CityScope.of(user).within(province.code if province is not None else "")
    return city_rows(scope, round_, round_.threshold_map(), timezone.localdate())

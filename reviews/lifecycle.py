"""A Gigabit City's life across the rounds: named once (its batch, the year of its one designation),
then an annual report (年度复核) in every later round, which the ministry confirms or does not confirm.

One selector answers each question, and every page, export and API response that shows the answer
asks it here, so that the numbers agree everywhere:

- `gigabit_counts` — new Gigabit Cities of a round, Gigabit Cities in total (累计) up to it, and the
  annual reports expected, received, confirmed and not confirmed, in total, by region and by province,
  for any number of rounds in three queries (the rounds list, the dashboards, the rounds API, the
  dashboards' workbooks);
- `named_means` — the mean of each indicator over the Gigabit Cities named up to a round, overall and
  per batch, at MIIT's precision (the dashboards' "Gigabit Cities" means and the summary table's
  bottom rows);
- `summary_table` — MIIT's key-indicator table of a round (附件1 千兆城市关键指标情况汇总表): every
  Gigabit City named up to the round, 备注 = batch;
- `watch_list` — the Gigabit Cities that fell below a threshold, did not report by the deadline or
  were not confirmed, with the indicators, by how much, and for how many rounds in a row.

A city's figures of a round are its reported form's (submitted or further: `REPORTED_STATES`) or,
where it has none, the figures MIIT published for that round (`PublishedFigure`). Every query starts
from the caller's scope (`visible_to`), and the number of queries does not grow with the number of
rounds, cities or designations.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal
from functools import reduce
from operator import or_
from typing import Any

from django.db.models import (
    BooleanField,
    Case,
    Count,
    ExpressionWrapper,
    F,
    FilteredRelation,
    JSONField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    When,
)
from django.utils import timezone
from django.utils.translation import gettext as _

from gigacity.i18n import in_english, pick
from gigacity.models import City, CityScope, Province, Region, User, of_scope, scoped_cities
from gigacity.statements import Statement, gathered, spread
from indicators.catalogue import INDICATORS, IndicatorSpec
from indicators.models import Designation, PublishedFigure, Round, RoundStatus, Threshold
from indicators.rules import meets
from submissions.models import REPORTED_STATES, FormKind, Status, Submission, deadline_expression, status_label

COUNT_KEYS: tuple[str, ...] = (
    "named_in_round",  # named a Gigabit City in this round (本年度新增)
    "named_total",  # named in this round or before (累计)
    "reports_expected",  # named before this round: each owes an annual report
    "reports_received",  # annual reports that reached the bureau (submitted or further)
    "confirmed",  # annual reports the ministry confirmed (复核通过)
    "not_confirmed",  # annual reports the ministry did not confirm (复核未通过)
)

# Why a Gigabit City is on the watch list.
BELOW_THRESHOLD = "below_threshold"
NOT_REPORTED = "not_reported"
NOT_CONFIRMED = "not_confirmed"
WATCH_REASONS: tuple[str, ...] = (BELOW_THRESHOLD, NOT_REPORTED, NOT_CONFIRMED)


def watch_reason_labels() -> dict[str, str]:
    return {
        BELOW_THRESHOLD: _("Below a threshold"),
        NOT_REPORTED: _("Not reported by the deadline"),
        NOT_CONFIRMED: _("Annual report not confirmed"),
    }


def mean(total: Decimal | None, n: int, spec: IndicatorSpec) -> Decimal | None:
    """A simple mean over cities, as MIIT publishes it, at the indicator's published precision."""
    if not n or total is None:
        return None
    places = Decimal(1).scaleb(-spec.decimals)
    return (Decimal(total) / n).quantize(places, rounding=ROUND_HALF_UP)


# ------------------------------------------------------------------------------------------------
# Designations
# ------------------------------------------------------------------------------------------------
def named_up_to(year: int) -> QuerySet[Designation]:
    """The Gigabit Cities named in `year` or before: one designation per city, so each row is a city
    and its round is the city's batch."""
    return Designation.objects.filter(round__year__lte=year)


def designation_rows(cities: QuerySet[City], up_to_year: int) -> list[dict[str, Any]]:
    """(province, batch, number of cities) of the `cities` named up to `up_to_year` (one query)."""
    return list(
        named_up_to(up_to_year)
        .filter(city__in=cities)
        .order_by()
        .values(province=F("city__province"), batch=F("round__year"))
        .annotate(n=Count("pk"))
    )


# ------------------------------------------------------------------------------------------------
# Counts
# ------------------------------------------------------------------------------------------------
def _zero() -> dict[str, int]:
    return dict.fromkeys(COUNT_KEYS, 0)


# The annual reports of a scope's cities in the rounds `first` to `last`, counted by round and province.
_REPORT_KEYS = ("reports_received", "confirmed", "not_confirmed")
_REPORT_COUNTS = Statement(
    lambda kind, narrowed, first, last, **scope: (
        of_scope(
            Submission.objects.filter(kind=FormKind.ANNUAL_REPORT, round__year__gte=first, round__year__lte=last),
            kind,
            narrowed,
            **scope,
        )
        .order_by()
        .values_list("round__year", "city__province")
        .annotate(
            reports_received=Count("pk", filter=Q(status__in=REPORTED_STATES)),
            confirmed=Count("pk", filter=Q(status=Status.APPROVED)),
            not_confirmed=Count("pk", filter=Q(status=Status.REJECTED)),
        )
    )
)


def gigabit_counts(
    *,
    user: User,
    years: Iterable[int],
    province: str | None = None,
    regions: dict[str, str] | None = None,
    named: list[dict[str, Any]] | None = None,
) -> dict[int, dict[str, Any]]:
    """For each year: {"total": counts, "regions": {region: counts}, "provinces": {code: counts}}, the
    counts being COUNT_KEYS, over the caller's cities (one province with `province`). `regions`
    (province code → region) and `named` (`designation_rows` up to the latest year) save their
    queries when the caller has them already."""
    years = sorted(set(years))
    if not years:
        return {}
    scope = CityScope.of(user)
    provinces = Province.objects.visible_to(user)
    if province is not None:
        scope, provinces = scope.within(province), provinces.filter(code=province)
    if regions is None:
        regions = dict(provinces.values_list("code", "region"))
    elif province is not None:
        regions = {code: region for code, region in regions.items() if code == province}
    if named is None:
        named = designation_rows(scoped_cities(*scope.shape, **scope.values()), years[-1])
    reports = _REPORT_COUNTS(*scope.shape, first=years[0], last=years[-1], **scope.values())
    by_year = {year: {code: _zero() for code in regions} for year in years}
    for row in named:
        for year in years:
            target = by_year[year].get(row["province"])
            if target is None or row["batch"] > year:
                continue
            target["named_total"] += row["n"]
            target["named_in_round" if row["batch"] == year else "reports_expected"] += row["n"]
    for year, province_code, *counts in reports:
        target = by_year.get(year, {}).get(province_code)
        if target is not None:
            for key, count in zip(_REPORT_KEYS, counts, strict=True):
                target[key] += count
    out: dict[int, dict[str, Any]] = {}
    for year, per_province in by_year.items():
        total, per_region = _zero(), {region: _zero() for region in Region.values}
        for code, counts in per_province.items():
            for key, value in counts.items():
                total[key] += value
                per_region[regions[code]][key] += value
        out[year] = {"total": total, "regions": per_region, "provinces": per_province}
    return out


# ------------------------------------------------------------------------------------------------
# A round's figures: the reported form, else the published table
# ------------------------------------------------------------------------------------------------
VALUE_COLUMNS: tuple[str, ...] = tuple(f"value_{spec.code}" for spec in INDICATORS)
# The keys of a batch's SUM and COUNT of each indicator (`add_to_batch`).
_SUM_KEYS: tuple[tuple[str, str], ...] = tuple((f"s_{spec.code}", f"n_{spec.code}") for spec in INDICATORS)
NAMED_COLUMNS = ("city_id", "city__name", "city__province_id", "city__province__name", "city__province__name_en")


# The three reads of every Gigabit City's figures of a round (the summary table, the dashboards' means
# by batch), built once per process and scope's shape (`gigacity.statements`).
_NAMED = Statement(
    lambda kind, narrowed, year, **scope: (
        of_scope(named_up_to(year), kind, narrowed, **scope)
        .order_by("city__province_id", "city_id")
        .values_list(*NAMED_COLUMNS, "round__year")
    ),
    keep=True,
)
_REPORTED = Statement(
    lambda kind, narrowed, round_, **scope: (
        of_scope(Submission.objects.filter(round_id=round_, status__in=REPORTED_STATES), kind, narrowed, **scope)
        .order_by()
        .values_list("city_id", "pk", "kind", *VALUE_COLUMNS)
    )
)
_PUBLISHED = Statement(
    lambda kind, narrowed, round_, **scope: (
        of_scope(PublishedFigure.objects.filter(round_id=round_), kind, narrowed, **scope)
        .order_by()
        .values_list("city_id", "pk", *VALUE_COLUMNS)
    ),
    keep=True,
)


def named_cities(cities: CityScope, round_: Round) -> list[tuple]:
    """The Gigabit Cities of `cities` named up to `round_`, in MIIT's order (province by GB/T 2260
    code, then city): (city, name, province, province name, its English name, batch) each."""
    return _NAMED(*cities.shape, year=round_.year, **cities.values())


def reported_figures(cities: CityScope, round_: Round) -> dict[str, tuple]:
    """{city: (form, kind, *the seven values)} of the round's reported forms of `cities`."""
    return {row[0]: row[1:] for row in _REPORTED(*cities.shape, round_=round_.pk, **cities.values())}


def published_figures(cities: CityScope, round_: Round) -> dict[str, tuple]:
    """{city: (row, *the seven values)} of the figures MIIT published for the round."""
    return {row[0]: row[1:] for row in _PUBLISHED(*cities.shape, round_=round_.pk, **cities.values())}


def figures_of(city: str, forms: dict[str, tuple], published: dict[str, tuple]) -> tuple[str | None, tuple]:
    """A city's figures of the round and where they come from: its reported form's when it has one
    (even a missing value: the form is what the city vouched for), else the published ones, else
    none. `forms` and `published` as `reported_figures` and `published_figures` read them."""
    form = forms.get(city)
    if form is not None:
        return "form", form[2:]
    figures = published.get(city)
    if figures is not None:
        return "published", figures[1:]
    return None, (None,) * len(VALUE_COLUMNS)


def add_to_batch(sums: dict[int, dict[str, Any]], batch: int, values: Iterable[Decimal | None]) -> None:
    """Counts one named city of `batch` with its `values` (in the catalogue's order) into `sums`:
    per batch, the number of cities and SUM and COUNT of each indicator, exactly (in Decimal, as SQL's
    SUM would), so that the means of groups combine (`means_of`)."""
    target = sums.get(batch)
    if target is None:
        target = sums[batch] = {"cities": 0}
        for total, count in _SUM_KEYS:
            target[total], target[count] = None, 0
    target["cities"] += 1
    for (total, count), value in zip(_SUM_KEYS, values, strict=True):
        if value is not None:
            target[total] = value if target[total] is None else target[total] + value
            target[count] += 1


def named_sums_by_batch(cities: CityScope, round_: Round) -> dict[int, dict[str, Any]]:
    """Per batch: the number of Gigabit Cities named up to `round_`, and SUM and COUNT of each
    indicator over their figures of the round (`figures_of`). Means of groups combine exactly.

    Three queries of plain columns, added up here, rather than one with two filtered joins and
    fourteen CASE expressions, which Django took longer to build than PostgreSQL to run (issue 16)."""
    named, forms = named_cities(cities, round_), reported_figures(cities, round_)
    return sums_by_batch(named, forms, published_figures(cities, round_))


def sums_by_batch(
    named: list[tuple], forms: dict[str, tuple], published: dict[str, tuple]
) -> dict[int, dict[str, Any]]:
    """`named_sums_by_batch` of the rows its three reads return (`named_cities`, `reported_figures`,
    `published_figures`), for a caller that has read them already."""
    sums: dict[int, dict[str, Any]] = {}
    for city, *_names, batch in named:
        add_to_batch(sums, batch, figures_of(city, forms, published)[1])
    return sums


def means_of(rows: dict[int, dict[str, Any]]) -> dict[str, Any]:
    """The means of `named_sums_by_batch` rows: overall and per batch, at MIIT's precision."""
    overall: dict[str, Decimal | None] = {}
    counts: dict[str, int] = {}
    for spec in INDICATORS:
        total, n = None, 0
        for row in rows.values():
            if row[f"n_{spec.code}"]:
                total = (total or Decimal(0)) + row[f"s_{spec.code}"]
                n += row[f"n_{spec.code}"]
        overall[spec.code], counts[spec.code] = mean(total, n, spec), n
    batches = [
        {
            "year": year,
            "cities": row["cities"],
            "means": {spec.code: mean(row[f"s_{spec.code}"], row[f"n_{spec.code}"], spec) for spec in INDICATORS},
            "n": {spec.code: row[f"n_{spec.code}"] for spec in INDICATORS},
        }
        for year, row in sorted(rows.items())
    ]
    return {
        "cities": sum(row["cities"] for row in rows.values()),
        "means": overall,
        "n": counts,
        "batches": batches,
    }


def named_means(*, user: User, round_: Round, province: str | None = None) -> dict[str, Any]:
    """The mean of each indicator over the Gigabit Cities named up to `round_`, overall ("means") and
    per batch ("batches": year, cities, means), using each city's figures of the round."""
    cities = CityScope.of(user)
    if province is not None:
        cities = cities.within(province)
    return means_of(named_sums_by_batch(cities, round_))


# ------------------------------------------------------------------------------------------------
# MIIT's summary table
# ------------------------------------------------------------------------------------------------
def summary_table(*, user: User, round_: Round) -> dict[str, Any]:
    """MIIT's key-indicator table of a round: every Gigabit City named up to the round (the caller's
    scope), in MIIT's order (province by GB/T 2260 code, then city), with the round's figures (the
    reported form, else the published table; none when the city has neither) and its batch, and the
    means over all of them and per batch beneath (`means_of`, as `named_means` computes them).

    Three queries of plain columns — the named cities, the round's reported forms and its published
    figures, each city's picked here (the form's, else the published one) — rather than one with two
    filtered joins, which Django took several times longer to build than PostgreSQL to run; and the
    rows hold every figure the means are taken over, so the sums are added up here (exactly, in
    Decimal, as SUM would) rather than asked for in a further query (issue 16)."""
    cities = CityScope.of(user)
    codes = [spec.code for spec in INDICATORS]
    forms, published = reported_figures(cities, round_), published_figures(cities, round_)
    out = []
    sums: dict[int, dict[str, Any]] = {}
    english = in_english()  # the reader's language, asked once for the 140 rows
    for number, (city, city_name, province, province_name, province_name_en, batch) in enumerate(
        named_cities(cities, round_), start=1
    ):
        source, values = figures_of(city, forms, published)
        form = forms.get(city) if source == "form" else None
        out.append(
            {
                "number": number,
                "city": city,
                "city_name": city_name,
                "province": province,
                "province_name": province_name_en if english else province_name,
                "batch": batch,
                "submission": form[0] if form is not None else None,
                "kind": form[1] if form is not None else None,
                "source": source,
                "values": dict(zip(codes, values, strict=True)),
            }
        )
        add_to_batch(sums, batch, values)
    return {"year": round_.year, "rows": out, **means_of(sums)}


# ------------------------------------------------------------------------------------------------
# The watch list
# ------------------------------------------------------------------------------------------------
def watch_list(
    *, user: User, round_: Round, province: str = "", region: str = "", reason: str = ""
) -> list[dict[str, Any]]:
    """The Gigabit Cities (named before `round_`, so they owe an annual report) that, in `round_`,
    have a figure below the round's threshold (reported form, else published table), have not
    reported by their deadline (extensions count), or whose annual report the ministry did not
    confirm; each with the indicators and by how much, and the number of rounds in a row it has been
    on the list. A past round in which gigacity has no form and no published figure at all is not
    judged (it breaks the run). Five queries, whatever the number of rounds.

    Only the cities on the list in `round_` need their past rounds, and most Gigabit Cities are not
    on it: the round's figures are read for every named city, the earlier rounds' only for those on
    the list (one in ten or fewer), and each city's past is judged only back to the round that breaks
    its run. Reading every round of every city grew with rounds × cities (issue 12's benchmark)."""
    scope = CityScope.of(user).within(province)
    today = timezone.localdate()
    thresholds: dict[int, dict[str, Decimal]] = defaultdict(dict)
    for year, code, value in _THRESHOLDS_UP_TO(year=round_.year):
        thresholds[year][code] = value
    current = thresholds[round_.year]
    codes = tuple(spec.code for spec in INDICATORS if current.get(spec.code) is not None)
    closed = round_.status in (RoundStatus.CLOSED, RoundStatus.PUBLISHED)
    by_region = region in Region.values
    has_deadline, of_round = round_values(round_)
    values = {
        **scope.values(),
        **of_round,
        **{f"threshold_{code}": current[code] for code in codes},
        **({"region": region} if by_region else {}),
        **({} if closed else {"today": today}),
    }
    named = _WATCH_CANDIDATES(*scope.shape, by_region, closed, codes, has_deadline, **values)
    if not named:
        return []
    forms: dict[tuple[str, int], dict[str, Any]] = {}
    published: dict[tuple[str, int], dict[str, Any]] = {}
    for city in named:
        key = {"city_id": city["code"], "round__year": round_.year}
        if city["form_pk"] is not None:
            form = {column: city[f"form_{column}"] for column in _FORM_COLUMNS}
            forms[city["code"], round_.year] = {**key, **form, "shortfall": city["form_shortfall"]}
        if city["pub_id"] is not None:
            published[city["code"], round_.year] = {**key, **{value: city[f"pub_{value}"] for value in VALUE_COLUMNS}}
    first = min(row["batch"] for row in named)
    rounds = {r["year"]: r for r in _WATCH_ROUNDS(first=first + 1, last=round_.year)}

    def judge(city: dict[str, Any], year: int) -> dict[str, Any] | None:
        return _judge(
            rounds.get(year),
            forms.get((city["code"], year)),
            published.get((city["code"], year)),
            thresholds.get(year, {}),
            city["deadline"] if year == round_.year else None,
            today,
        )

    listed = []
    for city in named:
        current = judge(city, round_.year)
        if not current or not current["reasons"]:
            continue
        if reason and reason not in current["reasons"]:
            continue
        listed.append((city, current))
    if listed and first + 1 < round_.year:
        earlier_forms, earlier_published = _watch_figures(
            [city["code"] for city, _current in listed], first + 1, round_.year - 1
        )
        forms.update(earlier_forms)
        published.update(earlier_published)
    out = []
    for city, current in listed:
        run = 1
        for year in range(round_.year - 1, city["batch"], -1):
            item = judge(city, year)
            if not item or not item["reasons"]:
                break
            run += 1
        form = forms.get((city["code"], round_.year))
        out.append(
            {
                "city": city["code"],
                "city_name": city["name"],
                "province": city["province_id"],
                "province_name": pick(city["province__name"], city["province__name_en"]),
                "batch": city["batch"],
                "submission": form["pk"] if form else None,
                "status": form["status"] if form else None,
                "status_label": status_label(form["status"], form["kind"]) if form else _("Not started"),
                "deadline": city["deadline"],
                "rounds": run,
                "since": round_.year - run + 1,
                **current,
            }
        )
    out.sort(key=lambda row: (-row["rounds"], -len(row["below"]), row["province"], row["city"]))
    return out


# The columns of a city that the watch list and the dashboards' city table read with it.
CITY_COLUMNS = ("code", "name", "province_id", "province__name", "province__name_en")


def round_values(round_: Round) -> tuple[bool, dict[str, Any]]:
    """What a statement's build takes of a round for its cities' deadlines and batches (`round_of`):
    whether it has a deadline (the shape) and its id, year and deadline (the values)."""
    has_deadline = round_.deadline is not None
    return has_deadline, {
        "round_": round_.pk,
        "year": round_.year,
        **({"deadline": round_.deadline} if has_deadline else {}),
    }


def round_of(has_deadline: bool, values: dict[str, Any]) -> Round:
    """In a statement's build, the round `round_values` bound: unsaved, with only its id, year and
    deadline, which is all the SQL of its deadlines (`deadline_expression`) and batches reads."""
    return Round(pk=values["round_"], year=values["year"], deadline=values["deadline"] if has_deadline else None)


# The columns of a watched city's form of the round that `_judge` reads.
_FORM_COLUMNS = ("pk", "status", "kind", "improvement_due", *VALUE_COLUMNS)
# The thresholds of every round up to a year: (year, indicator, value).
_THRESHOLDS_UP_TO = Statement(
    lambda year: (
        Threshold.objects.filter(round__year__lte=year).order_by().values_list("round__year", "indicator_id", "value")
    ),
    keep=True,
)


def _watch_candidates(
    kind: str, narrowed: bool, by_region: bool, closed: bool, codes: tuple[str, ...], has_deadline: bool, **values
) -> QuerySet[City]:
    """The build of `_WATCH_CANDIDATES`: the Gigabit Cities named before the round (`year`, `round_`)
    of a scope (`CityScope`, one region's with `by_region`) that `_judge` could list (`_may_be_watched`,
    over the thresholds of `codes`), each with its batch, its deadline (extensions counted), and its
    form (any state) and published figures of the round: two LEFT JOINs."""
    cities = scoped_cities(kind, narrowed, **values)
    if by_region:
        cities = cities.filter(province__region=values["region"])
    round_ = round_of(has_deadline, values)
    thresholds = {code: values[f"threshold_{code}"] for code in codes}
    return (
        cities.filter(designations__round__year__lt=values["year"])
        .annotate(
            batch=F("designations__round__year"),
            deadline=deadline_expression(round_),
            form=FilteredRelation("submissions", condition=Q(submissions__round=values["round_"])),
            pub=FilteredRelation("published_figures", condition=Q(published_figures__round=values["round_"])),
        )
        .filter(_may_be_watched(thresholds, closed=closed, today=values.get("today")))
        .values(
            *CITY_COLUMNS,
            "batch",
            "deadline",
            form_shortfall=_rejected_shortfall("form__"),
            pub_id=F("pub__id"),
            **{f"form_{column}": F(f"form__{column}") for column in _FORM_COLUMNS},
            **{f"pub_{value}": F(f"pub__{value}") for value in VALUE_COLUMNS},
        )
        .order_by("province_id", "code")
    )


# Built once per process and shape: Django took longer to build its SQL than PostgreSQL to answer it.
_WATCH_CANDIDATES = Statement(_watch_candidates)


def _may_be_watched(thresholds: dict[str, Decimal], *, closed: bool, today: datetime.date | None) -> Q:
    """SQL, over a named city with its form (`form`, any state), published figures (`pub`) and
    deadline (`deadline`, extensions counted) of `round_`: whether `_judge` could list it — its form
    rejected, no reported form and no published figures once the round is closed or the city's
    deadline has passed, or a figure below the round's threshold among those `_judge` reads (the
    reported form's, else the published ones; NULL is below nothing, as `meets` judges). Only a few
    Gigabit Cities are on the list; reading and judging every one of them in Python was most of the
    national dashboard's time at 3 000 units, and while a round is open most are still filling in
    their forms. `_judge` still decides: this
    only leaves out cities it would not list, with as few conditions as that takes (each costs
    Django more to build than PostgreSQL to test)."""
    unreported = [s for s in Status.values if s not in REPORTED_STATES]
    not_reported = Q(form__id__isnull=True) | Q(form__status__in=unreported)
    unknown = not_reported & Q(pub__id__isnull=True)
    if not closed:
        unknown &= Q(deadline__lt=today)
    may = Q(form__status=Status.REJECTED) | unknown
    codes = [spec.code for spec in INDICATORS if thresholds.get(spec.code) is not None]
    if codes:
        # `_judge` reads the reported form's figures, else (no form, or one still with its city)
        # the published ones: a figure below its threshold lists the city only where it is read.
        form_below = reduce(or_, (Q(**{f"form__value_{code}__lt": thresholds[code]}) for code in codes))
        published_below = reduce(or_, (Q(**{f"pub__value_{code}__lt": thresholds[code]}) for code in codes))
        may |= (Q(form__status__in=REPORTED_STATES) & form_below) | (not_reported & published_below)
    return may


def _watch_rounds(first: int, last: int) -> QuerySet[Round]:
    """The rounds of the years `first` to `last` with whether gigacity holds any reported form or published figure of
    each. Each probe asks for the first row in an index's order ((round, status) of submissions,
    (round, city) of published figures), which only that index answers at once: with a plain EXISTS
    the planner scans the table from its start, and since a round's forms are written in its year
    they lie together after every earlier round's, so the probe of the latest rounds read nearly the
    whole table (0.5 s at 3 000 cities × 10 rounds)."""
    reported = Submission.objects.filter(round=OuterRef("pk"), status__in=REPORTED_STATES).order_by("status")
    published = PublishedFigure.objects.filter(round=OuterRef("pk")).order_by("city")
    return (
        Round.objects.filter(year__gte=first, year__lte=last)
        .alias(
            first_form=Subquery(reported.values("pk")[:1]),
            first_published=Subquery(published.values("pk")[:1]),
        )
        .annotate(
            has_forms=ExpressionWrapper(Q(first_form__isnull=False), output_field=BooleanField()),
            has_published=ExpressionWrapper(Q(first_published__isnull=False), output_field=BooleanField()),
        )
        .values("year", "status", "deadline", "has_forms", "has_published")
    )


_WATCH_ROUNDS = Statement(_watch_rounds)


def _watch_figures(
    cities: list[str], first: int, last: int
) -> tuple[dict[tuple[str, int], dict[str, Any]], dict[tuple[str, int], dict[str, Any]]]:
    """The forms (any state) and the published figures of `cities` (codes) in the rounds of the years
    `first` to `last`, by (city, year): two queries."""
    size, codes = spread("city", cities)
    forms = {}
    for row in _WATCHED_FORMS(size, first=first, last=last, **codes):
        row["shortfall"] = row.pop("rejected_shortfall")
        forms[row["city_id"], row["round__year"]] = row
    published = {
        (row["city_id"], row["round__year"]): row for row in _WATCHED_PUBLISHED(size, first=first, last=last, **codes)
    }
    return forms, published


# The codes themselves (already in scope), not a subquery: the planner then reads these cities'
# rows through the (city, round) index instead of scanning every form.
_WATCHED_FORMS = Statement(
    lambda size, first, last, **codes: (
        Submission.objects.filter(city__in=gathered("city", size, codes), round__year__gte=first, round__year__lte=last)
        .order_by()
        .values("pk", "city_id", "round__year", "status", "kind", "improvement_due", *VALUE_COLUMNS)
        .annotate(rejected_shortfall=_rejected_shortfall())
    )
)
_WATCHED_PUBLISHED = Statement(
    lambda size, first, last, **codes: (
        PublishedFigure.objects.filter(
            city__in=gathered("city", size, codes), round__year__gte=first, round__year__lte=last
        )
        .order_by()
        .values("city_id", "round__year", *VALUE_COLUMNS)
    ),
    keep=True,
)


def _rejected_shortfall(prefix: str = "") -> Case:
    """SQL: a form's shortfall where the ministry did not confirm it (the one case the watch list shows
    it, `_judge`), else NULL: decoding every form's JSON was a third of the watch list's time."""
    return Case(
        When(**{f"{prefix}status": Status.REJECTED}, then=F(f"{prefix}shortfall")),
        default=None,
        output_field=JSONField(),
    )


def _judge(
    round_: dict | None,
    form: dict | None,
    published: dict | None,
    thresholds: dict[str, Decimal],
    deadline: datetime.date | None,
    today: datetime.date,
) -> dict[str, Any] | None:
    """One Gigabit City in one round: why it is on the watch list (no reasons: it is not), or None
    when the round cannot be judged (there is no such round, or gigacity has no record of it)."""
    if round_ is None:
        return None
    reported = form is not None and form["status"] in REPORTED_STATES
    source = "form" if reported else ("published" if published else None)
    figures = form if reported else published
    closed = round_["status"] in (RoundStatus.CLOSED, RoundStatus.PUBLISHED)
    if deadline is None:
        deadline = round_["deadline"]
    if figures is None and not (round_["has_forms"] or round_["has_published"]) and closed:
        return None  # a round run outside gigacity, with nothing loaded: not known
    below = []
    if figures is not None:
        for spec in INDICATORS:
            value, threshold = figures[f"value_{spec.code}"], thresholds.get(spec.code)
            if meets(value, threshold) is False:
                below.append(
                    {
                        "code": spec.code,
                        "name": pick(spec.name_zh, spec.name_en),
                        "unit": pick(spec.unit_zh, spec.unit_en),
                        "decimals": spec.decimals,
                        "value": value,
                        "threshold": threshold,
                        "margin": value - threshold,
                        "relative": ((value - threshold) * 100 / threshold).quantize(Decimal("0.1"))
                        if threshold
                        else None,
                    }
                )
    reasons = []
    if below:
        reasons.append(BELOW_THRESHOLD)
    if figures is None and (closed or (deadline is not None and deadline < today)):
        reasons.append(NOT_REPORTED)
    not_confirmed = form is not None and form["status"] == Status.REJECTED and form["kind"] == FormKind.ANNUAL_REPORT
    if not_confirmed:
        reasons.append(NOT_CONFIRMED)
    return {
        "reasons": reasons,
        "source": source,
        "below": below,
        "shortfall": form["shortfall"] if not_confirmed else [],
        "improvement_due": form["improvement_due"] if not_confirmed else None,
    }

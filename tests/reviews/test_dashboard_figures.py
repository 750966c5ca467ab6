"""Every figure of the dashboards equals an independent computation over the same data
(reliability.md D-6): Hypothesis generates forms in every state, designations and reference values;
the expected figures are computed here in plain Python from what was generated, never from the
database, and compared with what the selectors return."""

from __future__ import annotations

import itertools
import json
from collections import Counter, defaultdict
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from indicators.catalogue import INDICATORS, PROVISIONAL_2021_THRESHOLDS
from indicators.models import Designation, ReferenceValue, Round
from reviews import dashboards
from submissions.models import Status, Submission

pytestmark = pytest.mark.django_db

DIVISIONS = json.loads(
    (Path(__file__).resolve().parents[2] / "indicators" / "data" / "divisions.json").read_text(encoding="utf-8")
)
PROVINCE_OF = {c["code"]: c["province"] for c in DIVISIONS["cities"]}
REGION_OF = {p["code"]: p["region"] for p in DIVISIONS["provinces"]}
# A few provinces only, so that the generated cities often share one and tie on values.
CODES = sorted(code for code, province in PROVINCE_OF.items() if province in {"370000", "320000", "650000", "110000"})
YEARS = (2021, 2022, 2023)  # the rounds load_reference creates
REPORTED = {Status.SUBMITTED, Status.RECOMMENDED, Status.SENT_BACK, Status.APPROVED, Status.REJECTED}
THRESHOLDS = {code: Decimal(value) for code, value in PROVISIONAL_2021_THRESHOLDS.items()}


@dataclass
class Form:
    city: str
    year: int
    status: str
    values: dict[str, Decimal | None]


@dataclass
class World:
    year: int
    forms: list[Form]
    designations: list[tuple[str, int]]
    references: dict[str, Decimal]


def value_of(spec):
    if spec.decimals == 0:
        numbers = st.integers(min_value=0, max_value=2_000_000).map(Decimal)
    else:
        numbers = st.decimals(min_value=0, max_value=300, places=1)
    # A few repeated values make ties, which the leaders must break by city code.
    return st.none() | numbers | st.sampled_from([Decimal(50), Decimal("99.9")])


@st.composite
def worlds(draw) -> World:
    cities = draw(st.lists(st.sampled_from(CODES), max_size=24, unique=True))
    forms, designations = [], []
    for city in cities:
        for year in YEARS:
            if draw(st.booleans()):
                status = draw(st.sampled_from(Status.values))
                forms.append(Form(city, year, status, {spec.code: draw(value_of(spec)) for spec in INDICATORS}))
        if draw(st.booleans()):  # a city is named once, in some round
            designations.append((city, draw(st.sampled_from(YEARS))))
    references = draw(
        st.dictionaries(
            st.sampled_from([spec.code for spec in INDICATORS]), st.decimals(min_value=0, max_value=99, places=1)
        )
    )
    return World(draw(st.sampled_from(YEARS)), forms, designations, references)


def store(world: World) -> Round:
    """The generated world in the database, replacing the forms, designations and references the
    reference data brought."""
    Designation.objects.all().delete()
    ReferenceValue.objects.all().delete()
    Submission.objects.all().delete()
    rounds = {r.year: r for r in Round.objects.filter(year__in=YEARS)}
    Submission.objects.bulk_create(
        Submission(
            city_id=f.city,
            round=rounds[f.year],
            status=f.status,
            **{f"value_{code}": value for code, value in f.values.items()},
        )
        for f in world.forms
    )
    Designation.objects.bulk_create(
        Designation(city_id=city, round=rounds[year], source=Designation.Source.APPROVED)
        for city, year in world.designations
    )
    ReferenceValue.objects.bulk_create(
        ReferenceValue(round=rounds[world.year], indicator_id=code, value=value)
        for code, value in world.references.items()
    )
    return rounds[world.year]


# ------------------------------------------------------------------------------------------------
# The expected figures, in plain Python
# ------------------------------------------------------------------------------------------------
def simple_mean(values: list[Decimal], decimals: int) -> Decimal | None:
    if not values:
        return None
    return (sum(values) / len(values)).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)


def batches_of(world: World) -> dict[str, int]:
    first: dict[str, int] = {}
    for city, year in world.designations:
        if year <= world.year:
            first[city] = min(year, first.get(city, year))
    return first


def expected(world: World, cities: set[str]) -> dict:
    """What a dashboard over `cities` must show."""
    forms = [f for f in world.forms if f.year == world.year and f.city in cities]
    reported = [f for f in forms if f.status in REPORTED]
    batch = {city: year for city, year in batches_of(world).items() if city in cities}
    counts = Counter(f.status for f in forms)
    counts["not_started"] = len(cities) - len(forms)
    indicators, leaders, histograms = {}, {}, {}
    for spec in INDICATORS:
        code = spec.code
        values = [f.values[code] for f in reported if f.values[code] is not None]
        named = [(batch[f.city], f.values[code]) for f in reported if f.city in batch and f.values[code] is not None]
        indicators[code] = {
            "reported_mean": simple_mean(values, spec.decimals),
            "reported_n": len(values),
            "named_mean": simple_mean([v for _b, v in named], spec.decimals),
            "named_n": len(named),
            "by_batch": {
                year: simple_mean([v for b, v in named if b == year], spec.decimals)
                for year in sorted(set(batch.values()))
            },
            "passing": sum(1 for v in values if v >= THRESHOLDS[code]),
            "reference": world.references.get(code),
        }
        ranked = sorted((f for f in reported if f.values[code] is not None), key=lambda f: (-f.values[code], f.city))
        leaders[code] = [(f.city, f.values[code]) for f in ranked[:10]]
        if values:
            edges = dashboards.histogram_edges(min(values), max(values))
            last = len(edges) - 2
            histograms[code] = [
                sum(1 for v in values if edges[i] <= v and (v < edges[i + 1] or (i == last and v == edges[i + 1])))
                for i in range(len(edges) - 1)
            ]
        else:
            histograms[code] = []
    by_year = Counter(batch.values())
    cumulative, batches = 0, []
    for year in sorted(by_year):
        cumulative += by_year[year]
        batches.append((year, by_year[year], cumulative))
    return {
        "counts": counts,
        "batch": batch,
        "batches": batches,
        "indicators": indicators,
        "leaders": leaders,
        "histograms": histograms,
    }


def assert_figures(data: dict, want: dict) -> None:
    for key in dashboards.STATUS_KEYS:
        assert data["status_counts"][key] == want["counts"][key], key
    assert [(b["year"], b["named"], b["cumulative"]) for b in data["batches"]] == want["batches"]
    for row in data["indicators"]:
        w = want["indicators"][row["code"]]
        assert row["reported_mean"] == w["reported_mean"], row["code"]
        assert row["reported_n"] == w["reported_n"], row["code"]
        assert row["named_mean"] == w["named_mean"], row["code"]
        assert row["named_n"] == w["named_n"], row["code"]
        assert {b["year"]: b["mean"] for b in row["by_batch"]} == w["by_batch"], row["code"]
        assert row["passing"] == w["passing"], row["code"]
        assert row["reference"] == w["reference"], row["code"]
    for block in data["leaders"]:
        assert [(r["city"], r["value"]) for r in block["rows"]] == want["leaders"][block["code"]], block["code"]
        assert [r["rank"] for r in block["rows"]] == list(range(1, len(block["rows"]) + 1))
    for block in data["distribution"]:
        assert [b["count"] for b in block["bins"]] == want["histograms"][block["code"]], block["code"]


EXAMPLES = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@EXAMPLES
@given(world=worlds())
def test_the_national_dashboard_equals_an_independent_computation(world, ministry_user):
    with transaction.atomic():
        round_ = store(world)

        data = dashboards.national_dashboard(user=ministry_user, round_=round_)

        want = expected(world, set(PROVINCE_OF))
        assert_figures(data, want)
        assert data["status_counts"]["units"] == len(PROVINCE_OF)
        named_by_province = Counter(PROVINCE_OF[city] for city in want["batch"])
        in_round = Counter(PROVINCE_OF[city] for city, year in want["batch"].items() if year == world.year)
        for row in data["provinces"]:
            assert row["named"] == named_by_province[row["code"]], row["code"]
            assert row["named_in_round"] == in_round[row["code"]], row["code"]
            assert row["units"] == sum(1 for p in PROVINCE_OF.values() if p == row["code"])
        by_region = defaultdict(int)
        for city in want["batch"]:
            by_region[REGION_OF[PROVINCE_OF[city]]] += 1
        assert {r["code"]: r["named"] for r in data["regions"]} == {
            region: by_region[region] for region in ("east", "central", "west")
        }
        transaction.set_rollback(True)


@EXAMPLES
@given(world=worlds(), province=st.sampled_from(["370000", "320000"]))
def test_a_provincial_dashboard_equals_an_independent_computation(world, province, bureau_user, ministry_user):
    bureau_user.province_id = province  # the bureau of the province drawn
    with transaction.atomic():
        round_ = store(world)
        province_obj = dashboards.dashboard_province(user=bureau_user, code=province)

        data = dashboards.province_dashboard(user=bureau_user, province=province_obj, round_=round_)

        cities = {code for code, p in PROVINCE_OF.items() if p == province}
        assert_figures(data, expected(world, cities))
        nation = expected(world, set(PROVINCE_OF))["indicators"]
        for row in data["indicators"]:
            assert row["national_reported_mean"] == nation[row["code"]]["reported_mean"]
            assert row["national_named_mean"] == nation[row["code"]]["named_mean"]
        forms = {f.city: f for f in world.forms if f.year == world.year}
        assert [c["code"] for c in data["cities"]] == sorted(cities)
        for row in data["cities"]:
            form = forms.get(row["code"])
            assert row["status"] == (form.status if form else "not_started")
            shown = form is not None and form.status in REPORTED
            assert row["values"] == {spec.code: form.values[spec.code] if shown else None for spec in INDICATORS}
        transaction.set_rollback(True)


# ------------------------------------------------------------------------------------------------
# The bins themselves
# ------------------------------------------------------------------------------------------------
@given(
    low=st.decimals(min_value=0, max_value=10**7, places=1),
    span=st.decimals(min_value=0, max_value=10**7, places=1),
)
def test_histogram_bins_are_nice_cover_the_range_and_stay_few(low, span):
    high = low + span
    edges = dashboards.histogram_edges(low, high)
    steps = {b - a for a, b in itertools.pairwise(edges)}
    assert edges[0] <= low and high <= edges[-1]
    assert len(steps) == 1
    assert 1 <= len(edges) - 1 <= dashboards.TARGET_BINS + 1
    mantissa = steps.pop().normalize().as_tuple().digits
    assert mantissa in {(1,), (2,), (2, 5), (5,)}


def test_a_share_of_exactly_100_falls_in_the_last_bin():
    assert dashboards.histogram_edges(Decimal("98.9"), Decimal(100))[-1] == Decimal(100)

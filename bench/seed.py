"""Data sets for benchmarks, written fast: rows go in with `bulk_create`, not through the services
(a national data set through the services would take an hour). The values are still the real ones:
raw inputs from the demo generator (`reviews.demo.plausible_inputs`), indicators computed by
`indicators.rules` exactly as the form computes them, a designation for every approved form as
`submission_approve` records it.

Two sizes, both reusable by any benchmark:
- `seed_national()`: every real unit (339), the rounds from 2021 to the current one, forms in every
  state, 5–20 cases each, one account per role and per unit;
- `seed_large()`: 3 000 units (the real ones plus synthetic county-level units spread over the
  provinces, codes PPCCnn under a real prefecture PPCC00) over 10 rounds.

Run against an empty, migrated database (the benchmark creates a throwaway one).
"""

from __future__ import annotations

import datetime
import random
from dataclasses import dataclass, field

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from gigacity.models import City, CityKind, Province, Role, User
from indicators.catalogue import INDICATORS
from indicators.models import Designation, Round, RoundStatus
from indicators.reference import ensure_thresholds, reference_load
from indicators.rules import compute_indicators, key_site_sums
from reviews.demo import CASE_TEMPLATES, PRACTICES, demo_round_year, plausible_inputs
from submissions.models import Case, ScoringState, Status, Submission

PASSWORD = "Bench-pass-2026"
BATCH = 2000

# How a round's forms end up. A past round is finished: what was not decided stayed where it was.
# The open round is the busy days before the deadline: every state at once.
PAST_STATES = (
    (Status.APPROVED, 34),
    (Status.REJECTED, 8),
    (Status.RECOMMENDED, 4),
    (Status.SENT_BACK, 2),
    (Status.SUBMITTED, 6),
    (Status.RETURNED, 8),
    (Status.DRAFT, 38),
)
OPEN_STATES = (
    (Status.DRAFT, 28),
    (Status.SUBMITTED, 20),
    (Status.RETURNED, 10),
    (Status.RECOMMENDED, 16),
    (Status.SENT_BACK, 3),
    (Status.APPROVED, 17),
    (Status.REJECTED, 6),
)
# Share of units taking part in a round (the others have no form: "not started"): a realistic
# national picture, and every unit in every round for the large set (the worst case for history).
PARTICIPATION = {"past": 0.45, "open": 0.8}
EVERY_UNIT = {"past": 1.0, "open": 1.0}
REGION_STRENGTH = {"east": 1.1, "central": 0.95, "west": 0.85}
REPORTED = {Status.SUBMITTED, Status.RECOMMENDED, Status.SENT_BACK, Status.APPROVED, Status.REJECTED}


@dataclass
class SeedReport:
    units: int = 0
    rounds: list[int] = field(default_factory=list)
    submissions: int = 0
    cases: int = 0
    designations: int = 0
    users: int = 0

    def as_dict(self) -> dict:
        return {
            "units": self.units,
            "rounds": self.rounds,
            "submissions": self.submissions,
            "cases": self.cases,
            "designations": self.designations,
            "users": self.users,
        }


def seed_national(*, seed: int = 2021, cases: tuple[int, int] = (5, 20), end_year: int | None = None) -> SeedReport:
    """Every real unit, the rounds 2021 → the current one."""
    end = end_year or demo_round_year(timezone.localdate())
    return seed_dataset(units=0, years=list(range(2021, end + 1)), seed=seed, cases=cases)


def seed_large(
    *,
    units: int = 3000,
    rounds: int = 10,
    seed: int = 2021,
    cases: tuple[int, int] = (0, 0),
    end_year: int | None = None,
) -> SeedReport:
    """`units` units (synthetic ones added to the real ones) over `rounds` rounds ending with the
    current one. Cases are off by default: they do not change what the dashboard reads, and 30 000
    forms × 12 cases would make seeding, not the benchmark, the slow part."""
    end = end_year or demo_round_year(timezone.localdate())
    return seed_dataset(
        units=units, years=list(range(end - rounds + 1, end + 1)), seed=seed, cases=cases, participation=EVERY_UNIT
    )


def seed_dataset(
    *,
    units: int,
    years: list[int],
    seed: int,
    cases: tuple[int, int],
    participation: dict[str, float] = PARTICIPATION,
) -> SeedReport:
    """`units` = 0: the real units only; otherwise synthetic units are added up to that number."""
    rng = random.Random(seed)
    reference_load()
    report = SeedReport()
    with transaction.atomic():
        if units:
            add_synthetic_units(total=units, rng=rng)
        report.units = City.objects.count()
        report.users = seed_accounts()
        rounds = seed_rounds(years)
        report.rounds = [r.year for r in rounds]
        cities = list(City.objects.select_related("province").order_by("code"))
        strength = {c.code: REGION_STRENGTH[c.province.region] * rng.uniform(0.8, 1.15) for c in cities}
        named: set[str] = set(Designation.objects.values_list("city_id", flat=True))
        for round_ in rounds:
            made = seed_round(
                round_=round_,
                cities=cities,
                strength=strength,
                named=named,
                rng=rng,
                cases=cases,
                participation=participation,
            )
            report.submissions += made[0]
            report.cases += made[1]
            report.designations += made[2]
            # Cities grow from one year to the next.
            for code in strength:
                strength[code] *= rng.uniform(1.02, 1.12)
    return report


def add_synthetic_units(*, total: int, rng: random.Random) -> int:
    """County-level units under the real prefectures, until there are `total` units."""
    existing = set(City.objects.values_list("code", flat=True))
    parents = list(City.objects.filter(kind=CityKind.PREFECTURE).order_by("code"))
    new: list[City] = []
    index = 1
    while len(existing) + len(new) < total:
        for parent in parents:
            if len(existing) + len(new) >= total:
                break
            code = f"{parent.code[:4]}{index:02d}"
            if code in existing or index > 99:
                continue
            new.append(
                City(
                    code=code,
                    province_id=parent.province_id,
                    name=f"{parent.name.removesuffix('市')}第{index:02d}县",
                    kind=CityKind.SPECIAL,
                )
            )
        index += 1
        if index > 99:
            break
    City.objects.bulk_create(new, batch_size=BATCH)
    return len(new)


def seed_accounts() -> int:
    """The ministry, one bureau per province and one official per unit, all with `PASSWORD` (hashed
    once: hashing is deliberately slow)."""
    hashed = make_password(PASSWORD)
    users = [User(username="bench-miit", role=Role.MINISTRY, full_name="工信部", password=hashed)]
    users += [
        User(username=f"bench-{p.code}", role=Role.BUREAU, province=p, full_name=f"{p.name}通信管理局", password=hashed)
        for p in Province.objects.all()
    ]
    users += [
        User(username=f"bench-{c.code}", role=Role.CITY, city=c, full_name=f"{c.name}填报员", password=hashed)
        for c in City.objects.all()
    ]
    User.objects.bulk_create(users, batch_size=BATCH, ignore_conflicts=True)
    return len(users)


def seed_rounds(years: list[int]) -> list[Round]:
    rounds = []
    for year in years:
        last = year == years[-1]
        round_, _created = Round.objects.get_or_create(year=year)
        round_.status = RoundStatus.OPEN if last else RoundStatus.PUBLISHED
        round_.opens_on = datetime.date(year, 7, 1)
        round_.deadline = datetime.date(year, 12, 15)
        round_.data_as_of = datetime.date(year, 10, 31)
        round_.published_on = None if last else datetime.date(year, 12, 24)
        round_.save()
        ensure_thresholds(round_)
        rounds.append(round_)
    return rounds


def _pick(rng: random.Random, weights: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([s for s, _w in weights], weights=[w for _s, w in weights])[0]


def seed_round(
    *,
    round_: Round,
    cities: list[City],
    strength: dict[str, float],
    named: set[str],
    rng: random.Random,
    cases: tuple[int, int],
    participation: dict[str, float] = PARTICIPATION,
) -> tuple[int, int, int]:
    """The forms of one round; returns (forms, cases, designations) written."""
    is_open = round_.status == RoundStatus.OPEN
    states = OPEN_STATES if is_open else PAST_STATES
    thresholds = round_.threshold_map()
    now = timezone.now()
    submitted_at = timezone.make_aware(datetime.datetime(round_.year, 11, 20, 10, 0))
    forms: list[Submission] = []
    for city in cities:
        if rng.random() > participation["open" if is_open else "past"]:
            continue
        status = _pick(rng, states)
        if city.code in named and status == Status.APPROVED:
            status = Status.RECOMMENDED  # named once: later rounds report, they are not named again
        inputs = plausible_inputs(rng, strength=strength[city.code])
        covered, total = key_site_sums(inputs)
        inputs["key_sites_5g_covered"], inputs["key_sites_total"] = covered, total
        values = compute_indicators(inputs)
        reported = status in REPORTED
        missed = sum(
            1
            for spec in INDICATORS
            if values[spec.code] is not None and spec.code in thresholds and values[spec.code] < thresholds[spec.code]
        )
        form = Submission(
            city=city,
            round=round_,
            status=status,
            version=rng.randint(2, 9),
            data_as_of=round_.data_as_of,
            contact_name="联系人",
            contact_phone="010-12345678",
            contact_email=f"gigabit{city.code}@example.gov.cn",
            **inputs,
            **{f"value_{code}": value for code, value in values.items()},
            **PRACTICES,
            created_at=now,
            updated_at=now,
            submitted_at=submitted_at if reported else None,
            scoring_state=ScoringState.SCORED if reported else ScoringState.IDLE,
            meets_all=(missed == 0) if reported else None,
            missed_count=missed if reported else None,
        )
        forms.append(form)
    Submission.objects.bulk_create(forms, batch_size=BATCH)

    case_rows: list[Case] = []
    low, high = cases
    for form in forms:
        count = rng.randint(low, high) if high else 0
        form.cases_count = count
        for position in range(count):
            domain, title, description, pain, replicability, partners = CASE_TEMPLATES[
                (position + rng.randint(0, 5)) % len(CASE_TEMPLATES)
            ]
            case_rows.append(
                Case(
                    submission=form,
                    position=position,
                    title=f"{form.city.name}{title}",
                    domain=domain,
                    description=description,
                    pain_points=pain,
                    replicability=replicability,
                    partners=partners,
                    is_excellent=form.status in (Status.RECOMMENDED, Status.SENT_BACK, Status.APPROVED)
                    and position < 2,
                )
            )
    Case.objects.bulk_create(case_rows, batch_size=BATCH)
    if case_rows:
        Submission.objects.bulk_update(forms, ["cases_count"], batch_size=BATCH)

    designations = [
        Designation(
            city=form.city,
            round=round_,
            source=Designation.Source.APPROVED,
            designated_on=datetime.date(round_.year, 12, 24),
        )
        for form in forms
        if form.status == Status.APPROVED
    ]
    Designation.objects.bulk_create(designations, batch_size=BATCH, ignore_conflicts=True)
    named.update(d.city_id for d in designations)
    return len(forms), len(case_rows), len(designations)

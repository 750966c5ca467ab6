"""Hypothesis over random multi-round histories: cities evaluated and named in various rounds, annual
reports confirmed or not, decisions taken late (after next year's forms were opened), and decisions
that do not fit the form (approving a Gigabit City's annual report, confirming an evaluation). After
every history, compared with a plain-Python model of it:

- each city has at most one designation, and a Gigabit City's batch is the year of that designation;
- every form is of the kind the model says (an annual report once the city was named before its
  round), and exactly the decisions that fit were carried out;
- the dashboard's counts of every round equal the model's count;
- the means of the summary table, overall and per batch, equal a mean computed here.

Each history runs inside a transaction that is rolled back, with cities and rounds of its own (two
cities of 2021 from the seeds, 青岛 and 济南, and synthetic units that were never named)."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gigacity.errors import Conflict
from gigacity.models import City, CityKind
from indicators.models import Designation, Round, RoundStatus
from indicators.reference import ensure_thresholds
from reviews import dashboards, lifecycle
from reviews.actions import REVIEW_ACTIONS
from submissions.models import Action, FormKind, Status, Submission
from submissions.services import submission_get_or_create

pytestmark = pytest.mark.django_db

FIRST_YEAR = 2031
SEEDED = {"370200": 2021, "370100": 2021}  # 青岛 and 济南, Gigabit Cities of 2021 (seeds)
NEW = [f"3799{i:02d}" for i in range(6)]  # synthetic 山东 units, never named
CITIES = [*SEEDED, *NEW]
SEEDED_TOTAL = 29  # the first batch, loaded from the seeds
DECISIONS = (Action.APPROVE, Action.REJECT, Action.CONFIRM, Action.NOT_CONFIRM)


@dataclass
class Step:
    city: str
    action: Action | None  # None: the form stays recommended
    late: bool  # decided after next year's forms were opened
    bs5g: Decimal


@dataclass
class History:
    rounds: list[list[Step]]


@st.composite
def histories(draw) -> History:
    rounds = []
    for _year in range(draw(st.integers(min_value=1, max_value=4))):
        cities = draw(st.lists(st.sampled_from(CITIES), unique=True, max_size=len(CITIES)))
        rounds.append(
            [
                Step(
                    city,
                    draw(st.none() | st.sampled_from(DECISIONS)),
                    draw(st.booleans()),
                    draw(st.decimals(min_value=0, max_value=60, places=1)),
                )
                for city in cities
            ]
        )
    return History(rounds)


# ------------------------------------------------------------------------------------------------
# The model: who is named when, each form's kind and state, in plain Python
# ------------------------------------------------------------------------------------------------
@dataclass
class ModelForm:
    city: str
    year: int
    kind: str
    bs5g: Decimal
    status: str = Status.RECOMMENDED


@dataclass
class Model:
    batch: dict[str, int] = field(default_factory=lambda: dict(SEEDED))
    forms: dict[tuple[str, int], ModelForm] = field(default_factory=dict)

    def kind(self, city: str, year: int) -> str:
        named = self.batch.get(city)
        return FormKind.ANNUAL_REPORT if named is not None and named < year else FormKind.EVALUATION

    def open(self, city: str, year: int, bs5g: Decimal) -> None:
        self.forms[(city, year)] = ModelForm(city, year, self.kind(city, year), bs5g)

    def decide(self, city: str, year: int, action: Action) -> bool:
        """Whether the decision may be taken, and its effects."""
        form = self.forms[(city, year)]
        fits = {
            Action.APPROVE: FormKind.EVALUATION,
            Action.REJECT: FormKind.EVALUATION,
            Action.CONFIRM: FormKind.ANNUAL_REPORT,
            Action.NOT_CONFIRM: FormKind.ANNUAL_REPORT,
        }[action]
        if form.kind != fits:
            return False
        if action == Action.APPROVE:
            if city in self.batch and self.batch[city] != year:
                return False  # named in another round: a city is named once
            self.batch[city] = year
            for other in self.forms.values():  # undecided forms follow the designation
                if other.city == city and other.status == Status.RECOMMENDED:
                    other.kind = self.kind(city, other.year)
        form.status = Status.APPROVED if action in (Action.APPROVE, Action.CONFIRM) else Status.REJECTED
        return True


def body_for(action: Action) -> dict:
    if action == Action.NOT_CONFIRM:
        return {"reason": "未达标", "shortfall": ["bs5g_per_10k"], "improvement_due": "2099-12-31"}
    return {"reason": "理由"} if action == Action.REJECT else {}


def mean(values: list[Decimal]) -> Decimal | None:
    if not values:
        return None
    return (sum(values) / len(values)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


@pytest.fixture
def people(bureau_user, ministry_user):
    return bureau_user, ministry_user


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(history=histories())
def test_a_city_is_named_once_and_every_count_and_mean_agrees_with_the_model(people, history):
    bureau, ministry = people
    with transaction.atomic():
        check(history, bureau, ministry)
        transaction.set_rollback(True)


def check(history: History, bureau, ministry) -> None:
    City.objects.bulk_create(
        City(code=code, province_id="370000", name=f"测试{code}区", kind=CityKind.SPECIAL) for code in NEW
    )
    years = [FIRST_YEAR + i for i in range(len(history.rounds))]
    rounds = {}
    for year in years:
        rounds[year] = Round.objects.create(year=year, status=RoundStatus.OPEN)
        ensure_thresholds(rounds[year])
    model = Model()
    pending: list[tuple[Step, int]] = []

    def decide(step: Step, year: int) -> None:
        form = Submission.objects.get(city_id=step.city, round__year=year)
        allowed = model.decide(step.city, year, step.action)
        try:
            REVIEW_ACTIONS[step.action].perform(submission_id=form.pk, actor=ministry, body=body_for(step.action))
        except Conflict:
            assert not allowed, f"{step.action} of {step.city} in {year} was refused"
        else:
            assert allowed, f"{step.action} of {step.city} in {year} was carried out"

    for year, steps in zip(years, history.rounds, strict=True):
        for step in steps:
            form = submission_get_or_create(city=City.objects.get(pk=step.city), round_=rounds[year], actor=bureau)
            Submission.objects.filter(pk=form.pk).update(status=Status.RECOMMENDED, value_bs5g_per_10k=step.bs5g)
            model.open(step.city, year, step.bs5g)
        for step, at in [(s, y) for s, y in pending if y < year]:  # last year's late decisions
            decide(step, at)
        pending = [(s, y) for s, y in pending if y >= year]
        for step in steps:
            if step.action is not None and step.late:
                pending.append((step, year))
            elif step.action is not None:
                decide(step, year)
    for step, at in pending:
        decide(step, at)

    # Named once; the batch is the designation's year.
    designations = list(Designation.objects.filter(city_id__in=CITIES).values_list("city_id", "round__year"))
    assert len(designations) == len({city for city, _year in designations})
    assert dict(designations) == model.batch
    # Every form of the kind and state the model says.
    stored = {
        (city, year): (kind, status)
        for city, year, kind, status in Submission.objects.filter(round__year__in=years).values_list(
            "city_id", "round__year", "kind", "status"
        )
    }
    assert stored == {key: (form.kind, form.status) for key, form in model.forms.items()}

    for year in years:
        data = dashboards.national_dashboard(user=ministry, round_=rounds[year])
        new = sum(1 for batch in model.batch.values() if batch == year)
        total = SEEDED_TOTAL + sum(1 for city, batch in model.batch.items() if city in NEW and batch <= year)
        reports = [f for f in model.forms.values() if f.year == year and f.kind == FormKind.ANNUAL_REPORT]
        assert data["gigabit"] == {
            "named_in_round": new,
            "named_total": total,
            "reports_expected": total - new,
            "reports_received": len(reports),
            "confirmed": sum(1 for f in reports if f.status == Status.APPROVED),
            "not_confirmed": sum(1 for f in reports if f.status == Status.REJECTED),
        }
        assert data["named_total"] == total and data["named_in_round"] == new

        # MIIT's means over the Gigabit Cities named up to the round, overall and per batch.
        table = lifecycle.summary_table(user=ministry, round_=rounds[year])
        assert len(table["rows"]) == total
        assert {row["city"]: row["batch"] for row in table["rows"] if row["city"] in CITIES} == {
            city: batch for city, batch in model.batch.items() if batch <= year
        }
        figures = {
            city: model.forms[(city, year)].bs5g
            for city, batch in model.batch.items()
            if batch <= year and (city, year) in model.forms
        }
        assert table["means"]["bs5g_per_10k"] == mean(list(figures.values()))
        per_batch = {b["year"]: b["means"]["bs5g_per_10k"] for b in table["batches"]}
        for batch in {model.batch[city] for city in figures}:
            assert per_batch[batch] == mean([v for city, v in figures.items() if model.batch[city] == batch])

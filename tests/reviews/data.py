"""Many forms at once for the dashboard and export tests. Going through the services (as
`tests.factories.make_submission` does) costs a second a form; these tests need hundreds, so rows go in
with bulk_create, with values computed by the same rules the form uses."""

from __future__ import annotations

import datetime
import random
from collections.abc import Iterable, Sequence

from django.utils import timezone

from gigacity.models import City, CityKind
from indicators.models import Designation, Round
from indicators.rules import compute_indicators, key_site_sums
from reviews.demo import CASE_TEMPLATES, plausible_inputs
from submissions.kinds import kind_of
from submissions.models import Case, FormKind, Status, Submission

EVERY_STATE = tuple(Status.values)


def add_units(*, count: int, province: str | None = None) -> list[City]:
    """Synthetic county-level units under real prefectures (codes PPCCnn), in one province or across
    the country."""
    parents = City.objects.filter(kind=CityKind.PREFECTURE).order_by("code")
    if province:
        parents = parents.filter(province_id=province)
    parents = list(parents)
    existing = set(City.objects.values_list("code", flat=True))
    units: list[City] = []
    index = 1
    while len(units) < count and index < 100:
        for parent in parents:
            code = f"{parent.code[:4]}{index:02d}"
            if code not in existing and len(units) < count:
                units.append(
                    City(
                        code=code,
                        province_id=parent.province_id,
                        name=f"{parent.name}{index:02d}区",
                        kind=CityKind.SPECIAL,
                    )
                )
        index += 1
    return City.objects.bulk_create(units)


def add_forms(
    *,
    round_: Round,
    cities: Iterable[City],
    rng: random.Random,
    states: Sequence[str] = EVERY_STATE,
    cases: int = 0,
    excellent: int = 0,
    case_text: dict[str, str] | None = None,
) -> list[Submission]:
    """One form per city in `round_`, statuses cycling through `states`; a city named in an earlier
    round files an annual report, any other an evaluation, and an approved evaluation names its city
    (a designation, as `submission_approve` records it)."""
    now = timezone.now()
    cities = list(cities)
    batches = dict(Designation.objects.filter(city__in=cities).values_list("city_id", "round__year"))
    forms = []
    for index, city in enumerate(cities):
        inputs = plausible_inputs(rng)
        covered, total = key_site_sums(inputs)
        inputs["key_sites_5g_covered"], inputs["key_sites_total"] = covered, total
        values = compute_indicators(inputs)
        forms.append(
            Submission(
                city=city,
                round=round_,
                status=states[index % len(states)],
                kind=kind_of(batches.get(city.pk), round_.year),
                created_at=now,
                updated_at=now,
                cases_count=cases,
                **inputs,
                **{f"value_{code}": value for code, value in values.items()},
            )
        )
    forms = Submission.objects.bulk_create(forms)
    Case.objects.bulk_create(
        Case(
            submission=form,
            position=position,
            domain=CASE_TEMPLATES[position % len(CASE_TEMPLATES)][0],
            title=f"{form.city.name}{CASE_TEMPLATES[position % len(CASE_TEMPLATES)][1]}",
            is_excellent=position < excellent,
            **(case_text or {}),
        )
        for form in forms
        for position in range(cases)
    )
    Designation.objects.bulk_create(
        [
            Designation(
                city=form.city, round=round_, source=Designation.Source.APPROVED, designated_on=datetime.date.today()
            )
            for form in forms
            if form.status == Status.APPROVED and form.kind == FormKind.EVALUATION and form.city_id not in batches
        ],
    )
    return forms

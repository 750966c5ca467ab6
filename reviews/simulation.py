"""What-if thresholds: what other thresholds would do to a round, before anyone saves them.

Read-only. Every reported form of the round is judged twice, against the base thresholds (the
current ones, or a saved version) and against the candidate ones, by the rules the worker scores
with (`indicators.rules.compute_indicators` and `judge`, which `score()` itself calls): no second
copy of a rule lives here. Flags do not decide a result, so they are not simulated.

One query for the forms (with their case counts) and one for the Gigabit Cities on annual report;
the rest is arithmetic on plain data, so a national round answers in a fraction of a second.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.db.models import Count

from gigacity.i18n import pick
from gigacity.models import User
from indicators.catalogue import CATALOGUE, CATALOGUE_BY_CODE
from indicators.models import Designation, Round, thresholds_at_version
from indicators.rules import compute_indicators, indicator_value_problem, judge
from submissions.models import REPORTED_STATES, Submission


@dataclass(frozen=True)
class IndicatorEffect:
    code: str
    name: str
    unit: str
    decimals: int
    base: Decimal
    candidate: Decimal
    passing_before: int
    passing_after: int

    @property
    def changed(self) -> bool:
        return self.base != self.candidate

    @property
    def delta(self) -> int:
        return self.passing_after - self.passing_before


@dataclass(frozen=True)
class CityChange:
    """A form whose overall result changes: meets all → misses, or misses → meets all."""

    submission_id: int
    city_code: str
    city: str
    province_code: str
    province: str
    annual_report: bool  # a Gigabit City of an earlier round, filing its annual report
    meets_before: bool
    meets_after: bool
    missed_before: list[str]  # indicator codes
    missed_after: list[str]
    values: dict[str, Decimal | None]  # the indicators the change turns on, code → value

    @property
    def shown(self) -> list[dict]:
        """The indicators the change turns on, for the page: name, value, unit, and whether it passes after."""
        return [
            {
                "name": pick(CATALOGUE_BY_CODE[code].name_zh, CATALOGUE_BY_CODE[code].name_en),
                "unit": pick(CATALOGUE_BY_CODE[code].unit_zh, CATALOGUE_BY_CODE[code].unit_en),
                "decimals": CATALOGUE_BY_CODE[code].decimals,
                "value": value,
                "passes_after": code not in self.missed_after,
            }
            for code, value in self.values.items()
        ]


@dataclass
class Simulation:
    round: Round
    base_label: str
    candidate_label: str
    base: dict[str, Decimal]
    candidate: dict[str, Decimal]
    reported: int = 0
    annual_reports: int = 0
    meets_before: int = 0
    meets_after: int = 0
    annual_meets_before: int = 0
    annual_meets_after: int = 0
    indicators: list[IndicatorEffect] = field(default_factory=list)
    changes: list[CityChange] = field(default_factory=list)

    @property
    def by_province(self) -> list[tuple[str, list[CityChange]]]:
        groups: dict[str, list[CityChange]] = {}
        for change in self.changes:
            groups.setdefault(change.province, []).append(change)
        return list(groups.items())

    @property
    def annual_changes(self) -> list[CityChange]:
        return [c for c in self.changes if c.annual_report]


def candidate_problems(raw: Mapping[str, object]) -> tuple[dict[str, Decimal], dict[str, list[str]]]:
    """Parse candidate thresholds (code → typed value; blanks are left out): the values, and a
    message per refused field. The limits are the thresholds page's own
    (`indicators.rules.indicator_value_problem`), so a candidate the page could not save is refused."""
    values: dict[str, Decimal] = {}
    errors: dict[str, list[str]] = {}
    for code, typed in raw.items():
        spec = CATALOGUE_BY_CODE.get(code)
        if spec is None or typed is None or str(typed).strip() == "":
            continue
        try:
            value = Decimal(str(typed).strip().replace(",", ""))
        except (InvalidOperation, ValueError):
            errors[code] = [pick("须为数字", "Must be a number")]
            continue
        if problem := indicator_value_problem(spec, value):
            errors[code] = [pick(*problem)]
        elif value != value.quantize(Decimal("0.01")):
            errors[code] = [pick("最多两位小数", "At most two decimal places")]
        else:
            values[code] = value
    return values, errors


def saved_thresholds(round_: Round, version: int | None) -> dict[str, Decimal] | None:
    """The round's thresholds now (no version) or at a saved version; None when there is no such version."""
    if version is None:
        return round_.threshold_map()
    return thresholds_at_version(round_.pk, version)


def simulate(
    *,
    user: User,
    round_: Round,
    candidate: Mapping[str, Decimal],
    base: Mapping[str, Decimal],
    base_label: str = "",
    candidate_label: str = "",
) -> Simulation:
    """Judge every reported form of the round the caller can see against `base` and against
    `candidate` (codes missing from `candidate` keep their base value). Writes nothing."""
    base = {spec.code: Decimal(base[spec.code]) for spec in CATALOGUE if spec.code in base}
    candidate = {**base, **{code: Decimal(v) for code, v in candidate.items()}}
    result = Simulation(round_, base_label, candidate_label, base, candidate)
    if len(base) < len(CATALOGUE):
        return result  # a round without a full threshold set cannot be judged (the worker fails it too)

    named_before = set(
        Designation.objects.filter(round__year__lt=round_.year).values_list("city_id", flat=True).distinct()
    )
    forms = (
        Submission.objects.visible_to(user)
        .filter(round=round_, status__in=REPORTED_STATES)
        .select_related("city__province")
        .annotate(cases_n=Count("cases"))
        .order_by("city__province_id", "city_id")
    )
    passing_before = dict.fromkeys(base, 0)
    passing_after = dict.fromkeys(base, 0)
    for form in forms:
        values = compute_indicators(form.checked_inputs)
        before = judge(values, form.cases_n, base)
        after = judge(values, form.cases_n, candidate)
        annual = form.city_id in named_before
        result.reported += 1
        result.annual_reports += annual
        for b, a in zip(before, after, strict=True):
            passing_before[b.code] += b.passed
            passing_after[a.code] += a.passed
        missed_before = [r.code for r in before if not r.passed]
        missed_after = [r.code for r in after if not r.passed]
        result.meets_before += not missed_before
        result.meets_after += not missed_after
        if annual:
            result.annual_meets_before += not missed_before
            result.annual_meets_after += not missed_after
        if bool(missed_before) != bool(missed_after):
            turning = sorted(set(missed_before) ^ set(missed_after), key=list(CATALOGUE_BY_CODE).index)
            all_values = {**values, "applications": Decimal(form.cases_n)}
            result.changes.append(
                CityChange(
                    submission_id=form.pk,
                    city_code=form.city_id,
                    city=form.city.name,
                    province_code=form.city.province_id,
                    province=pick(form.city.province.name, form.city.province.name_en),
                    annual_report=annual,
                    meets_before=not missed_before,
                    meets_after=not missed_after,
                    missed_before=missed_before,
                    missed_after=missed_after,
                    values={code: all_values[code] for code in turning},
                )
            )
    result.indicators = [
        IndicatorEffect(
            code=spec.code,
            name=pick(spec.name_zh, spec.name_en),
            unit=pick(spec.unit_zh, spec.unit_en),
            decimals=spec.decimals,
            base=base[spec.code],
            candidate=candidate[spec.code],
            passing_before=passing_before[spec.code],
            passing_after=passing_after[spec.code],
        )
        for spec in CATALOGUE
    ]
    return result


def as_payload(sim: Simulation) -> dict:
    """The simulation for the API: numbers as strings where they are thresholds or values (exact)."""

    def number(value: Decimal | None) -> str | None:
        return None if value is None else str(value)

    def change(c: CityChange) -> dict:
        return {
            "submission": c.submission_id,
            "city": c.city_code,
            "city_name": c.city,
            "province": c.province_code,
            "province_name": c.province,
            "annual_report": c.annual_report,
            "meets_all_before": c.meets_before,
            "meets_all_after": c.meets_after,
            "missed_before": c.missed_before,
            "missed_after": c.missed_after,
            "values": {code: number(v) for code, v in c.values.items()},
        }

    return {
        "round": sim.round.year,
        "base": {"label": sim.base_label, "thresholds": {k: number(v) for k, v in sim.base.items()}},
        "candidate": {"label": sim.candidate_label, "thresholds": {k: number(v) for k, v in sim.candidate.items()}},
        "reported": sim.reported,
        "meets_all": {"before": sim.meets_before, "after": sim.meets_after},
        "annual_reports": {
            "reported": sim.annual_reports,
            "meets_all_before": sim.annual_meets_before,
            "meets_all_after": sim.annual_meets_after,
        },
        "indicators": [
            {
                "code": e.code,
                "name": e.name,
                "threshold_before": number(e.base),
                "threshold_after": number(e.candidate),
                "passing_before": e.passing_before,
                "passing_after": e.passing_after,
            }
            for e in sim.indicators
        ],
        "changes": [change(c) for c in sim.changes],
    }

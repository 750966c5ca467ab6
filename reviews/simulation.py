"""What-if thresholds: what other thresholds would do to a round, before anyone saves them.

Read-only. Every reported form of the round is judged twice, against the base thresholds (the
current ones, or a saved version) and against the candidate ones, by the rules the worker scores
with (`indicators.rules.compute_indicators` and `judge`, which `score()` itself calls): no second
copy of a rule lives here. Flags do not decide a result, so they are not simulated.

One aggregate (the data's version, `reviews.freshness`), then, when the forms changed, one query for them (with
their case counts and whether each city files an annual report);
the rest is arithmetic on plain data, so a national round answers in a fraction of a second.

Speed at 3 000 units (bench: large ÷ national ≤ 2). Profiling (pyinstrument, 1 850 reported forms)
found the time linear in the forms and spent in three places: building model instances (40 %),
`judge` twice per form (35 %: it also works out every margin, which no count here needs) and
`compute_indicators` (12 %). So:
- the forms are read as plain rows (`values_list`), with the case count as a correlated count instead
  of a GROUP BY over every column;
- each indicator is judged with `indicators.rules.meets`, the one judgement of a value against its
  line that `judge` (and so the worker's `score`) applies — the same rule, without the margins;
- the indicator values, which depend on the forms and not on the thresholds, are kept per caller and
  round in this process and reused while the data is unchanged: every request first reads the
  data's version (`reviews.freshness.data_version`, the one the dashboards' cache keys carry: any
  write moves it), one aggregate query, and recomputes everything when it differs. A request never
  sees stale data.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from itertools import repeat

from django.db.models import Count, Exists, IntegerField, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce

from gigacity.i18n import pick
from gigacity.models import User
from indicators.catalogue import CATALOGUE, CATALOGUE_BY_CODE, INDICATORS, INPUT_NAMES, KEY_SITE_FIELDS
from indicators.models import Designation, Round, thresholds_at_version
from indicators.rules import compute_indicators, indicator_value_problem, meets
from submissions.models import REPORTED_STATES, Case, Submission

from . import freshness


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


@dataclass(frozen=True)
class FormValues:
    """A reported form as the simulation judges it: its indicator values (computed from its inputs by
    the worker's `compute_indicators`) and its number of cases, in CATALOGUE's order."""

    pk: int
    city_code: str
    city: str
    province_code: str
    province_zh: str
    province_en: str
    annual_report: bool  # the city was named in an earlier round: it files its annual report
    values: tuple[Decimal | None, ...]

    @property
    def province(self) -> str:
        return pick(self.province_zh, self.province_en)  # in the reader's language, not the first one's


@dataclass
class RoundForms:
    """The reported forms of a round for one caller, and each indicator's judgement against the lines
    asked for so far (a line judged once serves every later request that asks for it again)."""

    fingerprint: str | None
    forms: list[FormValues]
    judged: dict[tuple[int, Decimal], tuple[bool | None, ...]] = field(default_factory=dict)

    def column(self, index: int, line: Decimal) -> tuple[bool | None, ...]:
        """Every form's indicator `index` judged against `line` by the rule itself (`meets`)."""
        key = (index, line)
        if key not in self.judged:
            if len(self.judged) > 256:
                self.judged.clear()
            self.judged[key] = tuple(map(meets, (form.values[index] for form in self.forms), repeat(line)))
        return self.judged[key]


# (caller, round) → the round's forms as last read. Per process and bounded: a gunicorn worker keeps
# the few rounds its ministry staff look at.
_ROUNDS: dict[tuple[int, int], RoundForms] = {}
_ROUNDS_KEPT = 32


def round_forms(*, user: User, round_: Round) -> RoundForms:
    """The values of every reported form of the round the caller can see (see the module's
    docstring for why they are kept between requests, and how they are never stale)."""
    forms = Submission.objects.visible_to(user).filter(round=round_, status__in=REPORTED_STATES).order_by()
    earlier = Designation.objects.filter(round__year__lt=round_.year)
    # The dashboards' version of the data (one query, read before the forms): any write moves it.
    # None (SQLite) is never equal to a kept one: everything is read again.
    fingerprint = freshness.data_version()
    key = (user.pk, round_.pk)
    kept = _ROUNDS.get(key)
    if kept is not None and fingerprint is not None and kept.fingerprint == fingerprint:
        return kept
    cases = Case.objects.filter(submission=OuterRef("pk")).order_by().values("submission").annotate(n=Count("pk"))
    columns = [*INPUT_NAMES, *KEY_SITE_FIELDS]
    rows = (
        forms.annotate(
            cases_n=Coalesce(Subquery(cases.values("n")[:1], output_field=IntegerField()), Value(0)),
            named_before=Exists(earlier.filter(city=OuterRef("city"))),
        )
        .order_by("city__province_id", "city_id")
        .values_list(
            "pk",
            "city_id",
            "city__name",
            "city__province_id",
            "city__province__name",
            "city__province__name_en",
            "cases_n",
            "named_before",
            *columns,
        )
    )
    out = []
    for pk, city_code, city, province_code, province_zh, province_en, cases_n, named_before, *inputs in rows:
        computed = compute_indicators(dict(zip(columns, inputs, strict=True)))
        out.append(
            FormValues(
                pk=pk,
                city_code=city_code,
                city=city,
                province_code=province_code,
                province_zh=province_zh,
                province_en=province_en,
                annual_report=named_before,
                values=(*(computed[spec.code] for spec in INDICATORS), Decimal(cases_n)),
            )
        )
    if len(_ROUNDS) >= _ROUNDS_KEPT:
        _ROUNDS.pop(next(iter(_ROUNDS)))
    _ROUNDS[key] = RoundForms(fingerprint, out)
    return _ROUNDS[key]


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

    codes = [spec.code for spec in CATALOGUE]  # the indicators, then the cases ("applications")
    kept = round_forms(user=user, round_=round_)
    forms = kept.forms
    # Column by column, each indicator judged by the rule itself; an unchanged line is judged once
    # for both sides (and kept for the next request), and `map`/`all` keep the loops in C: what makes
    # 3 000 forms cost little more than 300 (bench).
    before = [kept.column(index, base[code]) for index, code in enumerate(codes)]
    after = [kept.column(index, candidate[code]) for index, code in enumerate(codes)]
    passing_before = {code: column.count(True) for code, column in zip(codes, before, strict=True)}
    passing_after = {code: column.count(True) for code, column in zip(codes, after, strict=True)}
    all_before = list(map(all, zip(*before, strict=True))) if forms else []
    all_after = list(map(all, zip(*after, strict=True))) if forms else []
    result.reported = len(forms)
    result.meets_before, result.meets_after = all_before.count(True), all_after.count(True)
    for index, form in enumerate(forms):
        meets_before, meets_after = all_before[index], all_after[index]
        if form.annual_report:
            result.annual_reports += 1
            result.annual_meets_before += meets_before
            result.annual_meets_after += meets_after
        if meets_before != meets_after:
            missed_before = [code for code, column in zip(codes, before, strict=True) if not column[index]]
            missed_after = [code for code, column in zip(codes, after, strict=True) if not column[index]]
            turning = sorted(set(missed_before) ^ set(missed_after), key=codes.index)
            all_values = dict(zip(codes, form.values, strict=True))
            result.changes.append(
                CityChange(
                    submission_id=form.pk,
                    city_code=form.city_code,
                    city=form.city,
                    province_code=form.province_code,
                    province=form.province,
                    annual_report=form.annual_report,
                    meets_before=meets_before,
                    meets_after=meets_after,
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

"""The rules of the evaluation as pure functions of plain data: no ORM, no settings, no clock.

Everything that decides a number a reviewer sees lives here: how an indicator is computed from the
raw inputs, which inputs contradict each other, how a submission is scored against a threshold set
and which flags it raises. The form, the Excel import, the API and the worker all call these
functions, so a value is computed the same way wherever it is shown.
"""

from __future__ import annotations

import datetime
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from enum import IntEnum

from .catalogue import (
    APPLICATIONS,
    CASE_DOMAINS,
    INDICATORS,
    INPUTS,
    INPUTS_BY_NAME,
    KEY_SITE_CATEGORIES,
    MAX_CASES,
    IndicatorSpec,
    Kind,
    key_site_field,
)

Inputs = Mapping[str, int | None]
HUNDRED = Decimal(100)
TEN_THOUSAND = Decimal(10_000)


# ------------------------------------------------------------------------------------------------
# Computing indicators
# ------------------------------------------------------------------------------------------------
def quantize(value: Decimal, decimals: int) -> Decimal:
    """Round half up to the published precision (MIIT publishes one decimal)."""
    return value.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)


def compute_indicator(spec: IndicatorSpec, inputs: Inputs) -> Decimal | None:
    """The value of one indicator, or None when an input is missing or a denominator is zero.

    Values are rounded to the published precision, and thresholds are compared with the rounded
    value: what a reviewer reads is what is judged.
    """
    numerator = inputs.get(spec.numerator) if spec.numerator else None
    if numerator is None:
        return None
    if spec.kind == Kind.COUNT:
        return Decimal(numerator)
    denominator = inputs.get(spec.denominator) if spec.denominator else None
    if not denominator:
        return None
    if spec.kind == Kind.SHARE:
        return quantize(Decimal(numerator) * HUNDRED / Decimal(denominator), spec.decimals)
    if spec.kind == Kind.PER_10K:
        return quantize(Decimal(numerator) * TEN_THOUSAND / Decimal(denominator), spec.decimals)
    raise ValueError(f"indicator {spec.code} of kind {spec.kind} is not computed from inputs")


def compute_indicators(inputs: Inputs) -> dict[str, Decimal | None]:
    return {spec.code: compute_indicator(spec, inputs) for spec in INDICATORS}


def key_site_sums(counts: Mapping[str, int | None]) -> tuple[int | None, int | None]:
    """(key_sites_5g_covered, key_sites_total) as the sums of the per-category counts, or None
    when no category has been filled in (a value of None in one category counts as 0)."""
    totals = [counts.get(key_site_field(c.key, "total")) for c in KEY_SITE_CATEGORIES]
    covered = [counts.get(key_site_field(c.key, "covered")) for c in KEY_SITE_CATEGORIES]
    if all(v is None for v in totals + covered):
        return None, None
    return sum(v or 0 for v in covered), sum(v or 0 for v in totals)


# ------------------------------------------------------------------------------------------------
# Validation: what must be true before a submission can be submitted
# ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Problem:
    """A problem with one field, in both languages; `field` is the public input name."""

    field: str
    code: str
    message_zh: str
    message_en: str


def input_problems(inputs: Inputs, *, require_all: bool) -> list[Problem]:
    """Type and range problems of the raw inputs. A draft may be incomplete (`require_all=False`);
    a submission must be complete, and no denominator may be zero."""
    problems: list[Problem] = []
    for spec in INPUTS:
        value = inputs.get(spec.name)
        if value is None:
            if require_all:
                problems.append(Problem(spec.name, "required", "必填，请填写", "Required"))
            continue
        if isinstance(value, bool) or not isinstance(value, int):
            problems.append(Problem(spec.name, "not_integer", "须为非负整数", "Must be a whole number, 0 or more"))
        elif value < 0:
            problems.append(Problem(spec.name, "negative", "须为非负整数", "Must be a whole number, 0 or more"))
        elif value > spec.maximum:
            problems.append(
                Problem(
                    spec.name,
                    "too_large",
                    f"数值过大（上限 {spec.maximum:,}{spec.unit_zh}），请检查单位是否正确",
                    f"Too large (at most {spec.maximum:,} {spec.unit_en}); please check the unit",
                )
            )
    if require_all:
        for spec in INDICATORS:
            if spec.denominator and inputs.get(spec.denominator) == 0:
                problems.append(
                    Problem(
                        spec.denominator,
                        "zero_denominator",
                        f"不能为0：它是“{spec.name_zh}”的分母",
                        f"Cannot be 0: it is the denominator of “{spec.name_en}”",
                    )
                )
    return problems


@dataclass(frozen=True)
class Inconsistency:
    """Two inputs that cannot both be right, e.g. more 1000M users than 500M+ users."""

    code: str
    part: str
    whole: str
    indicator: str
    message_zh: str
    message_en: str


# (part, whole, indicator): the part can never exceed the whole. Gigabit coverage is absent on
# purpose: fibre capacity may exceed the number of households (MIIT publishes ">100%").
PART_OF_WHOLE: tuple[tuple[str, str, str], ...] = (
    ("pon_10g_ports", "pon_ports_total", "pon_10g_share"),
    ("key_sites_5g_covered", "key_sites_total", "key_sites_5g_reach"),
    ("users_500m_plus", "broadband_users_total", "users_500m_share"),
    ("users_1000m", "users_500m_plus", "users_1000m"),
    ("users_5g", "mobile_users_total", "users_5g_share"),
)


def inconsistencies(inputs: Inputs) -> list[Inconsistency]:
    found: list[Inconsistency] = []
    for part, whole, indicator in PART_OF_WHOLE:
        p, w = inputs.get(part), inputs.get(whole)
        if p is None or w is None or p <= w:
            continue
        ps, ws = INPUTS_BY_NAME[part], INPUTS_BY_NAME[whole]
        found.append(
            Inconsistency(
                code=f"{part}_above_{whole}",
                part=part,
                whole=whole,
                indicator=indicator,
                message_zh=f"{ps.label_zh}（{p:,}）大于{ws.label_zh}（{w:,}），部分不能大于整体",
                # Lower-case only the first letter: "all PON ports", "users at 500 Mbps".
                message_en=f"{ps.label_en} ({p:,}) exceed {ws.label_en[:1].lower()}{ws.label_en[1:]} ({w:,}): "
                "a part cannot exceed its whole",
            )
        )
    for category in KEY_SITE_CATEGORIES:
        total = inputs.get(key_site_field(category.key, "total"))
        covered = inputs.get(key_site_field(category.key, "covered"))
        if total is not None and covered is not None and covered > total:
            found.append(
                Inconsistency(
                    code=f"key_sites_{category.key}_covered_above_total",
                    part=key_site_field(category.key, "covered"),
                    whole=key_site_field(category.key, "total"),
                    indicator="key_sites_5g_reach",
                    message_zh=f"{category.label_zh}：5G通达数（{covered:,}）大于场所数（{total:,}）",
                    message_en=f"{category.label_en}: sites reached by 5G ({covered:,}) exceed sites ({total:,})",
                )
            )
    return found


def indicator_limit(spec: IndicatorSpec) -> Decimal:
    """The largest value any city could report for the indicator: 100 for a share (gigabit
    coverage excepted), the plausible maximum where there is one, the most cases a form holds, and
    for a count the largest number its input takes."""
    if spec.kind == Kind.SHARE and not spec.may_exceed_100:
        return HUNDRED
    if spec.kind == Kind.CASES:
        return Decimal(MAX_CASES)
    if spec.plausible_max is not None:
        return Decimal(str(spec.plausible_max))
    return Decimal(INPUTS_BY_NAME[spec.numerator].maximum)


def indicator_value_problem(spec: IndicatorSpec, value: Decimal) -> tuple[str, str] | None:
    """Why `value` cannot be a threshold or reference value of the indicator ((zh, en)), or None:
    a number, not negative, whole for a count, and no more than any city could report."""
    if not value.is_finite():
        return "须为数字", "Must be a number"
    if value < 0:
        return "不能为负数", "Cannot be negative"
    if spec.kind in (Kind.COUNT, Kind.CASES) and value != value.to_integral_value():
        return "须为整数", "Must be a whole number"
    limit = indicator_limit(spec)
    if value > limit:
        return f"不能超过 {limit:,f}", f"Cannot be more than {limit:,f}"
    return None


# ------------------------------------------------------------------------------------------------
# Scoring and flags
# ------------------------------------------------------------------------------------------------
class Severity(IntEnum):
    INFO = 1
    WARNING = 2
    CRITICAL = 3

    @property
    def label(self) -> str:
        return self.name.lower()


@dataclass(frozen=True)
class Flag:
    code: str
    severity: Severity
    indicator: str | None
    message_zh: str
    message_en: str


@dataclass(frozen=True)
class IndicatorResult:
    code: str
    value: Decimal | None
    threshold: Decimal | None
    passed: bool
    margin: Decimal | None  # value − threshold
    margin_relative: Decimal | None  # (value − threshold) ÷ threshold


@dataclass(frozen=True)
class FlagSettings:
    """Per-round tuning of the flags, editable by ministry staff."""

    borderline_margin: Decimal = Decimal("0.03")  # pass by less than 3 % of the threshold
    jump_ratio: Decimal = Decimal("0.5")  # changed by more than 50 % against the previous round
    population_change_limit: Decimal = Decimal("0.1")  # resident population changed by more than 10 %
    outlier_z: Decimal = Decimal("3.5")  # robust z-score (Iglewicz and Hoaglin's recommended cut-off)
    outlier_min_peers: int = 8  # below this many other cities the median means little


@dataclass(frozen=True)
class Previous:
    """The same city's data in its previous round, for jumps and population changes."""

    year: int
    inputs: Inputs
    values: Mapping[str, Decimal | None]


@dataclass(frozen=True)
class ScoreResult:
    results: list[IndicatorResult]
    cases_count: int
    case_domains: list[str]
    meets_all: bool
    missed: int
    flags: list[Flag] = field(default_factory=list)

    @property
    def max_severity(self) -> int:
        return max((f.severity for f in self.flags), default=0)


class ScoringError(ValueError):
    """The submission cannot be scored at all (not a transient error: retrying will not help)."""


def _fmt(value: Decimal | None, spec: IndicatorSpec, lang: str) -> str:
    if value is None:
        return "—"
    unit = spec.unit_zh if lang == "zh" else spec.unit_en
    number = f"{value:,.{spec.decimals}f}"
    return f"{number}{unit}" if unit == "%" or lang == "zh" else f"{number} {unit}"


def robust_z(value: Decimal, population: Sequence[Decimal]) -> Decimal | None:
    """The modified z-score 0.6745·(x − median) ÷ MAD, or None when the MAD is zero."""
    median = statistics.median(population)
    mad = statistics.median([abs(x - median) for x in population])
    if mad == 0:
        return None
    return Decimal("0.6745") * (value - median) / mad


def score(
    *,
    inputs: Inputs,
    case_domains: Sequence[str],
    thresholds: Mapping[str, Decimal],
    settings: FlagSettings = FlagSettings(),
    previous: Previous | None = None,
    peers: Mapping[str, Sequence[Decimal]] | None = None,
    late_days: int = 0,
) -> ScoreResult:
    """Score one submission against its round's thresholds and raise the flags a reviewer needs.

    `peers` holds, per indicator code, the values of the *other* cities of the round; `late_days`
    is how many days after the deadline it was submitted (under an extension).
    """
    missing = [spec.code for spec in (*INDICATORS, APPLICATIONS) if spec.code not in thresholds]
    if missing:
        raise ScoringError(f"the round has no threshold for: {', '.join(missing)}")

    flags: list[Flag] = []
    values = compute_indicators(inputs)
    results = judge(values, len(case_domains), thresholds)
    for spec in INDICATORS:
        flags.extend(_value_flags(spec, values[spec.code], Decimal(thresholds[spec.code]), settings))

    domains = sorted(set(case_domains))
    flags.extend(_case_flags(case_domains, Decimal(thresholds[APPLICATIONS.code])))

    for problem in inconsistencies(inputs):
        flags.append(
            Flag(
                "inconsistent_inputs",
                Severity.CRITICAL,
                problem.indicator,
                problem.message_zh,
                problem.message_en,
            )
        )
    flags.extend(_implausible_flags(inputs, values))
    if previous is not None:
        flags.extend(_history_flags(values, inputs, previous, settings))
    if peers:
        flags.extend(_outlier_flags(values, peers, settings))
    if late_days > 0:
        flags.append(
            Flag(
                "late_submission",
                Severity.INFO,
                None,
                f"截止日期后 {late_days} 天提交（已获延期）",
                f"Submitted {late_days} day(s) after the deadline, under an extension",
            )
        )

    missed = sum(1 for r in results if not r.passed)
    flags.sort(key=lambda f: (-f.severity, f.indicator or "", f.code))
    return ScoreResult(results, len(case_domains), domains, missed == 0, missed, flags)


def judge(
    values: Mapping[str, Decimal | None], cases_count: int, thresholds: Mapping[str, Decimal]
) -> list[IndicatorResult]:
    """Every indicator, then the case requirement, against its line: what decides whether a form
    meets all. `score()` judges with it, and so does a what-if simulation of other thresholds."""
    results = [_judge(spec.code, values[spec.code], Decimal(thresholds[spec.code])) for spec in INDICATORS]
    results.append(_judge(APPLICATIONS.code, Decimal(cases_count), Decimal(thresholds[APPLICATIONS.code])))
    return results


def meets(value: Decimal | None, threshold: Decimal | None) -> bool | None:
    """The one judgement of an indicator against its line: a value at or above the threshold
    passes. None when either is missing (nothing to judge)."""
    if value is None or threshold is None:
        return None
    return value >= threshold


def _judge(code: str, value: Decimal | None, threshold: Decimal) -> IndicatorResult:
    if value is None:
        return IndicatorResult(code, None, threshold, False, None, None)
    margin = value - threshold
    relative = quantize(margin / threshold, 4) if threshold else None
    return IndicatorResult(code, value, threshold, bool(meets(value, threshold)), margin, relative)


def _value_flags(spec: IndicatorSpec, value: Decimal | None, threshold: Decimal, settings: FlagSettings) -> list[Flag]:
    if value is None:
        return [
            Flag(
                "missing_value",
                Severity.CRITICAL,
                spec.code,
                f"{spec.name_zh}无法计算：数据缺失或分母为0",
                f"{spec.name_en} cannot be computed: data missing or a zero denominator",
            )
        ]
    if not meets(value, threshold):
        return [
            Flag(
                "threshold_missed",
                Severity.WARNING,
                spec.code,
                f"{spec.name_zh}为{_fmt(value, spec, 'zh')}，未达到{_fmt(threshold, spec, 'zh')}的标准",
                f"{spec.name_en} is {_fmt(value, spec, 'en')}, below the threshold of {_fmt(threshold, spec, 'en')}",
            )
        ]
    if threshold and value < threshold * (1 + settings.borderline_margin):
        return [
            Flag(
                "borderline",
                Severity.INFO,
                spec.code,
                f"{spec.name_zh}为{_fmt(value, spec, 'zh')}，仅略高于{_fmt(threshold, spec, 'zh')}的标准",
                f"{spec.name_en} is {_fmt(value, spec, 'en')}, just above the threshold of "
                f"{_fmt(threshold, spec, 'en')}",
            )
        ]
    return []


def _case_flags(case_domains: Sequence[str], required: Decimal) -> list[Flag]:
    flags = []
    if len(case_domains) < required:
        flags.append(
            Flag(
                "cases_insufficient",
                Severity.CRITICAL,
                APPLICATIONS.code,
                f"应用案例仅 {len(case_domains)} 个，少于要求的 {required:.0f} 个",
                f"Only {len(case_domains)} application case(s), fewer than the {required:.0f} required",
            )
        )
    if len(case_domains) >= 2 and len(set(case_domains)) == 1:
        label_zh, label_en = next(((zh, en) for key, zh, en in CASE_DOMAINS if key == case_domains[0]), ("", ""))
        flags.append(
            Flag(
                "cases_single_domain",
                Severity.WARNING,
                APPLICATIONS.code,
                f"全部案例都属于“{label_zh}”领域，应覆盖更多领域",
                f"All cases are in one domain ({label_en}); more domains are expected",
            )
        )
    return flags


def _implausible_flags(inputs: Inputs, values: Mapping[str, Decimal | None]) -> list[Flag]:
    flags = []
    for spec in INPUTS:
        value = inputs.get(spec.name)
        if value is not None and value > spec.maximum:
            flags.append(
                Flag(
                    "implausible_value",
                    Severity.CRITICAL,
                    None,
                    f"{spec.label_zh}（{value:,}）超出合理范围（上限 {spec.maximum:,}）",
                    f"{spec.label_en} ({value:,}) is outside the plausible range (at most {spec.maximum:,})",
                )
            )
    for spec in INDICATORS:
        value = values[spec.code]
        if value is not None and spec.plausible_max is not None and value > Decimal(spec.plausible_max):
            flags.append(
                Flag(
                    "implausible_value",
                    Severity.CRITICAL,
                    spec.code,
                    f"{spec.name_zh}为{_fmt(value, spec, 'zh')}，超出合理范围，请核实单位和口径",
                    f"{spec.name_en} is {_fmt(value, spec, 'en')}, outside the plausible range; "
                    "check units and definitions",
                )
            )
    return flags


def _history_flags(
    values: Mapping[str, Decimal | None], inputs: Inputs, previous: Previous, settings: FlagSettings
) -> list[Flag]:
    flags = []
    population, before = inputs.get("resident_population"), previous.inputs.get("resident_population")
    if population and before:
        change = (Decimal(population) - Decimal(before)) / Decimal(before)
        if abs(change) > settings.population_change_limit:
            flags.append(
                Flag(
                    "population_changed",
                    Severity.WARNING,
                    "bs5g_per_10k",
                    f"常住人口较{previous.year}年度变化 {change:+.1%}（{before:,} → {population:,}）",
                    f"Resident population changed by {change:+.1%} since {previous.year} ({before:,} → {population:,})",
                )
            )
    for spec in INDICATORS:
        value, old = values.get(spec.code), previous.values.get(spec.code)
        if value is None or not old:
            continue
        change = (value - old) / old
        if abs(change) > settings.jump_ratio:
            flags.append(
                Flag(
                    "large_jump",
                    Severity.WARNING,
                    spec.code,
                    f"{spec.name_zh}较{previous.year}年度变化 {change:+.0%}"
                    f"（{_fmt(old, spec, 'zh')} → {_fmt(value, spec, 'zh')}）",
                    f"{spec.name_en} changed by {change:+.0%} since {previous.year} "
                    f"({_fmt(old, spec, 'en')} → {_fmt(value, spec, 'en')})",
                )
            )
    return flags


def _outlier_flags(
    values: Mapping[str, Decimal | None], peers: Mapping[str, Sequence[Decimal]], settings: FlagSettings
) -> list[Flag]:
    flags = []
    for spec in INDICATORS:
        value, others = values.get(spec.code), [Decimal(v) for v in peers.get(spec.code, ()) if v is not None]
        if value is None or len(others) < settings.outlier_min_peers:
            continue
        z = robust_z(value, [*others, value])
        if z is None or abs(z) <= settings.outlier_z:
            continue
        median = statistics.median(others)
        side_zh, side_en = ("远高于", "far above") if z > 0 else ("远低于", "far below")
        flags.append(
            Flag(
                "outlier",
                Severity.WARNING,
                spec.code,
                f"{spec.name_zh}为{_fmt(value, spec, 'zh')}，{side_zh}本轮其他城市（中位数"
                f"{_fmt(quantize(median, spec.decimals), spec, 'zh')}，稳健z值 {z:.1f}）",
                f"{spec.name_en} is {_fmt(value, spec, 'en')}, {side_en} the other cities of the round "
                f"(median {_fmt(quantize(median, spec.decimals), spec, 'en')}, robust z {z:.1f})",
            )
        )
    return flags


# ------------------------------------------------------------------------------------------------
# Rounds follow each other
# ------------------------------------------------------------------------------------------------
def shift_years(date: datetime.date | None, years: int) -> datetime.date | None:
    """The same day `years` later (29 February becomes 28 February in a common year): next year's
    round keeps this year's calendar."""
    if date is None:
        return None
    try:
        return date.replace(year=date.year + years)
    except ValueError:
        return date.replace(year=date.year + years, day=28)

"""The scoring rules at their edges: exactly at each threshold and margin, rounding that tells half-up
from half-even, zero thresholds, maxima, the previous round, the other cities, and the words a
reviewer reads. Expected values are worked out by hand (or, in the property tests, with exact
fractions) from the product brief, never by calling the rule under test."""

from __future__ import annotations

import dataclasses
import math
import statistics
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from indicators.catalogue import INDICATORS, INDICATORS_BY_CODE, INPUTS, Kind
from indicators.rules import (
    FlagSettings,
    Previous,
    ScoringError,
    Severity,
    _fmt,
    compute_indicator,
    compute_indicators,
    inconsistencies,
    indicator_limit,
    indicator_value_problem,
    input_problems,
    key_site_sums,
    robust_z,
    score,
)

# The provisional 2021 thresholds, five cases in four domains, and a city comfortably above every
# threshold with nothing contradicting anything (no flag at all): the same as the rule tests'.
# Values: coverage 125.0 %, 10G-PON 40.0 %, key sites 99.0 %, 20.0 base stations per 10k,
# 500M+ 30.0 %, 120 000 gigabit users, 5G 50.0 %.
from tests.indicators.test_rules import FIVE_DOMAINS, GOOD, THRESHOLDS

GOOD_VALUES = {
    "fiber_gigabit_coverage": Decimal("125.0"),
    "pon_10g_share": Decimal("40.0"),
    "key_sites_5g_reach": Decimal("99.0"),
    "bs5g_per_10k": Decimal("20.0"),
    "users_500m_share": Decimal("30.0"),
    "users_1000m": Decimal(120_000),
    "users_5g_share": Decimal("50.0"),
}


def scored(inputs=None, *, cases=FIVE_DOMAINS, thresholds=None, **kwargs):
    return score(
        inputs={**GOOD, **(inputs or {})},
        case_domains=cases,
        thresholds={**THRESHOLDS, **(thresholds or {})},
        **kwargs,
    )


def result_of(result, code):
    return next(r for r in result.results if r.code == code)


def flags_of(result, code=None, indicator="any"):
    return [
        f for f in result.flags if (code is None or f.code == code) and (indicator == "any" or f.indicator == indicator)
    ]


def test_the_good_city_is_what_it_claims():
    assert compute_indicators(GOOD) == GOOD_VALUES
    assert scored().flags == []


# ------------------------------------------------------------------------------------------------
# Thresholds: on the line passes
# ------------------------------------------------------------------------------------------------
# Inputs that give each indicator exactly its provisional 2021 threshold.
EXACTLY_AT_THRESHOLD = {
    "fiber_gigabit_coverage": {"gigabit_capable_households": 960_000, "urban_households": 1_200_000},  # 80.0 %
    "pon_10g_share": {"pon_10g_ports": 300_000, "pon_ports_total": 1_000_000},  # 30.0 %
    "key_sites_5g_reach": {"key_sites_5g_covered": 190, "key_sites_total": 200},  # 95.0 %
    "bs5g_per_10k": {"bs5g_count": 12_000, "resident_population": 10_000_000},  # 12.0
    "users_500m_share": {"users_500m_plus": 1_000_000, "broadband_users_total": 10_000_000},  # 10.0 %
    "users_1000m": {"users_1000m": 50_000},  # 50 000
    "users_5g_share": {"users_5g": 3_000_000, "mobile_users_total": 12_000_000},  # 25.0 %
}
# One step of the published precision below it.
JUST_BELOW = {
    "fiber_gigabit_coverage": {"gigabit_capable_households": 958_800, "urban_households": 1_200_000},  # 79.9 %
    "pon_10g_share": {"pon_10g_ports": 299_000, "pon_ports_total": 1_000_000},  # 29.9 %
    "key_sites_5g_reach": {"key_sites_5g_covered": 1898, "key_sites_total": 2000},  # 94.9 %
    "bs5g_per_10k": {"bs5g_count": 11_900, "resident_population": 10_000_000},  # 11.9
    "users_500m_share": {"users_500m_plus": 990_000, "broadband_users_total": 10_000_000},  # 9.9 %
    "users_1000m": {"users_1000m": 49_999},
    "users_5g_share": {"users_5g": 2_988_000, "mobile_users_total": 12_000_000},  # 24.9 %
}


@pytest.mark.parametrize("code", list(EXACTLY_AT_THRESHOLD))
def test_a_value_exactly_at_the_threshold_passes_and_is_only_borderline(code):
    result = scored(EXACTLY_AT_THRESHOLD[code])

    judged = result_of(result, code)
    assert (judged.value, judged.passed, judged.margin, judged.margin_relative) == (THRESHOLDS[code], True, 0, 0)
    assert result.meets_all and result.missed == 0
    assert [(f.code, f.indicator, f.severity) for f in result.flags] == [("borderline", code, Severity.INFO)]


@pytest.mark.parametrize("code", list(JUST_BELOW))
def test_one_step_below_the_threshold_misses(code):
    result = scored(JUST_BELOW[code])

    judged = result_of(result, code)
    assert not judged.passed and judged.value < THRESHOLDS[code]
    assert not result.meets_all and result.missed == 1
    assert [(f.code, f.indicator, f.severity) for f in result.flags] == [("threshold_missed", code, Severity.WARNING)]


def test_five_cases_meet_a_threshold_of_five_and_four_do_not():
    five = scored(cases=["industry", "consumer", "livelihood", "government", "other"])
    four = scored(cases=["industry", "consumer", "livelihood", "government"])

    assert result_of(five, "applications").passed and five.flags == []
    assert (result_of(five, "applications").value, five.cases_count) == (5, 5)
    assert not result_of(four, "applications").passed and four.missed == 1
    assert [(f.code, f.severity) for f in four.flags] == [("cases_insufficient", Severity.CRITICAL)]
    assert four.flags[0].message_zh == "应用案例仅 4 个，少于要求的 5 个"
    assert four.flags[0].message_en == "Only 4 application case(s), fewer than the 5 required"


def test_the_margin_is_value_minus_threshold_and_relative_to_the_threshold_rounded_half_up():
    # 80.1 against 80: 0.1 ÷ 80 = 0.00125, which half-up makes 0.0013 (half-even would give 0.0012).
    result = scored({"gigabit_capable_households": 961_200, "urban_households": 1_200_000})

    judged = result_of(result, "fiber_gigabit_coverage")
    assert (judged.value, judged.margin, judged.margin_relative) == (Decimal("80.1"), Decimal("0.1"), Decimal("0.0013"))
    below = result_of(scored(JUST_BELOW["bs5g_per_10k"]), "bs5g_per_10k")
    assert (below.margin, below.margin_relative) == (Decimal("-0.1"), Decimal("-0.0083"))  # −0.1 ÷ 12


# ------------------------------------------------------------------------------------------------
# Borderline: passing by less than 3 % of the threshold
# ------------------------------------------------------------------------------------------------
def test_passing_by_exactly_three_percent_is_not_borderline_and_by_less_is():
    # 10G-PON against 30 %: 30.9 % is exactly 3 % above the line, 30.8 % a little less.
    at_margin = scored({"pon_10g_ports": 309_000})
    under_margin = scored({"pon_10g_ports": 308_000})

    assert at_margin.flags == []
    assert [(f.code, f.indicator) for f in under_margin.flags] == [("borderline", "pon_10g_share")]
    assert under_margin.flags[0].message_zh == "城市10G-PON端口占比为30.8%，仅略高于30.0%的标准"
    assert under_margin.flags[0].message_en == "10G-PON port share is 30.8%, just above the threshold of 30.0%"


def test_a_wider_borderline_margin_flags_more():
    # 12.6 base stations against 12 is 5 % above: borderline with a 10 % margin, not with 3 %.
    inputs = {"bs5g_count": 12_600}
    assert scored(inputs).flags == []
    wide = scored(inputs, settings=FlagSettings(borderline_margin=Decimal("0.10")))
    # Key sites, 99.0 % against 95 % (4.2 % above), become borderline too.
    assert [(f.code, f.indicator) for f in wide.flags] == [
        ("borderline", "bs5g_per_10k"),
        ("borderline", "key_sites_5g_reach"),
    ]
    assert wide.flags[0].message_zh == "每万人拥有5G基站数为12.6个/万人，仅略高于12.0个/万人的标准"
    assert wide.flags[0].message_en == (
        "5G base stations per 10,000 people is 12.6 per 10k people, just above the threshold of 12.0 per 10k people"
    )


def test_a_zero_threshold_is_met_by_zero_with_no_relative_margin_and_no_borderline():
    result = scored({"pon_10g_ports": 0}, thresholds={"pon_10g_share": Decimal(0)})

    judged = result_of(result, "pon_10g_share")
    assert (judged.value, judged.threshold, judged.passed) == (Decimal("0.0"), 0, True)
    assert (judged.margin, judged.margin_relative) == (0, None)
    assert result.meets_all and result.flags == []
    above = result_of(scored(thresholds={"pon_10g_share": Decimal(0)}), "pon_10g_share")
    assert (above.passed, above.margin, above.margin_relative) == (True, Decimal("40.0"), None)


# ------------------------------------------------------------------------------------------------
# Computing: published precision, half up
# ------------------------------------------------------------------------------------------------
def test_half_up_rounding_publishes_12_05_as_12_1_not_12_0():
    bs5g = INDICATORS_BY_CODE["bs5g_per_10k"]
    share = INDICATORS_BY_CODE["users_5g_share"]

    assert compute_indicator(bs5g, {"bs5g_count": 1205, "resident_population": 1_000_000}) == Decimal("12.1")
    assert compute_indicator(bs5g, {"bs5g_count": 1194, "resident_population": 1_000_000}) == Decimal("11.9")
    assert compute_indicator(share, {"users_5g": 1225, "mobile_users_total": 10_000}) == Decimal("12.3")
    assert str(compute_indicator(share, {"users_5g": 1, "mobile_users_total": 4})) == "25.0"  # one decimal shown


def test_12_05_base_stations_pass_a_threshold_of_12_1():
    result = scored(
        {"bs5g_count": 1205, "resident_population": 1_000_000}, thresholds={"bs5g_per_10k": Decimal("12.1")}
    )
    assert result_of(result, "bs5g_per_10k").passed


def test_zero_of_a_part_is_a_value_of_zero_not_a_missing_value():
    assert compute_indicator(INDICATORS_BY_CODE["pon_10g_share"], {"pon_10g_ports": 0, "pon_ports_total": 10}) == 0
    assert compute_indicator(INDICATORS_BY_CODE["users_1000m"], {"users_1000m": 0}) == 0
    assert compute_indicator(INDICATORS_BY_CODE["pon_10g_share"], {"pon_ports_total": 10}) is None
    assert compute_indicator(INDICATORS_BY_CODE["pon_10g_share"], {"pon_10g_ports": 1}) is None


def test_a_count_is_the_number_itself():
    assert compute_indicator(INDICATORS_BY_CODE["users_1000m"], {"users_1000m": 123_456}) == Decimal(123_456)


def test_an_indicator_that_is_not_computed_from_inputs_is_an_error_not_a_number():
    odd = dataclasses.replace(INDICATORS_BY_CODE["pon_10g_share"], kind=Kind.CASES)
    with pytest.raises(ValueError, match="pon_10g_share"):
        compute_indicator(odd, {"pon_10g_ports": 1, "pon_ports_total": 2})


def half_up(value: Fraction, decimals: int) -> Fraction:
    """Round a non-negative fraction half up, exactly."""
    scale = 10**decimals
    return Fraction(math.floor(value * scale + Fraction(1, 2)), scale)


def by_hand(code: str, inputs: dict) -> Fraction | None:
    """The indicator as PRODUCT.md defines it, with exact fractions."""
    spec = INDICATORS_BY_CODE[code]
    if spec.kind == Kind.COUNT:
        return Fraction(inputs[spec.numerator])
    if not inputs[spec.denominator]:
        return None
    factor = 100 if spec.kind == Kind.SHARE else 10_000
    return half_up(Fraction(inputs[spec.numerator] * factor, inputs[spec.denominator]), 1)


inputs_strategy = st.fixed_dictionaries({spec.name: st.integers(0, spec.maximum) for spec in INPUTS})


@given(inputs=inputs_strategy)
def test_every_indicator_is_its_formula_rounded_half_up_to_one_decimal(inputs):
    values = compute_indicators(inputs)
    for spec in INDICATORS:
        expected = by_hand(spec.code, inputs)
        assert (None if values[spec.code] is None else Fraction(values[spec.code])) == expected, spec.code


@given(
    inputs=inputs_strategy,
    code=st.sampled_from([spec.code for spec in INDICATORS]),
    threshold=st.decimals(min_value=0, max_value=200, places=1),
)
def test_a_value_passes_exactly_when_it_reaches_the_threshold_and_is_borderline_just_above(inputs, code, threshold):
    expected = by_hand(code, inputs)
    assume(expected is not None)
    result = score(inputs=inputs, case_domains=FIVE_DOMAINS, thresholds={**THRESHOLDS, code: threshold})

    judged = result_of(result, code)
    assert judged.passed == (expected >= Fraction(threshold))
    assert Fraction(judged.margin) == expected - Fraction(threshold)
    borderline = bool(flags_of(result, "borderline", code))
    assert borderline == (threshold > 0 and Fraction(threshold) <= expected < Fraction(threshold) * Fraction(103, 100))
    assert bool(flags_of(result, "threshold_missed", code)) == (expected < Fraction(threshold))


# ------------------------------------------------------------------------------------------------
# Validation of the raw inputs
# ------------------------------------------------------------------------------------------------
def test_a_value_exactly_at_its_maximum_is_accepted_and_one_more_is_too_large():
    at_max = {spec.name: spec.maximum for spec in INPUTS}
    assert input_problems(at_max, require_all=True) == []
    assert (
        flags_of(score(inputs=at_max, case_domains=FIVE_DOMAINS, thresholds=THRESHOLDS), "implausible_value", None)
        == []
    )

    over = input_problems({"resident_population": 40_000_001}, require_all=False)
    assert [(p.field, p.code) for p in over] == [("resident_population", "too_large")]
    assert over[0].message_zh == "数值过大（上限 40,000,000人），请检查单位是否正确"
    assert over[0].message_en == "Too large (at most 40,000,000 people); please check the unit"


@pytest.mark.parametrize("value", [12.5, 3.0, "100", True, Decimal(7)], ids=repr)
def test_a_value_that_is_not_a_whole_number_is_refused(value):
    problems = input_problems({"urban_households": value}, require_all=False)

    assert [(p.field, p.code, p.message_zh, p.message_en) for p in problems] == [
        ("urban_households", "not_integer", "须为非负整数", "Must be a whole number, 0 or more")
    ]


def test_zero_is_a_whole_number_and_minus_one_is_negative():
    assert input_problems({"urban_households": 0}, require_all=False) == []
    problems = input_problems({"urban_households": -1}, require_all=False)
    assert [(p.code, p.message_zh, p.message_en) for p in problems] == [
        ("negative", "须为非负整数", "Must be a whole number, 0 or more")
    ]


def test_a_required_input_says_so_in_both_languages():
    problems = input_problems({**GOOD, "users_5g": None}, require_all=True)
    assert [(p.field, p.code, p.message_zh, p.message_en) for p in problems] == [
        ("users_5g", "required", "必填，请填写", "Required")
    ]


@pytest.mark.parametrize("spec", [s for s in INDICATORS if s.denominator], ids=lambda s: s.code)
def test_every_denominator_must_not_be_zero_to_submit(spec):
    problems = input_problems({**GOOD, spec.denominator: 0}, require_all=True)

    assert [(p.field, p.code) for p in problems] == [(spec.denominator, "zero_denominator")]
    assert problems[0].message_zh == f"不能为0：它是“{spec.name_zh}”的分母"
    assert problems[0].message_en == f"Cannot be 0: it is the denominator of “{spec.name_en}”"
    assert input_problems({**GOOD, spec.denominator: 0}, require_all=False) == []  # a draft may hold it


def test_a_zero_numerator_may_be_submitted():
    assert input_problems({**GOOD, "pon_10g_ports": 0, "users_1000m": 0}, require_all=True) == []


# ------------------------------------------------------------------------------------------------
# Inputs that contradict each other
# ------------------------------------------------------------------------------------------------
def test_a_part_equal_to_its_whole_is_consistent():
    assert inconsistencies({**GOOD, "users_5g": 12_000_000, "users_1000m": 300_000}) == []


def test_a_part_above_its_whole_names_both_inputs_and_the_indicator():
    (found,) = inconsistencies({**GOOD, "users_5g": 12_000_001})

    assert (found.code, found.part, found.whole, found.indicator) == (
        "users_5g_above_mobile_users_total",
        "users_5g",
        "mobile_users_total",
        "users_5g_share",
    )
    assert found.message_zh == "5G用户数（12,000,001）大于移动电话用户总数（12,000,000），部分不能大于整体"
    assert (
        found.message_en
        == "5G users (12,000,001) exceed mobile phone users (12,000,000): a part cannot exceed its whole"
    )


def test_the_whole_keeps_its_capitals_in_english():
    pon, users = inconsistencies({**GOOD, "pon_10g_ports": 1_000_001, "users_1000m": 300_001})
    assert pon.message_en == "10G-PON (and above) ports (1,000,001) exceed all PON ports (1,000,000): " + (
        "a part cannot exceed its whole"
    )
    assert users.message_en.startswith(
        "Fixed-broadband users at 1000 Mbps or more (300,001) exceed fixed-broadband users at 500 Mbps or more"
    )


@pytest.mark.parametrize(
    ("part", "whole", "indicator"),
    [
        ("pon_10g_ports", "pon_ports_total", "pon_10g_share"),
        ("key_sites_5g_covered", "key_sites_total", "key_sites_5g_reach"),
        ("users_500m_plus", "broadband_users_total", "users_500m_share"),
        ("users_1000m", "users_500m_plus", "users_1000m"),
        ("users_5g", "mobile_users_total", "users_5g_share"),
    ],
)
def test_every_part_of_a_whole_is_checked(part, whole, indicator):
    found = inconsistencies({**GOOD, part: GOOD[whole] + 1})
    assert [(i.part, i.whole, i.indicator) for i in found] == [(part, whole, indicator)]
    assert inconsistencies({part: 5, whole: None}) == inconsistencies({part: None, whole: 5}) == []


def test_a_key_site_category_with_more_reached_than_sites_names_its_two_counts():
    found = inconsistencies({**GOOD, "ks_airport_total": 1, "ks_airport_covered": 2, "ks_road_total": 5})

    assert [(i.code, i.part, i.whole, i.indicator) for i in found] == [
        ("key_sites_airport_covered_above_total", "ks_airport_covered", "ks_airport_total", "key_sites_5g_reach")
    ]
    assert found[0].message_zh == "干线机场：5G通达数（2）大于场所数（1）"
    assert found[0].message_en == "Trunk airports: sites reached by 5G (2) exceed sites (1)"
    assert inconsistencies({**GOOD, "ks_airport_total": 2, "ks_airport_covered": 2}) == []


def test_inconsistent_inputs_are_a_critical_flag_on_their_indicator():
    result = scored({"users_5g": 12_000_001})
    (flag,) = flags_of(result, "inconsistent_inputs")
    assert (flag.severity, flag.indicator) == (Severity.CRITICAL, "users_5g_share")
    assert flag.message_zh == "5G用户数（12,000,001）大于移动电话用户总数（12,000,000），部分不能大于整体"


def test_key_site_sums_count_a_category_left_empty_as_zero():
    assert key_site_sums({"ks_hospital_total": 3}) == (0, 3)
    assert key_site_sums({"ks_hospital_covered": 2, "ks_railway_covered": None}) == (2, 0)
    assert key_site_sums({"ks_hospital_total": None}) == (None, None)
    assert key_site_sums({"ks_hospital_total": 0}) == (0, 0)


# ------------------------------------------------------------------------------------------------
# Implausible values, cases, lateness
# ------------------------------------------------------------------------------------------------
def test_an_indicator_exactly_at_its_plausible_maximum_is_not_flagged_and_above_it_is():
    # 150 base stations per 10 000 people is the most any city could have.
    at_max = scored({"bs5g_count": 150_000})
    above = scored({"bs5g_count": 150_100})

    assert flags_of(at_max, "implausible_value") == []
    (flag,) = flags_of(above, "implausible_value")
    assert (flag.severity, flag.indicator) == (Severity.CRITICAL, "bs5g_per_10k")
    assert flag.message_zh == "每万人拥有5G基站数为150.1个/万人，超出合理范围，请核实单位和口径"
    assert flag.message_en == (
        "5G base stations per 10,000 people is 150.1 per 10k people, outside the plausible range; "
        "check units and definitions"
    )


def test_a_raw_input_above_its_maximum_is_flagged_without_an_indicator():
    result = scored({"resident_population": 40_000_001, "bs5g_count": 60_000})
    (flag,) = flags_of(result, "implausible_value")
    assert (flag.severity, flag.indicator) == (Severity.CRITICAL, None)
    assert flag.message_zh == "常住人口数（40,000,001）超出合理范围（上限 40,000,000）"
    assert flag.message_en == "Resident population (40,000,001) is outside the plausible range (at most 40,000,000)"


def test_two_cases_in_one_domain_are_flagged_one_case_is_not():
    two = scored(cases=["industry", "industry"], thresholds={"applications": Decimal(2)})
    one = scored(cases=["industry"], thresholds={"applications": Decimal(1)})

    assert [(f.code, f.severity, f.indicator) for f in two.flags] == [
        ("cases_single_domain", Severity.WARNING, "applications")
    ]
    assert two.flags[0].message_zh == "全部案例都属于“垂直行业”领域，应覆盖更多领域"
    assert two.flags[0].message_en == "All cases are in one domain (Vertical industries); more domains are expected"
    assert one.flags == []
    assert scored(cases=["industry", "other"], thresholds={"applications": Decimal(2)}).flags == []
    assert two.case_domains == ["industry"] and two.cases_count == 2


def test_the_domains_of_the_cases_are_listed_once_each_in_order():
    result = scored(cases=["livelihood", "consumer", "livelihood", "industry", "consumer"])
    assert result.case_domains == ["consumer", "industry", "livelihood"]


def test_one_day_late_is_flagged_and_on_time_is_not():
    late = scored(late_days=1)

    assert [(f.code, f.severity, f.indicator) for f in late.flags] == [("late_submission", Severity.INFO, None)]
    assert late.flags[0].message_zh == "截止日期后 1 天提交（已获延期）"
    assert late.flags[0].message_en == "Submitted 1 day(s) after the deadline, under an extension"
    assert scored(late_days=0).flags == []


def test_a_value_that_cannot_be_computed_is_a_critical_miss():
    result = scored({"resident_population": None})

    judged = result_of(result, "bs5g_per_10k")
    assert (judged.value, judged.passed, judged.margin, judged.margin_relative) == (None, False, None, None)
    (flag,) = result.flags
    assert (flag.code, flag.severity, flag.indicator) == ("missing_value", Severity.CRITICAL, "bs5g_per_10k")
    assert flag.message_zh == "每万人拥有5G基站数无法计算：数据缺失或分母为0"
    assert (
        flag.message_en == "5G base stations per 10,000 people cannot be computed: data missing or a zero denominator"
    )
    assert result.missed == 1 and not result.meets_all


def test_a_missed_count_threshold_reads_in_whole_numbers():
    result = scored({"users_1000m": 40_000})
    (flag,) = result.flags
    assert flag.message_zh == "1000Mbps用户数为40,000户，未达到50,000户的标准"
    assert flag.message_en == "Users at 1000 Mbps is 40,000 users, below the threshold of 50,000 users"


def test_a_missed_per_10k_threshold_reads_with_its_unit():
    (flag,) = scored(JUST_BELOW["bs5g_per_10k"]).flags
    assert flag.message_zh == "每万人拥有5G基站数为11.9个/万人，未达到12.0个/万人的标准"
    assert flag.message_en == (
        "5G base stations per 10,000 people is 11.9 per 10k people, below the threshold of 12.0 per 10k people"
    )


def test_a_value_that_cannot_be_shown_is_a_dash():
    assert _fmt(None, INDICATORS_BY_CODE["bs5g_per_10k"], "zh") == _fmt(None, INDICATORS_BY_CODE["bs5g_per_10k"], "en")
    assert _fmt(None, INDICATORS_BY_CODE["bs5g_per_10k"], "en") == "—"


def test_a_round_missing_thresholds_names_each_one():
    thresholds = {k: v for k, v in THRESHOLDS.items() if k not in ("users_5g_share", "applications")}
    with pytest.raises(ScoringError) as refused:
        score(inputs=GOOD, case_domains=FIVE_DOMAINS, thresholds=thresholds)
    assert str(refused.value) == "the round has no threshold for: users_5g_share, applications"


# ------------------------------------------------------------------------------------------------
# The previous round
# ------------------------------------------------------------------------------------------------
def previous(inputs=None, values=None, year=2025):
    return Previous(year=year, inputs={**GOOD, **(inputs or {})}, values={**GOOD_VALUES, **(values or {})})


def test_stable_figures_raise_no_history_flag():
    assert scored(previous=previous()).flags == []


def test_population_changed_by_more_than_ten_percent_is_flagged_with_the_change():
    result = scored(previous=previous(inputs={"resident_population": 8_000_000}))

    (flag,) = result.flags
    assert (flag.code, flag.severity, flag.indicator) == ("population_changed", Severity.WARNING, "bs5g_per_10k")
    assert flag.message_zh == "常住人口较2025年度变化 +25.0%（8,000,000 → 10,000,000）"
    assert flag.message_en == "Resident population changed by +25.0% since 2025 (8,000,000 → 10,000,000)"
    fewer = scored(previous=previous(inputs={"resident_population": 12_500_000}))
    assert fewer.flags[0].message_en == "Resident population changed by -20.0% since 2025 (12,500,000 → 10,000,000)"


def test_population_changed_by_exactly_ten_percent_is_not_flagged_and_by_a_person_more_is():
    # 9 900 000 from 9 000 000 is +10 % exactly, from 8 999 999 a little more; 9 000 000 from
    # 10 000 000 is −10 % exactly. (The base stations per 10k move by less than half meanwhile.)
    def population_flags(now, before):
        result = scored({"resident_population": now}, previous=previous(inputs={"resident_population": before}))
        return [f.code for f in result.flags]

    assert population_flags(9_900_000, 9_000_000) == []
    assert population_flags(9_900_000, 8_999_999) == ["population_changed"]
    assert population_flags(9_000_000, 10_000_000) == []
    assert population_flags(8_999_999, 10_000_000) == ["population_changed"]
    wider = FlagSettings(population_change_limit=Decimal("0.25"))
    assert scored(previous=previous(inputs={"resident_population": 8_000_000}), settings=wider).flags == []


def test_a_jump_of_more_than_half_is_flagged_with_the_year_on_year_change():
    result = scored(previous=previous(values={"users_1000m": Decimal(40_000)}))

    (flag,) = result.flags
    assert (flag.code, flag.severity, flag.indicator) == ("large_jump", Severity.WARNING, "users_1000m")
    # (120 000 − 40 000) ÷ 40 000 = +200 %
    assert flag.message_zh == "1000Mbps用户数较2025年度变化 +200%（40,000户 → 120,000户）"
    assert flag.message_en == "Users at 1000 Mbps changed by +200% since 2025 (40,000 users → 120,000 users)"


def test_a_fall_by_more_than_half_is_flagged_too():
    # 10G-PON 40.0 % from 100.0 %: −60 %.
    (flag,) = scored(previous=previous(values={"pon_10g_share": Decimal("100.0")})).flags
    assert flag.message_en == "10G-PON port share changed by -60% since 2025 (100.0% → 40.0%)"
    assert flag.message_zh == "城市10G-PON端口占比较2025年度变化 -60%（100.0% → 40.0%）"


def test_a_jump_of_exactly_half_is_not_flagged_and_a_little_more_is():
    # 30.0 % from 20.0 % is +50 % exactly, and 40.0 % from 80.0 % is −50 %; from 19.9 % it is +50.8 %.
    assert scored(previous=previous(values={"users_500m_share": Decimal("20.0")})).flags == []
    assert scored(previous=previous(values={"pon_10g_share": Decimal("80.0")})).flags == []
    assert [f.indicator for f in scored(previous=previous(values={"users_500m_share": Decimal("19.9")})).flags] == [
        "users_500m_share"
    ]


def test_a_missing_previous_value_on_the_first_indicator_does_not_silence_later_ones():
    last_year = previous(values={"fiber_gigabit_coverage": None, "users_5g_share": Decimal("20.0")})
    result = scored(previous=last_year)
    assert [(f.code, f.indicator) for f in result.flags] == [("large_jump", "users_5g_share")]
    zero = previous(values={"fiber_gigabit_coverage": Decimal(0), "users_5g_share": Decimal("20.0")})
    assert [(f.code, f.indicator) for f in scored(previous=zero).flags] == [("large_jump", "users_5g_share")]


def test_a_value_missing_this_year_does_not_silence_later_jumps():
    result = scored({"urban_households": None}, previous=previous(values={"users_5g_share": Decimal("20.0")}))
    assert {(f.code, f.indicator) for f in result.flags} == {
        ("missing_value", "fiber_gigabit_coverage"),
        ("large_jump", "users_5g_share"),
    }


def test_no_population_flag_without_both_populations():
    assert scored(previous=previous(inputs={"resident_population": None})).flags == []
    assert scored(previous=previous(inputs={"resident_population": 0})).flags == []


# ------------------------------------------------------------------------------------------------
# The other cities of the round
# ------------------------------------------------------------------------------------------------
def test_the_robust_z_score_worked_out_by_hand():
    # median 6; distances 4 2 0 2 14, their median (MAD) 2; z(20) = 0.6745 × (20 − 6) ÷ 2 = 4.72150
    population = [Decimal(v) for v in (2, 4, 6, 8, 20)]
    assert robust_z(Decimal(20), population) == Decimal("4.72150")
    assert robust_z(Decimal(2), population) == Decimal("-1.3490")  # 0.6745 × (2 − 6) ÷ 2


def test_robust_z_is_undefined_when_most_values_are_the_same():
    assert robust_z(Decimal(9), [Decimal(v) for v in (5, 5, 5, 9)]) is None  # MAD 0


PEERS = [Decimal(v) for v in (14, 15, 16, 17, 18, 19, 20, 21, 22)]


def test_an_outlier_is_flagged_with_its_side_the_median_and_its_z():
    # 90.0 among 14 … 22 and itself: median 18.5, MAD 2.5, z = 0.6745 × 71.5 ÷ 2.5 = 19.29; the
    # message gives the median of the others, 18.
    high = scored({"bs5g_count": 90_000}, peers={"bs5g_per_10k": PEERS})

    (flag,) = flags_of(high, "outlier")
    assert (flag.severity, flag.indicator) == (Severity.WARNING, "bs5g_per_10k")
    assert flag.message_zh == "每万人拥有5G基站数为90.0个/万人，远高于本轮其他城市（中位数18.0个/万人，稳健z值 19.3）"
    assert flag.message_en == (
        "5G base stations per 10,000 people is 90.0 per 10k people, far above the other cities of the round "
        "(median 18.0 per 10k people, robust z 19.3)"
    )


def test_a_low_outlier_is_far_below():
    # 1.0 among 14 … 22: median 17.5, MAD 2.5, z = 0.6745 × (1 − 17.5) ÷ 2.5 = −4.45
    low = scored({"bs5g_count": 1_000, "resident_population": 10_000_000}, peers={"bs5g_per_10k": PEERS})
    (flag,) = flags_of(low, "outlier")
    assert flag.message_zh == "每万人拥有5G基站数为1.0个/万人，远低于本轮其他城市（中位数18.0个/万人，稳健z值 -4.5）"
    assert flag.message_en == (
        "5G base stations per 10,000 people is 1.0 per 10k people, far below the other cities of the round "
        "(median 18.0 per 10k people, robust z -4.5)"
    )


def test_a_city_only_a_little_above_the_others_is_above_them_under_a_low_cut_off():
    # 20.0 among 8 peers around 19: with itself, median 19, MAD 1, z = 0.6745 — above the median.
    peers = [Decimal(v) for v in (17, 18, 18, 19, 19, 20, 20, 21)]
    result = scored(peers={"bs5g_per_10k": peers}, settings=FlagSettings(outlier_z=Decimal("0.5")))
    (flag,) = flags_of(result, "outlier", "bs5g_per_10k")
    assert "远高于" in flag.message_zh and "稳健z值 0.7" in flag.message_zh and "far above" in flag.message_en


def test_a_robust_z_exactly_at_the_cut_off_is_not_an_outlier():
    # 20.0 among 8 peers: with itself, median 10, MAD 1 → z = 0.6745 × 10 = 6.745.
    peers = [Decimal(v) for v in (8, 9, 9, 10, 10, 11, 11, 12)]
    assert robust_z(Decimal(20), [*peers, Decimal(20)]) == Decimal("6.7450")
    at_cut = FlagSettings(outlier_z=Decimal("6.745"))
    assert flags_of(scored(peers={"bs5g_per_10k": peers}, settings=at_cut), "outlier") == []
    just_under = FlagSettings(outlier_z=Decimal("6.744"))
    assert len(flags_of(scored(peers={"bs5g_per_10k": peers}, settings=just_under), "outlier")) == 1


def test_eight_other_cities_are_enough_and_seven_are_not():
    peers = [Decimal(v) for v in (8, 9, 9, 10, 10, 11, 11, 12)]
    assert len(flags_of(scored(peers={"bs5g_per_10k": peers}), "outlier")) == 1
    assert flags_of(scored(peers={"bs5g_per_10k": peers[:7]}), "outlier") == []
    assert flags_of(scored(peers={"bs5g_per_10k": [*peers[:7], None]}), "outlier") == []  # no value is not a city


def test_an_indicator_without_peers_does_not_silence_later_outliers():
    peers = {
        "fiber_gigabit_coverage": [Decimal(100)] * 3,
        "users_5g_share": [Decimal(v) for v in (8, 9, 9, 10, 10, 11)],
    }
    peers["users_5g_share"] += [Decimal(11), Decimal(12)]
    result = scored({"urban_households": None}, peers=peers)
    assert {(f.code, f.indicator) for f in result.flags} == {
        ("missing_value", "fiber_gigabit_coverage"),
        ("outlier", "users_5g_share"),
    }
    same = {"pon_10g_share": [Decimal(40)] * 9, "users_5g_share": peers["users_5g_share"]}
    assert [(f.code, f.indicator) for f in scored(peers=same).flags] == [("outlier", "users_5g_share")]


@given(values=st.lists(st.integers(-1000, 1000), min_size=2, max_size=30), x=st.integers(-1000, 1000))
def test_the_robust_z_is_the_distance_from_the_median_in_mads(values, x):
    population = [Fraction(v) for v in values]
    median = Fraction(statistics.median(population))
    mad = Fraction(statistics.median([abs(v - median) for v in population]))
    z = robust_z(Decimal(x), [Decimal(v) for v in values])
    if mad == 0:
        assert z is None
    else:
        assert abs(Fraction(z) - Fraction("0.6745") * (x - median) / mad) < Fraction(1, 10**20)


# ------------------------------------------------------------------------------------------------
# Order and summary of the flags
# ------------------------------------------------------------------------------------------------
def test_flags_come_most_severe_first_then_by_indicator():
    result = scored(
        {"pon_10g_ports": 250_000, "bs5g_count": 1_000_001, "users_5g": 12_000_001},
        cases=["industry"] * 5,
        late_days=3,
    )

    assert [(f.severity, f.indicator, f.code) for f in result.flags] == [
        (Severity.CRITICAL, None, "implausible_value"),  # the input itself, above its maximum
        (Severity.CRITICAL, "bs5g_per_10k", "implausible_value"),
        (Severity.CRITICAL, "users_5g_share", "inconsistent_inputs"),
        (Severity.WARNING, "applications", "cases_single_domain"),
        (Severity.WARNING, "pon_10g_share", "threshold_missed"),
        (Severity.INFO, None, "late_submission"),
    ]
    assert result.max_severity == Severity.CRITICAL == 3


def test_no_flags_is_severity_zero_and_severities_read_as_words():
    assert scored().max_severity == 0
    assert scored(late_days=2).max_severity == Severity.INFO
    assert [s.label for s in Severity] == ["info", "warning", "critical"]


# ------------------------------------------------------------------------------------------------
# Limits of thresholds and reference values
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("code", "limit"),
    [
        ("fiber_gigabit_coverage", "300"),
        ("pon_10g_share", "100"),
        ("key_sites_5g_reach", "100"),
        ("bs5g_per_10k", "150"),
        ("users_500m_share", "100"),
        ("users_1000m", "60000000"),
        ("users_5g_share", "100"),
    ],
)
def test_a_threshold_exactly_at_the_limit_is_accepted_and_above_it_refused(code, limit):
    spec = INDICATORS_BY_CODE[code]
    assert indicator_limit(spec) == Decimal(limit)
    assert indicator_value_problem(spec, Decimal(limit)) is None
    step = Decimal(1) if spec.kind == Kind.COUNT else Decimal("0.01")
    assert indicator_value_problem(spec, Decimal(limit) + step) == (
        f"不能超过 {Decimal(limit):,f}",
        f"Cannot be more than {Decimal(limit):,f}",
    )


def test_a_threshold_of_zero_is_possible_and_below_zero_is_not():
    spec = INDICATORS_BY_CODE["users_5g_share"]
    assert indicator_value_problem(spec, Decimal(0)) is None
    assert indicator_value_problem(spec, Decimal("-0.1")) == ("不能为负数", "Cannot be negative")


def test_a_count_threshold_must_be_whole_and_a_share_need_not():
    from indicators.catalogue import APPLICATIONS

    assert indicator_value_problem(APPLICATIONS, Decimal("5.5")) == ("须为整数", "Must be a whole number")
    assert indicator_value_problem(APPLICATIONS, Decimal("5.0")) is None
    assert indicator_value_problem(INDICATORS_BY_CODE["pon_10g_share"], Decimal("30.5")) is None
    assert indicator_value_problem(INDICATORS_BY_CODE["users_1000m"], Decimal("50000.5")) == (
        "须为整数",
        "Must be a whole number",
    )


def test_meets_judges_only_when_both_the_value_and_the_line_are_known():
    from indicators.rules import meets

    # The brief: a value at or above the threshold passes; with either missing there is nothing to judge.
    assert meets(Decimal("12"), Decimal("12")) is True
    assert meets(Decimal("11.9"), Decimal("12")) is False
    assert meets(None, Decimal("12")) is None
    assert meets(Decimal("12"), None) is None

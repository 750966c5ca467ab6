"""The evaluation's rules as pure functions: computations, validation, scoring and flags."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from indicators.catalogue import (
    APPLICATIONS,
    INDICATORS,
    INDICATORS_BY_CODE,
    INPUT_NAMES,
    INPUTS_BY_NAME,
    PROVISIONAL_2021_THRESHOLDS,
    Kind,
)
from indicators.rules import (
    FlagSettings,
    Previous,
    ScoringError,
    Severity,
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

THRESHOLDS = {code: Decimal(v) for code, v in PROVISIONAL_2021_THRESHOLDS.items()}
FIVE_DOMAINS = ["industry", "livelihood", "government", "consumer", "industry"]

# A city that comfortably meets every provisional threshold.
GOOD = {
    "gigabit_capable_households": 1_500_000,
    "urban_households": 1_200_000,
    "pon_10g_ports": 400_000,
    "pon_ports_total": 1_000_000,
    "key_sites_5g_covered": 198,
    "key_sites_total": 200,
    "bs5g_count": 20_000,
    "resident_population": 10_000_000,
    "users_500m_plus": 300_000,
    "broadband_users_total": 1_000_000,
    "users_1000m": 120_000,
    "users_5g": 6_000_000,
    "mobile_users_total": 12_000_000,
}


def codes(result, severity=None):
    return {(f.code, f.indicator) for f in result.flags if severity is None or f.severity == severity}


# ------------------------------------------------------------------------------------------------
# Computations
# ------------------------------------------------------------------------------------------------
def test_indicators_are_computed_in_miit_units_with_one_decimal():
    values = compute_indicators(GOOD)

    assert values["fiber_gigabit_coverage"] == Decimal("125.0")  # may exceed 100 %
    assert values["pon_10g_share"] == Decimal("40.0")
    assert values["key_sites_5g_reach"] == Decimal("99.0")
    assert values["bs5g_per_10k"] == Decimal("20.0")  # 20 000 ÷ (10 000 000 ÷ 10 000)
    assert values["users_500m_share"] == Decimal("30.0")
    assert values["users_1000m"] == Decimal("120000")
    assert values["users_5g_share"] == Decimal("50.0")


def test_rounding_is_half_up_at_the_published_precision():
    spec = INDICATORS_BY_CODE["bs5g_per_10k"]
    assert compute_indicator(spec, {"bs5g_count": 1195, "resident_population": 1_000_000}) == Decimal("12.0")
    assert compute_indicator(spec, {"bs5g_count": 1194, "resident_population": 1_000_000}) == Decimal("11.9")


def test_zero_denominator_or_missing_input_gives_no_value_instead_of_crashing():
    values = compute_indicators({**GOOD, "pon_ports_total": 0, "resident_population": None})
    assert values["pon_10g_share"] is None
    assert values["bs5g_per_10k"] is None


def test_zero_denominator_is_a_validation_error_when_submitting():
    problems = input_problems({**GOOD, "mobile_users_total": 0}, require_all=True)
    assert [(p.field, p.code) for p in problems] == [("mobile_users_total", "zero_denominator")]
    assert "分母" in problems[0].message_zh


def test_missing_inputs_are_fine_in_a_draft_but_required_to_submit():
    partial = {"urban_households": 100}
    assert input_problems(partial, require_all=False) == []
    missing = {p.field for p in input_problems(partial, require_all=True) if p.code == "required"}
    assert missing == set(INPUT_NAMES) - {"urban_households"}


def test_negative_and_absurd_values_are_refused():
    problems = input_problems({"urban_households": -1, "resident_population": 10**12}, require_all=False)
    assert {(p.field, p.code) for p in problems} == {
        ("urban_households", "negative"),
        ("resident_population", "too_large"),
    }


def test_key_site_totals_are_the_sums_of_the_categories():
    counts = {"ks_hospital_total": 12, "ks_hospital_covered": 12, "ks_road_total": 30, "ks_road_covered": 27}
    assert key_site_sums(counts) == (39, 42)
    assert key_site_sums({}) == (None, None)


@given(part=st.integers(0, 10**9), extra=st.integers(0, 10**9))
def test_a_share_whose_part_is_not_above_its_whole_stays_between_0_and_100(part, extra):
    whole = part + extra
    assume(whole > 0)
    for spec in INDICATORS:
        if spec.kind == Kind.SHARE and not spec.may_exceed_100:
            value = compute_indicator(spec, {spec.numerator: part, spec.denominator: whole})
            assert Decimal(0) <= value <= Decimal(100)


# ------------------------------------------------------------------------------------------------
# Consistency
# ------------------------------------------------------------------------------------------------
def test_more_1000m_users_than_500m_users_is_inconsistent():
    found = inconsistencies({**GOOD, "users_1000m": 400_000})
    assert [i.code for i in found] == ["users_1000m_above_users_500m_plus"]
    assert "1000Mbps" in found[0].message_zh and "大于" in found[0].message_zh


def test_gigabit_coverage_above_100_percent_is_not_inconsistent():
    assert inconsistencies(GOOD) == []


def test_a_key_site_category_with_more_covered_than_sites_is_inconsistent():
    found = inconsistencies({**GOOD, "ks_airport_total": 1, "ks_airport_covered": 2})
    assert [i.code for i in found] == ["key_sites_airport_covered_above_total"]


# ------------------------------------------------------------------------------------------------
# Scoring
# ------------------------------------------------------------------------------------------------
def test_a_good_city_meets_everything_without_flags():
    result = score(inputs=GOOD, case_domains=FIVE_DOMAINS, thresholds=THRESHOLDS)
    assert result.meets_all and result.missed == 0
    assert result.flags == []
    assert {r.code: r.passed for r in result.results} == {code: True for code in THRESHOLDS}


def test_a_city_with_25_percent_10g_pon_misses_a_30_percent_threshold():
    # 包头 2022 had 25 % 10G-PON and was still accepted: the score advises, people decide.
    result = score(inputs={**GOOD, "pon_10g_ports": 250_000}, case_domains=FIVE_DOMAINS, thresholds=THRESHOLDS)
    pon = next(r for r in result.results if r.code == "pon_10g_share")
    assert (pon.value, pon.threshold, pon.passed) == (Decimal("25.0"), Decimal("30"), False)
    assert pon.margin == Decimal("-5.0") and pon.margin_relative == Decimal("-0.1667")
    assert not result.meets_all and result.missed == 1
    assert ("threshold_missed", "pon_10g_share") in codes(result, Severity.WARNING)
    flag = next(f for f in result.flags if f.code == "threshold_missed")
    assert flag.message_zh == "城市10G-PON端口占比为25.0%，未达到30.0%的标准"


def test_1000m_users_above_500m_users_is_flagged_critical():
    result = score(inputs={**GOOD, "users_1000m": 350_000}, case_domains=FIVE_DOMAINS, thresholds=THRESHOLDS)
    assert ("inconsistent_inputs", "users_1000m") in codes(result, Severity.CRITICAL)
    assert result.flags[0].severity == Severity.CRITICAL  # the most severe come first


def test_a_value_just_above_the_line_is_borderline():
    result = score(inputs={**GOOD, "bs5g_count": 12_200}, case_domains=FIVE_DOMAINS, thresholds=THRESHOLDS)
    assert ("borderline", "bs5g_per_10k") in codes(result, Severity.INFO)
    assert result.meets_all


def test_fewer_than_five_cases_and_a_single_domain_are_flagged():
    result = score(inputs=GOOD, case_domains=["industry"] * 3, thresholds=THRESHOLDS)
    assert ("cases_insufficient", "applications") in codes(result, Severity.CRITICAL)
    assert ("cases_single_domain", "applications") in codes(result, Severity.WARNING)
    cases = next(r for r in result.results if r.code == "applications")
    assert not cases.passed and result.cases_count == 3


def test_implausible_values_are_flagged():
    result = score(inputs={**GOOD, "bs5g_count": 400_000}, case_domains=FIVE_DOMAINS, thresholds=THRESHOLDS)
    assert ("implausible_value", "bs5g_per_10k") in codes(result, Severity.CRITICAL)


def test_jumps_and_population_changes_against_the_previous_round_are_flagged():
    previous = Previous(
        year=2025,
        inputs={**GOOD, "resident_population": 8_000_000},
        values={**compute_indicators(GOOD), "users_1000m": Decimal(40_000)},
    )
    result = score(inputs=GOOD, case_domains=FIVE_DOMAINS, thresholds=THRESHOLDS, previous=previous)
    assert ("population_changed", "bs5g_per_10k") in codes(result)
    assert ("large_jump", "users_1000m") in codes(result)
    jump = next(f for f in result.flags if f.code == "large_jump")
    assert "2025" in jump.message_zh and "+200%" in jump.message_zh


def test_an_outlier_against_the_other_cities_is_flagged_by_median_and_mad():
    peers = {"bs5g_per_10k": [Decimal(v) for v in (14, 15, 16, 17, 18, 19, 20, 21, 22)]}
    result = score(inputs={**GOOD, "bs5g_count": 90_000}, case_domains=FIVE_DOMAINS, thresholds=THRESHOLDS, peers=peers)
    assert ("outlier", "bs5g_per_10k") in codes(result)
    calm = score(inputs=GOOD, case_domains=FIVE_DOMAINS, thresholds=THRESHOLDS, peers=peers)
    assert ("outlier", "bs5g_per_10k") not in codes(calm)


def test_too_few_peers_never_make_an_outlier():
    peers = {"bs5g_per_10k": [Decimal(15)] * 3}
    result = score(inputs={**GOOD, "bs5g_count": 90_000}, case_domains=FIVE_DOMAINS, thresholds=THRESHOLDS, peers=peers)
    assert "outlier" not in {f.code for f in result.flags}


def test_robust_z_is_none_when_every_value_is_the_same():
    assert robust_z(Decimal(5), [Decimal(5)] * 10) is None


def test_a_late_submission_under_an_extension_is_flagged_for_information():
    result = score(inputs=GOOD, case_domains=FIVE_DOMAINS, thresholds=THRESHOLDS, late_days=4)
    assert ("late_submission", None) in codes(result, Severity.INFO)


def test_a_round_without_a_complete_threshold_set_cannot_be_scored():
    thresholds = dict(THRESHOLDS)
    del thresholds["users_5g_share"]
    with pytest.raises(ScoringError, match="users_5g_share"):
        score(inputs=GOOD, case_domains=FIVE_DOMAINS, thresholds=thresholds)


inputs_strategy = st.fixed_dictionaries({name: st.integers(0, 5 * 10**7) for name in INPUT_NAMES})


@given(inputs=inputs_strategy, name=st.sampled_from(INPUT_NAMES), raise_by=st.integers(1, 10**7))
def test_raising_a_numerator_never_turns_a_pass_into_a_miss(inputs, name, raise_by):
    numerators = {spec.numerator for spec in INDICATORS}
    assume(name in numerators)
    before = score(inputs=inputs, case_domains=FIVE_DOMAINS, thresholds=THRESHOLDS)
    after = score(inputs={**inputs, name: inputs[name] + raise_by}, case_domains=FIVE_DOMAINS, thresholds=THRESHOLDS)
    for old, new in zip(before.results, after.results, strict=True):
        if old.passed:
            assert new.passed, (old.code, name)


@given(inputs=inputs_strategy, factor=st.decimals(min_value="1", max_value="3", places=2))
def test_lowering_thresholds_never_adds_a_miss(inputs, factor):
    strict = {code: value * factor for code, value in THRESHOLDS.items()}
    assert (
        score(inputs=inputs, case_domains=FIVE_DOMAINS, thresholds=THRESHOLDS).missed
        <= score(inputs=inputs, case_domains=FIVE_DOMAINS, thresholds=strict).missed
    )


@given(inputs=inputs_strategy)
def test_meets_all_exactly_when_nothing_is_missed(inputs):
    result = score(inputs=inputs, case_domains=FIVE_DOMAINS, thresholds=THRESHOLDS)
    assert result.meets_all == (result.missed == 0) == all(r.passed for r in result.results)
    missed_flags = {f.indicator for f in result.flags if f.code in ("threshold_missed", "missing_value")}
    assert missed_flags == {r.code for r in result.results if not r.passed}


def test_borderline_margin_is_configurable():
    inputs = {**GOOD, "bs5g_count": 12_600}  # 12.6 against 12: 5 % above the line
    narrow = score(inputs=inputs, case_domains=FIVE_DOMAINS, thresholds=THRESHOLDS)
    wide = score(
        inputs=inputs,
        case_domains=FIVE_DOMAINS,
        thresholds=THRESHOLDS,
        settings=FlagSettings(borderline_margin=Decimal("0.10")),
    )
    assert "borderline" not in {f.code for f in narrow.flags}
    assert ("borderline", "bs5g_per_10k") in codes(wide)


# ------------------------------------------------------------------------------------------------
# Limits of thresholds and reference values
# ------------------------------------------------------------------------------------------------


ALL_SPECS = (*INDICATORS, APPLICATIONS)


@given(spec=st.sampled_from(ALL_SPECS), share=st.fractions(min_value=0, max_value=1))
def test_any_value_from_zero_to_the_limit_is_a_possible_threshold(spec, share):
    value = (indicator_limit(spec) * Decimal(share.numerator) / Decimal(share.denominator)).quantize(Decimal("0.01"))
    if spec.kind in (Kind.COUNT, Kind.CASES):
        value = value.to_integral_value()
    assert indicator_value_problem(spec, min(value, indicator_limit(spec))) is None


@given(spec=st.sampled_from(ALL_SPECS), excess=st.decimals(min_value="0.01", max_value="1e15", places=2))
def test_anything_above_the_limit_or_below_zero_is_refused(spec, excess):
    assert indicator_value_problem(spec, indicator_limit(spec) + excess) is not None
    assert indicator_value_problem(spec, -excess) is not None


@pytest.mark.parametrize("spec", ALL_SPECS, ids=lambda spec: spec.code)
@pytest.mark.parametrize("value", ["NaN", "Infinity", "-Infinity", "sNaN"])
def test_a_threshold_that_is_not_a_number_is_refused_not_a_crash(spec, value):
    assert indicator_value_problem(spec, Decimal(value)) == ("须为数字", "Must be a number")


def test_the_limits_are_those_a_city_could_report():
    limits = {spec.code: indicator_limit(spec) for spec in ALL_SPECS}
    assert limits["pon_10g_share"] == 100 and limits["fiber_gigabit_coverage"] == 300
    assert limits["users_1000m"] == INPUTS_BY_NAME["users_1000m"].maximum and limits["applications"] == 50
    assert indicator_value_problem(INDICATORS_BY_CODE["users_1000m"], Decimal("100.5")) == (
        "须为整数",
        "Must be a whole number",
    )


def test_a_negative_threshold_is_refused_in_chinese():
    assert indicator_value_problem(INDICATORS_BY_CODE["pon_10g_share"], Decimal("-1"))[0] == "不能为负数"
    assert indicator_value_problem(INDICATORS_BY_CODE["pon_10g_share"], Decimal("100.5"))[0] == "不能超过 100"

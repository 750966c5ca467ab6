"""The comparison of a city's counts with the operators' figures (issue 13), against an independent
computation written from the brief: within tolerance when |city − sum| ≤ tolerance % of the sum; a
flag for every count outside it and for every count no operator has reported."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from indicators.crosscheck import MISMATCH, UNREPORTED, compare, flag_details
from indicators.rules import Severity

INPUTS = (
    "pon_10g_ports",
    "pon_ports_total",
    "bs5g_count",
    "users_500m_plus",
    "broadband_users_total",
    "users_1000m",
    "users_5g",
    "mobile_users_total",
)
OPERATORS = ("telecom", "mobile", "unicom", "broadnet")

counts = st.one_of(st.none(), st.integers(min_value=0, max_value=10**8))
figures = st.fixed_dictionaries({name: counts for name in INPUTS})
operator_figures = st.dictionaries(st.sampled_from(OPERATORS), figures, max_size=4)
tolerances = st.decimals(min_value=0, max_value=100, places=2)


def expected_flags(city, operators, tolerance):
    """From the brief, with exact fractions: (input, code, missing operators) of every flag."""
    flags = []
    for name in INPUTS:
        reported = [code for code in OPERATORS if code in operators and operators[code][name] is not None]
        missing = [code for code in OPERATORS if code not in reported]
        if not reported:
            flags.append((name, UNREPORTED, missing))
            continue
        total = sum(operators[code][name] for code in reported)
        if city[name] is None:
            continue
        allowed = Fraction(str(tolerance)) / 100 * total
        if abs(city[name] - total) > allowed:
            flags.append((name, MISMATCH, missing))
    return flags


@given(city=figures, operators=operator_figures, tolerance=tolerances)
def test_flags_match_an_independent_computation(city, operators, tolerance):
    result = compare(city=city, operators=operators, operator_codes=OPERATORS, tolerance=tolerance)
    # Each flag is stored with the numbers behind it (flag_details): input and operators missing.
    got = [
        (details["input"], flag.code, details["missing"])
        for flag, details in zip(result.flags, flag_details(result), strict=True)
    ]
    assert got == expected_flags(city, operators, tolerance)


@given(
    total=st.integers(min_value=1, max_value=10**7),
    tolerance=st.decimals(min_value=0, max_value=100, places=2),
    data=st.data(),
)
def test_the_line_itself_is_within_and_one_more_is_not(total, tolerance, data):
    """At exactly tolerance % above the sum the count passes; one more and it is flagged."""
    allowed = Fraction(str(tolerance)) * total / 100
    at_line = total + int(allowed)  # the largest whole count within
    operators = {"mobile": {"bs5g_count": total}}
    inside = compare(city={"bs5g_count": at_line}, operators=operators, operator_codes=OPERATORS, tolerance=tolerance)
    outside = compare(
        city={"bs5g_count": at_line + 1}, operators=operators, operator_codes=OPERATORS, tolerance=tolerance
    )
    row_in = next(r for r in inside.rows if r.input == "bs5g_count")
    row_out = next(r for r in outside.rows if r.input == "bs5g_count")
    assert row_in.within is True
    assert row_out.within is False


def test_worked_example():
    """青岛 says 20 000 5G base stations; 移动 9 000, 电信 6 000, 联通 4 000, 广电 not reported:
    the sum is 19 000, the city 1 000 (5.26 %) above it, outside a 5 % tolerance, 广电 missing."""
    operators = {
        "mobile": {"bs5g_count": 9000},
        "telecom": {"bs5g_count": 6000},
        "unicom": {"bs5g_count": 4000},
    }
    result = compare(
        city={"bs5g_count": 20000},
        operators=operators,
        operator_codes=OPERATORS,
        tolerance=Decimal("5"),
        names={"broadnet": "中国广电"},
    )
    row = next(r for r in result.rows if r.input == "bs5g_count")
    assert (row.total, row.difference, row.relative, row.within) == (19000, 1000, Decimal("5.26"), False)
    assert row.shares == {"telecom": 6000, "mobile": 9000, "unicom": 4000}
    assert row.missing == ("broadnet",)
    mismatch = [f for f in result.flags if f.code == MISMATCH]
    assert len(mismatch) == 1
    assert "20,000" in mismatch[0].message_zh and "19,000" in mismatch[0].message_zh
    assert "中国广电" in mismatch[0].message_zh
    assert mismatch[0].indicator == "bs5g_per_10k"
    # The seven other inputs nobody reported: one "not reported" flag each.
    assert [f.code for f in result.flags].count(UNREPORTED) == 7
    assert result.state == "mismatch"
    # At 6 % the same figures pass.
    assert (
        compare(city={"bs5g_count": 20000}, operators=operators, operator_codes=OPERATORS, tolerance=Decimal("6"))
        .rows[2]
        .within
    )


def test_a_mismatch_with_two_operators_missing_word_for_word():
    """青岛 says 20 000 5G base stations; 移动 9 000 and 电信 6 000 reported, 联通 and 广电 not: the sum is
    15 000, the city 5 000 (33.33 %) above it, outside a 5 % tolerance."""
    result = compare(
        city={"bs5g_count": 20000, "users_5g": 800000},
        operators={"mobile": {"bs5g_count": 9000}, "telecom": {"bs5g_count": 6000}},
        operator_codes=OPERATORS,
        tolerance=Decimal("5"),
        names={"unicom": "中国联通", "broadnet": "中国广电"},
        names_en={"unicom": "China Unicom", "broadnet": "China Broadnet"},
    )

    row = next(r for r in result.rows if r.input == "bs5g_count")
    assert row.as_dict() == {
        "input": "bs5g_count",
        "city": 20000,
        "total": 15000,
        "shares": {"telecom": 6000, "mobile": 9000},
        "missing": ["unicom", "broadnet"],
        "difference": 5000,
        "relative": "33.33",
        "within": False,
    }
    (mismatch,) = [f for f in result.flags if f.code == MISMATCH]
    assert mismatch.indicator == "bs5g_per_10k"
    assert mismatch.message_zh == (
        "“5G基站数”城市填报 20,000，运营商合计 15,000，相差 +5,000（+33.33%），超出允许偏差 5%；"
        "未报送的运营商：中国联通、中国广电。"
    )
    assert mismatch.message_en == (
        "“5G base stations”: the city reports 20,000, the operators 15,000 in all, a difference of +5,000 "
        "(+33.33%), beyond the tolerance of 5%; operators not reported: China Unicom, China Broadnet."
    )
    unreported = next(f for f in result.flags if f.code == UNREPORTED and "5G用户数" in f.message_zh)
    assert unreported.indicator == "users_5g_share"
    assert unreported.message_zh == "尚无运营商报送“5G用户数”，无法与城市填报数核对（城市填报 800,000）。"
    assert (
        unreported.message_en
        == "No operator has reported “5G users” yet, so the city's figure (800,000) cannot be checked."
    )

    details = flag_details(result)
    assert len(details) == len(result.flags) == 8  # seven counts nobody reported, and the mismatch
    assert {"input": "bs5g_count", "city": 20000, "operators": 15000, "missing": ["unicom", "broadnet"]} in details
    assert {
        "input": "users_5g",
        "city": 800000,
        "operators": None,
        "missing": ["telecom", "mobile", "unicom", "broadnet"],
    } in details


def test_a_row_nobody_reported_has_no_difference_and_keeps_the_city_s_figure():
    result = compare(city={"users_5g": 800000}, operators={}, operator_codes=OPERATORS, tolerance=Decimal("5"))
    row = next(r for r in result.rows if r.input == "users_5g")
    assert row.as_dict() == {
        "input": "users_5g",
        "city": 800000,
        "total": None,
        "shares": {},
        "missing": list(OPERATORS),
        "difference": None,
        "relative": None,
        "within": None,
    }
    assert result.state == "unreported"


def test_severities_and_the_messages_without_a_missing_operator_or_a_figure():
    every = {code: {"bs5g_count": 0} for code in OPERATORS}
    result = compare(
        city={"bs5g_count": 5}, operators=every, operator_codes=OPERATORS, tolerance=Decimal("5"), names={}
    )
    (mismatch,) = [f for f in result.flags if f.code == MISMATCH]
    assert mismatch.severity == Severity.WARNING
    # All four reported 0: no operator is missing, and a difference from 0 has no percentage.
    assert mismatch.message_zh == "“5G基站数”城市填报 5，运营商合计 0，相差 +5（—），超出允许偏差 5%。"
    assert mismatch.message_en == (
        "“5G base stations”: the city reports 5, the operators 0 in all, a difference of +5 (—), "
        "beyond the tolerance of 5%."
    )
    unreported = next(f for f in result.flags if f.code == UNREPORTED and "5G用户数" in f.message_zh)
    assert unreported.severity == Severity.INFO
    assert unreported.message_zh == "尚无运营商报送“5G用户数”，无法与城市填报数核对（城市填报 —）。"
    assert (
        unreported.message_en == "No operator has reported “5G users” yet, so the city's figure (—) cannot be checked."
    )

"""The watch list's judgement of one Gigabit City in one round, and which kind of form a city files,
as the brief states them (PRODUCT.md, *A Gigabit City's life*), without a database: a named city is
on the watch list when a figure of the round is below its threshold, when it has not reported by its
deadline (or the round is closed), or when the ministry did not confirm its annual report. A city
exactly on a line meets it; a city named in a round files an evaluation that round and an annual
report in every later one."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.utils import translation

from indicators.catalogue import INDICATORS
from reviews.lifecycle import BELOW_THRESHOLD, NOT_CONFIRMED, NOT_REPORTED, _judge
from submissions.kinds import kind_of

TODAY = datetime.date(2026, 12, 6)
LINES = {
    "fiber_gigabit_coverage": Decimal("80.0"),
    "pon_10g_share": Decimal("30.0"),
    "key_sites_5g_reach": Decimal("95.0"),
    "bs5g_per_10k": Decimal("10.0"),
    "users_500m_share": Decimal("25.0"),
    "users_1000m": Decimal("20000"),
    "users_5g_share": Decimal("50.0"),
}
GOOD = {
    "value_fiber_gigabit_coverage": Decimal("92.1"),
    "value_pon_10g_share": Decimal("41.0"),
    "value_key_sites_5g_reach": Decimal("100.0"),
    "value_bs5g_per_10k": Decimal("22.5"),
    "value_users_500m_share": Decimal("38.2"),
    "value_users_1000m": Decimal("150000"),
    "value_users_5g_share": Decimal("66.0"),
}


def a_round(status: str = "open", deadline: datetime.date | None = datetime.date(2026, 12, 31), **known) -> dict:
    return {"status": status, "deadline": deadline, "has_forms": True, "has_published": False, **known}


def a_form(status: str = "submitted", kind: str = "annual_report", **values) -> dict:
    return {
        **GOOD,
        **{f"value_{code}": value for code, value in values.items()},
        "status": status,
        "kind": kind,
        "shortfall": ["pon_10g_share"],
        "improvement_due": datetime.date(2027, 6, 30),
    }


def judged(round_=None, form=None, published=None, thresholds=LINES, deadline=None, today=TODAY):
    return _judge(round_ if round_ is not None else a_round(), form, published, thresholds, deadline, today)


def test_the_catalogue_has_the_seven_indicators_these_tests_name():
    assert {spec.code for spec in INDICATORS} == set(LINES)


def test_a_city_meeting_every_line_in_a_reported_form_is_not_on_the_list():
    result = judged(form=a_form())
    assert result == {"reasons": [], "source": "form", "below": [], "shortfall": [], "improvement_due": None}


def test_a_figure_below_its_line_puts_the_city_on_the_list_with_the_gap():
    result = judged(form=a_form(pon_10g_share=Decimal("24.0")))

    assert result["reasons"] == [BELOW_THRESHOLD]
    assert [row["code"] for row in result["below"]] == ["pon_10g_share"]
    row = result["below"][0]
    assert (row["value"], row["threshold"], row["margin"]) == (Decimal("24.0"), Decimal("30.0"), Decimal("-6.0"))
    assert row["relative"] == Decimal("-20.0")  # 6 of 30 below the line: −20.0 %
    assert row["decimals"] == 1
    assert row["name"] in ("城市10G-PON端口占比", "10G-PON port share")


@pytest.mark.parametrize(
    ("language", "name", "unit"), [("zh-hans", "1000Mbps用户数", "户"), ("en", "Users at 1000 Mbps", "users")]
)
def test_the_gap_is_named_in_the_reader_s_language(language, name, unit):
    with translation.override(language):
        row = judged(form=a_form(users_1000m=Decimal("15000")))["below"][0]
    assert (row["name"], row["unit"], row["decimals"]) == (name, unit, 0)
    assert (row["margin"], row["relative"]) == (Decimal("-5000"), Decimal("-25.0"))


def test_exactly_on_the_line_meets_it_and_just_below_does_not():
    assert judged(form=a_form(users_1000m=Decimal("20000")))["reasons"] == []
    below = judged(form=a_form(users_1000m=Decimal("19999")))
    assert below["reasons"] == [BELOW_THRESHOLD]
    assert below["below"][0]["relative"] == Decimal("-0.0")  # 1 of 20 000: −0.005 % shown as −0.0 %


def test_every_indicator_below_its_line_is_listed_in_the_catalogue_s_order():
    low = {code: line - 1 for code, line in LINES.items()}
    result = judged(form=a_form(**low))
    assert [row["code"] for row in result["below"]] == [spec.code for spec in INDICATORS]


def test_an_indicator_without_a_line_in_the_round_is_not_judged():
    lines = {code: line for code, line in LINES.items() if code != "pon_10g_share"}
    assert judged(form=a_form(pon_10g_share=Decimal("1.0")), thresholds=lines)["reasons"] == []


def test_a_zero_line_gives_no_relative_gap():
    lines = {**LINES, "users_1000m": Decimal("0")}
    result = judged(form=a_form(users_1000m=Decimal("-5")), thresholds=lines)
    assert result["below"][0]["relative"] is None


def test_a_draft_does_not_count_the_published_figures_do():
    draft = a_form(status="draft", pon_10g_share=Decimal("10.0"))
    published = {**GOOD, "value_pon_10g_share": Decimal("24.0")}

    result = judged(form=draft, published=published)

    assert result["source"] == "published"
    assert [row["value"] for row in result["below"]] == [Decimal("24.0")]


@pytest.mark.parametrize("status", ["submitted", "recommended", "sent_back", "approved", "rejected"])
def test_a_form_that_reached_the_bureau_is_the_source_of_the_figures(status):
    result = judged(form=a_form(status=status, kind="evaluation"), published={**GOOD, "value_pon_10g_share": 0})
    assert result["source"] == "form" and result["below"] == []


@pytest.mark.parametrize("status", ["draft", "returned"])
def test_a_form_the_city_still_holds_is_not_a_report(status):
    result = judged(form=a_form(status=status), round_=a_round(deadline=datetime.date(2026, 12, 1)))
    assert result["source"] is None and result["reasons"] == [NOT_REPORTED]


def test_not_reported_is_said_only_once_the_deadline_has_passed():
    assert judged(deadline=TODAY + datetime.timedelta(days=1))["reasons"] == []
    assert judged(deadline=TODAY)["reasons"] == []  # the deadline day itself is still in time
    assert judged(deadline=TODAY - datetime.timedelta(days=1))["reasons"] == [NOT_REPORTED]


def test_the_city_s_own_deadline_wins_over_the_round_s():
    late_round = a_round(deadline=TODAY - datetime.timedelta(days=10))
    assert judged(round_=late_round, deadline=TODAY + datetime.timedelta(days=5))["reasons"] == []
    assert judged(round_=late_round)["reasons"] == [NOT_REPORTED]  # no extension: the round's date


def test_a_round_without_a_deadline_is_still_open_for_reports():
    assert judged(round_=a_round(deadline=None))["reasons"] == []


@pytest.mark.parametrize("status", ["closed", "published"])
def test_a_closed_round_without_a_report_is_not_reported_whatever_the_date(status):
    assert judged(round_=a_round(status, deadline=TODAY + datetime.timedelta(days=30)))["reasons"] == [NOT_REPORTED]


@pytest.mark.parametrize("status", ["closed", "published"])
def test_a_closed_round_gigacity_has_no_record_of_is_not_judged(status):
    unknown = a_round(status, has_forms=False, has_published=False)
    assert judged(round_=unknown) is None
    # ... but with forms of other cities, or published figures, the city's silence counts
    assert judged(round_=a_round(status, has_forms=False, has_published=True))["reasons"] == [NOT_REPORTED]
    assert judged(round_=a_round(status, has_forms=True, has_published=False))["reasons"] == [NOT_REPORTED]
    # ... and the city's own published figures are judged
    assert judged(round_=unknown, published=GOOD)["reasons"] == []


def test_an_open_round_with_no_record_yet_is_judged():
    assert judged(round_=a_round(has_forms=False, deadline=TODAY - datetime.timedelta(days=1)))["reasons"] == [
        NOT_REPORTED
    ]


def test_a_round_that_does_not_exist_is_not_judged():
    assert _judge(None, a_form(), None, LINES, None, TODAY) is None


def test_an_annual_report_not_confirmed_is_on_the_list_with_its_shortfall_and_date():
    result = judged(form=a_form(status="rejected", kind="annual_report", pon_10g_share=Decimal("29.9")))

    assert result["reasons"] == [BELOW_THRESHOLD, NOT_CONFIRMED]
    assert result["shortfall"] == ["pon_10g_share"]
    assert result["improvement_due"] == datetime.date(2027, 6, 30)


def test_a_rejected_evaluation_is_not_a_report_not_confirmed():
    result = judged(form=a_form(status="rejected", kind="evaluation"))
    assert result == {"reasons": [], "source": "form", "below": [], "shortfall": [], "improvement_due": None}


def test_a_confirmed_annual_report_carries_no_shortfall():
    result = judged(form=a_form(status="approved", kind="annual_report"))
    assert result["reasons"] == [] and result["shortfall"] == [] and result["improvement_due"] is None


# ------------------------------------------------------------------------------------------------
# Which kind of form
# ------------------------------------------------------------------------------------------------
def test_a_city_never_named_files_an_evaluation_every_year():
    assert kind_of(None, 2026) == "evaluation"


def test_a_city_files_an_evaluation_in_the_year_it_is_named_and_annual_reports_after():
    assert kind_of(2025, 2024) == "evaluation"  # a form of a year before the naming
    assert kind_of(2025, 2025) == "evaluation"
    assert kind_of(2025, 2026) == "annual_report"
    assert kind_of(2021, 2030) == "annual_report"

"""Explain a score (issue 15, item 4): for every indicator of a form, the raw counts, the formula with
the numbers filled in, threshold and margin, last round's value and the change, the position among
the round's cities, and every flag with the rule that raised it, on the form's page and in the API.
Expected figures are worked out by hand from the brief's formulas and provisional 2021 thresholds."""

from __future__ import annotations

import datetime
from decimal import ROUND_HALF_UP, Decimal

import pytest
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st
from rest_framework.test import APIClient

from gigacity.models import City
from indicators.models import Round
from indicators.reference import ensure_thresholds
from submissions.explain import position_among
from submissions.models import Status
from tests.factories import make_submission
from tests.reviews.test_whatif import BAOTOU_LIKE, STRONG

pytestmark = pytest.mark.django_db

QINGDAO, YANTAI, WEIFANG = "370200", "370600", "370700"


def explain(user, submission, language="zh-hans") -> dict:
    client = APIClient()
    client.force_authenticate(user)
    response = client.get(f"/api/v1/submissions/{submission.pk}/explain/", HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200, response.content
    return {row["code"]: row for row in response.json()["indicators"]} | {"_": response.json()}


def test_a_10g_pon_share_of_25_percent_is_explained_in_words_with_its_numbers(city_user, open_round):
    submission = make_submission(City.objects.get(pk=QINGDAO), open_round, Status.SUBMITTED, **BAOTOU_LIKE)

    rows = explain(city_user, submission)

    pon = rows["pon_10g_share"]
    assert [(i["name"], i["value"]) for i in pon["inputs"]] == [("pon_10g_ports", 25), ("pon_ports_total", 100)]
    assert pon["worked"] == "10G-PON及以上端口数 25 ÷ PON端口总数 100 × 100 = 25.0%"
    assert (pon["value"], pon["threshold"], pon["passed"]) == ("25.0", "30.00", False)
    assert pon["margin"] == "-5.00" and pon["margin_relative"] == "-0.1667"  # 5 of 30
    assert "差5.0个百分点" in pon["judgement"] and "16.7%" in pon["judgement"]
    [flag] = pon["flags"]
    assert flag["code"] == "threshold_missed" and "未达到30.0%的标准" in flag["message"]
    assert flag["rule"] == "低于本轮标准值的指标予以标记。"
    bs = rows["bs5g_per_10k"]  # 15,000 stations for 10,000,000 people
    assert bs["worked"] == "5G基站数 15,000 ÷（常住人口数 10,000,000 ÷ 10,000）= 15.0个/万人"
    assert rows["applications"]["worked"] == "已填报应用案例6个"
    assert rows["_"]["summary"] == "按当前数据，8项要求中有1项未达到本轮标准。"


def test_last_rounds_value_the_change_and_the_rank_among_the_rounds_cities(city_user, open_round):
    last_year = Round.objects.create(
        year=open_round.year - 1, status="open", deadline=timezone.localdate() + datetime.timedelta(days=3)
    )
    ensure_thresholds(last_year)
    make_submission(City.objects.get(pk=QINGDAO), last_year, Status.SUBMITTED, **{**STRONG, "bs5g_count": 12_000})
    submission = make_submission(City.objects.get(pk=QINGDAO), open_round, Status.SUBMITTED, **STRONG)
    make_submission(City.objects.get(pk=YANTAI), open_round, Status.SUBMITTED, **{**STRONG, "bs5g_count": 20_000})
    make_submission(City.objects.get(pk=WEIFANG), open_round, Status.SUBMITTED, **{**STRONG, "bs5g_count": 10_000})

    bs = explain(city_user, submission)["bs5g_per_10k"]

    # 12.0 → 15.0 per 10 000 people: +3.0, +25 %.
    assert bs["previous"]["year"] == last_year.year and bs["previous"]["value"] == "12.00"
    assert bs["previous"]["change"] == "3.00" and bs["previous"]["change_relative"] == "0.2500"
    assert bs["previous"]["text"] == f"{last_year.year}年度：12.0个/万人；变化 +3.0个/万人（+25.0%）。"
    # 20.0, 15.0, 10.0: second of three, above one of the two others.
    assert (bs["position"]["rank"], bs["position"]["of"], bs["position"]["percentile"]) == (2, 3, "50")
    assert "排第2位" in bs["position"]["text"] and "高于50%" in bs["position"]["text"]


def test_a_borderline_value_names_the_rule_with_the_rounds_margin_in_english(city_user, open_round):
    # 12,200 stations for 10,000,000 people = 12.2 per 10 000: passes 12 by less than 3 % of it.
    submission = make_submission(
        City.objects.get(pk=QINGDAO), open_round, Status.SUBMITTED, **{**STRONG, "bs5g_count": 12_200}
    )

    bs = explain(city_user, submission, "en")["bs5g_per_10k"]

    assert bs["passed"] is True and bs["margin"] == "0.20"
    assert bs["judgement"].startswith("Meets the threshold of 12.0 per 10k people: 0.2 per 10k people above it")
    [flag] = bs["flags"]
    assert flag["code"] == "borderline" and "by less than 3% of the threshold" in flag["rule"]


def test_the_forms_page_explains_each_result(client, city_user, open_round):
    submission = make_submission(City.objects.get(pk=QINGDAO), open_round, Status.SUBMITTED, **BAOTOU_LIKE)
    client.force_login(city_user)

    page = client.get(f"/submissions/{submission.pk}/").content.decode()

    section = page[page.index('data-testid="score-explanation"') :]
    assert "各项结果的由来" in section
    assert "10G-PON及以上端口数 25 ÷ PON端口总数 100 × 100 = 25.0%" in section
    assert "标记规则：" in section and "低于本轮标准值的指标予以标记。" in section


def test_another_citys_form_is_not_explained(city_user_other_province, open_round):
    submission = make_submission(City.objects.get(pk=QINGDAO), open_round, Status.SUBMITTED)
    client = APIClient()
    client.force_authenticate(city_user_other_province)
    assert client.get(f"/api/v1/submissions/{submission.pk}/explain/").status_code == 404


@given(
    value=st.decimals(min_value=0, max_value=200, places=1),
    others=st.lists(st.decimals(min_value=0, max_value=200, places=1), max_size=40),
)
def test_the_rank_counts_the_cities_above_and_the_percentile_those_below(value, others):
    """Rank 1 is the highest; cities with the same value share a rank; the percentile is the share of
    the other cities strictly below, in whole percent (half up)."""
    rank, of, percentile = position_among(value, sorted(others))
    assert rank == 1 + len([v for v in others if v > value])
    assert of == len(others) + 1
    if not others:
        assert percentile is None
    else:
        below = Decimal(len([v for v in others if v < value])) * 100 / len(others)
        assert percentile == below.quantize(Decimal(1), rounding=ROUND_HALF_UP)

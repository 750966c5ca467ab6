"""What-if thresholds (issue 15, item 1): the ministry types candidate thresholds and sees what they
would do to the round before saving, on the thresholds page and by API; nothing is written.

The expected figures come from the brief's thresholds (10G-PON ≥ 30 %, 包头 2022 accepted at 25 %)
and from scoring each form through the worker's own `compute_score`, never from the simulation."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from gigacity.models import City
from indicators.catalogue import CATALOGUE
from indicators.models import Round, RoundStatus, ThresholdChange
from reviews.services import thresholds_update
from submissions.models import REPORTED_STATES, Score, Status, Submission
from submissions.scoring import compute_score
from tests.factories import make_submission

pytestmark = pytest.mark.django_db

QINGDAO, JINAN, YANTAI, WEIFANG = "370200", "370100", "370600", "370700"  # 青岛, 济南 named in 2021

# A form that meets every provisional 2021 threshold of the brief with room to spare.
STRONG = {
    "gigabit_capable_households": 900_000,
    "urban_households": 1_000_000,  # 90 % ≥ 80 %
    "pon_10g_ports": 40,
    "pon_ports_total": 100,  # 40 % ≥ 30 %
    "bs5g_count": 15_000,
    "resident_population": 10_000_000,  # 15 per 10 000 ≥ 12
    "users_500m_plus": 300_000,
    "broadband_users_total": 2_000_000,  # 15 % ≥ 10 %
    "users_1000m": 100_000,  # ≥ 50 000
    "users_5g": 4_000_000,
    "mobile_users_total": 10_000_000,  # 40 % ≥ 25 %
    **{
        f"ks_{key}_{part}": 10
        for key in ("hospital", "university", "tourism", "railway", "airport", "road")
        for part in ("total", "covered")
    },  # 100 % ≥ 95 %
}
BAOTOU_LIKE = {**STRONG, "pon_10g_ports": 25}  # 10G-PON 25 %: misses the 30 % line


def city(code: str) -> City:
    return City.objects.get(pk=code)


@pytest.fixture
def api(ministry_user) -> APIClient:
    client = APIClient()
    client.force_authenticate(ministry_user)
    return client


@pytest.fixture
def two_forms(open_round):
    strong = make_submission(city(YANTAI), open_round, Status.SUBMITTED, **STRONG)
    baotou = make_submission(city(QINGDAO), open_round, Status.SUBMITTED, **BAOTOU_LIKE)
    return strong, baotou


def writes_snapshot(round_: Round) -> tuple:
    round_.refresh_from_db()
    return (
        round_.threshold_version,
        round_.threshold_map(),
        ThresholdChange.objects.count(),
        Score.objects.count(),
        list(Submission.objects.order_by("pk").values_list("pk", "version", "scoring_state", "meets_all")),
    )


def test_lowering_the_10g_pon_line_to_25_percent_shows_the_city_that_would_then_meet_all(api, open_round, two_forms):
    _strong, baotou = two_forms
    before = writes_snapshot(open_round)

    response = api.get(f"/api/v1/rounds/{open_round.year}/what-if/", {"pon_10g_share": "25"})

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["reported"] == 2
    assert body["meets_all"] == {"before": 1, "after": 2}
    pon = next(i for i in body["indicators"] if i["code"] == "pon_10g_share")
    assert (pon["threshold_before"], pon["threshold_after"]) == ("30.00", "25")
    assert (pon["passing_before"], pon["passing_after"]) == (1, 2)
    [change] = body["changes"]
    assert change["submission"] == baotou.pk and change["city_name"] == "青岛市" and change["province_name"] == "山东省"
    assert (change["meets_all_before"], change["meets_all_after"]) == (False, True)
    assert change["missed_before"] == ["pon_10g_share"] and change["missed_after"] == []
    assert Decimal(change["values"]["pon_10g_share"]) == Decimal("25")
    # 青岛 was named in 2021: this is a Gigabit City on annual report that would meet all again.
    assert change["annual_report"] is True
    assert body["annual_reports"] == {"reported": 1, "meets_all_before": 0, "meets_all_after": 1}
    assert writes_snapshot(open_round) == before  # a simulation writes nothing


def test_raising_a_line_shows_the_cities_that_would_then_miss(api, open_round, two_forms):
    strong, _baotou = two_forms

    body = api.get(f"/api/v1/rounds/{open_round.year}/what-if/", {"bs5g_per_10k": "16"}).json()

    assert body["meets_all"] == {"before": 1, "after": 0}
    [change] = body["changes"]
    assert change["submission"] == strong.pk and change["missed_after"] == ["bs5g_per_10k"]
    assert Decimal(change["values"]["bs5g_per_10k"]) == Decimal("15")


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"pon_10g_share": "abc"}, "pon_10g_share", "须为数字"),
        ({"pon_10g_share": "101"}, "pon_10g_share", "不能超过 100"),
        ({"key_sites_5g_reach": "-1"}, "key_sites_5g_reach", "不能为负数"),
        ({"applications": "4.5"}, "applications", "须为整数"),
        ({"users_5g_share": "NaN"}, "users_5g_share", "须为数字"),
        ({"base_version": "99"}, "base_version", "99"),
        ({"version": "x"}, "version", ""),
    ],
)
def test_a_candidate_no_city_could_report_is_refused_on_its_field_and_nothing_is_saved(
    api, open_round, two_forms, params, field, message
):
    before = writes_snapshot(open_round)

    response = api.get(f"/api/v1/rounds/{open_round.year}/what-if/", params)

    assert response.status_code == 400
    errors = response.json()["errors"]
    assert list(errors) == [field] and message in errors[field][0]
    assert writes_snapshot(open_round) == before


def test_two_saved_versions_compare_like_typing_the_later_values(api, open_round, two_forms, ministry_user):
    first = open_round.threshold_version
    thresholds_update(round_=open_round, values={"pon_10g_share": "25"}, reason="与包头口径一致", actor=ministry_user)

    saved = api.get(f"/api/v1/rounds/{open_round.year}/what-if/", {"base_version": first, "version": first + 1})
    typed = api.get(f"/api/v1/rounds/{open_round.year}/what-if/", {"base_version": first, "pon_10g_share": "25"})

    assert saved.status_code == typed.status_code == 200
    assert saved.json()["meets_all"] == typed.json()["meets_all"] == {"before": 1, "after": 2}
    assert saved.json()["candidate"]["thresholds"]["pon_10g_share"] == "25.00"
    assert saved.json()["base"]["thresholds"]["pon_10g_share"] == "30.00"


def test_a_round_with_no_reported_form_says_so(client, ministry_user, open_round):
    make_submission(city(YANTAI), open_round, Status.DRAFT)  # a draft is not reported
    client.force_login(ministry_user)

    response = client.post(f"/ministry/rounds/{open_round.year}/", {"preview_thresholds": "1", "pon_10g_share": "25"})

    assert response.status_code == 200
    page = response.content.decode()
    assert 'data-testid="what-if-empty"' in page and "尚无" in page


def test_the_thresholds_page_previews_typed_values_and_saves_nothing(client, ministry_user, open_round, two_forms):
    client.force_login(ministry_user)
    before = writes_snapshot(open_round)

    response = client.post(f"/ministry/rounds/{open_round.year}/", {"preview_thresholds": "1", "pon_10g_share": "25"})

    assert response.status_code == 200
    page = response.content.decode()
    assert 'data-testid="what-if"' in page and "青岛市" in page and "年度复核" in page
    assert writes_snapshot(open_round) == before


def test_the_thresholds_page_refuses_a_bad_candidate_on_its_field(client, ministry_user, open_round, two_forms):
    client.force_login(ministry_user)

    response = client.post(f"/ministry/rounds/{open_round.year}/", {"preview_thresholds": "1", "pon_10g_share": "120"})

    assert response.status_code == 400
    page = response.content.decode()
    assert 'data-testid="what-if"' not in page
    field = page[page.index('data-threshold="pon_10g_share"') :]
    assert "不能超过 100" in field[: field.index("</div>")]


def test_saved_versions_compare_on_the_page_and_a_missing_version_is_refused(client, ministry_user, open_round):
    make_submission(city(YANTAI), open_round, Status.SUBMITTED, **STRONG)
    first = open_round.threshold_version
    thresholds_update(round_=open_round, values={"bs5g_per_10k": "16"}, reason="提高标准", actor=ministry_user)
    client.force_login(ministry_user)

    ok = client.get(
        f"/ministry/rounds/{open_round.year}/", {"compare": "1", "base_version": first, "version": first + 1}
    )
    bad = client.get(f"/ministry/rounds/{open_round.year}/", {"compare": "1", "base_version": 0, "version": 99})

    assert ok.status_code == 200 and "烟台市" in ok.content.decode()
    assert bad.status_code == 400 and 'data-testid="what-if"' not in bad.content.decode()


# ------------------------------------------------------------------------------------------------
# The simulation's counts are the worker's: every form scored by `compute_score` with the candidate
# ------------------------------------------------------------------------------------------------
LIMITS = {
    "fiber_gigabit_coverage": 150,
    "pon_10g_share": 100,
    "key_sites_5g_reach": 100,
    "bs5g_per_10k": 40,
    "users_500m_share": 60,
    "users_1000m": 400_000,
    "users_5g_share": 100,
    "applications": 12,
}
WHOLE = {"users_1000m", "applications"}


def candidate_strategy():
    def value(code):
        if code in WHOLE:
            return st.integers(0, LIMITS[code]).map(Decimal)
        return st.decimals(min_value=0, max_value=LIMITS[code], places=1, allow_nan=False, allow_infinity=False)

    return st.fixed_dictionaries({}, optional={spec.code: value(spec.code) for spec in CATALOGUE})


@pytest.fixture
def varied_round(open_round):
    """Eight reported forms of uneven strength, some Gigabit Cities of 2021, in several states."""
    for i, (code, state) in enumerate(
        [
            (QINGDAO, Status.SUBMITTED),
            (JINAN, Status.RECOMMENDED),
            (YANTAI, Status.SUBMITTED),
            (WEIFANG, Status.RETURNED),  # with the city again: not reported
            ("370300", Status.SUBMITTED),
            ("320300", Status.SUBMITTED),
            ("320100", Status.APPROVED),
            ("370800", Status.SUBMITTED),
            ("371000", Status.DRAFT),  # not reported
        ]
    ):
        make_submission(city(code), open_round, state, seed=i, strength=0.6 + 0.1 * (i % 6))
    return open_round


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(candidate=candidate_strategy())
def test_the_simulation_counts_equal_scoring_every_form_through_the_worker(api, varied_round, candidate):
    round_ = varied_round
    base = round_.threshold_map()
    full = {**base, **candidate}
    forms = list(Submission.objects.filter(round=round_, status__in=REPORTED_STATES))
    now = {f.pk: compute_score(f, base) for f in forms}
    then = {f.pk: compute_score(f, full) for f in forms}

    response = api.get(f"/api/v1/rounds/{round_.year}/what-if/", {k: str(v) for k, v in candidate.items()})

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["reported"] == len(forms) == 7
    assert body["meets_all"] == {
        "before": sum(r.meets_all for r in now.values()),
        "after": sum(r.meets_all for r in then.values()),
    }
    for row in body["indicators"]:
        assert row["passing_before"] == sum(
            r.passed for result in now.values() for r in result.results if r.code == row["code"]
        )
        assert row["passing_after"] == sum(
            r.passed for result in then.values() for r in result.results if r.code == row["code"]
        )
    assert {c["submission"] for c in body["changes"]} == {pk for pk in now if now[pk].meets_all != then[pk].meets_all}


def test_only_ministry_staff_simulate_and_a_draft_round_is_theirs_alone(client, bureau_user, open_round):
    client.force_login(bureau_user)
    assert client.get(f"/api/v1/rounds/{open_round.year}/what-if/").status_code == 403
    Round.objects.filter(pk=open_round.pk).update(status=RoundStatus.DRAFT)
    assert client.get("/api/v1/rounds/1999/what-if/").status_code == 403

"""Issue 13, item 5: operators' figures that change a form's comparison verdict appear in the form's
history (its page and GET /api/v1/submissions/{id}/history/), with who and when; the city's officials
see that operators' figures were compared, the bureau and the ministry which operator."""

from __future__ import annotations

import pytest
from django.test import TestCase

from submissions.models import Status
from submissions.operators import operator_figures_report
from tests.factories import make_submission

pytestmark = pytest.mark.django_db

QINGDAO = "370200"


def report(actor, round_, count, operator=None):
    with TestCase.captureOnCommitCallbacks(execute=True):
        operator_figures_report(
            actor=actor,
            round_=round_,
            operator_code=operator,
            rows=[{"city": QINGDAO, "bs5g_count": count}],
            source="api",
        )


@pytest.fixture
def checked_form(open_round, operator_user, operator_user_other, bureau_user):
    """青岛's form with 20,000 5G base stations, and four reports of the operators' counts of them
    (the other seven counts are reported by nobody):
    1. 中国移动 9,000: 20,000 vs 9,000, far beyond 5 %  → unreported becomes mismatch (1 count)
    2. 中国电信 6,000: 15,000 in all, still beyond      → no change of verdict, no entry
    3. 中国联通 5,000, entered by the bureau: 20,000 = 20,000 → consistent where compared, 7 unreported
    4. 中国移动 12,000 instead of 9,000: 23,000, 3,000 (13 %) apart → mismatch again (1 count)"""
    form = make_submission(
        operator_user.province.cities.get(code=QINGDAO), open_round, Status.SUBMITTED, bs5g_count=20000
    )
    report(operator_user, open_round, 9000)
    report(operator_user_other, open_round, 6000)
    report(bureau_user, open_round, 5000, operator="unicom")
    report(operator_user, open_round, 12000)
    return form


REVIEWER_TEXTS = [
    "运营商数据：中国移动 报送了 1 项数据 — 与城市填报不一致（1 项）",
    "运营商数据：中国联通（shandong 代为录入） 报送了 1 项数据 — 已比对的数据一致，7 项尚无运营商数据",
    "运营商数据：中国移动 更新了 1 项数据 — 与城市填报不一致（1 项）",
]
CITY_TEXTS = [
    "运营商数据：运营商 报送了 1 项数据 — 与城市填报不一致（1 项）",
    "运营商数据：运营商 报送了 1 项数据 — 已比对的数据一致，7 项尚无运营商数据",
    "运营商数据：运营商 更新了 1 项数据 — 与城市填报不一致（1 项）",
]


def test_the_api_history_lists_the_verdict_changes_with_who_and_when(client, bureau_user, checked_form):
    client.force_login(bureau_user)

    body = client.get(f"/api/v1/submissions/{checked_form.pk}/history/").json()

    figures = body["figures"]
    assert [f["text"] for f in figures] == REVIEWER_TEXTS
    assert [(f["previous"], f["verdict"], f["outside"], f["unreported"]) for f in figures] == [
        ("unreported", "mismatch", 1, 7),
        ("mismatch", "unreported", 0, 7),
        ("unreported", "mismatch", 1, 7),
    ]
    assert [
        [(r["operator"], r["actor"], r["role"], r["on_behalf"], r["counts"], r["first"]) for r in f["reports"]]
        for f in figures
    ] == [
        [("mobile", "sd_mobile", "operator", False, 1, True)],
        [("unicom", "shandong", "bureau", True, 1, True)],
        [("mobile", "sd_mobile", "operator", False, 1, False)],
    ]
    times = [f["time"] for f in figures]
    assert times == sorted(times)
    assert [e["action"] for e in body["events"]] == ["submit"]


def test_the_city_sees_that_operators_figures_were_compared_but_not_which_operator(client, city_user, checked_form):
    client.force_login(city_user)

    body = client.get(f"/api/v1/submissions/{checked_form.pk}/history/").json()

    assert [f["text"] for f in body["figures"]] == CITY_TEXTS
    reports = [r for f in body["figures"] for r in f["reports"]]
    assert {(r["operator"], r["operator_name"], r["actor"], r["role"], r["on_behalf"]) for r in reports} == {
        (None, None, None, None, None)
    }
    page = client.get(f"/submissions/{checked_form.pk}/").content.decode()
    history = page.split('data-testid="history"')[1].split("</ol>")[0]
    for text in CITY_TEXTS:
        assert text in history
    assert "中国移动" not in history and "中国联通" not in history and "sd_mobile" not in history


def test_the_review_page_merges_the_entries_into_the_timeline_in_time_order(client, ministry_user, checked_form):
    client.force_login(ministry_user)

    page = client.get(f"/submissions/{checked_form.pk}/").content.decode()

    history = page.split('data-testid="history"')[1].split("</ol>")[0]
    positions = [history.index(text) for text in REVIEWER_TEXTS]
    assert positions == sorted(positions)
    assert history.index("提交") < positions[0]  # the submission came first
    assert "中国电信" not in history  # its report changed no verdict
    assert "<strong>sd_mobile</strong>" in history and "<strong>shandong</strong>" in history


def test_no_entry_when_no_operator_has_reported(client, bureau_user, city_user, open_round):
    form = make_submission(city_user.city, open_round, Status.SUBMITTED)
    client.force_login(bureau_user)

    body = client.get(f"/api/v1/submissions/{form.pk}/history/").json()

    assert body["figures"] == []


def test_the_score_gives_the_city_the_operators_sum_but_not_each_operators_count(
    client, city_user, bureau_user, checked_form
):
    url = f"/api/v1/submissions/{checked_form.pk}/score/"
    client.force_login(bureau_user)
    reviewer = next(r for r in client.get(url).json()["comparison"] if r["input"] == "bs5g_count")
    client.force_login(city_user)
    body = client.get(url).json()
    city = next(r for r in body["comparison"] if r["input"] == "bs5g_count")

    # 12,000 + 6,000 + 5,000 = 23,000 against the city's 20,000
    assert reviewer["shares"] == {"mobile": 12000, "telecom": 6000, "unicom": 5000}
    assert reviewer["missing"] == ["broadnet"]
    assert (city["city"], city["total"], city["difference"], city["within"]) == (20000, 23000, -3000, False)
    assert "shares" not in city and "missing" not in city
    flag = next(f for f in body["flags"] if f["code"] == "operator_mismatch")
    assert flag["details"] == {"input": "bs5g_count", "city": 20000, "operators": 23000}

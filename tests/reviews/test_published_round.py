"""After a round is published every page that showed its countdown or its waiting counts says instead
that it is published, when, and what that froze (decisions final, forms read-only)."""

from __future__ import annotations

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from gigacity.models import City
from indicators.models import RoundStatus
from reviews.services import round_set_status
from submissions.models import Status
from tests.factories import make_submission

pytestmark = pytest.mark.django_db


@pytest.fixture
def published_round(open_round, ministry_user):
    """This year's round (its deadline a month away), published with one form still waiting for its
    bureau and one still waiting for the ministry."""
    make_submission(City.objects.get(pk="370200"), open_round, Status.SUBMITTED)
    make_submission(City.objects.get(pk="370100"), open_round, Status.RECOMMENDED)
    round_set_status(round_=open_round, status=RoundStatus.CLOSED, actor=ministry_user)
    return round_set_status(round_=open_round, status=RoundStatus.PUBLISHED, actor=ministry_user)


@pytest.mark.parametrize(
    ("who", "url", "undecided"),
    [
        ("city_user", "/city/", None),
        ("bureau_user", "/bureau/", 2),
        ("bureau_user", "/dashboard/province/370000/", 2),
        ("ministry_user", "/ministry/", 2),
        ("ministry_user", "/ministry/queue/", 1),
        ("ministry_user", "/dashboard/province/370000/", 2),
        ("ministry_user", "/ministry/rounds/{year}/", 2),
    ],
)
def test_every_page_of_a_published_round_says_it_is_published_and_counts_down_to_nothing(
    request, client, published_round, who, url, undecided
):
    client.force_login(request.getfixturevalue(who))
    today = timezone.localdate().isoformat()

    response = client.get(url.format(year=published_round.year))

    page = response.content.decode()
    assert response.status_code == 200
    assert f"结果已于 {today} 发布" in page
    assert f"{published_round.year}年度评估结果已于 {today} 发布" in page
    assert "审核决定为最终结果，调查表均为只读" in page
    assert "剩余" not in page and "截止日期" not in page.split("<main")[1].split("</h1>")[1].split("</div>")[0]
    for waiting in ("待审核", "待省局审核", "待工信部审定", "待审定的推荐城市"):
        assert waiting not in page, waiting
    if undecided:
        assert f"{undecided} 份调查表在发布时尚未决定" in page


def test_a_published_round_offers_the_bureau_no_bulk_action_and_reviews_become_views(
    client, bureau_user, published_round
):
    client.force_login(bureau_user)

    page = client.get("/bureau/").content.decode()

    assert "推荐所选城市" not in page and 'name="ids"' not in page and "data-select-all" not in page
    assert ">审核<" not in page and ">查看<" in page


def test_the_dashboard_api_of_a_published_round_gives_its_date_and_no_countdown(published_round, ministry_user):
    client = APIClient()
    client.force_authenticate(ministry_user)

    data = client.get("/api/v1/dashboard/national/", {"round": published_round.year}).json()

    assert data["round"]["status"] == "published"
    assert data["round"]["published_on"] == timezone.localdate().isoformat()
    assert data["round"]["days_to_deadline"] is None

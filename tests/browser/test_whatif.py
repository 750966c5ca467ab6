"""Ministry staff try a candidate threshold on the round's page and see its effect before saving.
Screenshot: artifacts/screenshots/what-if-*.png."""

from __future__ import annotations

import pytest

from gigacity.models import City
from indicators.models import Round
from submissions.models import Status
from tests.factories import make_submission
from tests.reviews.test_whatif import BAOTOU_LIKE, STRONG

from .conftest import login, screenshot, use_language

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_typing_25_percent_for_10g_pon_previews_the_city_that_would_then_meet_all(
    page, live_server, ministry_user, open_round, language
):
    make_submission(City.objects.get(pk="370600"), open_round, Status.SUBMITTED, **STRONG)
    make_submission(City.objects.get(pk="370200"), open_round, Status.SUBMITTED, **BAOTOU_LIKE)
    version = Round.objects.get(pk=open_round.pk).threshold_version
    login(page, ministry_user.username)
    use_language(page, live_server, language)
    page.goto(f"/ministry/rounds/{open_round.year}/")

    page.locator("#id_pon_10g_share").fill("25")
    with page.expect_navigation():
        page.get_by_test_id("what-if-preview").click()

    panel = page.get_by_test_id("what-if")
    panel.scroll_into_view_if_needed()
    assert page.locator("#id_pon_10g_share").input_value() == "25"  # the typed value stays, unsaved
    changes = page.get_by_test_id("what-if-changes").inner_text()
    # 青岛, a Gigabit City since 2021, is marked as filing an annual report (its kind badge: 复核表)
    assert ("青岛市" in changes) and (
        "复核" in changes if language == "zh-hans" else "annual report" in changes.lower()
    )
    assert "1 → 2" in panel.inner_text()
    assert Round.objects.get(pk=open_round.pk).threshold_version == version
    screenshot(page, f"what-if-{language}")

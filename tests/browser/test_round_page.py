"""Ministry staff on a round's page: thresholds line up, saving them unchanged warns of nothing and
says nothing changed, a change asks first; flag settings read as percentages. Screenshots:
artifacts/screenshots/round-*.png."""

from __future__ import annotations

import pytest

from gigacity.models import City
from submissions.models import Status
from tests.factories import make_submission

from .conftest import login, screenshot, use_language

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_threshold_inputs_line_up_in_one_column(page, live_server, ministry_user, open_round, language):
    login(page, ministry_user.username)
    use_language(page, live_server, language)

    page.goto(f"/ministry/rounds/{open_round.year}/")

    form = page.get_by_test_id("thresholds-form")
    lefts = form.locator("input[type=number]").evaluate_all(
        "(inputs) => inputs.map((i) => i.getBoundingClientRect().left)"
    )
    rights = form.locator("input[type=number]").evaluate_all(
        "(inputs) => inputs.map((i) => i.getBoundingClientRect().right)"
    )
    assert len(lefts) == 8
    assert max(lefts) - min(lefts) < 1 and max(rights) - min(rights) < 1, (lefts, rights)
    percent = page.locator("#id_borderline_margin")
    assert percent.input_value() == "3"
    assert percent.locator("xpath=following-sibling::*[1]").inner_text() == "%"
    screenshot(page, f"round-{language}")


def test_saving_unchanged_thresholds_asks_nothing_and_a_change_asks_first(page, ministry_user, open_round):
    make_submission(City.objects.get(pk="370200"), open_round, Status.SUBMITTED)
    questions = []
    page.on("dialog", lambda dialog: (questions.append(dialog.message), dialog.accept()))
    login(page, ministry_user.username)
    page.goto(f"/ministry/rounds/{open_round.year}/")

    with page.expect_navigation():
        page.get_by_role("button", name="保存标准值").click()

    assert questions == []
    assert "没有修改" in page.locator(".messages").inner_text()

    page.get_by_label("城市10G-PON端口占比").fill("30.0")  # the same number, typed differently
    with page.expect_navigation():
        page.get_by_role("button", name="保存标准值").click()
    assert questions == []

    page.get_by_label("城市10G-PON端口占比").fill("35")
    page.get_by_test_id("thresholds-form").get_by_label("修改理由").fill("按正式文件调整")
    with page.expect_navigation():
        page.get_by_role("button", name="保存标准值").click()

    assert len(questions) == 1 and "1 份调查表将重新评分" in questions[0]
    assert "已修改 1 项标准值" in page.locator(".messages").inner_text()
    history = page.get_by_test_id("threshold-history").inner_text()
    assert "35.0" in history and "50,000" in history and "50000.00" not in history
    screenshot(page, "round-thresholds-saved")

"""From a city's submission to a named Gigabit City, across the three roles, in a real browser."""

from __future__ import annotations

import pytest

from gigacity.models import Role
from indicators.models import Designation
from submissions.models import Status, Submission
from tests.conftest import make_user
from tests.factories import make_submission

from .conftest import login, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def confirm_dialogs(page):
    page.on("dialog", lambda dialog: dialog.accept())


def test_city_bureau_and_ministry_carry_a_submission_to_an_approved_gigabit_city(
    open_page, bureau_user, ministry_user, open_round
):
    # 烟台 has never been named: its form is an evaluation, and the ministry's approval names it.
    city_user = make_user("yantai", Role.CITY, city="370600")
    submission = make_submission(city_user.city, open_round, Status.DRAFT)

    # The city submits.
    city = open_page()
    confirm_dialogs(city)
    login(city, city_user.username)
    city.goto(f"/submissions/{submission.pk}/edit/")
    with city.expect_navigation():
        city.get_by_role("button", name="提交至省通信管理局").click()
    assert "已提交" in city.inner_text(".messages")
    screenshot(city, "journey-1-city-submitted")

    # The bureau sees it waiting, and returns it with a comment on one field.
    bureau = open_page()
    confirm_dialogs(bureau)
    login(bureau, bureau_user.username)
    assert bureau.get_by_test_id("waiting").inner_text() == "1"
    bureau.get_by_role("link", name="审核", exact=True).first.click()
    bureau.fill("#return-reason", "5G基站数与运营商数据不一致，请核实后重新提交。")
    bureau.select_option("#cf0", "bs5g_count")
    bureau.fill("#ct0", "请按运营商年报口径填写")
    screenshot(bureau, "journey-2-bureau-returning")
    with bureau.expect_navigation():
        bureau.get_by_role("button", name="退回城市").click()
    assert "已退回城市" in bureau.inner_text(".messages")

    # The city sees the comment next to the field, fixes the number and resubmits.
    city.goto("/city/")
    assert city.get_by_test_id("unread-count").inner_text() == "1"
    city.get_by_test_id("open-form").click()
    assert "请按运营商年报口径填写" in city.get_by_test_id("comment-bs5g_count").inner_text()
    assert "5G基站数与运营商数据不一致" in city.get_by_test_id("return-reason").inner_text()
    screenshot(city, "journey-3-city-sees-comment")
    city.fill("#id_bs5g_count", "9,999")
    with city.expect_navigation():
        city.get_by_role("button", name="提交至省通信管理局").click()

    # The bureau sees exactly what changed, and recommends with two excellent cases.
    bureau.goto(f"/submissions/{submission.pk}/")
    diff = bureau.get_by_test_id("diff").inner_text()
    assert "5G基站数" in diff and "9,999" in diff and "常住人口数" not in diff
    checkboxes = bureau.locator('input[name="excellent"]')
    checkboxes.nth(0).check()
    checkboxes.nth(1).check()
    bureau.fill("#recommend-note", "已按意见修改，数据核实无误。")
    screenshot(bureau, "journey-4-bureau-diff")
    with bureau.expect_navigation():
        bureau.get_by_role("button", name="推荐", exact=True).click()

    # The ministry approves from its queue.
    ministry = open_page()
    confirm_dialogs(ministry)
    login(ministry, ministry_user.username)
    ministry.goto("/ministry/queue/")
    assert "烟台市" in ministry.get_by_test_id("ministry-queue").inner_text()
    screenshot(ministry, "journey-5-ministry-queue")
    ministry.get_by_role("link", name="审核", exact=True).first.click()
    with ministry.expect_navigation():
        ministry.get_by_role("button", name="认定", exact=True).click()
    assert "已认定" in ministry.inner_text(".messages")

    # The city is a Gigabit City of the round.
    city.goto("/city/")
    assert f"{open_round.year}年度千兆城市" in city.inner_text("main")
    screenshot(city, "journey-6-city-named")
    submission.refresh_from_db()
    assert submission.status == Status.APPROVED
    assert Designation.objects.filter(city=city_user.city, round=open_round).exists()
    assert [e.action for e in submission.events.all()] == ["submit", "return", "submit", "recommend", "approve"]
    assert Submission.objects.get(pk=submission.pk).cases.filter(is_excellent=True).count() == 2


def test_a_bureau_selects_every_waiting_city_and_recommends_them_at_once(
    open_page, city_user, city_user_same_province, bureau_user, open_round
):
    submitted = [
        make_submission(user.city, open_round, Status.SUBMITTED) for user in (city_user, city_user_same_province)
    ]
    bureau = open_page(width=1024, height=768)  # a tablet in landscape
    questions = []
    bureau.on("dialog", lambda dialog: (questions.append(dialog.message), dialog.accept()))
    login(bureau, bureau_user.username)
    recommend = bureau.get_by_role("button", name="推荐所选城市")
    assert recommend.is_disabled()  # nothing selected yet

    bureau.get_by_label("全选可推荐或退回的城市").check()

    assert bureau.locator("[data-selected-count]").inner_text() == "已选 2 个"
    assert recommend.is_enabled()
    screenshot(bureau, "bureau-bulk-selected")
    with bureau.expect_navigation():
        recommend.click()
    assert questions == ["将所选的 2 个城市推荐至工信部？"]
    for submission in submitted:
        submission.refresh_from_db()
        assert submission.status == Status.RECOMMENDED

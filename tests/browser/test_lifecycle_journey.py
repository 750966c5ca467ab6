"""A Gigabit City's life across the years in a real browser: 青岛 (named in 2021) files its annual report
and the ministry confirms it, without naming it again; the ministry prepares and opens next year's
round, and the city finds its form started from last year's, its cases marked as last year's."""

from __future__ import annotations

import pytest

from indicators.models import Designation, Round, RoundStatus
from submissions.models import Status, Submission
from tests.factories import make_submission

from .conftest import ARTIFACTS, login, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def view(page, name: str) -> None:
    """What fits on the screen at 1366×768 (the full-page screenshots of a long form are too tall to read)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))


def confirm_dialogs(page):
    page.on("dialog", lambda dialog: dialog.accept())


def test_a_2021_gigabit_city_files_its_annual_report_and_the_ministry_confirms_it(
    open_page, city_user, bureau_user, ministry_user, open_round
):
    submission = make_submission(city_user.city, open_round, Status.DRAFT)

    # The city sees that it owes an annual report, as a Gigabit City of 2021, and submits it.
    city = open_page()
    confirm_dialogs(city)
    login(city, city_user.username)
    home = city.inner_text("main")
    assert "2021年度千兆城市" in home and "年度复核" in home
    city.get_by_test_id("open-form").click()
    assert "本表为其" in city.get_by_test_id("form-kind").inner_text()
    screenshot(city, "life-1-city-annual-report")
    with city.expect_navigation():
        city.get_by_role("button", name="提交至省通信管理局").click()
    assert "已提交" in city.inner_text(".messages")

    # The bureau reviews it like any form and recommends it.
    bureau = open_page()
    confirm_dialogs(bureau)
    login(bureau, bureau_user.username)
    assert "年度复核" in bureau.get_by_test_id("city-table").inner_text()
    bureau.goto(f"/submissions/{submission.pk}/")
    with bureau.expect_navigation():
        bureau.get_by_role("button", name="推荐", exact=True).click()

    # The ministry confirms it: there is no button that would name it again.
    ministry = open_page()
    confirm_dialogs(ministry)
    login(ministry, ministry_user.username)
    ministry.goto("/ministry/queue/")
    assert "年度复核" in ministry.get_by_test_id("ministry-queue").inner_text()
    ministry.get_by_role("link", name="审核", exact=True).first.click()
    actions = ministry.get_by_test_id("actions")
    assert actions.get_by_role("button", name="认定", exact=True).count() == 0
    assert "不再重复认定" in actions.inner_text()
    screenshot(ministry, "life-2-ministry-decides-annual-report")
    actions.scroll_into_view_if_needed()
    view(ministry, "life-2a-decision")
    with ministry.expect_navigation():
        ministry.get_by_test_id("confirm").click()
    assert "复核通过" in ministry.inner_text(".messages")

    # The city is still a Gigabit City of 2021, once, and its annual report is confirmed.
    city.goto("/city/")
    main = city.inner_text("main")
    assert main.count("千兆城市") >= 1 and city.locator(".badge-gigabit").count() == 1
    assert "复核通过" in main
    screenshot(city, "life-3-city-confirmed")
    assert list(Designation.objects.filter(city=city_user.city).values_list("round__year", flat=True)) == [2021]
    assert [e.action for e in Submission.objects.get(pk=submission.pk).events.all()] == [
        "submit",
        "recommend",
        "confirm",
    ]


def test_the_ministry_opens_next_year_s_round_and_the_city_sees_its_carried_over_cases(
    open_page, city_user, ministry_user, open_round
):
    last = make_submission(city_user.city, open_round, Status.SUBMITTED)
    titles = list(last.cases.values_list("title", flat=True))
    year = open_round.year + 1

    # The ministry prepares next year's round from this one, checks it, and opens it.
    ministry = open_page()
    confirm_dialogs(ministry)
    login(ministry, ministry_user.username)
    ministry.goto("/ministry/rounds/")
    assert ministry.get_by_label("年度", exact=True).input_value() == str(year)
    screenshot(ministry, "life-4-rounds")
    with ministry.expect_navigation():
        ministry.get_by_role("button", name="准备新一轮评估").click()
    assert f"已以{open_round.year}年度为基础准备{year}年度评估" in ministry.inner_text(".messages")
    with ministry.expect_navigation():
        ministry.get_by_role("button", name="开始本轮评估").click()
    assert Round.objects.get(year=year).status == RoundStatus.OPEN

    # The city's new form starts from last year's: the cases are there, marked as last year's.
    city = open_page()
    confirm_dialogs(city)
    login(city, city_user.username)
    assert f"{year}年度千兆城市总结评估调查表" in city.inner_text("main")
    city.get_by_test_id("open-form").click()
    assert "本表以贵市" in city.get_by_test_id("carried-over").inner_text()
    marks = city.get_by_test_id("carried-case")
    assert marks.count() == len(titles)
    assert f"沿用{open_round.year}年度" in marks.first.inner_text()
    assert city.locator("#id_bs5g_count").input_value() == ""  # this year's figures start empty
    screenshot(city, "life-5-city-carried-over")
    view(city, "life-5a-form-top")
    city.locator("#section-cases").scroll_into_view_if_needed()
    view(city, "life-5b-carried-cases")

    # Editing a case makes it this year's; the others stay marked.
    city.fill("#id_cases-0-title", titles[0] + "（二期）")
    with city.expect_navigation():
        city.get_by_role("button", name="保存草稿").click()
    assert city.get_by_test_id("carried-case").count() == len(titles) - 1
    form = Submission.objects.get(city=city_user.city, round__year=year)
    assert form.cases.filter(carried_from_year__isnull=True).get().title == titles[0] + "（二期）"

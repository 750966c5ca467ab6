"""Each role logs in and lands on its own home page, in Chinese."""

from __future__ import annotations

import pytest

from .conftest import login, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_browser_is_the_system_chromium(browser):
    assert browser.version.split(".")[0].isdigit()


@pytest.mark.parametrize(
    ("fixture", "path", "heading"),
    [
        ("city_user", "/city/", "青岛市"),
        ("bureau_user", "/bureau/", "山东省 · 审核队列"),
        ("ministry_user", "/ministry/", "全国概况"),
    ],
)
def test_each_role_logs_in_and_sees_its_home_page_in_chinese(page, request, open_round, fixture, path, heading):
    user = request.getfixturevalue(fixture)

    login(page, user.username)

    assert page.url.endswith(path)
    assert page.get_by_role("heading", level=1).inner_text() == heading
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    assert "退出登录" in page.inner_text("header")
    screenshot(page, f"home-{user.role}")


def test_a_wrong_password_is_explained_on_the_login_page(page, city_user):
    login(page, city_user.username, "not-the-password")

    assert page.url.endswith("/login/")
    assert "用户名或密码不正确" in page.inner_text("[role=alert]")
    screenshot(page, "login-wrong-password")


def test_the_language_switch_turns_the_page_english(page, city_user, open_round):
    login(page, city_user.username)
    with page.expect_navigation():
        page.select_option("#language-select", "en")

    assert "Log out" in page.inner_text("header")
    assert page.locator("html").get_attribute("lang") == "en"

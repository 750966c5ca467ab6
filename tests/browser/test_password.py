"""A user changes their own password from the page header, with the keyboard alone; a user who forgot
it gets a link by e-mail and sets a new one."""

from __future__ import annotations

import re

import pytest
from django.core import mail

from tests.conftest import PASSWORD

from .conftest import login, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NEW_PASSWORD = "Gigabit-city-2027"


def focused_id(page) -> str:
    return page.evaluate("document.activeElement.id")


def test_a_city_official_changes_the_password_from_the_header_with_the_keyboard(page, city_user, open_round):
    login(page, city_user.username)
    with page.expect_navigation():
        page.get_by_role("link", name="修改密码").click()
    assert page.url.endswith("/password/change/")
    assert page.get_by_role("heading", level=1).inner_text() == "修改密码"
    assert focused_id(page) == "id_old_password"

    # A wrong current password: typed, Tab to the next field, Enter to send.
    page.keyboard.type("not-my-password")
    page.keyboard.press("Tab")
    assert focused_id(page) == "id_new_password1"
    page.keyboard.type(NEW_PASSWORD)
    page.keyboard.press("Tab")
    assert focused_id(page) == "id_new_password2"
    page.keyboard.type(NEW_PASSWORD)
    with page.expect_navigation():
        page.keyboard.press("Enter")

    assert "你的旧密码不正确" in page.inner_text("#id_old_password_error")
    assert page.get_attribute("#id_old_password", "aria-invalid") == "true"
    assert "id_old_password_error" in page.get_attribute("#id_old_password", "aria-describedby")
    screenshot(page, "password-change-refused")

    page.fill("#id_old_password", PASSWORD)
    page.fill("#id_new_password1", NEW_PASSWORD)
    page.fill("#id_new_password2", NEW_PASSWORD)
    page.focus("#id_new_password2")
    with page.expect_navigation():
        page.keyboard.press("Enter")

    assert page.url.endswith("/city/")
    assert "您的密码已修改" in page.inner_text("[role=status]")
    screenshot(page, "password-changed")

    with page.expect_navigation():
        page.get_by_role("button", name="退出登录").click()
    login(page, city_user.username, NEW_PASSWORD)
    assert page.url.endswith("/city/")


def test_a_forgotten_password_is_reset_by_a_link_sent_by_e_mail(page, city_user, open_round):
    page.goto("/login/")
    with page.expect_navigation():
        page.get_by_role("link", name="忘记密码？").click()
    page.get_by_label("电子邮件").fill(city_user.email)
    screenshot(page, "password-reset-request")
    with page.expect_navigation():
        page.get_by_role("button", name="发送链接").click()
    assert page.get_by_role("heading", level=1).inner_text() == "请查收电子邮件"

    [message] = mail.outbox
    path = re.search(r"https?://[^/\s]+(/password/reset/\S+/)", message.body).group(1)
    page.goto(path)
    assert page.get_by_role("heading", level=1).inner_text() == "设置新密码"
    page.get_by_label("新密码", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("新密码确认").fill(NEW_PASSWORD)
    screenshot(page, "password-reset-confirm")
    with page.expect_navigation():
        page.get_by_role("button", name="确认设置新密码").click()

    assert page.get_by_role("heading", level=1).inner_text() == "新密码已设置"
    with page.expect_navigation():
        page.get_by_role("link", name="登录").click()
    login(page, city_user.username, NEW_PASSWORD)
    assert page.url.endswith("/city/")

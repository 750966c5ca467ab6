"""A user's own password: the change page, and the reset by a link sent by e-mail. Both are limited
and recorded; a new password ends the user's other sessions and revokes their API tokens."""

from __future__ import annotations

import base64
import logging
import re
from datetime import timedelta

import pytest
from django.contrib.auth.tokens import PasswordResetTokenGenerator, default_token_generator
from django.core import mail
from django.test import Client
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from gigacity.models import Role
from gigacity.views import CHANGE_PER_ACCOUNT, CHANGE_PER_ADDRESS, RESET_PER_ADDRESS, RESET_PER_EMAIL
from tests.conftest import PASSWORD, make_user

pytestmark = pytest.mark.django_db

CHANGE = "/password/change/"
RESET = "/password/reset/"
NEW_PASSWORD = "Gigabit-city-2027"


def logged_in(user, ip="10.0.0.1") -> Client:
    """A browser in which `user` logged in through the login page."""
    client = Client(REMOTE_ADDR=ip)
    assert client.post("/login/", {"username": user.username, "password": PASSWORD}).status_code == 302
    return client


def api_token(user, password=PASSWORD) -> str:
    response = Client().post(
        "/api/v1/auth/token/", {"username": user.username, "password": password}, content_type="application/json"
    )
    assert response.status_code == 200
    return response.json()["token"]


def token_works(token: str) -> bool:
    return Client().get("/api/v1/cities/", HTTP_AUTHORIZATION=f"Token {token}").status_code == 200


def still_logged_in(client: Client) -> bool:
    return client.get("/notifications/").status_code == 200


def can_log_in(user, password) -> bool:
    response = Client(REMOTE_ADDR="10.1.1.1").post("/login/", {"username": user.username, "password": password})
    return response.status_code == 302


def change(client, old=PASSWORD, new=NEW_PASSWORD, confirm=None, **extra):
    data = {"old_password": old, "new_password1": new, "new_password2": new if confirm is None else confirm}
    return client.post(CHANGE, data, **extra)


def link_in(message) -> str:
    return re.search(r"http://testserver(/password/reset/\S+/)", message.body).group(1)


@pytest.fixture(autouse=True)
def _site_url(settings):
    settings.GIGACITY_SITE_URL = "http://testserver"


@pytest.fixture
def run_on_commit(django_capture_on_commit_callbacks):
    """Requests run inside the test's transaction: run what they leave for after the commit (the
    e-mail task, in-process as in development)."""

    def post(client, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(*args, **kwargs)

    return post


# The change page -------------------------------------------------------------------------------------


@pytest.mark.parametrize("fixture", ["city_user", "bureau_user", "ministry_user"])
def test_every_role_finds_the_change_page_in_the_page_header(client, request, fixture):
    client.force_login(request.getfixturevalue(fixture))

    header = client.get("/notifications/").content.decode().split("</header>")[0]
    page = client.get(CHANGE)

    assert f'href="{CHANGE}"' in header and "修改密码" in header
    assert page.status_code == 200
    body = page.content.decode()
    assert "<h1>修改密码</h1>" in body and "旧密码" in body and "新密码确认" in body


def test_a_change_keeps_this_session_ends_the_others_and_revokes_the_api_tokens(city_user):
    here, elsewhere = logged_in(city_user), logged_in(city_user, ip="10.0.0.2")
    token = api_token(city_user)

    response = change(here)

    assert response.status_code == 302 and response["Location"] == "/"
    assert "您的密码已修改" in here.get("/notifications/").content.decode()
    assert still_logged_in(here)
    assert not still_logged_in(elsewhere)
    assert not token_works(token)
    assert can_log_in(city_user, NEW_PASSWORD) and not can_log_in(city_user, PASSWORD)


def test_a_wrong_current_password_changes_nothing_and_says_so_in_chinese(city_user):
    client = logged_in(city_user)
    token = api_token(city_user)

    response = change(client, old="not-my-password")

    assert response.status_code == 400
    body = response.content.decode()
    assert "你的旧密码不正确" in body
    assert 'aria-invalid="true"' in body and 'id="id_old_password_error"' in body
    assert token_works(token) and can_log_in(city_user, PASSWORD)


@pytest.mark.parametrize(
    ("new", "confirm", "message"),
    [("12345678", None, "这个密码太常见了"), (NEW_PASSWORD, "Something-else-2027", "输入的两个密码不一致")],
)
def test_a_weak_or_mistyped_new_password_is_refused(city_user, new, confirm, message):
    client = logged_in(city_user)

    response = change(client, new=new, confirm=confirm)

    assert response.status_code == 400 and message in response.content.decode()
    assert can_log_in(city_user, PASSWORD)


@pytest.mark.parametrize("data", [{}, {"old_password": "x" * 10_000}, {"new_password1": "\x00"}])
def test_bad_input_on_the_change_page_is_an_error_not_a_crash(client, city_user, data):
    client.force_login(city_user)
    assert client.post(CHANGE, data).status_code == 400


def test_anonymous_visitors_are_sent_to_the_login_page(client):
    response = client.post(CHANGE, {"old_password": "x"})
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_guessing_the_current_password_is_limited_per_account(city_user):
    client = logged_in(city_user)
    for _ in range(CHANGE_PER_ACCOUNT.count):
        assert change(client, old="guess").status_code == 400

    refused = change(client)  # even with the right password

    assert refused.status_code == 429
    assert "尝试次数过多，请 15 分钟后再试" in refused.content.decode()
    assert int(refused["Retry-After"]) == CHANGE_PER_ACCOUNT.seconds
    assert can_log_in(city_user, PASSWORD)
    # Another browser, the same account: still refused (the limit follows the account).
    assert change(logged_in(city_user, ip="10.0.0.2")).status_code == 429


def test_guessing_across_accounts_from_one_address_is_limited_per_address(city_user):
    per_account = CHANGE_PER_ACCOUNT.count - 1
    accounts = -(-CHANGE_PER_ADDRESS.count // per_account)
    for number in range(accounts):
        client = logged_in(make_user(f"guesser{number}", Role.CITY, city="370200"), ip="10.5.5.5")
        for _ in range(per_account):
            change(client, old="guess")

    assert change(logged_in(city_user, ip="10.5.5.5")).status_code == 429
    assert change(logged_in(city_user, ip="10.6.6.6")).status_code == 302


def test_a_change_is_recorded_with_who_and_where(city_user, caplog):
    client = logged_in(city_user, ip="10.7.7.7")
    with caplog.at_level(logging.INFO, logger="gigacity.accounts"):
        change(client)

    [record] = [r for r in caplog.records if r.name == "gigacity.accounts"]
    assert record.getMessage() == f"password changed by the user: user qingdao (id {city_user.pk}) from 10.7.7.7"
    assert NEW_PASSWORD not in caplog.text and PASSWORD not in caplog.text


# The reset by e-mail ---------------------------------------------------------------------------------


def test_the_login_page_offers_the_reset_instead_of_sending_people_to_the_bureau(client):
    body = client.get("/login/").content.decode()
    assert f'href="{RESET}"' in body and "忘记密码？" in body
    assert "发送到账号的电子邮箱" in body


def test_a_reset_link_arrives_in_chinese_and_sets_a_new_password(city_user, run_on_commit):
    client = Client()
    response = run_on_commit(client, RESET, {"email": "QingDao@Example.cn"})

    assert response.status_code == 302 and response["Location"] == "/password/reset/sent/"
    assert "请查收电子邮件" in client.get(response["Location"]).content.decode()
    [message] = mail.outbox
    assert message.to == ["qingdao@example.cn"]
    assert "设置新密码" in message.subject and "\n" not in message.subject
    assert "qingdao" in message.body and "60 分钟" in message.body

    form = client.get(link_in(message), follow=True)
    assert form.status_code == 200 and "设置新密码" in form.content.decode()
    done = client.post(form.redirect_chain[-1][0], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})

    assert done.status_code == 302 and done["Location"] == "/password/reset/done/"
    assert "新密码已设置" in client.get(done["Location"]).content.decode()
    assert can_log_in(city_user, NEW_PASSWORD) and not can_log_in(city_user, PASSWORD)


def test_the_reset_page_answers_alike_whether_or_not_an_account_has_the_address(city_user, run_on_commit):
    known = run_on_commit(Client(), RESET, {"email": city_user.email}, REMOTE_ADDR="10.0.0.1")
    unknown = run_on_commit(Client(), RESET, {"email": "nobody@example.cn"}, REMOTE_ADDR="10.0.0.2")

    assert (known.status_code, known["Location"]) == (unknown.status_code, unknown["Location"])
    assert len(mail.outbox) == 1  # only the real account gets a link


def test_an_inactive_account_gets_no_link(city_user, run_on_commit):
    city_user.is_active = False
    city_user.save()

    assert run_on_commit(Client(), RESET, {"email": city_user.email}).status_code == 302
    assert mail.outbox == []


def reset_link(user) -> str:
    user.refresh_from_db()  # the token depends on the last login, which logging in has changed
    return f"/password/reset/{urlsafe_base64_encode(force_bytes(user.pk))}/{default_token_generator.make_token(user)}/"


def test_an_expired_link_is_refused(city_user, settings, monkeypatch):
    link = reset_link(city_user)
    later = PasswordResetTokenGenerator()._now() + timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT + 1)
    monkeypatch.setattr(PasswordResetTokenGenerator, "_now", lambda self: later)

    response = Client().get(link, follow=True)

    body = response.content.decode()
    assert response.status_code == 200
    assert "链接已过期或已被使用" in body and 'name="new_password1"' not in body
    assert can_log_in(city_user, PASSWORD)


def test_a_link_works_once(city_user):
    link = reset_link(city_user)
    client = Client()
    form_url = client.get(link)["Location"]
    assert client.post(form_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}).status_code == 302

    again = Client().get(link, follow=True)

    assert "链接已过期或已被使用" in again.content.decode()


def test_a_reset_ends_every_session_and_revokes_the_api_tokens(city_user):
    desk, laptop = logged_in(city_user), logged_in(city_user, ip="10.0.0.2")
    token = api_token(city_user)
    client = Client()
    form_url = client.get(reset_link(city_user))["Location"]

    client.post(form_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})

    assert not still_logged_in(desk) and not still_logged_in(laptop)
    assert not token_works(token)


def test_a_reset_ends_a_lockout(city_user, settings):
    locked_out = Client(REMOTE_ADDR="10.1.1.1")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        locked_out.post("/login/", {"username": city_user.username, "password": "wrong"})
    assert not can_log_in(city_user, PASSWORD)
    client = Client()
    form_url = client.get(reset_link(city_user))["Location"]

    client.post(form_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})

    assert can_log_in(city_user, NEW_PASSWORD)


def test_a_reset_is_recorded(city_user, run_on_commit, caplog):
    client = Client(REMOTE_ADDR="10.8.8.8")
    with caplog.at_level(logging.INFO, logger="gigacity.accounts"):
        run_on_commit(client, RESET, {"email": city_user.email})
        form_url = client.get(link_in(mail.outbox[0]))["Location"]
        client.post(form_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})

    assert [r.getMessage() for r in caplog.records if r.name == "gigacity.accounts"] == [
        "password reset requested from 10.8.8.8",
        f"password reset link sent: user qingdao (id {city_user.pk})",
        f"password reset by e-mail link: user qingdao (id {city_user.pk}) from 10.8.8.8",
    ]


@pytest.mark.parametrize("email", ["qingdao@example.cn", "nobody@example.cn"])
def test_reset_requests_for_one_address_are_limited_alike_for_known_and_unknown(city_user, run_on_commit, email):
    for number in range(RESET_PER_EMAIL.count):
        assert run_on_commit(Client(), RESET, {"email": email}, REMOTE_ADDR=f"10.0.0.{number}").status_code == 302

    refused = run_on_commit(Client(), RESET, {"email": email.upper()}, REMOTE_ADDR="10.0.1.1")

    assert refused.status_code == 429
    assert "尝试次数过多，请 60 分钟后再试" in refused.content.decode()
    assert len(mail.outbox) == (RESET_PER_EMAIL.count if email == city_user.email else 0)


def test_reset_requests_from_one_network_address_are_limited(city_user, run_on_commit):
    for number in range(RESET_PER_ADDRESS.count):
        run_on_commit(Client(), RESET, {"email": f"someone{number}@example.cn"}, REMOTE_ADDR="10.9.9.9")

    refused = run_on_commit(Client(), RESET, {"email": city_user.email}, REMOTE_ADDR="10.9.9.9")
    elsewhere = run_on_commit(Client(), RESET, {"email": city_user.email}, REMOTE_ADDR="10.9.9.10")

    assert refused.status_code == 429 and elsewhere.status_code == 302
    assert len(mail.outbox) == 1


@pytest.mark.parametrize(
    "path",
    [
        "/password/reset/MQ/set-password/",
        "/password/reset/!!!/abc-def/",
        f"/password/reset/{base64.urlsafe_b64encode(b'99999999999999999999999').decode().rstrip('=')}/x-y/",
        "/password/reset/bm90LWFuLWlk/1-2/",
    ],
)
def test_a_broken_link_is_explained_not_a_crash(client, city_user, path):
    for response in (client.get(path), client.post(path, {"new_password1": "x", "new_password2": "x"})):
        assert response.status_code == 200
        assert "链接已过期或已被使用" in response.content.decode()


@pytest.mark.parametrize("data", [{}, {"email": "not an address"}, {"email": "a" * 300 + "@example.cn"}])
def test_bad_input_on_the_reset_page_is_an_error_not_a_crash(client, data):
    response = client.post(RESET, data)
    assert response.status_code == 400
    assert mail.outbox == []


def test_the_pages_are_in_english_too(client, city_user):
    client.cookies["gigacity_language"] = "en"
    assert "Forgot your password?" in client.get(RESET).content.decode()
    assert "Forgot your password?" in client.get("/login/").content.decode()
    client.force_login(city_user)
    body = client.get(CHANGE).content.decode()
    assert "<h1>Change password</h1>" in body and "Old password" in body


# API tokens ------------------------------------------------------------------------------------------


def test_a_password_rehashed_at_login_is_no_change_and_keeps_the_tokens(city_user, settings):
    token = api_token(city_user)
    # A new hasher first in the list: Django rehashes the (same) password at the next login.
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
        "django.contrib.auth.hashers.MD5PasswordHasher",
    ]
    before = type(city_user).objects.get(pk=city_user.pk).password

    assert can_log_in(city_user, PASSWORD)

    assert type(city_user).objects.get(pk=city_user.pk).password != before
    assert token_works(token)


def test_the_worker_knows_the_reset_e_mail_task():
    from gigacity.celery import app

    app.loader.import_default_modules()  # what a starting worker does: find every app's tasks
    assert "gigacity.tasks.send_password_reset" in app.tasks

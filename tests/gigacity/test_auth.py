"""Logging in and out, the lockout against password guessing, token login, session lifetime."""

from __future__ import annotations

import time

import pytest
from axes.models import AccessAttempt
from django.urls import reverse

from gigacity.middleware import LOGIN_TIME_KEY
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

LOGIN = "/login/"


def attempt(client, username, password, ip="10.0.0.1"):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=ip)


def test_the_login_page_is_in_chinese_by_default(client):
    response = client.get(LOGIN)
    body = response.content.decode()
    assert response.status_code == 200
    assert 'lang="zh-CN"' in body
    assert "千兆城市" in body and "登录" in body


def test_anonymous_users_see_only_the_login_page(client, reference):
    for url in ("/", "/city/", "/bureau/", "/ministry/", "/notifications/"):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith(LOGIN), url


@pytest.mark.parametrize(
    ("fixture", "home"),
    [
        ("city_user", "/city/"),
        ("bureau_user", "/bureau/"),
        ("ministry_user", "/ministry/"),
        ("admin_user", "/admin/"),
    ],
)
def test_each_role_lands_on_its_own_home_page(client, request, fixture, home):
    user = request.getfixturevalue(fixture)
    response = attempt(client, user.username, PASSWORD)
    assert response.status_code == 302
    assert client.get(response["Location"])["Location"] == home


def test_a_wrong_password_gets_one_message_that_does_not_say_which_part_was_wrong(client, city_user):
    wrong_password = attempt(client, city_user.username, "nope").content.decode()
    wrong_user = attempt(client, "nobody", PASSWORD).content.decode()
    message = "用户名或密码不正确"
    assert message in wrong_password and message in wrong_user


def test_repeated_guessing_locks_the_account_on_that_address_for_the_cool_off(client, city_user, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        attempt(client, city_user.username, "wrong")

    locked = attempt(client, city_user.username, PASSWORD)

    assert locked.status_code == 429
    assert "15 分钟" in locked.content.decode()
    assert "_auth_user_id" not in client.session


def test_a_colleague_behind_the_same_address_can_still_log_in(client, city_user, city_user_same_province, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        attempt(client, city_user.username, "wrong")

    response = attempt(client, city_user_same_province.username, PASSWORD)

    assert response.status_code == 302


def test_the_lock_ends_after_the_cool_off(client, city_user, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        attempt(client, city_user.username, "wrong")
    assert attempt(client, city_user.username, PASSWORD).status_code == 429

    # Move the failures back beyond the cool-off period instead of waiting for it.
    AccessAttempt.objects.update(attempt_time=AccessAttempt.objects.first().attempt_time - settings.AXES_COOLOFF_TIME)

    assert attempt(client, city_user.username, PASSWORD).status_code == 302


def test_logout_ends_the_session(client, city_user):
    client.force_login(city_user)
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert client.get("/city/").status_code == 302


def test_a_session_ends_after_its_absolute_lifetime_however_active(client, city_user, settings):
    client.force_login(city_user)
    session = client.session
    session[LOGIN_TIME_KEY] = time.time() - settings.SESSION_ABSOLUTE_SECONDS - 1
    session.save()

    response = client.get("/city/")

    assert response.status_code == 302 and response["Location"].startswith(LOGIN)


def test_an_api_token_is_issued_for_a_username_and_password(client, city_user):
    response = client.post(
        "/api/v1/auth/token/",
        {"username": city_user.username, "password": PASSWORD},
        content_type="application/json",
    )
    assert response.status_code == 200
    token = response.json()["token"]

    rounds = client.get("/api/v1/cities/", HTTP_AUTHORIZATION=f"Token {token}")
    assert rounds.status_code == 200
    assert [c["code"] for c in rounds.json()["results"]] == ["370200"]


def test_api_token_login_refuses_wrong_passwords_and_locks_out_like_the_page(client, city_user, settings):
    def token(password):
        return client.post(
            "/api/v1/auth/token/",
            {"username": city_user.username, "password": password},
            content_type="application/json",
            REMOTE_ADDR="10.0.0.9",
        )

    wrong = token("wrong")
    assert wrong.status_code == 400
    assert wrong.json()["detail"] == "用户名或密码不正确。"
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        token("wrong")

    locked = token(PASSWORD)

    assert locked.status_code == 429
    assert locked.json()["code"] == "locked_out"


def test_api_token_login_explains_missing_fields(client):
    response = client.post("/api/v1/auth/token/", {"username": ""}, content_type="application/json")
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"username", "password"}


def test_behind_a_proxy_the_lockout_follows_the_real_client_not_the_proxy(client, city_user, settings):
    settings.GIGACITY_PROXY_COUNT = 1
    proxy = {"REMOTE_ADDR": "10.9.9.9"}
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(
            LOGIN, {"username": city_user.username, "password": "wrong"}, HTTP_X_FORWARDED_FOR="203.0.113.7", **proxy
        )

    locked = client.post(
        LOGIN, {"username": city_user.username, "password": PASSWORD}, HTTP_X_FORWARDED_FOR="203.0.113.7", **proxy
    )
    colleague = client.post(
        LOGIN, {"username": city_user.username, "password": PASSWORD}, HTTP_X_FORWARDED_FOR="198.51.100.20", **proxy
    )

    assert locked.status_code == 429
    assert colleague.status_code == 302  # the same account from another office is not locked out


def test_a_forged_forwarded_for_does_not_escape_the_lockout(client, city_user, settings):
    settings.GIGACITY_PROXY_COUNT = 1
    for attempt_number in range(settings.AXES_FAILURE_LIMIT):
        # The attacker writes a new address at the left each time; the proxy appends the real one.
        client.post(
            LOGIN,
            {"username": city_user.username, "password": "wrong"},
            HTTP_X_FORWARDED_FOR=f"192.0.2.{attempt_number}, 203.0.113.7",
            REMOTE_ADDR="10.9.9.9",
        )

    response = client.post(
        LOGIN,
        {"username": city_user.username, "password": PASSWORD},
        HTTP_X_FORWARDED_FOR="192.0.2.200, 203.0.113.7",
        REMOTE_ADDR="10.9.9.9",
    )
    assert response.status_code == 429


def test_without_proxies_the_forwarded_header_is_ignored(rf, settings):
    from gigacity.security import client_ip

    settings.GIGACITY_PROXY_COUNT = 0
    request = rf.get("/", HTTP_X_FORWARDED_FOR="1.2.3.4", REMOTE_ADDR="10.0.0.5")
    assert client_ip(request) == "10.0.0.5"
    settings.GIGACITY_PROXY_COUNT = 2
    request = rf.get("/", HTTP_X_FORWARDED_FOR="6.6.6.6, 1.2.3.4, 10.0.0.1", REMOTE_ADDR="10.0.0.5")
    assert client_ip(request) == "1.2.3.4"


def test_an_api_token_expires_and_a_new_login_gives_a_fresh_one(client, city_user, settings):
    from datetime import timedelta

    from django.utils import timezone
    from rest_framework.authtoken.models import Token

    first = client.post(
        "/api/v1/auth/token/", {"username": city_user.username, "password": PASSWORD}, content_type="application/json"
    ).json()["token"]
    Token.objects.filter(key=first).update(
        created=timezone.now() - timedelta(days=settings.GIGACITY_API_TOKEN_DAYS + 1)
    )

    assert client.get("/api/v1/cities/", HTTP_AUTHORIZATION=f"Token {first}").status_code == 401
    second = client.post(
        "/api/v1/auth/token/", {"username": city_user.username, "password": PASSWORD}, content_type="application/json"
    ).json()["token"]
    assert second != first
    assert client.get("/api/v1/cities/", HTTP_AUTHORIZATION=f"Token {second}").status_code == 200


def test_changing_the_password_revokes_api_tokens(client, city_user):
    token = client.post(
        "/api/v1/auth/token/", {"username": city_user.username, "password": PASSWORD}, content_type="application/json"
    ).json()["token"]
    city_user.set_password("A-new-password-2026")
    city_user.save()
    assert client.get("/api/v1/cities/", HTTP_AUTHORIZATION=f"Token {token}").status_code == 401


def test_a_refusal_a_page_forgot_to_catch_is_shown_in_words_not_as_a_server_error(rf, city_user):
    from django.contrib.messages.storage.fallback import FallbackStorage

    from gigacity.errors import Conflict
    from gigacity.middleware import ApplicationErrorMiddleware

    def view(request):
        raise Conflict("本轮已发布，不能再修改。")

    request = rf.post("/submissions/1/act/approve/")
    request.user = city_user
    request.session = {}
    request._messages = FallbackStorage(request)
    middleware = ApplicationErrorMiddleware(view)
    try:
        view(request)
    except Conflict as exc:
        response = middleware.process_exception(request, exc)

    assert response.status_code == 409 and "本轮已发布，不能再修改。" in response.content.decode()
    api = rf.post("/api/v1/submissions/1/approve/")
    assert middleware.process_exception(api, Conflict("x")) is None  # the API answers in JSON itself

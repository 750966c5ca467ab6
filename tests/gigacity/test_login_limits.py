"""Credential stuffing: one address trying many usernames is paused, a busy office is not.

django-axes locks one account on one address after AXES_FAILURE_LIMIT failures; on top of that an
address is paused once failed logins for GIGACITY_LOGIN_ADDRESS_LIMIT different usernames from it are
on record within the cool-off. A username that then logs in successfully is cleared.
"""

from __future__ import annotations

import pytest
from axes.models import AccessAttempt
from django.test import Client

from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

LOGIN = "/login/"
TOKEN = "/api/v1/auth/token/"
OFFICE = "10.20.30.40"


def page_login(client, username, password, ip=OFFICE, **extra):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=ip, **extra)


def token_login(client, username, password, ip=OFFICE):
    return client.post(
        TOKEN, {"username": username, "password": password}, content_type="application/json", REMOTE_ADDR=ip
    )


def stuff(client, count, ip=OFFICE, prefix="guess"):
    """One failed login for each of `count` different usernames, as a credential-stuffing run makes."""
    for number in range(count):
        page_login(client, f"{prefix}{number}", "Password123", ip=ip)


def test_many_usernames_from_one_address_pause_that_address_for_the_cool_off(client, city_user, settings):
    stuff(client, settings.GIGACITY_LOGIN_ADDRESS_LIMIT)

    paused = page_login(Client(), city_user.username, PASSWORD)
    elsewhere = page_login(Client(), city_user.username, PASSWORD, ip="10.99.0.1")

    assert paused.status_code == 429
    body = paused.content.decode()
    assert "此网络地址" in body and "15 分钟" in body
    assert f'value="{city_user.username}"' in body  # the username stays in the field
    assert "_auth_user_id" not in Client().session
    assert elsewhere.status_code == 302  # the account itself is not locked


def test_the_attempt_that_reaches_the_limit_is_already_refused(client, settings):
    stuff(client, settings.GIGACITY_LOGIN_ADDRESS_LIMIT - 1)

    last = page_login(client, "one-more", "Password123")

    assert last.status_code == 429
    assert "此网络地址" in last.content.decode()


def test_an_office_below_the_limit_keeps_logging_in(client, city_user, city_user_same_province, settings):
    stuff(client, settings.GIGACITY_LOGIN_ADDRESS_LIMIT - 2)
    # Colleagues who mistype and then get it right are not counted against the address.
    for _ in range(3):
        assert page_login(Client(), city_user.username, "typo").status_code == 200
        assert page_login(Client(), city_user.username, PASSWORD).status_code == 302

    assert page_login(Client(), city_user_same_province.username, PASSWORD).status_code == 302
    assert page_login(Client(), city_user.username, PASSWORD).status_code == 302


def test_one_person_retrying_over_and_over_does_not_pause_the_office(client, city_user, city_user_same_province):
    for _ in range(40):
        page_login(client, city_user.username, "wrong")

    assert page_login(Client(), city_user.username, PASSWORD).status_code == 429  # that account, as before
    assert page_login(Client(), city_user_same_province.username, PASSWORD).status_code == 302


def test_changing_the_browser_does_not_escape_the_pause(client, city_user, settings):
    for number in range(settings.GIGACITY_LOGIN_ADDRESS_LIMIT):
        page_login(client, f"guess{number}", "Password123", HTTP_USER_AGENT=f"agent/{number}")

    assert page_login(Client(), city_user.username, PASSWORD, HTTP_USER_AGENT="another").status_code == 429


def test_the_pause_ends_after_the_cool_off(client, city_user, settings):
    stuff(client, settings.GIGACITY_LOGIN_ADDRESS_LIMIT)
    assert page_login(Client(), city_user.username, PASSWORD).status_code == 429

    # Move the failures back beyond the cool-off instead of waiting for it.
    for attempt in AccessAttempt.objects.all():
        attempt.attempt_time -= settings.AXES_COOLOFF_TIME
        attempt.save()

    assert page_login(Client(), city_user.username, PASSWORD).status_code == 302


def test_someone_who_logged_in_on_this_browser_before_still_can(client, city_user, city_user_same_province, settings):
    own_browser = Client()
    assert page_login(own_browser, city_user.username, PASSWORD).status_code == 302
    own_browser.post("/logout/")
    stuff(client, settings.GIGACITY_LOGIN_ADDRESS_LIMIT)

    assert page_login(own_browser, city_user.username, PASSWORD).status_code == 302
    # The browser vouches only for the accounts that logged in on it.
    own_browser.post("/logout/")
    assert page_login(own_browser, city_user_same_province.username, PASSWORD).status_code == 429


def test_the_browser_note_is_signed_and_cannot_be_written_by_hand(client, city_user, settings):
    stuff(client, settings.GIGACITY_LOGIN_ADDRESS_LIMIT)
    forged = Client()
    forged.cookies[settings.GIGACITY_DEVICE_COOKIE_NAME] = f'["{city_user.username}"]'

    assert page_login(forged, city_user.username, PASSWORD).status_code == 429


def test_the_api_token_endpoint_counts_and_obeys_the_same_limit(client, city_user, settings):
    for number in range(settings.GIGACITY_LOGIN_ADDRESS_LIMIT - 1):
        assert token_login(client, f"script{number}", "Password123").status_code == 400

    reached = token_login(client, "script-last", "Password123")
    correct = token_login(client, city_user.username, PASSWORD)

    assert reached.status_code == 429 and correct.status_code == 429
    assert correct.json() == {
        "detail": "此网络地址登录失败的账号过多，已暂停从此地址登录 15 分钟。",
        "code": "address_locked_out",
    }
    assert int(correct["Retry-After"]) == settings.AXES_COOLOFF_TIME.total_seconds()
    # And the login page from that address is paused too: one count for both ways in.
    assert page_login(Client(), city_user.username, PASSWORD).status_code == 429


def test_the_token_endpoint_declares_its_refusals(client, city_user):
    client.force_login(city_user)
    schema = client.get("/api/schema/?format=json").json()
    responses = schema["paths"]["/api/v1/auth/token/"]["post"]["responses"]
    assert {"200", "400", "429"} <= set(responses)


def test_the_browser_note_is_out_of_reach_of_scripts(client, city_user, settings):
    response = page_login(client, city_user.username, PASSWORD)

    cookie = response.cookies[settings.GIGACITY_DEVICE_COOKIE_NAME]
    assert cookie["httponly"] and cookie["samesite"] == "Lax" and cookie["path"] == "/"

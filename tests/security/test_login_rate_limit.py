"""Login rate limits: failures per username and client IP, attempts per client IP; 429."""

from __future__ import annotations

import time

import pytest
from rest_framework.test import APIClient

from tests.factories import DEFAULT_PASSWORD

pytestmark = pytest.mark.django_db

LOGIN = "/api/v1/auth/login/"
TOKEN = "/api/v1/auth/token/"
HOME = "127.0.0.2"
ELSEWHERE = "127.0.0.3"


def attempt(path: str, username: str, password: str, ip: str = HOME, **headers: str):
    return APIClient().post(
        path, {"username": username, "password": password}, format="json", REMOTE_ADDR=ip, **headers
    )


def fail(times: int, path: str = TOKEN, username: str = "ed", ip: str = HOME) -> None:
    for _ in range(times):
        refused = attempt(path, username, "wrong", ip)
        assert refused.status_code in (400, 403), refused.json()


def assert_throttled(response, *, at_most: int) -> None:
    assert response.status_code == 429, response.json()
    assert 1 <= int(response["Retry-After"]) <= at_most
    assert "throttled" in response.json()["detail"]


@pytest.mark.parametrize("path", [LOGIN, TOKEN])
def test_five_failures_refuse_even_the_right_password_for_the_window(editor, path):
    fail(5, path)
    assert_throttled(attempt(path, "ed", DEFAULT_PASSWORD), at_most=60)


def test_failures_at_login_and_at_token_count_together(editor):
    fail(3, LOGIN)
    fail(2, TOKEN)
    assert_throttled(attempt(LOGIN, "ed", DEFAULT_PASSWORD), at_most=60)


def test_four_failures_still_let_the_right_password_in(editor):
    fail(4)
    assert attempt(TOKEN, "ed", DEFAULT_PASSWORD).status_code == 200


def test_the_right_password_clears_the_failures(editor):
    fail(4)
    assert attempt(TOKEN, "ed", DEFAULT_PASSWORD).status_code == 200
    fail(4)
    assert attempt(TOKEN, "ed", DEFAULT_PASSWORD).status_code == 200


def test_a_locked_username_is_still_open_from_another_ip(editor):
    """Someone guessing from elsewhere cannot lock the real user out."""
    fail(5)
    assert attempt(TOKEN, "ed", DEFAULT_PASSWORD, ip=ELSEWHERE).status_code == 200


def test_another_username_from_the_same_ip_is_not_locked(editor, viewer):
    fail(5, username="ed")
    assert attempt(TOKEN, "vera", DEFAULT_PASSWORD).status_code == 200


def test_an_unknown_username_locks_like_a_real_one(db):
    """The lock says nothing about whether the account exists."""
    fail(5, username="nobody")
    assert_throttled(attempt(TOKEN, "nobody", "wrong"), at_most=60)


def test_the_username_lock_ignores_case(editor):
    fail(5, username="ed")
    assert_throttled(attempt(TOKEN, "ED", "wrong"), at_most=60)


def test_the_lock_ends_with_its_window(settings, editor):
    settings.LOGIN_FAILURE_WINDOW = 1
    fail(5)
    assert_throttled(attempt(TOKEN, "ed", DEFAULT_PASSWORD), at_most=1)
    time.sleep(1.2)
    assert attempt(TOKEN, "ed", DEFAULT_PASSWORD).status_code == 200


def test_malformed_attempts_do_not_count_as_failures(editor):
    for _ in range(6):
        assert attempt(TOKEN, "ed", "").status_code == 400
    assert attempt(TOKEN, "ed", DEFAULT_PASSWORD).status_code == 200


def test_twenty_attempts_a_minute_from_one_ip_then_429(editor):
    for index in range(20):
        assert attempt(TOKEN, f"user{index}", "wrong").status_code == 400
    assert_throttled(attempt(TOKEN, "ed", DEFAULT_PASSWORD), at_most=60)
    assert_throttled(attempt(LOGIN, "ed", DEFAULT_PASSWORD), at_most=60)
    assert attempt(TOKEN, "ed", DEFAULT_PASSWORD, ip=ELSEWHERE).status_code == 200


def test_a_forged_x_forwarded_for_does_not_escape_the_ip_limit(editor):
    for index in range(20):
        attempt(TOKEN, f"user{index}", "wrong", HTTP_X_FORWARDED_FOR=f"127.0.1.{index}")
    response = attempt(TOKEN, "ed", DEFAULT_PASSWORD, HTTP_X_FORWARDED_FOR="127.0.1.99")
    assert_throttled(response, at_most=60)


def test_behind_a_trusted_proxy_the_forwarded_client_is_counted(settings, editor):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    fail(5, ip=HOME)
    # Same proxy address, another client behind it: not locked.
    assert attempt(TOKEN, "ed", DEFAULT_PASSWORD, HTTP_X_FORWARDED_FOR=ELSEWHERE).status_code == 200


def test_the_ip_rate_comes_from_the_settings(settings, editor):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"login": "2/min"},
    }
    assert attempt(TOKEN, "ed", DEFAULT_PASSWORD).status_code == 200
    assert attempt(TOKEN, "ed", DEFAULT_PASSWORD).status_code == 200
    assert_throttled(attempt(TOKEN, "ed", DEFAULT_PASSWORD), at_most=60)

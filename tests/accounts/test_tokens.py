"""The token endpoint follows DRF's obtain_auth_token: 200 {token}, or 400 non_field_errors."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from tests.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

REFUSED = {"non_field_errors": ["Unable to log in with provided credentials."]}


def obtain(username: str, password: str):
    return APIClient().post(
        "/api/v1/auth/token/", {"username": username, "password": password}, format="json"
    )


def test_wrong_password_is_400_with_non_field_errors(editor):
    response = obtain("ed", "wrong")
    assert response.status_code == 400
    assert response.json() == REFUSED


def test_unknown_user_gets_the_same_answer_as_a_wrong_password(db):
    response = obtain("nobody", "wrong")
    assert response.status_code == 400
    assert response.json() == REFUSED


def test_inactive_user_gets_no_token(db):
    UserFactory(username="gone", roles=["editors"], is_active=False)
    response = obtain("gone", DEFAULT_PASSWORD)
    assert response.status_code == 400
    assert response.json() == REFUSED


def test_the_same_token_is_returned_each_time(editor):
    assert obtain("ed", DEFAULT_PASSWORD).json() == obtain("ed", DEFAULT_PASSWORD).json()


def test_token_of_a_deactivated_user_stops_working(editor):
    token = obtain("ed", DEFAULT_PASSWORD).json()["token"]
    editor.is_active = False
    editor.save(update_fields=["is_active"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get("/api/v1/auth/me/").status_code == 401


def test_token_endpoint_needs_no_csrf_token(editor):
    response = APIClient(enforce_csrf_checks=True).post(
        "/api/v1/auth/token/", {"username": "ed", "password": DEFAULT_PASSWORD}, format="json"
    )
    assert response.status_code == 200


@pytest.mark.parametrize("key", ["abc\x00def", "not-hex" * 6, "a" * 41, "é" * 40])
def test_a_malformed_token_is_401_not_a_server_error(db, key):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    response = client.get("/api/v1/episodes/")
    assert response.status_code == 401

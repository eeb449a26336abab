"""Session and token authentication, `me/`, and how unauthenticated calls are answered."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from tests.factories import DEFAULT_PASSWORD

pytestmark = pytest.mark.django_db


def test_me_returns_the_user_and_roles(api_client_for, editor):
    response = api_client_for(editor).get("/api/v1/auth/me/")
    assert response.status_code == 200
    assert response.json() == {"id": editor.id, "username": "ed", "roles": ["editors"]}


def test_superuser_counts_as_admin(api_client_for, django_user_model):
    root = django_user_model.objects.create_superuser("root", password=DEFAULT_PASSWORD)
    assert api_client_for(root).get("/api/v1/auth/me/").json()["roles"] == ["admins"]


def test_session_login_then_logout(editor):
    client = APIClient()
    response = client.post(
        "/api/v1/auth/login/", {"username": "ed", "password": DEFAULT_PASSWORD}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["username"] == "ed"
    assert client.get("/api/v1/auth/me/").status_code == 200
    assert client.post("/api/v1/auth/logout/").status_code == 204
    assert client.get("/api/v1/auth/me/").status_code == 403


def test_login_with_a_wrong_password_is_refused(editor):
    response = APIClient().post(
        "/api/v1/auth/login/", {"username": "ed", "password": "nope"}, format="json"
    )
    assert response.status_code in (401, 403)
    assert "Invalid username or password" in response.json()["detail"]


def test_login_enforces_csrf(editor):
    client = APIClient(enforce_csrf_checks=True)
    refused = client.post(
        "/api/v1/auth/login/", {"username": "ed", "password": DEFAULT_PASSWORD}, format="json"
    )
    assert refused.status_code == 403
    assert "CSRF" in refused.json()["detail"]
    client.get("/api/v1/auth/me/")
    token = client.cookies["csrftoken"].value
    accepted = client.post(
        "/api/v1/auth/login/",
        {"username": "ed", "password": DEFAULT_PASSWORD},
        format="json",
        HTTP_X_CSRFTOKEN=token,
    )
    assert accepted.status_code == 200


def test_session_unsafe_methods_need_csrf(editor):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(editor)
    response = client.post("/api/v1/episodes/", {"title": "x", "episode_number": 1}, format="json")
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]


def test_token_obtain_and_use(editor):
    client = APIClient()
    response = client.post(
        "/api/v1/auth/token/", {"username": "ed", "password": DEFAULT_PASSWORD}, format="json"
    )
    assert response.status_code == 200
    token = response.json()["token"]
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get("/api/v1/auth/me/").json()["username"] == "ed"


def test_bad_token_is_401_with_challenge(db):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-token")
    response = client.get("/api/v1/episodes/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


def test_anonymous_without_token_is_403(db):
    response = APIClient().get("/api/v1/episodes/")
    assert response.status_code == 403


def test_token_endpoint_rejects_missing_fields(db):
    response = APIClient().post("/api/v1/auth/token/", {}, format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"username", "password"}

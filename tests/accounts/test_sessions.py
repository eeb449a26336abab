"""Session login and logout at the edges: no session, inactive users, CSRF on logout."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from tests.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def test_logout_without_a_session_is_204_every_time(anon_client):
    assert anon_client.post("/api/v1/auth/logout/").status_code == 204
    assert anon_client.post("/api/v1/auth/logout/").status_code == 204


def test_logout_of_a_session_needs_the_csrf_token(editor):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(editor)
    refused = client.post("/api/v1/auth/logout/")
    assert refused.status_code == 403
    assert "CSRF" in refused.json()["detail"]
    assert client.get("/api/v1/auth/me/").status_code == 200


def test_login_of_an_inactive_user_is_refused(db):
    UserFactory(username="gone", roles=["editors"], is_active=False)
    client = APIClient()
    response = client.post(
        "/api/v1/auth/login/", {"username": "gone", "password": DEFAULT_PASSWORD}, format="json"
    )
    assert response.status_code == 403
    assert response.json() == {"detail": "Invalid username or password."}
    assert client.get("/api/v1/auth/me/").status_code == 403


def test_a_session_ends_when_its_user_is_deactivated(api_client_for, editor):
    client = api_client_for(editor)
    editor.is_active = False
    editor.save(update_fields=["is_active"])
    assert client.get("/api/v1/auth/me/").status_code == 403


def test_login_rejects_missing_fields(anon_client):
    response = anon_client.post("/api/v1/auth/login/", {}, format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"username", "password"}

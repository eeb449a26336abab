"""The X-Request-ID header: on every response, the caller's kept when well formed."""

from __future__ import annotations

import uuid

import pytest
from django.test import AsyncClient

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/healthz", 200),
        ("/api/v1/episodes/", 403),
        ("/api/v1/episodes", 301),
        ("/no-such-page", 404),
    ],
)
def test_every_response_has_a_request_id(anon_client, path, status):
    response = anon_client.get(path)
    assert response.status_code == status
    assert uuid.UUID(response["X-Request-ID"])


def test_each_request_gets_its_own_id(anon_client):
    first = anon_client.get("/healthz")["X-Request-ID"]
    assert anon_client.get("/healthz")["X-Request-ID"] != first


def test_an_incoming_request_id_is_echoed(anon_client):
    response = anon_client.get("/healthz", HTTP_X_REQUEST_ID="lb-7f3a.42")
    assert response["X-Request-ID"] == "lb-7f3a.42"


@pytest.mark.parametrize("incoming", ["has spaces", "x" * 129, "<script>", "a\u00e9b", ""])
def test_a_malformed_incoming_request_id_is_replaced(anon_client, incoming):
    response = anon_client.get("/healthz", HTTP_X_REQUEST_ID=incoming)
    assert uuid.UUID(response["X-Request-ID"])


async def test_the_asgi_handler_sets_the_request_id_too():
    response = await AsyncClient().get("/healthz", headers={"X-Request-ID": "asgi-1"})
    assert response.status_code == 200
    assert response["X-Request-ID"] == "asgi-1"

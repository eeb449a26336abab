"""Who may open the socket: a session from an allowed origin, or a single-use ticket."""

from __future__ import annotations

import json

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client
from rest_framework.test import APIClient

from config.asgi import application
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

TIMEOUT = 3
ORIGIN = (b"origin", b"http://127.0.0.1:8000")


@pytest.fixture
def ana(transactional_db):
    return UserFactory(username="ana", roles=["editors"])


def _ticket_for(user) -> dict:
    client = APIClient()
    client.force_authenticate(user)
    response = client.post("/api/v1/realtime/ticket/")
    assert response.status_code == 201
    return response.json()


def _session_cookie(user) -> bytes:
    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}".encode()


async def _open(path: str, headers: list[tuple[bytes, bytes]]) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(application, path, headers=headers)
    await communicator.connect(timeout=TIMEOUT)
    return communicator


def test_a_ticket_is_issued_for_sixty_seconds(ana):
    body = _ticket_for(ana)
    assert body["expires_in"] == 60
    assert len(body["ticket"]) >= 32


def test_a_ticket_needs_authentication(db):
    assert APIClient().post("/api/v1/realtime/ticket/").status_code in (401, 403)


async def test_a_ticket_opens_one_socket_once(ana):
    ticket = (await database_sync_to_async(_ticket_for)(ana))["ticket"]
    first = await _open(f"/ws/?ticket={ticket}", [])
    welcome = json.loads(await first.receive_from(timeout=TIMEOUT))
    assert welcome["user"]["username"] == "ana"
    await first.disconnect()
    again = await _open(f"/ws/?ticket={ticket}", [])
    assert await again.receive_output(timeout=TIMEOUT) == {
        "type": "websocket.close",
        "code": 4401,
    }


async def test_a_ticket_socket_is_not_bound_to_an_origin(ana):
    ticket = (await database_sync_to_async(_ticket_for)(ana))["ticket"]
    communicator = await _open(f"/ws/?ticket={ticket}", [(b"origin", b"https://elsewhere.test")])
    assert json.loads(await communicator.receive_from(timeout=TIMEOUT))["type"] == "welcome"
    await communicator.disconnect()


async def test_a_forged_ticket_is_closed_with_4401(transactional_db):
    communicator = await _open("/ws/?ticket=forged", [])
    assert (await communicator.receive_output(timeout=TIMEOUT))["code"] == 4401


async def test_a_session_socket_from_an_allowed_origin_is_welcomed(ana):
    cookie = await database_sync_to_async(_session_cookie)(ana)
    communicator = await _open("/ws/", [ORIGIN, (b"cookie", cookie)])
    assert json.loads(await communicator.receive_from(timeout=TIMEOUT))["type"] == "welcome"
    await communicator.disconnect()


async def test_a_session_socket_from_a_foreign_origin_is_refused_before_accept(ana):
    cookie = await database_sync_to_async(_session_cookie)(ana)
    communicator = WebsocketCommunicator(
        application, "/ws/", headers=[(b"origin", b"https://evil.test"), (b"cookie", cookie)]
    )
    connected, _ = await communicator.connect(timeout=TIMEOUT)
    assert connected is False

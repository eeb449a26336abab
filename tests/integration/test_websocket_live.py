"""The socket at /ws/ on a real server process, reached by a real WebSocket client."""

from __future__ import annotations

import asyncio
import json

import pytest
from django.test import Client
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from tests.factories import UserFactory

RECEIVE_TIMEOUT = 5


@pytest.fixture
def wes(transactional_db):
    return UserFactory(username="wes", roles=["editors"])


@pytest.fixture
def wes_cookie(wes) -> str:
    client = Client()
    client.force_login(wes)
    return f"sessionid={client.cookies['sessionid'].value}"


async def _receive(socket) -> dict:
    return json.loads(await asyncio.wait_for(socket.recv(), RECEIVE_TIMEOUT))


@pytest.mark.django_db(transaction=True)
async def test_a_signed_in_user_is_welcomed_and_heartbeats(live_server_process, wes, wes_cookie):
    headers = {"Cookie": wes_cookie, "Origin": live_server_process.url}
    async with connect(f"{live_server_process.ws_url}/ws/", additional_headers=headers) as ws:
        welcome = await _receive(ws)
        assert welcome["type"] == "welcome"
        assert welcome["user"]["username"] == "wes"
        assert f"user:{wes.pk}" in welcome["streams"]
        assert "role:editors" in welcome["streams"]
        await ws.send(json.dumps({"type": "heartbeat"}))
        assert (await _receive(ws)) == {"type": "heartbeat_ack"}
        await ws.send("not json")
        error = await _receive(ws)
        assert (error["type"], error["code"]) == ("error", "bad_request")


@pytest.mark.django_db(transaction=True)
async def test_an_anonymous_socket_is_closed_with_4401(live_server_process):
    headers = {"Origin": live_server_process.url}
    async with connect(f"{live_server_process.ws_url}/ws/", additional_headers=headers) as ws:
        with pytest.raises(ConnectionClosed) as closed:
            await _receive(ws)
    assert closed.value.rcvd.code == 4401

"""A socket on the Redis layer survives being idle longer than the layer's blocking read."""

from __future__ import annotations

import asyncio
import json

import pytest
from websockets.asyncio.client import connect

from tests.factories import UserFactory
from tests.live_server import session_cookie

IDLE_SECONDS = 7


@pytest.fixture
def idle_cookie(transactional_db) -> str:
    return session_cookie(UserFactory(username="ida", roles=["viewers"]))


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
async def test_a_socket_idle_past_the_blocking_read_still_answers(live_server_process, idle_cookie):
    headers = {"Cookie": idle_cookie, "Origin": live_server_process.url}
    async with connect(f"{live_server_process.ws_url}/ws/", additional_headers=headers) as ws:
        assert json.loads(await asyncio.wait_for(ws.recv(), 5))["type"] == "welcome"
        await asyncio.sleep(IDLE_SECONDS)
        await ws.send(json.dumps({"type": "heartbeat"}))
        assert json.loads(await asyncio.wait_for(ws.recv(), 5)) == {"type": "heartbeat_ack"}

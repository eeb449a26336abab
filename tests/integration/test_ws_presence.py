"""Who is viewing an episode, as real sockets of a real server see it: tabs, leaving, freezing."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
from collections.abc import AsyncIterator, Iterator

import pytest

from tests.live_server import (
    WAIT,
    Api,
    LiveServer,
    Socket,
    open_socket,
    run_server,
)

pytestmark = pytest.mark.django_db(transaction=True)

SOCKET_TTL = 2
SWEEP_INTERVAL = 0.5
# TTL + sweep interval + room for a loaded machine, and well under uvicorn's ping timeout,
# which would otherwise be what notices the dead connection.
DEPARTURE_BOUND = 10.0

# A client in a process of its own, so that SIGSTOP freezes it with its TCP connection open:
# it subscribes, says so, then heartbeats (which keeps it a viewer) until it is stopped.
FROZEN_CLIENT = """
import json, sys, time
from websockets.sync.client import connect

url, cookie, origin, stream = sys.argv[1:5]
headers = {"Cookie": cookie, "Origin": origin}
with connect(url, additional_headers=headers, open_timeout=5) as ws:
    ws.send(json.dumps({"type": "subscribe", "stream": stream}))
    deadline = time.monotonic() + 5
    while json.loads(ws.recv(timeout=5))["type"] != "subscribed":
        if time.monotonic() > deadline:
            sys.exit(1)
    print("subscribed", flush=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        ws.send(json.dumps({"type": "heartbeat"}))
        time.sleep(0.25)
"""


@pytest.fixture
def short_ttl_server(django_db_setup) -> Iterator[LiveServer]:
    """A server whose sockets stay viewers 2 s after their last heartbeat, swept every 0.5 s."""
    with run_server(
        PRESENCE_SOCKET_TTL=str(SOCKET_TTL), PRESENCE_SWEEP_INTERVAL=str(SWEEP_INTERVAL)
    ) as live:
        yield live


def _ref(user) -> dict:
    return {"id": user.pk, "username": user.username}


def _viewer_ids(viewers: list[dict]) -> list[int]:
    return [viewer["user_id"] for viewer in viewers]


async def _presence(api: Api, episode) -> list[int]:
    reply = await api.get(f"/api/v1/presence/episode/{episode.pk}/")
    assert reply.status == 200
    return _viewer_ids(reply.body["viewers"])


@contextlib.asynccontextmanager
async def _heartbeating(socket: Socket) -> AsyncIterator[None]:
    """Keep a socket a viewer on a short-TTL server while the test waits on it."""

    async def beat() -> None:
        while True:
            await socket.send({"type": "heartbeat"})
            await asyncio.sleep(SWEEP_INTERVAL / 2)

    task = asyncio.create_task(beat())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_a_user_with_two_tabs_is_one_viewer_until_the_last_tab_closes(
    server, ana, ana_cookie, ana_token, bo, bo_cookie, bo_token, episode
):
    stream = f"episode:{episode.pk}"
    bo_api, ana_api = Api(server, bo_token), Api(server, ana_token)
    async with open_socket(server, cookie=bo_cookie) as watcher:
        await watcher.subscribe(stream)
        async with (
            open_socket(server, cookie=ana_cookie) as tab1,
            open_socket(server, cookie=ana_cookie) as tab2,
        ):
            first = await tab1.subscribe(stream)
            second = await tab2.subscribe(stream)
            listed_with_two_tabs = await _presence(bo_api, episode)
            assert await tab1.unsubscribe(stream) == {"type": "unsubscribed", "stream": stream}
            # An event committed after the unsubscribe: every viewer event before it is in.
            patched = await ana_api.patch(f"/api/v1/episodes/{episode.pk}/", {"title": "Mark"})
            assert patched.status == 200
            await watcher.event("episode_updated", changed_fields=["title"])
            joined_then = watcher.events("viewer_joined")
            left_then = watcher.events("viewer_left")
            listed_with_one_tab = await _presence(bo_api, episode)
            await tab2.connection.close()
            left = await watcher.event("viewer_left", user=_ref(ana))
            listed_after = await _presence(bo_api, episode)
    assert _viewer_ids(first["viewers"]) == [bo.pk, ana.pk]
    assert _viewer_ids(second["viewers"]) == [bo.pk, ana.pk]
    assert listed_with_two_tabs == [bo.pk, ana.pk]
    assert [event["data"]["user"] for event in joined_then] == [_ref(bo), _ref(ana)]
    assert left_then == []
    assert listed_with_one_tab == [bo.pk, ana.pk]
    assert _viewer_ids(left["data"]["viewers"]) == [bo.pk]
    assert listed_after == [bo.pk]


async def test_a_frozen_client_stops_being_a_viewer_when_its_presence_times_out(
    short_ttl_server, ana, ana_cookie, bo, bo_cookie, bo_token, episode
):
    stream = f"episode:{episode.pk}"
    async with open_socket(short_ttl_server, cookie=bo_cookie) as watcher:
        await watcher.subscribe(stream)
        async with _heartbeating(watcher):
            client = await asyncio.create_subprocess_exec(
                sys.executable,
                "-c",
                FROZEN_CLIENT,
                f"{short_ttl_server.ws_url}/ws/",
                ana_cookie,
                short_ttl_server.url,
                stream,
                stdout=asyncio.subprocess.PIPE,
            )
            try:
                ready = await asyncio.wait_for(client.stdout.readline(), WAIT)
                assert ready.strip() == b"subscribed"
                await watcher.event("viewer_joined", user=_ref(ana))
                client.send_signal(signal.SIGSTOP)
                left = await watcher.event("viewer_left", user=_ref(ana), timeout=DEPARTURE_BOUND)
                listed = await _presence(Api(short_ttl_server, bo_token), episode)
                # Its connection was open all along: the sweep, not a close, removed it.
                assert client.returncode is None
            finally:
                client.kill()
                await asyncio.wait_for(client.wait(), WAIT)
    assert _viewer_ids(left["data"]["viewers"]) == [bo.pk]
    assert listed == [bo.pk]

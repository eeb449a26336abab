"""Hostile clients over real sockets against a real server process: binary and 1 MiB frames,
frames past the server's limit, invalid UTF-8, floods of subscribe/unsubscribe. After each
attack the socket (or, if the server rightly closed it, a fresh one) still answers a
heartbeat, and the server logged no error and no unhandled exception.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import statistics
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator

import orjson
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from tests.faults.listener import RECEIVED_AT, Connection, open_connection
from tests.hostile.silent import SilentClient
from tests.live_server import (
    WAIT,
    Api,
    LiveServer,
    api_token,
    run_logged_servers,
)

pytestmark = pytest.mark.django_db(transaction=True)

MIB = 1024 * 1024
# uvicorn's default --ws-max-size: a frame past it is refused by the server, not the app.
SERVER_MAX_FRAME = 16 * MIB
CLOSE_TOO_BIG = 1009
CLOSE_INVALID_DATA = 1007
CLOSE_RATE_LIMITED = 4429
FLOOD_FRAMES = 3000
# The kernel buffer of a client that does not read (SO_RCVBUF).
SMALL_BUFFER = 64 * 1024
FLOOD_SEND_LIMIT = 10.0
CHURN_REPLY_WAIT = 30.0


@contextlib.asynccontextmanager
async def opened(server: LiveServer, cookie: str) -> AsyncIterator[Connection]:
    connection = await open_connection(server, cookie=cookie)
    try:
        yield connection
    finally:
        await connection.close()


@contextlib.asynccontextmanager
async def raw(server: LiveServer, cookie: str) -> AsyncIterator[ClientConnection]:
    """A socket this test drives frame by frame, its greeting read."""
    async with connect(
        f"{server.ws_url}/ws/",
        additional_headers={"Origin": server.url, "Cookie": cookie},
        open_timeout=WAIT,
        ping_interval=None,
        max_size=None,
    ) as ws:
        assert json.loads(await asyncio.wait_for(ws.recv(), WAIT))["type"] == "welcome"
        yield ws


async def heartbeat(connection: Connection) -> None:
    reply = await connection.request({"type": "heartbeat"}, "heartbeat_ack", "error")
    assert reply == {"type": "heartbeat_ack"}


async def still_served(server: LiveServer, cookie: str) -> None:
    async with opened(server, cookie) as fresh:
        await heartbeat(fresh)


async def test_binary_and_one_mebibyte_frames_are_bad_requests(server, bo_cookie, clean_log):
    frames: list[str | bytes] = [
        b"\x00\x01\xff",
        bytes(range(256)) * (MIB // 256),
        json.dumps({"type": "heartbeat", "pad": "x" * MIB}),
        "\u00e9" * (MIB // 2),
        "[" * MIB,
    ]
    async with opened(server, bo_cookie) as connection:
        for frame in frames:
            await connection.ws.send(frame)
            error = await connection.replies.get()
            assert (error["type"], error["code"]) == ("error", "bad_request"), error
            await heartbeat(connection)


async def test_a_frame_past_the_servers_limit_closes_only_that_socket(server, bo_cookie, clean_log):
    async with raw(server, bo_cookie) as ws:
        with contextlib.suppress(ConnectionClosed):
            await ws.send(b"\x00" * (SERVER_MAX_FRAME + 1))
        with pytest.raises(ConnectionClosed):
            await asyncio.wait_for(ws.recv(), WAIT)
    assert ws.close_code == CLOSE_TOO_BIG
    await still_served(server, bo_cookie)


async def test_invalid_utf8_in_a_text_frame_closes_only_that_socket(server, bo_cookie, clean_log):
    # uvicorn reports it at level error, with the decoder's traceback, though it handled it.
    clean_log.append("Invalid UTF-8 sequence received from client.")
    async with raw(server, bo_cookie) as ws:
        await ws.send(b'{"type": "heartbeat", "x": "\xff\xfe"}', text=True)
        with pytest.raises(ConnectionClosed):
            await asyncio.wait_for(ws.recv(), WAIT)
    assert ws.close_code == CLOSE_INVALID_DATA
    await still_served(server, bo_cookie)


async def _viewers(server: LiveServer, token: str, episode_id: int) -> list:
    reply = await Api(server, token).get(f"/api/v1/presence/episode/{episode_id}/")
    assert reply.status == 200, reply
    return reply.body["viewers"]


@pytest.fixture
def own_server(django_db_setup, tmp_path) -> Iterator[LiveServer]:
    """A server of the test's own: what a crash leaves (a task destroyed later, when the
    garbage collector gets to it) then cannot show up in another test's log."""
    env = {"DJANGO_SETTINGS_MODULE": "tests.faults.server_settings"}
    with run_logged_servers(1, tmp_path / "logs", **env) as (live,):
        yield live


async def _flood(server: LiveServer, cookie: str, stream: str) -> tuple[int | None, Counter]:
    """Subscribe/unsubscribe FLOOD_FRAMES times as fast as the socket takes them: its close
    code and the replies by kind."""
    frames = [
        orjson.dumps({"type": kind, "stream": stream}).decode()
        for _ in range(FLOOD_FRAMES // 2)
        for kind in ("subscribe", "unsubscribe")
    ]
    replies: Counter[str] = Counter()
    async with raw(server, cookie) as ws:
        start = time.monotonic()
        with contextlib.suppress(ConnectionClosed):
            for frame in frames:
                await ws.send(frame)
        assert time.monotonic() - start < FLOOD_SEND_LIMIT
        with contextlib.suppress(ConnectionClosed):
            while True:
                reply = json.loads(await asyncio.wait_for(ws.recv(), WAIT))
                replies[reply.get("code") or reply["type"]] += 1
    return ws.close_code, replies


async def test_a_flood_of_subscribe_unsubscribe_is_refused_then_closed(
    own_server, bo_cookie, episode
):
    code, replies = await _flood(own_server, bo_cookie, f"episode:{episode.pk}")
    assert code == CLOSE_RATE_LIMITED
    assert replies["rate_limited"] > 0
    assert 0 < replies["subscribed"] + replies["unsubscribed"] < FLOOD_FRAMES
    # A server that still answers. (Not yet: no viewer left behind. When the close races
    # with frames already read, the consumer dies before its disconnect leaves presence:
    # tests/hostile/test_closing.py.)
    await still_served(own_server, bo_cookie)


SOCKETS = 30
PER_SOCKET_RATE = 45.0  # frames per second: under the limit of 50
CHURN_SECONDS = 3.0
# Achieved on a loaded 2-core machine, replies included; a stall would be far below.
CHURN_FLOOR = 200.0


async def _churn(connection: Connection, streams: list[str]) -> tuple[int, Counter[str]]:
    """Send subscribe/unsubscribe at PER_SOCKET_RATE for CHURN_SECONDS without waiting for
    the replies; then wait for all of them. (frames sent, replies by kind)."""
    loop = asyncio.get_running_loop()
    due = start = loop.time()
    sent = 0
    while loop.time() < start + CHURN_SECONDS:
        stream = streams[(sent // 2) % len(streams)]
        kind = "subscribe" if sent % 2 == 0 else "unsubscribe"
        await connection.ws.send(orjson.dumps({"type": kind, "stream": stream}).decode())
        sent += 1
        due += 1 / PER_SOCKET_RATE
        await asyncio.sleep(max(0.0, due - loop.time()))
    answered: Counter[str] = Counter()
    for _ in range(sent):
        reply = await asyncio.wait_for(connection.replies.get(), CHURN_REPLY_WAIT)
        answered[reply.get("code") or reply["type"]] += 1
    return sent, answered


async def test_a_thousand_subscribes_a_second_across_sockets_are_all_answered(
    server, ana, bo_cookie, episode, clean_log
):
    streams = ["episodes", "activity", f"episode:{episode.pk}"]
    connections = [await open_connection(server, cookie=bo_cookie) for _ in range(SOCKETS)]
    try:
        start = time.monotonic()
        results = await asyncio.gather(*(_churn(c, streams) for c in connections))
        seconds = time.monotonic() - start
        for connection in connections:
            await heartbeat(connection)
    finally:
        for connection in connections:
            await connection.close()
    sent = sum(count for count, _ in results)
    answered = sum((replies for _, replies in results), Counter())
    assert answered == {"subscribed": sent // 2 + sent % 2, "unsubscribed": sent // 2} or (
        set(answered) == {"subscribed", "unsubscribed"} and sum(answered.values()) == sent
    ), answered
    assert sent / seconds > CHURN_FLOOR, (sent, seconds)
    token = await asyncio.to_thread(api_token, ana)
    assert await _viewers(server, token, episode.pk) == []


RECEIVERS = 5
WRITES = 15
WRITE_GAP = 0.1
FLOOD_WARMUP = 0.5
# Generous: the flood shares the server's one event loop (and this machine's two cores).
LATENCY_RATIO_LIMIT = 5.0
JUNK = "x" * 60_000


async def _flood_forever(server: LiveServer, cookie: str, stop: asyncio.Event) -> int:
    """One client flooding until `stop`: it is closed for it, reconnects, floods again, in
    turn with small frames and with 60 KB ones. The frames it got out."""
    sent = 0
    rounds = 0
    while not stop.is_set():
        frame = '{"type": "heartbeat"}' if rounds % 2 == 0 else JUNK
        rounds += 1
        with contextlib.suppress(ConnectionClosed, OSError, TimeoutError):
            async with raw(server, cookie) as ws:
                while not stop.is_set():
                    await ws.send(frame)
                    sent += 1
                    if sent % 50 == 0:
                        await asyncio.sleep(0)
    return sent


async def _latencies(api: Api, path: str, receivers: list[Connection], tag: str) -> list[float]:
    """For each write: the time from sending it until the last receiver had its event."""
    seconds = []
    for number in range(WRITES):
        title = f"{tag}-{number}"
        start = time.monotonic()
        assert (await api.patch(path, {"title": title})).status == 200
        arrivals = []
        for receiver in receivers:
            deadline = time.monotonic() + WAIT
            while not (got := _arrival(receiver, title)) and time.monotonic() < deadline:
                await asyncio.sleep(0.002)
            assert got, f"{title} did not arrive"
            arrivals.append(got)
        seconds.append(max(arrivals) - start)
        await asyncio.sleep(WRITE_GAP)
    return seconds


def _arrival(receiver: Connection, title: str) -> float | None:
    for frame in reversed(receiver.events):
        if frame["event"] == "episode_updated" and frame["data"]["episode"]["title"] == title:
            return frame[RECEIVED_AT]
    return None


async def test_a_flooding_client_does_not_hold_up_the_others(
    own_server, ana, ana_token_fixture, bo_cookie, cy_cookie, episode
):
    # Its own server: the flood trips the double close of test_a_flood_leaves_no_error_....
    server = own_server
    path = f"/api/v1/episodes/{episode.pk}/"
    api = Api(server, ana_token_fixture)
    receivers = [await open_connection(server, cookie=bo_cookie) for _ in range(RECEIVERS)]
    try:
        for receiver in receivers:
            await receiver.request({"type": "subscribe", "stream": "episodes"}, "subscribed")
        quiet = await _latencies(api, path, receivers, "quiet")
        stop = asyncio.Event()
        flood = asyncio.create_task(_flood_forever(server, cy_cookie, stop))
        await asyncio.sleep(FLOOD_WARMUP)
        try:
            flooded = await _latencies(api, path, receivers, "flooded")
        finally:
            stop.set()
            frames = await flood
        for receiver in receivers:
            await heartbeat(receiver)
    finally:
        for receiver in receivers:
            await receiver.close()
    ratio = statistics.median(flooded) / statistics.median(quiet)
    figures = (
        f"flood of {frames} frames; median latency {statistics.median(quiet) * 1000:.0f} ms "
        f"quiet, {statistics.median(flooded) * 1000:.0f} ms flooded (x{ratio:.2f}); "
        f"max {max(quiet) * 1000:.0f} / {max(flooded) * 1000:.0f} ms"
    )
    assert frames > WRITES * 100, figures
    assert ratio < LATENCY_RATIO_LIMIT, figures


BIG_EVENT_CHARS = 64_000
INJECTED_EVENTS = 300
NEVER_READ_SECONDS = 8.0
CLOSE_TOO_SLOW = 4408
# What one socket that does not read may cost the server: its capped queue (4 MiB) and
# the socket buffers, with room for the allocator.
NEVER_READ_RSS_LIMIT_KIB = 64 * 1024


@pytest.mark.redis
async def test_a_client_that_never_reads_is_closed_before_its_events_pile_up(
    server, bo, bo_cookie, settings, clean_log
):
    from channels_redis.pubsub import RedisPubSubChannelLayer

    from tests.hostile.conftest import LAYER_PREFIX, rss_kib

    # Events sent straight to its group on the server's channel layer: 19 MB of them.
    layer = RedisPubSubChannelLayer(hosts=[settings.REDIS_URL], prefix=LAYER_PREFIX)
    text = orjson.dumps({"type": "event", "pad": "x" * BIG_EVENT_CHARS}).decode()
    client = await asyncio.to_thread(
        SilentClient.open, server, bo_cookie, receive_buffer=SMALL_BUFFER
    )
    before = peak = rss_kib(server.process.pid)
    try:
        for number in range(1, INJECTED_EVENTS + 1):
            message = {"type": "realtime.event", "id": number, "stream": "x", "text": text}
            await layer.group_send(f"stream.user.{bo.pk}", message)
            if number % 20 == 0:
                await asyncio.sleep(0.05)
                peak = max(peak, rss_kib(server.process.pid))
        code, frames = await asyncio.to_thread(client.read_until_close)
    finally:
        client.close()
        await layer.flush()
    assert (code, frames < INJECTED_EVENTS) == (CLOSE_TOO_SLOW, True), frames
    assert peak - before < NEVER_READ_RSS_LIMIT_KIB, (before, peak)
    await still_served(server, bo_cookie)


@pytest.mark.xfail(
    strict=True,
    reason="realtime/consumers.py: replies are queued with put_always, past the cap; the queue "
    "now stops at twice the cap and calls on_overflow, which the consumer must pass: "
    "Outgoing(self._write, on_overflow=self._close_too_slow) (see the report)",
)
async def test_a_client_that_never_reads_its_replies_is_closed(own_server, bo_cookie):
    # Each reply echoes the 60 KB stream name; sent under the frame-rate limit.
    frame = orjson.dumps({"type": "unsubscribe", "stream": "n" * 60_000}).decode()
    client = await asyncio.to_thread(
        SilentClient.open, own_server, bo_cookie, receive_buffer=SMALL_BUFFER
    )
    try:
        sent = await asyncio.to_thread(
            client.send_paced, frame, per_second=PER_SOCKET_RATE, seconds=NEVER_READ_SECONDS
        )
        code, frames = await asyncio.to_thread(client.read_until_close)
    finally:
        client.close()
    assert code == CLOSE_TOO_SLOW, (code, sent, frames)

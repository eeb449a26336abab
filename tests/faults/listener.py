"""Clients of the fault tests that count: every event id a client receives, over every socket
it opens (a reconnect to another server, a `resume`), is kept, so that a test can say each
event arrived exactly once and none is missing.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import orjson
from asgiref.sync import sync_to_async
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from realtime import relay
from realtime.models import Event
from tests.live_server import WAIT, LiveServer

CLOSED = {"type": "_closed"}
# Added to each event frame kept: when it arrived (time.monotonic()).
RECEIVED_AT = "_received_at"


@dataclass
class Connection:
    """One open socket: a reader task keeps its events and queues every other frame."""

    ws: ClientConnection
    welcome: dict[str, Any]
    events: list[dict[str, Any]] = field(default_factory=list)
    replies: asyncio.Queue = field(default_factory=asyncio.Queue)
    reader: asyncio.Task | None = None

    async def _read(self) -> None:
        try:
            async for message in self.ws:
                frame = orjson.loads(message)
                if frame.get("type") == "event":
                    frame[RECEIVED_AT] = time.monotonic()
                    self.events.append(frame)
                else:
                    self.replies.put_nowait(frame)
        except ConnectionClosed:
            pass
        finally:
            self.replies.put_nowait(CLOSED)

    async def request(self, frame: dict[str, Any], *types: str, timeout: float = WAIT) -> dict:
        await self.ws.send(orjson.dumps(frame).decode())
        deadline = time.monotonic() + timeout
        while True:
            reply = await asyncio.wait_for(self.replies.get(), deadline - time.monotonic())
            if reply["type"] in types:
                return reply
            if reply is CLOSED:
                raise ConnectionError(f"closed ({self.ws.close_code}) awaiting {types}")

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.ws.close(), WAIT)
        if self.reader is not None:
            self.reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self.reader


async def open_connection(
    server: LiveServer, cookie: str | None = None, ticket: str | None = None
) -> Connection:
    """A socket by session cookie, or by ticket (no cookie then, as a client without one)."""
    headers = {"Origin": server.url, **({"Cookie": cookie} if cookie else {})}
    query = f"?ticket={ticket}" if ticket else ""
    ws = await connect(
        f"{server.ws_url}/ws/{query}",
        additional_headers=headers,
        open_timeout=WAIT,
        ping_interval=None,
        max_queue=None,
    )
    welcome = orjson.loads(await asyncio.wait_for(ws.recv(), WAIT))
    assert welcome["type"] == "welcome", welcome
    opened = Connection(ws, welcome)
    opened.reader = asyncio.get_running_loop().create_task(opened._read())
    return opened


@dataclass
class CountingClient:
    """A user's client: its sockets one after another, and every event id they delivered."""

    name: str
    user: Any
    cookie: str
    subscribe: tuple[str, ...] = ("episodes",)
    since: int | None = None
    streams: set[str] = field(default_factory=set)
    past: list[Connection] = field(default_factory=list)
    current: Connection | None = None

    @property
    def events(self) -> list[dict[str, Any]]:
        done = [event for connection in self.past for event in connection.events]
        return done + (self.current.events if self.current else [])

    @property
    def ids(self) -> list[int]:
        return [event["id"] for event in self.events]

    @property
    def last_id(self) -> int:
        return max(self.ids, default=self.since or 0)

    async def connect(
        self, server: LiveServer, *, resume: bool = False, ticket: str | None = None
    ) -> dict | None:
        """Open a socket (the previous one is given up), subscribe, and `resume` if asked.

        By the client's session cookie, or by `ticket` if given.
        """
        await self.drop()
        last = self.last_id
        if ticket:
            self.current = await open_connection(server, ticket=ticket)
        else:
            self.current = await open_connection(server, cookie=self.cookie)
        if self.since is None:
            self.since = self.current.welcome["last_event_id"]
        self.streams.update(self.current.welcome["streams"])
        for stream in self.subscribe:
            reply = await self.current.request(
                {"type": "subscribe", "stream": stream}, "subscribed", "error"
            )
            assert reply["type"] == "subscribed", reply
            self.streams.add(stream)
        if resume:
            return await self.current.request(
                {"type": "resume", "last_event_id": last}, "resumed", "resume_failed"
            )
        return None

    async def drop(self) -> None:
        """Give up the current socket (closing it if it is still open)."""
        if self.current is not None:
            await self.current.close()
            self.past.append(self.current)
            self.current = None

    def missing_and_doubled(self, expected: list[int]) -> tuple[list[int], dict[int, int]]:
        counts = Counter(self.ids)
        missing = [event_id for event_id in expected if event_id not in counts]
        doubled = {event_id: n for event_id, n in counts.items() if n > 1}
        return missing, doubled


def _expected_ids(user_id: int, streams: frozenset[str], since: int) -> list[int]:
    rows = Event.objects.filter(position__gt=since).order_by("position")
    return [
        row.position
        for row in rows.only("position", "streams", "user_id")
        if (row.user_id is None or row.user_id == user_id) and streams.intersection(row.streams)
    ]


async def expected_ids(client: CountingClient) -> list[int]:
    """Positions of the events the client's streams carried since its first socket opened."""
    assert client.since is not None
    return await sync_to_async(_expected_ids)(
        client.user.pk, frozenset(client.streams), client.since
    )


def _unpublished() -> int:
    return Event.objects.filter(published_at__isnull=True).count()


async def wait_published(timeout: float) -> None:
    """Until every event row is numbered and published (a relay is running somewhere)."""
    deadline = time.monotonic() + timeout
    while (left := await sync_to_async(_unpublished)()) and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
    assert left == 0, f"{left} event(s) still unpublished after {timeout} s"


async def wait_received(clients: list[CountingClient], timeout: float) -> None:
    """Until each client has received the last event it should (or the time is up)."""
    deadline = time.monotonic() + timeout
    for client in clients:
        expected = await expected_ids(client)
        while expected and expected[-1] not in client.ids and time.monotonic() < deadline:
            await asyncio.sleep(0.1)


async def settle() -> None:
    """Number (and publish, to this process's own layer) what setting the test up wrote, so
    that a socket opened next is greeted with a `last_event_id` after it."""
    await sync_to_async(relay.publish_pending)()

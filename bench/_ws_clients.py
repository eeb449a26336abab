"""Client processes of the WebSocket benches: many asyncio `websockets` connections each.

A process is driven by its parent over a pipe, one command at a time (open sockets, run a
heartbeat load, collect the events received, close). It imports no Django: it stands for
browsers, which know the server only through its socket.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import random
import resource
import time
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

import orjson
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

HEARTBEAT = '{"type":"heartbeat"}'
EVENT_PREFIX = '{"type":"event"'
REPLY_TIMEOUT = 15.0
RTT_SAMPLES_MAX = 200_000
CLOSED = object()  # put on a socket's reply queue when it closes


class SocketClosed(Exception):
    """The server closed the socket while a reply was awaited."""


def raise_file_limit() -> tuple[int, int]:
    """Lift the soft limit on open files to the hard one; the limits after it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)


@dataclass
class Sock:
    key: int
    tag: str
    ws: ClientConnection
    replies: asyncio.Queue[str | object] = field(default_factory=asyncio.Queue)
    keep: bool = True
    events: list[tuple[float, str]] = field(default_factory=list)
    event_count: int = 0
    reader: asyncio.Task | None = None
    keepalive: asyncio.Task | None = None

    async def read(self) -> None:
        try:
            async for message in self.ws:
                now = time.time()
                if isinstance(message, str) and message.startswith(EVENT_PREFIX):
                    self.event_count += 1
                    if self.keep:
                        self.events.append((now, message))
                else:
                    self.replies.put_nowait(message)
        except ConnectionClosed:
            pass
        finally:
            self.replies.put_nowait(CLOSED)

    async def ask(self, frame: str) -> tuple[dict[str, Any], float]:
        """Send a frame, wait for the next reply: (reply, seconds)."""
        start = time.perf_counter()
        await self.ws.send(frame)
        reply = await asyncio.wait_for(self.replies.get(), REPLY_TIMEOUT)
        if reply is CLOSED:
            self.replies.put_nowait(CLOSED)
            raise SocketClosed(f"closed by the server with code {self.ws.close_code}")
        return orjson.loads(reply), time.perf_counter() - start


class Worker:
    def __init__(self, conn: Connection, index: int) -> None:
        self.conn = conn
        self.index = index
        self.socks: list[Sock] = []
        self.failures: collections.Counter[str] = collections.Counter()
        self.keepalive_interval = 0.0

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            command = await loop.run_in_executor(None, self.conn.recv)
            name = command.pop("cmd")
            if name == "stop":
                await self.do_close()
                self.conn.send({"ok": True})
                return
            try:
                reply = await getattr(self, f"do_{name}")(**command)
            except Exception as exc:
                reply = {"error": repr(exc)}
            self.conn.send(reply)

    # --- opening -----------------------------------------------------------------------------

    async def _open_one(
        self, spec: dict[str, Any], compression: bool, timeout: float, keep: bool
    ) -> float:
        start = time.perf_counter()
        ws = await connect(
            spec["url"],
            origin=spec["origin"],
            additional_headers={"Cookie": f"sessionid={spec['session']}"},
            compression="deflate" if compression else None,
            ping_interval=None,
            open_timeout=timeout,
            close_timeout=2,
            max_size=2**22,
        )
        sock = Sock(key=spec["key"], tag=spec["tag"], ws=ws, keep=keep)
        try:
            welcome = orjson.loads(await asyncio.wait_for(ws.recv(), timeout))
            if welcome.get("type") != "welcome":
                raise RuntimeError(f"no welcome: {welcome}")
            sock.reader = asyncio.get_running_loop().create_task(sock.read())
            for stream in spec["subscribe"]:
                reply, _ = await sock.ask(
                    orjson.dumps({"type": "subscribe", "stream": stream}).decode()
                )
                if reply.get("type") != "subscribed":
                    raise RuntimeError(f"subscribe {stream}: {reply}")
        except BaseException:
            await ws.close()
            raise
        self.socks.append(sock)
        self._start_keepalive(sock)
        return time.perf_counter() - start

    async def do_open(
        self,
        specs: list[dict[str, Any]],
        concurrency: int,
        compression: bool,
        timeout: float,
        keep_events: bool,
    ) -> dict[str, Any]:
        gate = asyncio.Semaphore(concurrency)
        seconds: list[float] = []
        failed: collections.Counter[str] = collections.Counter()

        async def one(spec: dict[str, Any]) -> None:
            async with gate:
                try:
                    seconds.append(await self._open_one(spec, compression, timeout, keep_events))
                except Exception as exc:
                    failed[type(exc).__name__ + ": " + str(exc)[:120]] += 1

        start = time.perf_counter()
        await asyncio.gather(*(one(spec) for spec in specs))
        return {
            "opened": len(seconds),
            "failed": sum(failed.values()),
            "errors": dict(failed.most_common(3)),
            "seconds": time.perf_counter() - start,
            "open_seconds": seconds,
        }

    # --- idle sockets: heartbeats that keep presence alive ------------------------------------

    async def do_keepalive(self, interval: float) -> dict[str, Any]:
        """From now on every socket, opened or to be opened, heartbeats every `interval` s."""
        self.keepalive_interval = interval
        for sock in self.socks:
            self._start_keepalive(sock)
        return {"ok": True}

    def _start_keepalive(self, sock: Sock) -> None:
        if self.keepalive_interval and sock.keepalive is None:
            sock.keepalive = asyncio.get_running_loop().create_task(
                self._keepalive(sock, self.keepalive_interval)
            )

    async def _keepalive(self, sock: Sock, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            try:
                reply, _ = await sock.ask(HEARTBEAT)
            except (TimeoutError, ConnectionClosed, SocketClosed):
                self.failures["heartbeat: no reply"] += 1
                return
            if reply.get("type") != "heartbeat_ack":
                self.failures[f"heartbeat: {reply.get('code')}"] += 1

    # --- a load of heartbeat round trips --------------------------------------------------------

    async def do_heartbeats(
        self, start_at: float, warmup: float, seconds: float, rate: float
    ) -> dict[str, Any]:
        window_start = start_at + warmup
        window_end = window_start + seconds
        interval = 1.0 / rate
        acks = 0
        refused = 0
        lost = 0
        rtts: list[float] = []

        async def drive(sock: Sock) -> None:
            nonlocal acks, refused, lost
            loop = asyncio.get_running_loop()
            await asyncio.sleep(max(0.0, start_at - time.time()) + random.random() * interval)  # noqa: S311
            due = loop.time()
            while time.time() < window_end:
                try:
                    reply, rtt = await sock.ask(HEARTBEAT)
                except (TimeoutError, ConnectionClosed, SocketClosed):
                    lost += 1
                    return
                now = time.time()
                if reply.get("type") == "heartbeat_ack":
                    if window_start <= now < window_end:
                        acks += 1
                        if len(rtts) < RTT_SAMPLES_MAX:
                            rtts.append(rtt)
                else:
                    refused += 1
                due += interval
                delay = due - loop.time()
                if delay > 0:
                    await asyncio.sleep(delay)
                else:
                    due = loop.time()

        await asyncio.gather(*(drive(sock) for sock in self.socks))
        return {"acks": acks, "refused": refused, "lost": lost, "rtts": rtts}

    # --- what arrived -------------------------------------------------------------------------

    async def do_collect(self, event: str, stream: str, clear: bool) -> dict[str, Any]:
        """(tag, title, receipt time) of each `event` frame on `stream`, and a count of all."""
        found: list[tuple[str, int, str, float]] = []
        total = 0
        for sock in self.socks:
            total += len(sock.events)
            for received, text in sock.events if event else ():
                frame = orjson.loads(text)
                if frame.get("event") == event and frame.get("stream") == stream:
                    title = frame["data"].get("episode", {}).get("title", "")
                    found.append((sock.tag, sock.key, title, received))
            if clear:
                sock.events.clear()
                sock.event_count = 0
        return {"found": found, "total": total}

    async def do_status(self) -> dict[str, Any]:
        gone = [sock for sock in self.socks if sock.reader and sock.reader.done()]
        closed = collections.Counter(str(sock.ws.close_code) for sock in gone)
        return {
            "open": len(self.socks) - len(gone),
            "closed": dict(closed),
            "closed_by_tag": dict(collections.Counter(sock.tag for sock in gone)),
            "events": sum(sock.event_count for sock in self.socks),
            "failures": dict(self.failures),
        }

    async def do_close(self) -> dict[str, Any]:
        self.keepalive_interval = 0.0
        gate = asyncio.Semaphore(500)

        async def close(sock: Sock) -> None:
            if sock.keepalive is not None:
                sock.keepalive.cancel()
            async with gate:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(sock.ws.close(), 5)
                if sock.reader is not None:
                    sock.reader.cancel()

        count = len(self.socks)
        await asyncio.gather(*(close(sock) for sock in self.socks))
        self.socks.clear()
        return {"closed": count}


def worker(conn: Connection, index: int) -> None:
    """The body of one client process."""
    raise_file_limit()
    asyncio.run(Worker(conn, index).run())

"""The frames waiting to be written to one socket, and the one task that writes them.

A client that stops reading makes the server's writes wait. With a queue of its own and a
writer task, that wait holds up only this connection: the consumer keeps taking events off
the channel layer, and when the queue reaches its cap the connection is closed instead of
growing without bound (or silently losing events when the layer's channel overflows).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

SEND_QUEUE_CAP = 1000
ROOM_POLL = 0.01


class Outgoing:
    def __init__(self, write: Callable[[str], Awaitable[None]], *, cap: int | None = None):
        self._write = write
        self._cap = cap or SEND_QUEUE_CAP
        self._queue: asyncio.Queue[str] = asyncio.Queue()
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        while True:
            text = await self._queue.get()
            await self._write(text)

    def put(self, text: str) -> bool:
        """Queue a frame; False when the queue is full (the client is not reading)."""
        if self._queue.qsize() >= self._cap:
            return False
        self._queue.put_nowait(text)
        return True

    def put_always(self, text: str) -> None:
        """Queue a reply or a replayed event: bounded by `wait_for_room`, not by the cap."""
        self._queue.put_nowait(text)

    async def wait_for_room(self, *, timeout: float) -> bool:
        """Wait until the queue is at most half full; False if the client did not read."""
        deadline = asyncio.get_running_loop().time() + timeout
        while self._queue.qsize() > self._cap // 2:
            if asyncio.get_running_loop().time() > deadline:
                return False
            await asyncio.sleep(ROOM_POLL)
        return True

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task

"""The frames waiting to be written to one socket, and the one task that writes them.

A client that stops reading makes the server's writes wait. With a queue of its own and a
writer task, that wait holds up only this connection: the consumer keeps taking events off
the channel layer, and when the queue reaches its cap the connection is closed instead of
growing without bound (or silently losing events when the layer's channel overflows).

The cap counts frames and characters: a thousand large frames would otherwise hold tens of
megabytes for one client that does not read. Replies and replayed events are let past the
cap (a replay waits for room between pages), up to twice it; past that the queue takes
nothing more, and `on_overflow` is called to close the connection.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

DELIVERED_WINDOW = 16384
SEND_QUEUE_CAP = 1000
# Characters queued (about bytes: frames are mostly ASCII JSON).
SEND_QUEUE_MAX_CHARS = 4 * 1024 * 1024
# How far past the caps replies and replayed events may go before the queue gives up.
HARD_LIMIT_FACTOR = 2
ROOM_POLL = 0.01


class Outgoing:
    def __init__(
        self,
        write: Callable[[str], Awaitable[None]],
        *,
        cap: int | None = None,
        max_chars: int | None = None,
        on_overflow: Callable[[], Awaitable[None]] | None = None,
    ):
        self._write = write
        self._cap = cap or SEND_QUEUE_CAP
        self._max_chars = max_chars or SEND_QUEUE_MAX_CHARS
        self._on_overflow = on_overflow
        self._queue: asyncio.Queue[str] = asyncio.Queue()
        self._chars = 0
        self._task: asyncio.Task | None = None
        self._overflow_task: asyncio.Task | None = None
        self.overflowed = False

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        while True:
            text = await self._queue.get()
            self._chars -= len(text)
            await self._write(text)

    def _queue_text(self, text: str) -> None:
        self._chars += len(text)
        self._queue.put_nowait(text)

    def put(self, text: str) -> bool:
        """Queue a frame; False when the queue is full (the client is not reading)."""
        if (
            self.overflowed
            or self._queue.qsize() >= self._cap
            or self._chars + len(text) > self._max_chars
        ):
            return False
        self._queue_text(text)
        return True

    def put_always(self, text: str) -> bool:
        """Queue a reply or a replayed event, past the cap but not past the hard limit.

        False once the hard limit is reached: the frame is dropped, and the connection is to
        be closed (`on_overflow`, and `put`/`wait_for_room` refuse from then on), so that the
        client reconnects and resumes rather than silently missing it.
        """
        if self.overflowed:
            return False
        if (
            self._queue.qsize() >= self._cap * HARD_LIMIT_FACTOR
            or self._chars + len(text) > self._max_chars * HARD_LIMIT_FACTOR
        ):
            self._overflow()
            return False
        self._queue_text(text)
        return True

    def _overflow(self) -> None:
        self.overflowed = True
        if self._on_overflow is not None:
            self._overflow_task = asyncio.get_running_loop().create_task(self._on_overflow())

    def _has_room(self) -> bool:
        return self._queue.qsize() <= self._cap // 2 and self._chars <= self._max_chars // 2

    async def wait_for_room(self, *, timeout: float) -> bool:
        """Wait until the queue is at most half full; False if the client did not read."""
        deadline = asyncio.get_running_loop().time() + timeout
        while not self._has_room():
            if self.overflowed or asyncio.get_running_loop().time() > deadline:
                return False
            await asyncio.sleep(ROOM_POLL)
        return not self.overflowed

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task


class DeliveredIds:
    """The ids sent on one connection lately, to drop an event's second copy.

    One bit per id, in a window of DELIVERED_WINDOW ids below the highest sent: 2-4 KiB. A
    set of the last 4,096 ids sent took about 690 KB per busy connection (bench/soak.py:
    200 sockets grew the server by 130 MB in 9 minutes). A second copy comes soon after the
    first (the same event on two of the connection's streams, a live copy held back during
    a replay, a relay round sent again after a timeout), well within the window; an id older
    than the window counts as not sent.
    """

    __slots__ = ("_bits", "_size", "_top")

    def __init__(self, size: int = DELIVERED_WINDOW) -> None:
        self._size = size
        self._top = 0
        self._bits = 0  # bit k: id `_top - k` was sent

    def __contains__(self, event_id: int) -> bool:
        offset = self._top - event_id
        return 0 <= offset < self._size and bool(self._bits >> offset & 1)

    def add(self, event_id: int) -> None:
        offset = self._top - event_id
        if offset < 0:
            shift = -offset
            self._bits = 1 if shift >= self._size else (self._bits << shift | 1)
            self._top = event_id
            # Bits past the window are never read: trimmed now and then, not on every add.
            if self._bits.bit_length() > 2 * self._size:
                self._bits &= (1 << self._size) - 1
        elif offset < self._size:
            self._bits |= 1 << offset

"""The project's ASGI application with a leaner consumer loop, for bench servers only.

It measures a change proposed for realtime/consumers.py (see the bench's report): channels'
`await_many_dispatch` makes a task and an `asyncio.wait` per message a consumer handles, and
an event reaches the socket through four `send` layers. Here each consumer has two reader
tasks for its whole life (the socket, the channel layer); an event from the layer goes
straight to the connection's outgoing queue (or to the resume hold), everything else is
dispatched in order by the consumer's own loop, and frames are written with the ASGI send.

    BENCH_SERVER_APP=bench._ws_direct:application python -m bench.ws_fanout ...
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Any

from channels.exceptions import StopConsumer
from channels.layers import get_channel_layer

from config.asgi import application
from realtime import connection as realtime_connection
from realtime.consumers import RealtimeConsumer

__all__ = ["application"]


class _ReaderDone:
    """Put in the inbox when a reader task ends: the consumer ends with its outcome."""

    def __init__(self, task: asyncio.Task) -> None:
        self.task = task


async def _call(self: RealtimeConsumer, scope, receive, send) -> None:
    self.scope = scope
    self.channel_layer = get_channel_layer(self.channel_layer_alias)
    self.channel_name = await self.channel_layer.new_channel()
    self.base_send = send
    loop = asyncio.get_running_loop()
    inbox: deque[Any] = deque()
    waiter: list[asyncio.Future | None] = [None]

    def post(message: Any) -> None:
        inbox.append(message)
        future = waiter[0]
        if future is not None:
            waiter[0] = None
            if not future.done():
                future.set_result(None)

    async def read_socket() -> None:
        while True:
            post(await receive())

    async def read_layer() -> None:
        layer_receive = self.channel_layer.receive
        while True:
            message = await layer_receive(self.channel_name)
            # Straight to the socket only when the loop is idle: while a handler runs
            # (or messages wait), the event waits its turn, as with channels' loop.
            idle = waiter[0] is not None and not inbox
            if idle and message.get("type") == "realtime.event" and hasattr(self, "outgoing"):
                _deliver_now(self, message)
            else:
                post(message)

    readers = [loop.create_task(read_socket()), loop.create_task(read_layer())]
    for reader in readers:
        reader.add_done_callback(lambda task: post(_ReaderDone(task)))
    try:
        while True:
            while inbox:
                message = inbox.popleft()
                if isinstance(message, _ReaderDone):
                    message.task.result()
                    return
                await self.dispatch(message)
                if inbox:
                    # A turn of the loop between messages, as channels' loop gives: the
                    # writer sends the replies queued so far before the next message.
                    await asyncio.sleep(0)
            waiter[0] = loop.create_future()
            await waiter[0]
    except StopConsumer:
        pass
    finally:
        for reader in readers:
            reader.cancel()


def _deliver_now(self: RealtimeConsumer, message: dict[str, Any]) -> None:
    """`realtime_event` without a dispatch: hold during a resume, else queue the frame."""
    if self.held is not None:
        self.held.append(message)
        return
    event_id = message["id"]
    if event_id in self.delivered or self.closing:
        return
    prefix = getattr(realtime_connection, "EDITING_PREFIX", None)
    if prefix and message["stream"].startswith(prefix) and not self._for_editor(message):
        return
    self.delivered.add(event_id)
    if not self.outgoing.put(message["text"]):
        asyncio.get_running_loop().create_task(self._close_too_slow())


async def _write(self: RealtimeConsumer, text: str) -> None:
    await self.base_send({"type": "websocket.send", "text": text})


RealtimeConsumer.__call__ = _call
RealtimeConsumer._write = _write

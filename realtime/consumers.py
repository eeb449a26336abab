"""The one WebSocket consumer: transport only (authenticate, join groups, forward events).

Rules live elsewhere and are reached through `database_sync_to_async`: who may subscribe to
what (`stream_access`), which events a resume replays (`selectors`), and who is viewing
(`presence`, async). Per connection it guarantees each event at most once, however many of
its streams carry it, and a `resume` whose replay neither loses nor doubles the live events
that arrive meanwhile (they are held back until the replay is sent).
"""

from __future__ import annotations

import asyncio
import uuid
from collections import deque
from typing import Any

import orjson
import structlog
from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer

from realtime import connection, limits, presence, streams
from realtime.outgoing import Outgoing
from realtime.stream_access import stream_access

logger = structlog.get_logger(__name__)

CLOSE_UNAUTHENTICATED = 4401
CLOSE_RATE_LIMITED = 4429
# The client stopped reading: its queue of frames reached the cap.
CLOSE_TOO_SLOW = 4408
REPLAY_ROOM_TIMEOUT = 30.0
CLOSE_TIMEOUT = 5.0
MAX_SUBSCRIPTIONS = 200
DELIVERED_WINDOW = 4096


class DeliveredIds:
    """The ids most recently sent on one connection, to drop an event's second copy."""

    def __init__(self, size: int = DELIVERED_WINDOW) -> None:
        self._order: deque[int] = deque()
        self._ids: set[int] = set()
        self._size = size

    def __contains__(self, event_id: int) -> bool:
        return event_id in self._ids

    def add(self, event_id: int) -> None:
        self._ids.add(event_id)
        self._order.append(event_id)
        if len(self._order) > self._size:
            self._ids.discard(self._order.popleft())


class RealtimeConsumer(AsyncWebsocketConsumer):
    async def dispatch(self, message: dict[str, Any]) -> None:
        """Channels' dispatch, without its thread round trip per message to close old
        database connections: every ORM call here goes through `database_sync_to_async`,
        which does that itself. The round trip was a third of the CPU of a fan-out."""
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def connect(self) -> None:
        user = self.scope.get("user")
        info = await database_sync_to_async(connection.connection_info)(user=user)
        if info is None:
            # Accept first: a close before accept is an HTTP 403 and the client sees no code.
            await self.accept()
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        self.user = user
        self.connection_id = uuid.uuid4().hex
        self.automatic = info.streams
        self.subscribed: set[str] = set()
        self.delivered = DeliveredIds()
        self.held: list[dict[str, Any]] | None = None
        self.limiter = limits.FrameLimiter()
        self.viewing = connection.Viewing(user=user, connection_id=self.connection_id)
        self.outgoing = Outgoing(self._write)
        self.closing = False
        for stream in self.automatic:
            await self.channel_layer.group_add(streams.group_name(stream), self.channel_name)
        await self.accept()
        self.outgoing.start()
        await self.send_frame(
            {
                "type": "welcome",
                "user": info.user,
                "last_event_id": info.last_event_id,
                "streams": self.automatic,
            }
        )
        connection.ensure_sweeper()

    async def disconnect(self, code: int) -> None:
        if not hasattr(self, "automatic"):
            return
        self.closing = True
        await self.outgoing.stop()
        for stream in [*self.automatic, *self.subscribed]:
            await self.channel_layer.group_discard(streams.group_name(stream), self.channel_name)
        for stream in list(self.subscribed):
            await self._stop_editing(stream)
            await self.viewing.leave(stream)

    # --- frames from the client ------------------------------------------------------------

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        verdict = self.limiter.check()
        if verdict is limits.Verdict.CLOSE:
            await self.close(code=CLOSE_RATE_LIMITED)
            return
        if verdict is limits.Verdict.REFUSE:
            await self.send_error("rate_limited", "Too many frames; slow down.")
            return
        frame, problem = limits.parse_frame(text_data, bytes_data)
        if problem:
            await self.send_error("bad_request", problem)
            return
        handler = self.HANDLERS.get(frame["type"])
        await getattr(self, handler)(frame)

    HANDLERS = {
        "subscribe": "on_subscribe",
        "unsubscribe": "on_unsubscribe",
        "resume": "on_resume",
        "heartbeat": "on_heartbeat",
        "presence": "on_presence",
    }

    async def on_subscribe(self, frame: dict[str, Any]) -> None:
        stream = frame.get("stream")
        if not isinstance(stream, str):
            await self.send_error("bad_request", "`stream` must be a string.")
            return
        if stream not in self.subscribed and len(self.subscribed) >= MAX_SUBSCRIPTIONS:
            await self.send_error("bad_request", f"At most {MAX_SUBSCRIPTIONS} streams.", stream)
            return
        access = await database_sync_to_async(stream_access)(user=self.user, stream=stream)
        if access != "ok":
            await self.send_error(access, None, stream)
            return
        if stream not in self.subscribed:
            await self.channel_layer.group_add(streams.group_name(stream), self.channel_name)
            self.subscribed.add(stream)
        reply: dict[str, Any] = {"type": "subscribed", "stream": stream}
        if connection.is_resource_stream(stream):
            reply["viewers"] = await self.viewing.join(stream)
        kind, key = streams.parse(stream) or ("", None)
        if kind == "job" and key is not None:
            # Read after joining the group: any change after this state arrives as an event.
            reply["job"] = await database_sync_to_async(connection.job_snapshot)(int(key))
        await self.send_frame(reply)

    async def on_unsubscribe(self, frame: dict[str, Any]) -> None:
        stream = frame.get("stream")
        if not isinstance(stream, str):
            await self.send_error("bad_request", "`stream` must be a string.")
            return
        if stream in self.subscribed:
            self.subscribed.discard(stream)
            await self.channel_layer.group_discard(streams.group_name(stream), self.channel_name)
            await self._stop_editing(stream)
            await self.viewing.leave(stream)
        await self.send_frame({"type": "unsubscribed", "stream": stream})

    async def on_presence(self, frame: dict[str, Any]) -> None:
        """`viewing` or `editing` on a subscribed episode or composition stream."""
        stream, state = frame.get("stream"), frame.get("state")
        if not isinstance(stream, str):
            await self.send_error("bad_request", "`stream` must be a string.")
            return
        if state not in presence.STATES:
            await self.send_error("bad_request", "`state` must be viewing or editing.", stream)
            return
        if not connection.is_presence_stream(stream):
            detail = "Presence is kept on episode:<id> and composition:<id> streams."
            await self.send_error("bad_request", detail, stream)
            return
        if stream not in self.subscribed:
            await self.send_error("not_subscribed", "Subscribe to the stream first.", stream)
            return
        editing = connection.editing_stream(stream)
        if state == presence.EDITING and not self.viewing.is_editing(stream):
            await self.channel_layer.group_add(streams.group_name(editing), self.channel_name)
        elif state == presence.VIEWING:
            await self._stop_editing(stream)
        viewers = await self.viewing.set_state(stream, state)
        await self.send_frame(
            {"type": "presence_ack", "stream": stream, "state": state, "viewers": viewers}
        )

    async def _stop_editing(self, stream: str) -> None:
        if self.viewing.is_editing(stream):
            editing = connection.editing_stream(stream)
            await self.channel_layer.group_discard(streams.group_name(editing), self.channel_name)

    async def on_heartbeat(self, frame: dict[str, Any]) -> None:
        for stream in list(self.subscribed):
            if connection.is_resource_stream(stream):
                await self.viewing.refresh(stream)
        await self.send_frame({"type": "heartbeat_ack"})

    async def on_resume(self, frame: dict[str, Any]) -> None:
        last = frame.get("last_event_id")
        if isinstance(last, bool) or not isinstance(last, int) or not 0 <= last < 2**62:
            await self.send_error("bad_request", "`last_event_id` must be a whole number ≥ 0.")
            return
        if self.held is not None:
            await self.send_error("bad_request", "A resume is already running.")
            return
        self.held = []
        try:
            await self._replay(last)
        finally:
            held, self.held = self.held, None
            for message in held:
                await self._deliver(message)

    async def _replay(self, last: int) -> None:
        listening = frozenset([*self.automatic, *self.subscribed])
        replay = connection.Replay(user=self.user, streams=listening, since=last)
        if await database_sync_to_async(replay.too_old)():
            await self.send_frame({"type": "resume_failed", "reason": "too_old"})
            return
        count = 0
        while True:
            page = await database_sync_to_async(replay.next_page)()
            if page is None:
                break
            for event_id, text in page:
                if event_id in self.delivered:
                    continue
                self.outgoing.put_always(text)
                self.delivered.add(event_id)
                count += 1
            if not await self.outgoing.wait_for_room(timeout=REPLAY_ROOM_TIMEOUT):
                await self._close_too_slow()
                return
        await self.send_frame({"type": "resumed", "count": count})

    # --- events from the channel layer ---------------------------------------------------------

    async def realtime_event(self, message: dict[str, Any]) -> None:
        if self.held is not None:
            self.held.append(message)
            return
        await self._deliver(message)

    async def _deliver(self, message: dict[str, Any]) -> None:
        event_id = message["id"]
        if event_id in self.delivered or self.closing:
            return
        if message["stream"].startswith(connection.EDITING_PREFIX) and not self._for_editor(
            message
        ):
            return
        self.delivered.add(event_id)
        if not self.outgoing.put(message["text"]):
            await self._close_too_slow()

    def _for_editor(self, message: dict[str, Any]) -> bool:
        """A `revision_saved` goes to the other editors: not to a connection that stopped
        editing meanwhile, nor to the saver's own connections."""
        stream = message["stream"].removeprefix(connection.EDITING_PREFIX)
        if not self.viewing.is_editing(stream):
            return False
        actor = (orjson.loads(message["text"]).get("data") or {}).get("actor") or {}
        return actor.get("id") != self.user.pk

    # --- sending ---------------------------------------------------------------------------------

    async def _write(self, text: str) -> None:
        await self.send(text_data=text)

    async def _close_too_slow(self) -> None:
        if self.closing:
            return
        self.closing = True
        logger.info("socket_too_slow", user_id=self.user.pk, connection=self.connection_id)
        await self.outgoing.stop()
        try:
            await asyncio.wait_for(self.close(code=CLOSE_TOO_SLOW), timeout=CLOSE_TIMEOUT)
        except TimeoutError:
            logger.info("socket_close_timed_out", connection=self.connection_id)

    async def send_frame(self, payload: dict[str, Any]) -> None:
        if not self.closing:
            self.outgoing.put_always(orjson.dumps(payload).decode())

    async def send_error(self, code: str, detail: str | None, stream: str | None = None) -> None:
        frame: dict[str, Any] = {"type": "error", "code": code}
        if detail:
            frame["detail"] = detail
        if stream is not None:
            frame["stream"] = stream
        await self.send_frame(frame)

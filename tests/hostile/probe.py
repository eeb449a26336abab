"""One in-process socket that hostile frames are thrown at, and the check of what it answers.

After each frame it sends a marker (`unsubscribe` of a stream named for the frame's number)
and a heartbeat, and reads up to both replies: the frame got exactly one answer, of a kind
the contract allows, and the consumer is still there to answer the heartbeat.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

import orjson
from channels.testing import WebsocketCommunicator

from realtime.consumers import RealtimeConsumer

TIMEOUT = 5.0
ERROR_CODES = frozenset({"bad_request", "forbidden", "not_found", "not_subscribed", "rate_limited"})
REPLY_TYPES = frozenset(
    {
        "error",
        "subscribed",
        "unsubscribed",
        "resumed",
        "resume_failed",
        "heartbeat_ack",
        "presence_ack",
    }
)
HEARTBEAT = '{"type": "heartbeat"}'


class ConsumerGone(AssertionError):
    """The socket was closed (or its consumer died) instead of answering."""


@dataclass
class Probe:
    communicator: WebsocketCommunicator
    sent: int = 0
    answers: list[dict[str, Any]] = field(default_factory=list)
    _markers: itertools.count = field(default_factory=itertools.count)

    async def _next_frame(self, after: object) -> dict[str, Any]:
        # The consumer's own exception, if it crashed, is raised here by the communicator.
        output = await self.communicator.receive_output(timeout=TIMEOUT)
        if output["type"] != "websocket.send":
            raise ConsumerGone(f"{output} in answer to {after!r:.300}")
        frame = orjson.loads(output["text"])
        assert isinstance(frame, dict), frame
        assert frame.get("type") == "event" or frame.get("type") in REPLY_TYPES, frame
        if frame["type"] == "error":
            assert frame.get("code") in ERROR_CODES, frame
        return frame

    async def _replies_until(self, match: dict[str, Any], after: object) -> list[dict]:
        replies = []
        while True:
            frame = await self._next_frame(after)
            if frame == match:
                return replies
            if frame["type"] != "event":
                replies.append(frame)

    async def answer(self, *, text: str | None = None, data: bytes | None = None) -> dict:
        """Send one frame; its one answer (events that arrive meanwhile are skipped)."""
        marker = f"marker-{next(self._markers)}"
        sent = text if text is not None else data
        # As the server hands frames over; `send_to` would refuse an empty one.
        key = "text" if text is not None else "bytes"
        await self.communicator.send_input({"type": "websocket.receive", key: sent})
        await self.communicator.send_to(
            text_data=orjson.dumps({"type": "unsubscribe", "stream": marker}).decode()
        )
        await self.communicator.send_to(text_data=HEARTBEAT)
        replies = await self._replies_until({"type": "unsubscribed", "stream": marker}, sent)
        assert len(replies) == 1, f"{len(replies)} answers to {sent!r:.300}: {replies}"
        assert await self._replies_until({"type": "heartbeat_ack"}, sent) == []
        self.sent += 1
        self.answers.append(replies[0])
        return replies[0]

    async def bad_request(self, *, text: str | None = None, data: bytes | None = None) -> None:
        reply = await self.answer(text=text, data=data)
        assert (reply["type"], reply["code"]) == ("error", "bad_request"), reply
        assert isinstance(reply.get("detail"), str) and reply["detail"], reply


async def open_probe(user: Any) -> Probe:
    communicator = WebsocketCommunicator(RealtimeConsumer.as_asgi(), "/ws/")
    communicator.scope["user"] = user
    connected, _ = await communicator.connect(timeout=TIMEOUT)
    assert connected
    output = await communicator.receive_output(timeout=TIMEOUT)
    assert orjson.loads(output["text"])["type"] == "welcome"
    return Probe(communicator)

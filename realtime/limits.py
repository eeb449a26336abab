"""What a client's frames may be: size, shape and rate (CONTRACT.md's WebSocket limits)."""

from __future__ import annotations

import enum
import time
from collections import deque
from typing import Any

import orjson

MAX_FRAME_BYTES = 64 * 1024
FRAME_TYPES = frozenset({"subscribe", "unsubscribe", "resume", "heartbeat", "presence"})
RATE_PER_SECOND = 50.0
BURST = 100.0
# A client refused this many times within the window is closed: it is not slowing down.
REFUSALS_BEFORE_CLOSE = 100
REFUSAL_WINDOW = 5.0


class Verdict(enum.Enum):
    ACCEPT = "accept"
    REFUSE = "refuse"
    CLOSE = "close"


class FrameLimiter:
    """A token bucket: 50 frames/s sustained with bursts of 100; a flood is then closed."""

    # One per socket: slots, and the refusals' deque (over 700 bytes empty) made only for a
    # client that is refused at all.
    __slots__ = ("_clock", "_refusals", "_tokens", "_updated")

    def __init__(self, clock=time.monotonic) -> None:
        self._clock = clock
        self._tokens = BURST
        self._updated = clock()
        self._refusals: deque[float] | None = None

    def check(self) -> Verdict:
        now = self._clock()
        self._tokens = min(BURST, self._tokens + (now - self._updated) * RATE_PER_SECOND)
        self._updated = now
        if self._tokens >= 1:
            self._tokens -= 1
            return Verdict.ACCEPT
        if self._refusals is None:
            self._refusals = deque()
        self._refusals.append(now)
        while self._refusals and self._refusals[0] < now - REFUSAL_WINDOW:
            self._refusals.popleft()
        return Verdict.CLOSE if len(self._refusals) > REFUSALS_BEFORE_CLOSE else Verdict.REFUSE


def _too_big(text: str) -> bool:
    # A character is at most 4 bytes of UTF-8: encode only when the length is ambiguous.
    if len(text) > MAX_FRAME_BYTES:
        return True
    # surrogatepass: a lone surrogate (which a consumer can be handed, though it is not
    # UTF-8) is counted, not raised on; the JSON parser refuses it next.
    return (
        len(text) * 4 > MAX_FRAME_BYTES
        and len(text.encode("utf-8", "surrogatepass")) > MAX_FRAME_BYTES
    )


def parse_frame(text: str | None, data: bytes | None) -> tuple[dict[str, Any], str | None]:
    """The frame as a dict, or a problem to answer with a `bad_request` error."""
    if text is None:
        return {}, "Binary frames are not supported; send JSON text."
    if _too_big(text):
        return {}, f"Frames are limited to {MAX_FRAME_BYTES} bytes."
    try:
        frame = orjson.loads(text)
    except orjson.JSONDecodeError:
        return {}, "The frame is not valid JSON."
    if not isinstance(frame, dict):
        return {}, "A frame must be a JSON object."
    kind = frame.get("type")
    if not isinstance(kind, str):
        return {}, "A frame needs a string `type`."
    if kind not in FRAME_TYPES:
        return {}, f"Unknown frame type; expected one of {', '.join(sorted(FRAME_TYPES))}."
    return frame, None

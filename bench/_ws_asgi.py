"""The project's ASGI application with one change under measurement, for bench servers only.

channels 4.2+ runs `close_old_connections` in the sync thread before every message a
consumer handles (`AsyncConsumer.dispatch`), so each event delivered to each socket, and
each frame received, makes a round trip through asgiref's single sync thread. The realtime
consumer reaches the ORM only through `database_sync_to_async`, which closes old connections
itself; this variant dispatches without that round trip, to measure what it costs.
"""

from __future__ import annotations

from typing import Any

from channels.consumer import get_handler_name

from config.asgi import application
from realtime.consumers import RealtimeConsumer

__all__ = ["application"]


async def _dispatch_without_connection_check(self: RealtimeConsumer, message: dict[str, Any]):
    handler = getattr(self, get_handler_name(message), None)
    if handler is None:
        raise ValueError(f"No handler for message type {message['type']}")
    await handler(message)


RealtimeConsumer.dispatch = _dispatch_without_connection_check

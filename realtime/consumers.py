"""The one WebSocket consumer: transport only (authenticate, join groups, forward events).

This first version authenticates by session, greets and answers heartbeats; streams,
resume, presence and limits come with the WebSocket issue.
"""

from __future__ import annotations

import json

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer

from accounts.roles import user_roles

CLOSE_UNAUTHENTICATED = 4401


class RealtimeConsumer(AsyncWebsocketConsumer):
    async def connect(self) -> None:
        user = self.scope.get("user")
        roles = await database_sync_to_async(user_roles)(user)
        if not roles:
            # Accept first: a close before accept is an HTTP 403 and the client sees no code.
            await self.accept()
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        await self.accept()
        streams = [f"user:{user.pk}", *(f"role:{role}" for role in roles), "broadcast"]
        await self.send_json(
            {
                "type": "welcome",
                "user": {"id": user.pk, "username": user.get_username(), "roles": roles},
                "last_event_id": 0,
                "streams": streams,
            }
        )

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        try:
            frame = json.loads(text_data or "")
        except ValueError:
            await self.send_json({"type": "error", "code": "bad_request", "detail": "bad JSON"})
            return
        if isinstance(frame, dict) and frame.get("type") == "heartbeat":
            await self.send_json({"type": "heartbeat_ack"})
            return
        await self.send_json(
            {"type": "error", "code": "bad_request", "detail": "unknown frame type"}
        )

    async def send_json(self, payload: dict) -> None:
        await self.send(text_data=json.dumps(payload))

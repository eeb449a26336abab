"""Who is on the socket: a single-use ticket in the URL, or the session cookie.

A session socket is accepted only from an allowed origin (cross-site WebSocket hijacking);
a ticket socket carries no cookie and is not origin-bound (CONTRACT.md).
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

from channels.auth import AuthMiddlewareStack
from channels.db import database_sync_to_async
from channels.security.websocket import OriginValidator, WebsocketDenier
from django.conf import settings
from django.contrib.auth.models import AnonymousUser

from realtime import tickets


def _allowed_origins() -> list[str]:
    hosts = list(settings.ALLOWED_HOSTS)
    if settings.DEBUG and not hosts:
        hosts = ["localhost", "127.0.0.1", "[::1]"]
    return [*hosts, *settings.CSRF_TRUSTED_ORIGINS]


def origin_allowed(scope: dict) -> bool:
    for name, value in scope.get("headers", []):
        if name == b"origin":
            try:
                parsed = urlparse(value.decode("latin1"))
            except ValueError:
                return False
            return OriginValidator(None, _allowed_origins()).valid_origin(parsed)
    return False


def _ticket(scope: dict) -> str | None:
    query = parse_qs(scope.get("query_string", b"").decode("latin1"))
    values = query.get("ticket")
    return values[0] if values else None


class TicketOrSessionAuth:
    """ASGI middleware that sets scope["user"] and scope["auth"] ("ticket" or "session")."""

    def __init__(self, application) -> None:
        self.application = application
        self.session_stack = AuthMiddlewareStack(application)

    async def __call__(self, scope, receive, send):
        ticket = _ticket(scope)
        if ticket is not None:
            user = await database_sync_to_async(tickets.ticket_consume)(ticket=ticket)
            scope = {**scope, "user": user or AnonymousUser(), "auth": "ticket"}
            return await self.application(scope, receive, send)
        if not origin_allowed(scope):
            return await WebsocketDenier()(scope, receive, send)
        return await self.session_stack({**scope, "auth": "session"}, receive, send)

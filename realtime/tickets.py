"""Single-use WebSocket tickets: issued to an authenticated user, valid 60 s, stored hashed.

The ticket goes in the socket URL where no session cookie is available, so it must be
worthless once used or expired: only its SHA-256 is kept, in the cache, and consuming it
deletes the key; of two concurrent consumers only the one whose delete succeeded wins.
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from django.contrib.auth import get_user_model
from django.core.cache import cache

TICKET_TTL = 60
_PREFIX = "realtime:ticket:"
_MAX_TICKET_CHARS = 128


def _key(ticket: str) -> str:
    return _PREFIX + hashlib.sha256(ticket.encode()).hexdigest()


def ticket_issue(*, user: Any) -> str:
    ticket = secrets.token_urlsafe(32)
    cache.set(_key(ticket), user.pk, timeout=TICKET_TTL)
    return ticket


def ticket_consume(*, ticket: str) -> Any | None:
    """The active user the ticket was issued to, once; None for anything else."""
    if not ticket or len(ticket) > _MAX_TICKET_CHARS:
        return None
    key = _key(ticket)
    user_id = cache.get(key)
    if user_id is None or not cache.delete(key):
        return None
    return get_user_model().objects.filter(pk=user_id, is_active=True).first()

"""Who has a resource open on a live socket right now, as opposed to the REST GET's presence.

`presence.viewers` lists every user with a live connection, the REST GET's `rest` one
included (for PRESENCE_TTL after the GET, whether or not the page is still open). Choosing
whom not to notify needs only the sockets: subscribed, heartbeating, receiving the events.
presence.py has no read for that, so this one reads its stores (members scored by expiry)
through its own key and entry helpers; it belongs in presence.py as `socket_viewers`.
"""

from __future__ import annotations

import threading

import structlog
from redis import Redis
from redis.backoff import NoBackoff
from redis.exceptions import RedisError
from redis.retry import Retry

from realtime import flags, presence

logger = structlog.get_logger(__name__)

_clients: dict[str, Redis] = {}
_clients_lock = threading.Lock()


def _client(url: str) -> Redis:
    """One synchronous client (a thread-safe pool) per Redis URL, for the whole process."""
    with _clients_lock:
        client = _clients.get(url)
        if client is None:
            client = _clients[url] = Redis.from_url(
                url,
                decode_responses=True,
                socket_timeout=presence.SOCKET_TIMEOUT,
                socket_connect_timeout=presence.SOCKET_TIMEOUT,
                retry=Retry(NoBackoff(), 1),
            )
        return client


def _redis_members(backend: presence.RedisBackend, resource, now: float) -> list[tuple[int, str]]:
    live = _client(backend.url).zrangebyscore(backend._members_key(resource), f"({now!r}", "+inf")
    members = []
    for member in live:
        user_id = presence._member_user(member)
        if user_id is not None:
            members.append((user_id, member.partition(":")[2]))
    return members


def _memory_members(backend: presence.MemoryBackend, resource, now: float) -> list[tuple[int, str]]:
    store = backend._store
    with store.lock:
        room = store.rooms.get(resource)
        if room is None:
            return []
        return [key for key, expiry in room.members.items() if expiry > now]


def socket_viewer_ids(
    resource_type: str, resource_id: int | str, *, now: float | None = None
) -> set[int]:
    """The users with a live socket connection to the resource (REST GET presence aside).

    Empty when presence tracking is off or its store cannot be reached: then nobody is
    known to be looking, and nobody is left out of a notification for it.
    """
    if not flags.presence_tracking():
        return set()
    resource = presence._resource(resource_type, resource_id)
    at = presence._at(now)
    backend = presence._backend()
    try:
        if isinstance(backend, presence.RedisBackend):
            members = _redis_members(backend, resource, at)
        else:
            members = _memory_members(backend, resource, at)
    except (RedisError, OSError) as exc:
        logger.warning("presence_unavailable", operation="socket_viewers", error=repr(exc))
        return set()
    return {
        user_id
        for user_id, connection_id in members
        if connection_id != presence.REST_CONNECTION_ID
    }

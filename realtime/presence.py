"""Who is viewing what: connections per resource with an expiry, in Redis or in memory.

A resource type and id in, viewers out; no app is imported, so apps call this module and
never the other way round. The async API runs on the event loop; `*_sync` wrap it for views.

Each connection is `viewing` or `editing`; a user's state is `editing` while any of their
live connections is. A change of a staying user's state is reported once, by whichever
operation makes it (a touch, a leave, or the sweep of an editing connection that expired).
"""

from __future__ import annotations

import asyncio
import re
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol, TypedDict, TypeVar

import structlog
from asgiref.sync import async_to_sync
from django.conf import settings
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

logger = structlog.get_logger(__name__)

T = TypeVar("T")

REST_CONNECTION_ID = "rest"
VIEWING = "viewing"
EDITING = "editing"
STATES = frozenset({VIEWING, EDITING})
DEFAULT_KEY_PREFIX = "presence"
REDIS_MAX_CONNECTIONS = 10_000
SOCKET_TIMEOUT = 1.0
# A hard bound on one Redis round trip, retry included: presence must never stall a caller.
CALL_TIMEOUT = 2.0
# Resource keys outlive their last expiry by this much, so that a sweeper can still report
# the departure; they vanish by themselves if no sweeper ever runs.
KEY_GRACE_SECONDS = 3600
SCAN_COUNT = 500

_NAME = re.compile(r"^[A-Za-z0-9_.\-]+$")


class PresenceUnavailable(Exception):
    """The presence store could not be reached in time; callers degrade (no viewers)."""


class Viewer(TypedDict):
    user_id: int
    username: str
    since: str
    state: str


@dataclass(frozen=True, slots=True)
class Transition:
    """What one touch or leave did: did the user just join or leave, or change state
    (`state_changed`, while staying a viewer), and who views now."""

    joined: bool = False
    left: bool = False
    viewers: list[Viewer] = field(default_factory=list)
    state_changed: bool = False

    def state_of(self, user_id: int) -> str:
        return next((v["state"] for v in self.viewers if v["user_id"] == user_id), VIEWING)


@dataclass(frozen=True, slots=True)
class Departure:
    """A user whose last connection to a resource expired, found by exactly one sweep.

    `left` False: the user stays, but the editing connection that expired was their last
    one editing, so they are now `viewing`.
    """

    resource_type: str
    resource_id: str
    user_id: int
    username: str
    viewers_after: list[Viewer]
    left: bool = True


@dataclass(frozen=True, slots=True)
class _Resource:
    type: str
    id: str

    @property
    def entry(self) -> str:
        return f"{self.type}:{self.id}"

    @classmethod
    def parse(cls, entry: str) -> _Resource | None:
        type_, _, id_ = entry.partition(":")
        return cls(type_, id_) if _NAME.match(type_) and _NAME.match(id_) else None


def _resource(resource_type: str, resource_id: int | str) -> _Resource:
    rtype, rid = str(resource_type), str(resource_id)
    if not _NAME.match(rtype) or not _NAME.match(rid):
        raise ValueError(f"not a presence resource: {rtype!r} {rid!r}")
    return _Resource(rtype, rid)


def _clock() -> float:
    return time.time()


def _iso(timestamp: float) -> str:
    text = datetime.fromtimestamp(timestamp, UTC).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _ordered(users: Iterable[tuple[int, str, float]], editing: set[int]) -> list[Viewer]:
    rows = sorted(users, key=lambda row: (row[2], row[0]))
    return [
        {
            "user_id": uid,
            "username": name,
            "since": _iso(since),
            "state": EDITING if uid in editing else VIEWING,
        }
        for uid, name, since in rows
    ]


def _member(user_id: int, connection_id: str) -> str:
    return f"{user_id}:{connection_id}"


def _member_user(member: str) -> int | None:
    head, sep, _ = member.partition(":")
    return int(head) if sep and head.lstrip("-").isdigit() else None


class Backend(Protocol):
    async def touch(
        self,
        resource: _Resource,
        *,
        user_id: int,
        username: str,
        connection_id: str,
        ttl: float,
        now: float,
        state: str | None = None,
    ) -> Transition: ...

    async def leave(
        self, resource: _Resource, *, user_id: int, connection_id: str, now: float
    ) -> Transition: ...

    async def viewers(self, resource: _Resource, *, now: float) -> list[Viewer]: ...

    async def sweep(self, *, now: float) -> list[Departure]: ...

    async def aclose(self) -> None: ...


# --- in memory: one process ------------------------------------------------------


@dataclass
class _Room:
    members: dict[tuple[int, str], float] = field(default_factory=dict)
    users: dict[int, tuple[str, float]] = field(default_factory=dict)
    # The connections (members) that are editing; expired ones stay until dropped.
    editing: set[tuple[int, str]] = field(default_factory=set)

    def live(self, now: float) -> list[Viewer]:
        live = {key for key, expiry in self.members.items() if expiry > now}
        users = {uid for uid, _ in live}
        editors = {uid for uid, _ in live & self.editing}
        return _ordered(((uid, *self.users[uid]) for uid in users if uid in self.users), editors)

    def is_editing(self, user_id: int) -> bool:
        """Editing as last reported: any connection of the user marked editing, live or not."""
        return any(uid == user_id for uid, _ in self.editing)

    def drop(self, key: tuple[int, str]) -> None:
        self.members.pop(key, None)
        self.editing.discard(key)

    def drop_expired_of(self, user_id: int, now: float) -> bool:
        """Forget the user's expired connections; True when a live one remains."""
        still = False
        for key, expiry in list(self.members.items()):
            if key[0] == user_id:
                if expiry > now:
                    still = True
                else:
                    self.drop(key)
        return still


@dataclass
class _MemoryStore:
    lock: threading.Lock = field(default_factory=threading.Lock)
    rooms: dict[_Resource, _Room] = field(default_factory=dict)


_memory_stores: dict[str, _MemoryStore] = {}
_registry_lock = threading.Lock()


class MemoryBackend:
    """The embedded default: the same rules as Redis, for a single process.

    Every operation is a few dict updates under a thread lock (event loops of several
    threads share it), with no await inside: it never blocks a loop for long.
    """

    def __init__(self, prefix: str = DEFAULT_KEY_PREFIX) -> None:
        with _registry_lock:
            self._store = _memory_stores.setdefault(prefix, _MemoryStore())

    async def touch(
        self,
        resource: _Resource,
        *,
        user_id: int,
        username: str,
        connection_id: str,
        ttl: float,
        now: float,
        state: str | None = None,
    ) -> Transition:
        key = (user_id, connection_id)
        with self._store.lock:
            room = self._store.rooms.setdefault(resource, _Room())
            before = room.is_editing(user_id)
            was_viewer = room.drop_expired_of(user_id, now)
            room.members[key] = now + ttl
            if state == EDITING:
                room.editing.add(key)
            elif state == VIEWING:
                room.editing.discard(key)
            known = room.users.get(user_id)
            since = known[1] if was_viewer and known else now
            room.users[user_id] = (username, since)
            return Transition(
                joined=not was_viewer,
                viewers=room.live(now),
                state_changed=was_viewer and before != room.is_editing(user_id),
            )

    async def leave(
        self, resource: _Resource, *, user_id: int, connection_id: str, now: float
    ) -> Transition:
        with self._store.lock:
            room = self._store.rooms.get(resource)
            if room is None:
                return Transition()
            before = room.is_editing(user_id)
            room.drop((user_id, connection_id))
            left = changed = False
            if not room.drop_expired_of(user_id, now):
                left = room.users.pop(user_id, None) is not None
            else:
                changed = before and not room.is_editing(user_id)
            if not room.members:
                del self._store.rooms[resource]
            return Transition(left=left, viewers=room.live(now), state_changed=changed)

    async def viewers(self, resource: _Resource, *, now: float) -> list[Viewer]:
        with self._store.lock:
            room = self._store.rooms.get(resource)
            return room.live(now) if room else []

    async def sweep(self, *, now: float) -> list[Departure]:
        departures: list[Departure] = []
        with self._store.lock:
            for resource, room in list(self._store.rooms.items()):
                expired = [key for key, expiry in room.members.items() if expiry <= now]
                stopped_editing = {key[0] for key in expired if key in room.editing}
                for key in expired:
                    room.drop(key)
                staying = {uid for uid, _ in room.members}
                gone = list(dict.fromkeys(uid for uid, _ in expired))
                found = [
                    (uid, room.users.pop(uid)[0])
                    for uid in gone
                    if uid not in staying and uid in room.users
                ]
                updated = [
                    (uid, room.users[uid][0])
                    for uid in gone
                    if uid in stopped_editing
                    and uid in staying
                    and uid in room.users
                    and not room.is_editing(uid)
                ]
                if not room.members:
                    del self._store.rooms[resource]
                if found or updated:
                    after = room.live(now)
                    departures.extend(
                        Departure(resource.type, resource.id, uid, name, list(after))
                        for uid, name in found
                    )
                    departures.extend(
                        Departure(resource.type, resource.id, uid, name, list(after), left=False)
                        for uid, name in updated
                    )
        return departures

    async def aclose(self) -> None:
        return None


# --- Redis: shared by every process ------------------------------------------------
#
# Per resource: a sorted set `<prefix>:<type>:<id>` of `<user_id>:<connection_id>` scored by
# expiry, a hash `<prefix>:<type>:<id>:users` with `name:<uid>` and `since:<uid>` for each user
# who has a connection there, a set `<prefix>:<type>:<id>:editing` of the members editing, and
# a set `<prefix>:active` of `<type>:<id>` for the sweeper.
# Each operation is one Lua script, hence atomic: whichever script removes a user's last
# connection deletes the user's hash fields, and only the one whose HDEL removed them
# reports the departure (exactly once across leaves and concurrent sweepers).

_USER_LOOP = """
local function drop_expired_of(key, editing, uid, now)
  local mine = uid .. ':'
  local still = false
  local all = redis.call('ZRANGE', key, 0, -1, 'WITHSCORES')
  for i = 1, #all, 2 do
    if string.sub(all[i], 1, #mine) == mine then
      if tonumber(all[i + 1]) > now then
        still = true
      else
        redis.call('ZREM', key, all[i])
        redis.call('SREM', editing, all[i])
      end
    end
  end
  return still
end
"""

# Editing as last reported: any member of the user in the editing set, live or not.
_IS_EDITING = """
local function is_editing(editing, uid)
  local mine = uid .. ':'
  for _, m in ipairs(redis.call('SMEMBERS', editing)) do
    if string.sub(m, 1, #mine) == mine then return true end
  end
  return false
end
"""

# KEYS: members, users, active, editing.
# ARGV: member, user_id, username, now, expiry, entry, grace, state ('' keeps it).
_TOUCH = (
    _USER_LOOP
    + _IS_EDITING
    + """
local now = tonumber(ARGV[4])
local before = is_editing(KEYS[4], ARGV[2])
local was_viewer = drop_expired_of(KEYS[1], KEYS[4], ARGV[2], now)
redis.call('ZADD', KEYS[1], ARGV[5], ARGV[1])
if ARGV[8] == 'editing' then
  redis.call('SADD', KEYS[4], ARGV[1])
elseif ARGV[8] == 'viewing' then
  redis.call('SREM', KEYS[4], ARGV[1])
end
if not was_viewer or redis.call('HEXISTS', KEYS[2], 'since:' .. ARGV[2]) == 0 then
  redis.call('HSET', KEYS[2], 'since:' .. ARGV[2], ARGV[4])
end
redis.call('HSET', KEYS[2], 'name:' .. ARGV[2], ARGV[3])
redis.call('SADD', KEYS[3], ARGV[6])
local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
local keep = math.max(math.ceil(tonumber(last[2]) - now), 1) + tonumber(ARGV[7])
redis.call('EXPIRE', KEYS[1], string.format('%d', keep))
redis.call('EXPIRE', KEYS[2], string.format('%d', keep))
redis.call('EXPIRE', KEYS[4], string.format('%d', keep))
local changed = was_viewer and before ~= is_editing(KEYS[4], ARGV[2])
return {was_viewer and 0 or 1,
        redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. ARGV[4], '+inf'),
        redis.call('HGETALL', KEYS[2]),
        changed and 1 or 0,
        redis.call('SMEMBERS', KEYS[4])}
"""
)

# KEYS: members, users, active, editing. ARGV: member, user_id, now, entry.
_LEAVE = (
    _USER_LOOP
    + _IS_EDITING
    + """
local now = tonumber(ARGV[3])
local before = is_editing(KEYS[4], ARGV[2])
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('SREM', KEYS[4], ARGV[1])
local left, changed = 0, 0
if not drop_expired_of(KEYS[1], KEYS[4], ARGV[2], now) then
  left = redis.call('HDEL', KEYS[2], 'since:' .. ARGV[2], 'name:' .. ARGV[2])
elseif before and not is_editing(KEYS[4], ARGV[2]) then
  changed = 1
end
if redis.call('ZCARD', KEYS[1]) == 0 then
  redis.call('DEL', KEYS[1], KEYS[2], KEYS[4])
  redis.call('SREM', KEYS[3], ARGV[4])
end
return {left > 0 and 1 or 0,
        redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. ARGV[3], '+inf'),
        redis.call('HGETALL', KEYS[2]),
        changed,
        redis.call('SMEMBERS', KEYS[4])}
"""
)

# KEYS: members, users, editing. ARGV: now.
_VIEWERS = """
return {redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. ARGV[1], '+inf'),
        redis.call('HGETALL', KEYS[2]),
        redis.call('SMEMBERS', KEYS[3])}
"""

# KEYS: members, users, active, editing. ARGV: now, entry.
# Returns the users who left and the users who stopped editing (uid, name pairs), and the
# viewers after, when there is anything to report.
_SWEEP = (
    _IS_EDITING
    + """
local expired = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
local gone, order, stopped = {}, {}, {}
for _, m in ipairs(expired) do
  if redis.call('ZREM', KEYS[1], m) == 1 then
    local uid = string.match(m, '^([^:]+):')
    if redis.call('SREM', KEYS[4], m) == 1 and uid then stopped[uid] = true end
    if uid and not gone[uid] then
      gone[uid] = true
      table.insert(order, uid)
    end
  end
end
local staying = {}
for _, m in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local uid = string.match(m, '^([^:]+):')
  if uid then staying[uid] = true end
end
local departed, updated = {}, {}
for _, uid in ipairs(order) do
  local name = redis.call('HGET', KEYS[2], 'name:' .. uid)
  if not staying[uid] then
    if redis.call('HDEL', KEYS[2], 'since:' .. uid, 'name:' .. uid) > 0 then
      table.insert(departed, uid)
      table.insert(departed, name or '')
    end
  elseif stopped[uid] and name and not is_editing(KEYS[4], uid) then
    table.insert(updated, uid)
    table.insert(updated, name)
  end
end
if redis.call('ZCARD', KEYS[1]) == 0 then
  redis.call('DEL', KEYS[1], KEYS[2], KEYS[4])
  redis.call('SREM', KEYS[3], ARGV[2])
end
if #departed == 0 and #updated == 0 then
  return {departed, {}, {}, updated, {}}
end
return {departed,
        redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. ARGV[1], '+inf'),
        redis.call('HGETALL', KEYS[2]),
        updated,
        redis.call('SMEMBERS', KEYS[4])}
"""
)

_SCRIPTS = {"touch": _TOUCH, "leave": _LEAVE, "viewers": _VIEWERS, "sweep": _SWEEP}


def _viewers_from(
    live_members: list[str], user_fields: list[str], editing_members: list[str]
) -> list[Viewer]:
    fields = dict(zip(user_fields[::2], user_fields[1::2], strict=True))
    live = {uid for uid in map(_member_user, live_members) if uid is not None}
    editing = set(editing_members).intersection(live_members)
    editors = {uid for uid in map(_member_user, editing) if uid is not None}
    rows = []
    for uid in live:
        name, since = fields.get(f"name:{uid}"), fields.get(f"since:{uid}")
        if name is not None and since is not None:
            rows.append((uid, name, float(since)))
    return _ordered(rows, editors)


@dataclass
class _Connection:
    client: Redis
    scripts: dict[str, Any]


class RedisBackend:
    """Presence in Redis, shared by every process; one client per event loop.

    A redis.asyncio connection belongs to the loop that opened it, so clients are cached
    by the running loop and never handed to another.
    """

    def __init__(self, url: str, prefix: str = DEFAULT_KEY_PREFIX) -> None:
        self.url = url
        self.prefix = prefix
        self._connections: dict[asyncio.AbstractEventLoop, _Connection] = {}
        self._lock = threading.Lock()

    def _members_key(self, resource: _Resource) -> str:
        return f"{self.prefix}:{resource.type}:{resource.id}"

    def _keys(self, resource: _Resource) -> list[str]:
        """members, users, active, editing."""
        members = self._members_key(resource)
        return [members, f"{members}:users", f"{self.prefix}:active", f"{members}:editing"]

    def _connection(self) -> _Connection:
        loop = asyncio.get_running_loop()
        with self._lock:
            found = self._connections.get(loop)
            if found is None:
                for stale in [other for other in self._connections if other.is_closed()]:
                    del self._connections[stale]
                client = Redis.from_url(
                    self.url,
                    decode_responses=True,
                    socket_timeout=SOCKET_TIMEOUT,
                    socket_connect_timeout=SOCKET_TIMEOUT,
                    retry=Retry(NoBackoff(), 1),
                    # redis-py 8 caps a pool at 100 and raises past it; thousands of sockets
                    # of one process heartbeat through this one client.
                    max_connections=REDIS_MAX_CONNECTIONS,
                )
                scripts = {name: client.register_script(src) for name, src in _SCRIPTS.items()}
                found = self._connections[loop] = _Connection(client, scripts)
            return found

    @asynccontextmanager
    async def _guard(self, operation: str) -> AsyncIterator[None]:
        try:
            async with asyncio.timeout(CALL_TIMEOUT):
                yield
        except (RedisError, OSError) as exc:  # builtin TimeoutError is an OSError
            logger.warning("presence_unavailable", operation=operation, error=repr(exc))
            raise PresenceUnavailable(f"presence store unreachable during {operation}") from exc

    async def _run(self, name: str, keys: list[str], args: list[Any]) -> Any:
        connection = self._connection()
        async with self._guard(name):
            return await connection.scripts[name](keys=keys, args=args)

    async def touch(
        self,
        resource: _Resource,
        *,
        user_id: int,
        username: str,
        connection_id: str,
        ttl: float,
        now: float,
        state: str | None = None,
    ) -> Transition:
        args = [
            _member(user_id, connection_id),
            user_id,
            username,
            repr(now),
            repr(now + ttl),
            resource.entry,
            KEY_GRACE_SECONDS,
            state or "",
        ]
        joined, live, fields, changed, editing = await self._run(
            "touch", self._keys(resource), args
        )
        return Transition(
            joined=bool(joined),
            viewers=_viewers_from(live, fields, editing),
            state_changed=bool(changed),
        )

    async def leave(
        self, resource: _Resource, *, user_id: int, connection_id: str, now: float
    ) -> Transition:
        args = [_member(user_id, connection_id), user_id, repr(now), resource.entry]
        left, live, fields, changed, editing = await self._run("leave", self._keys(resource), args)
        return Transition(
            left=bool(left),
            viewers=_viewers_from(live, fields, editing),
            state_changed=bool(changed),
        )

    async def viewers(self, resource: _Resource, *, now: float) -> list[Viewer]:
        members, users, _, editing = self._keys(resource)
        live, fields, editors = await self._run("viewers", [members, users, editing], [repr(now)])
        return _viewers_from(live, fields, editors)

    async def _active_entries(self) -> list[str]:
        client = self._connection().client
        async with self._guard("sweep"):
            # SSCAN may repeat an element; dict.fromkeys keeps the first of each.
            found = [
                entry
                async for entry in client.sscan_iter(f"{self.prefix}:active", count=SCAN_COUNT)
            ]
        return list(dict.fromkeys(found))

    async def sweep(self, *, now: float) -> list[Departure]:
        departures: list[Departure] = []
        for entry in await self._active_entries():
            resource = _Resource.parse(entry)
            if resource is None:
                continue
            departed, live, fields, updated, editing = await self._run(
                "sweep", self._keys(resource), [repr(now), entry]
            )
            if not departed and not updated:
                continue
            after = _viewers_from(live, fields, editing)
            for uid, name in zip(departed[::2], departed[1::2], strict=True):
                departures.append(
                    Departure(resource.type, resource.id, int(uid), name, list(after))
                )
            for uid, name in zip(updated[::2], updated[1::2], strict=True):
                departures.append(
                    Departure(resource.type, resource.id, int(uid), name, list(after), left=False)
                )
        return departures

    async def aclose(self) -> None:
        """Close the client of the running loop (a worker shutting down, a test ending)."""
        loop = asyncio.get_running_loop()
        with self._lock:
            connection = self._connections.pop(loop, None)
        if connection is not None:
            with suppress(RedisError, OSError):
                await connection.client.aclose()


# --- the API -------------------------------------------------------------------------

_backends: dict[tuple[str, str], Backend] = {}


def _settings_key() -> tuple[str, str]:
    return (
        getattr(settings, "REDIS_URL", "") or "",
        getattr(settings, "PRESENCE_KEY_PREFIX", DEFAULT_KEY_PREFIX),
    )


def _backend() -> Backend:
    """Redis where settings.REDIS_URL is set, else this process's memory."""
    key = _settings_key()
    with _registry_lock:
        found = _backends.get(key)
    if found is None:
        url, prefix = key
        made: Backend = RedisBackend(url, prefix) if url else MemoryBackend(prefix)
        with _registry_lock:
            found = _backends.setdefault(key, made)
    return found


def _ttl(ttl: float | None) -> float:
    value = settings.PRESENCE_TTL if ttl is None else ttl
    if value <= 0:
        raise ValueError(f"presence ttl must be positive, not {value!r}")
    return float(value)


def _at(now: float | None) -> float:
    return _clock() if now is None else float(now)


def _state(state: str | None) -> str | None:
    if state is not None and state not in STATES:
        raise ValueError(f"presence state must be one of {sorted(STATES)}, not {state!r}")
    return state


async def touch(
    resource_type: str,
    resource_id: int | str,
    *,
    user_id: int,
    username: str,
    connection_id: str,
    ttl: float | None = None,
    now: float | None = None,
    state: str | None = None,
) -> Transition:
    """Add or refresh one connection of a user for `ttl` seconds (default PRESENCE_TTL).

    `joined` is True when the user had no live connection to the resource before.
    `state` (viewing or editing) sets the connection's; None keeps it (a new one views).
    `state_changed` is True when the user, a viewer before, is now editing or no longer is.
    """
    return await _backend().touch(
        _resource(resource_type, resource_id),
        user_id=int(user_id),
        username=username,
        connection_id=str(connection_id),
        ttl=_ttl(ttl),
        now=_at(now),
        state=_state(state),
    )


async def leave(
    resource_type: str,
    resource_id: int | str,
    *,
    user_id: int,
    connection_id: str,
    now: float | None = None,
) -> Transition:
    """Remove one connection; `left` is True when it was the user's last live one."""
    return await _backend().leave(
        _resource(resource_type, resource_id),
        user_id=int(user_id),
        connection_id=str(connection_id),
        now=_at(now),
    )


async def viewers(
    resource_type: str, resource_id: int | str, *, now: float | None = None
) -> list[Viewer]:
    """The live viewers, one per user, by `since` then `user_id`."""
    return await _backend().viewers(_resource(resource_type, resource_id), now=_at(now))


async def sweep(now: float | None = None) -> list[Departure]:
    """Forget expired connections; report each user whose last one expired, exactly once,
    and each staying user whose last editing one expired (`left` False)."""
    return await _backend().sweep(now=_at(now))


async def aclose() -> None:
    """Close the Redis connections the running event loop opened."""
    with _registry_lock:
        backends = list(_backends.values())
    for backend in backends:
        await backend.aclose()


async def _with_own_client(operation: Callable[[Backend], Awaitable[T]]) -> T:
    """Run on a client of its own: async_to_sync may have made a loop just for this call."""
    shared = _backend()
    if not isinstance(shared, RedisBackend):
        return await operation(shared)
    own = RedisBackend(shared.url, shared.prefix)
    try:
        return await operation(own)
    finally:
        await own.aclose()


def _run_sync(operation: Callable[[Backend], Awaitable[T]]) -> T:
    return async_to_sync(_with_own_client)(operation)


def touch_sync(
    resource_type: str,
    resource_id: int | str,
    *,
    user_id: int,
    username: str,
    connection_id: str = REST_CONNECTION_ID,
    ttl: float | None = None,
    now: float | None = None,
) -> Transition:
    """`touch` for synchronous code: by default the REST connection, for PRESENCE_TTL."""
    resource, ttl_, at = _resource(resource_type, resource_id), _ttl(ttl), _at(now)
    return _run_sync(
        lambda backend: backend.touch(
            resource,
            user_id=int(user_id),
            username=username,
            connection_id=str(connection_id),
            ttl=ttl_,
            now=at,
        )
    )


def viewers_sync(
    resource_type: str, resource_id: int | str, *, now: float | None = None
) -> list[Viewer]:
    """`viewers` for synchronous code."""
    resource, at = _resource(resource_type, resource_id), _at(now)
    return _run_sync(lambda backend: backend.viewers(resource, now=at))


def sweep_sync(now: float | None = None) -> list[Departure]:
    """`sweep` for synchronous code (a Celery beat task, a management command)."""
    at = _at(now)
    return _run_sync(lambda backend: backend.sweep(now=at))

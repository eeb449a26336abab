"""Presence: who is viewing a resource, with Redis and in memory, and when Redis is down."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime

import pytest
import redis

from realtime import presence
from realtime.presence import PresenceUnavailable

T0 = datetime(2026, 11, 24, 18, 0, tzinfo=UTC).timestamp()
TTL = 30.0
CLOSED_PORT_URL = "redis://127.0.0.1:1/0"


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
def store(request, settings) -> Iterator[str]:
    """Each backend in turn, under a key prefix of this test's own, wiped afterwards."""
    prefix = f"test-presence-{uuid.uuid4().hex}"
    settings.PRESENCE_KEY_PREFIX = prefix
    if request.param == "memory":
        settings.REDIS_URL = ""
    yield request.param
    if request.param == "redis":
        client = redis.Redis.from_url(settings.REDIS_URL)
        try:
            for key in client.scan_iter(match=f"{prefix}*", count=500):
                client.delete(key)
        finally:
            client.close()


@pytest.fixture(autouse=True)
async def _close_presence_clients() -> AsyncIterator[None]:
    yield
    await presence.aclose()


@pytest.fixture
def unreachable_redis(settings) -> str:
    settings.REDIS_URL = CLOSED_PORT_URL
    settings.PRESENCE_KEY_PREFIX = f"test-presence-{uuid.uuid4().hex}"
    return CLOSED_PORT_URL


@pytest.fixture
async def silent_redis(settings) -> AsyncIterator[str]:
    """A server that accepts connections and never answers."""

    async def hold(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()
        writer.close()

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    settings.REDIS_URL = f"redis://127.0.0.1:{port}/0"
    settings.PRESENCE_KEY_PREFIX = f"test-presence-{uuid.uuid4().hex}"
    yield settings.REDIS_URL
    server.close()
    await server.wait_closed()


def another_sweeper(store: str, settings) -> presence.Backend:
    """A second sweeper: its own Redis client, or this process's memory."""
    if store == "redis":
        return presence.RedisBackend(settings.REDIS_URL, settings.PRESENCE_KEY_PREFIX)
    return presence.MemoryBackend(settings.PRESENCE_KEY_PREFIX)


async def touch(
    user_id: int,
    connection_id: str = "c1",
    *,
    at: float = T0,
    ttl: float = TTL,
    episode: int = 42,
    username: str | None = None,
) -> presence.Transition:
    return await presence.touch(
        "episode",
        episode,
        user_id=user_id,
        username=username or f"user{user_id}",
        connection_id=connection_id,
        ttl=ttl,
        now=at,
    )


async def leave(
    user_id: int, connection_id: str = "c1", *, at: float = T0, episode: int = 42
) -> presence.Transition:
    return await presence.leave(
        "episode", episode, user_id=user_id, connection_id=connection_id, now=at
    )


async def viewer_ids(*, at: float = T0, episode: int = 42) -> list[int]:
    return [row["user_id"] for row in await presence.viewers("episode", episode, now=at)]


def departures_of(found: list[presence.Departure]) -> list[tuple[str, str, int, str]]:
    return sorted((d.resource_type, d.resource_id, d.user_id, d.username) for d in found)


# --- joining ------------------------------------------------------------------------


async def test_first_touch_joins_the_user(store):
    result = await touch(1)

    assert result.joined is True
    assert [row["user_id"] for row in result.viewers] == [1]


async def test_two_connections_of_one_user_count_once(store):
    await touch(1, "tab-a")
    await touch(1, "tab-b", at=T0 + 1)

    assert await viewer_ids(at=T0 + 2) == [1]


async def test_second_connection_touch_is_not_a_join(store):
    await touch(1, "tab-a")

    result = await touch(1, "tab-b", at=T0 + 1)

    assert result.joined is False
    assert [row["user_id"] for row in result.viewers] == [1]


async def test_heartbeat_refreshes_a_connection_past_its_first_expiry(store):
    await touch(1, at=T0)
    refreshed = await touch(1, at=T0 + 20)

    assert refreshed.joined is False
    assert await viewer_ids(at=T0 + TTL + 5) == [1]


async def test_since_stays_when_the_user_opens_another_connection(store):
    first = await touch(1, "tab-a", at=T0)

    later = await touch(1, "tab-b", at=T0 + 10)

    assert later.viewers[0]["since"] == first.viewers[0]["since"] == "2026-11-24T18:00:00Z"


async def test_resources_are_viewed_separately(store):
    await touch(1, episode=42)
    await touch(2, episode=43)

    assert await viewer_ids(episode=42) == [1]
    assert await viewer_ids(episode=43) == [2]


# --- leaving ------------------------------------------------------------------------


async def test_leaving_one_of_two_connections_is_not_a_leave(store):
    await touch(1, "tab-a")
    await touch(1, "tab-b")

    result = await leave(1, "tab-a", at=T0 + 1)

    assert result.left is False
    assert [row["user_id"] for row in result.viewers] == [1]


async def test_leaving_the_last_connection_is_a_leave(store):
    await touch(1, "tab-a")
    await touch(2, "tab-a")

    result = await leave(1, "tab-a", at=T0 + 1)

    assert result.left is True
    assert [row["user_id"] for row in result.viewers] == [2]


async def test_leaving_an_unknown_connection_is_not_a_leave(store):
    await touch(1, "tab-a")

    result = await leave(1, "tab-z", at=T0 + 1)

    assert result.left is False
    assert await viewer_ids(at=T0 + 1) == [1]


async def test_leaving_twice_is_a_leave_once(store):
    await touch(1)
    first = await leave(1, at=T0 + 1)

    second = await leave(1, at=T0 + 2)

    assert (first.left, second.left) == (True, False)


# --- expiry ---------------------------------------------------------------------------


async def test_expired_connection_is_not_listed_before_any_sweep(store):
    await touch(1, ttl=10)
    await touch(2, ttl=60)

    assert await viewer_ids(at=T0 + 11) == [2]


async def test_returning_after_expiry_is_a_join_with_a_new_since(store):
    await touch(1, "tab-a", ttl=10)

    result = await touch(1, "tab-b", at=T0 + 20)

    assert result.joined is True
    assert result.viewers[0]["since"] == "2026-11-24T18:00:20Z"


async def test_rest_touch_lasts_presence_ttl(store, settings):
    settings.PRESENCE_TTL = 60
    await presence.touch("episode", 42, user_id=1, username="ana", connection_id="rest", now=T0)

    assert await viewer_ids(at=T0 + 59) == [1]
    assert await viewer_ids(at=T0 + 61) == []


# --- shape and order --------------------------------------------------------------------


async def test_viewer_is_user_id_username_utc_since_and_state(store):
    await touch(7, username="ana", at=T0 + 0.25)

    assert await presence.viewers("episode", 42, now=T0 + 1) == [
        {
            "user_id": 7,
            "username": "ana",
            "since": "2026-11-24T18:00:00.250000Z",
            "state": "viewing",
        }
    ]


async def test_viewers_are_ordered_by_since_then_user_id(store):
    await touch(5, at=T0 + 2)
    await touch(9, at=T0)
    await touch(3, at=T0 + 2)
    await touch(4, at=T0 + 1)

    assert await viewer_ids(at=T0 + 3) == [9, 4, 3, 5]


async def test_nobody_views_an_untouched_resource(store):
    assert await presence.viewers("episode", 404, now=T0) == []


# --- sweeping ---------------------------------------------------------------------------


async def test_sweep_reports_a_last_connection_that_expired(store):
    await touch(1, username="ana", ttl=10)
    await touch(2, username="bo", ttl=60)

    found = await presence.sweep(now=T0 + 11)

    assert [(d.resource_type, d.resource_id, d.user_id, d.username) for d in found] == [
        ("episode", "42", 1, "ana")
    ]
    assert [row["user_id"] for row in found[0].viewers_after] == [2]


async def test_second_sweep_reports_nothing_more(store):
    await touch(1, ttl=10)
    await presence.sweep(now=T0 + 11)

    assert await presence.sweep(now=T0 + 12) == []


async def test_sweep_reports_nothing_for_a_user_with_a_live_connection(store):
    await touch(1, "tab-a", ttl=10)
    await touch(1, "tab-b", ttl=60)

    assert await presence.sweep(now=T0 + 11) == []
    assert await viewer_ids(at=T0 + 11) == [1]


async def test_sweep_after_the_last_leave_reports_nothing(store):
    await touch(1, ttl=10)
    await leave(1, at=T0 + 5)

    assert await presence.sweep(now=T0 + 11) == []


async def test_sweep_reports_nothing_before_expiry(store):
    await touch(1, ttl=10)

    assert await presence.sweep(now=T0 + 9) == []
    assert await viewer_ids(at=T0 + 9) == [1]


async def test_concurrent_sweeps_report_each_departure_once(store, settings):
    for episode in range(1, 21):
        for user_id in (1, 2, 3):
            await touch(user_id, f"c{user_id}", episode=episode, ttl=10)
    first, second = another_sweeper(store, settings), another_sweeper(store, settings)
    try:
        found_a, found_b = await asyncio.gather(first.sweep(now=T0 + 11), second.sweep(now=T0 + 11))
    finally:
        await first.aclose()
        await second.aclose()

    expected = [
        ("episode", str(episode), user_id, f"user{user_id}")
        for episode in range(1, 21)
        for user_id in (1, 2, 3)
    ]
    assert departures_of(found_a + found_b) == sorted(expected)


# --- synchronous wrappers ----------------------------------------------------------------


def test_touch_sync_records_the_rest_viewer(store, settings):
    settings.PRESENCE_TTL = 60

    result = presence.touch_sync("episode", 42, user_id=1, username="ana", now=T0)

    assert result.joined is True
    assert presence.viewers_sync("episode", 42, now=T0 + 59) == [
        {"user_id": 1, "username": "ana", "since": "2026-11-24T18:00:00Z", "state": "viewing"}
    ]


def test_rest_viewer_expires_after_presence_ttl(store, settings):
    settings.PRESENCE_TTL = 60
    presence.touch_sync("episode", 42, user_id=1, username="ana", now=T0)

    assert presence.viewers_sync("episode", 42, now=T0 + 61) == []


def test_sweep_sync_reports_an_expired_rest_viewer(store, settings):
    settings.PRESENCE_TTL = 60
    presence.touch_sync("episode", 42, user_id=1, username="ana", now=T0)

    found = presence.sweep_sync(now=T0 + 61)

    assert departures_of(found) == [("episode", "42", 1, "ana")]


# --- input -------------------------------------------------------------------------------


@pytest.mark.parametrize(("resource_type", "resource_id"), [("episode", "4:2"), ("", 1)])
async def test_malformed_resource_is_refused(store, resource_type, resource_id):
    with pytest.raises(ValueError, match="not a presence resource"):
        await presence.viewers(resource_type, resource_id)


# --- Redis unavailable -------------------------------------------------------------------


@pytest.mark.parametrize("operation", ["touch", "leave", "viewers", "sweep"])
async def test_unreachable_redis_raises_presence_unavailable_promptly(unreachable_redis, operation):
    calls = {
        "touch": lambda: touch(1),
        "leave": lambda: leave(1),
        "viewers": lambda: presence.viewers("episode", 42, now=T0),
        "sweep": lambda: presence.sweep(now=T0),
    }

    async with asyncio.timeout(3):
        with pytest.raises(PresenceUnavailable):
            await calls[operation]()


async def test_redis_that_never_answers_raises_presence_unavailable_promptly(silent_redis):
    async with asyncio.timeout(3):
        with pytest.raises(PresenceUnavailable):
            await touch(1)


def test_viewers_sync_raises_presence_unavailable_when_redis_is_unreachable(
    unreachable_redis,
):
    with pytest.raises(PresenceUnavailable):
        presence.viewers_sync("episode", 42, now=T0)


def test_touch_sync_raises_presence_unavailable_when_redis_is_unreachable(unreachable_redis):
    with pytest.raises(PresenceUnavailable):
        presence.touch_sync("episode", 42, user_id=1, username="ana", now=T0)

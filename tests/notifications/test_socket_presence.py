"""`socket_viewer_ids`: who has a resource open on a live socket, in Redis and in memory."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import redis

from realtime import presence
from realtime.socket_presence import socket_viewer_ids

NOW = 1_800_000_000.0


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
def store(request, settings) -> Iterator[str]:
    prefix = f"test-socket-presence-{uuid.uuid4().hex}"
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


def touch(user_id: int, connection_id: str, *, ttl: float = 30, now: float = NOW) -> None:
    presence.touch_sync(
        "episode",
        7,
        user_id=user_id,
        username=f"u{user_id}",
        connection_id=connection_id,
        ttl=ttl,
        now=now,
    )


def test_a_socket_connection_counts(store):
    touch(1, "a1b2")
    assert socket_viewer_ids("episode", 7, now=NOW + 1) == {1}


def test_the_rest_get_presence_does_not_count(store):
    touch(1, presence.REST_CONNECTION_ID)
    touch(2, "c3d4")
    assert presence.viewers_sync("episode", 7, now=NOW + 1) != []
    assert socket_viewer_ids("episode", 7, now=NOW + 1) == {2}


def test_an_expired_socket_does_not_count(store):
    touch(1, "a1b2", ttl=5)
    touch(2, "c3d4", ttl=60)
    assert socket_viewer_ids("episode", 7, now=NOW + 10) == {2}


def test_a_socket_that_left_does_not_count(store):
    touch(1, "a1b2")
    from asgiref.sync import async_to_sync

    async_to_sync(presence.leave)("episode", 7, user_id=1, connection_id="a1b2", now=NOW + 1)
    assert socket_viewer_ids("episode", 7, now=NOW + 2) == set()


def test_another_resource_does_not_count(store):
    touch(1, "a1b2")
    assert socket_viewer_ids("episode", 8, now=NOW + 1) == set()


def test_presence_tracking_off_is_nobody(store, settings):
    touch(1, "a1b2")
    settings.PRESENCE_TRACKING = False
    assert socket_viewer_ids("episode", 7, now=NOW + 1) == set()


def test_an_unreachable_redis_is_nobody_and_a_warning(settings, caplog):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    settings.PRESENCE_KEY_PREFIX = f"test-socket-presence-{uuid.uuid4().hex}"
    assert socket_viewer_ids("episode", 7) == set()
    warnings = [r.msg for r in caplog.records if isinstance(r.msg, dict)]
    assert any(w.get("event") == "presence_unavailable" for w in warnings), warnings

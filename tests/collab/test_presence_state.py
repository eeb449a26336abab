"""Presence states: each connection views or edits; a user edits while any of theirs does.
Both stores (in memory, and Redis where configured) follow the same rules."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime

import pytest
import redis

from realtime import presence

T0 = datetime(2026, 11, 24, 18, 0, tzinfo=UTC).timestamp()
TTL = 30.0


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
def store(request, settings) -> Iterator[str]:
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


async def touch(
    user_id: int,
    connection_id: str = "c1",
    *,
    at: float = T0,
    state: str | None = None,
    ttl: float = TTL,
) -> presence.Transition:
    return await presence.touch(
        "episode",
        42,
        user_id=user_id,
        username=f"user{user_id}",
        connection_id=connection_id,
        ttl=ttl,
        now=at,
        state=state,
    )


async def states(at: float = T0) -> dict[int, str]:
    return {row["user_id"]: row["state"] for row in await presence.viewers("episode", 42, now=at)}


async def test_a_new_connection_views(store):
    result = await touch(1)
    assert result.viewers[0]["state"] == "viewing"
    assert result.state_changed is False


async def test_a_viewer_who_starts_editing_is_a_state_change(store):
    await touch(1)

    result = await touch(1, state="editing", at=T0 + 1)

    assert (result.joined, result.state_changed) == (False, True)
    assert result.state_of(1) == "editing"
    assert await states(T0 + 2) == {1: "editing"}


async def test_joining_as_an_editor_is_a_join_not_a_state_change(store):
    result = await touch(1, state="editing")
    assert (result.joined, result.state_changed, result.state_of(1)) == (True, False, "editing")


async def test_a_heartbeat_without_a_state_keeps_the_connection_editing(store):
    await touch(1, state="editing")

    result = await touch(1, at=T0 + 10)

    assert (result.state_changed, result.state_of(1)) == (False, "editing")


async def test_a_user_edits_while_any_of_their_connections_does(store):
    await touch(1, "tab-a", state="editing")
    second = await touch(1, "tab-b", at=T0 + 1)
    assert (second.state_changed, second.state_of(1)) == (False, "editing")

    back = await touch(1, "tab-a", state="viewing", at=T0 + 2)

    assert (back.state_changed, back.state_of(1)) == (True, "viewing")


async def test_a_second_tab_editing_changes_nothing_the_others_see(store):
    await touch(1, "tab-a", state="editing")
    result = await touch(1, "tab-b", state="editing", at=T0 + 1)
    assert result.state_changed is False


async def test_states_are_per_user(store):
    await touch(1, state="editing")
    await touch(2, at=T0 + 1)
    assert await states(T0 + 2) == {1: "editing", 2: "viewing"}


async def test_closing_the_editing_tab_of_a_staying_user_is_a_state_change(store):
    await touch(1, "tab-a", state="editing")
    await touch(1, "tab-b")

    result = await presence.leave("episode", 42, user_id=1, connection_id="tab-a", now=T0 + 1)

    assert (result.left, result.state_changed, result.state_of(1)) == (False, True, "viewing")


async def test_leaving_for_good_is_a_leave_not_a_state_change(store):
    await touch(1, state="editing")
    result = await presence.leave("episode", 42, user_id=1, connection_id="c1", now=T0 + 1)
    assert (result.left, result.state_changed) == (True, False)


async def test_an_expired_editing_tab_reads_as_viewing_before_any_sweep(store):
    await touch(1, "tab-a", state="editing", ttl=10)
    await touch(1, "tab-b", ttl=60)
    assert await states(T0 + 11) == {1: "viewing"}


async def test_the_sweep_reports_a_staying_user_whose_editing_tab_expired_once(store):
    await touch(1, "tab-a", state="editing", ttl=10)
    await touch(1, "tab-b", ttl=60)

    found = await presence.sweep(now=T0 + 11)
    again = await presence.sweep(now=T0 + 12)

    assert [(d.user_id, d.left, d.viewers_after[0]["state"]) for d in found] == [
        (1, False, "viewing")
    ]
    assert again == []


async def test_a_heartbeat_that_drops_an_expired_editing_tab_reports_the_change(store):
    await touch(1, "tab-a", state="editing", ttl=10)
    await touch(1, "tab-b", ttl=60)

    result = await touch(1, "tab-b", at=T0 + 11, ttl=60)

    assert (result.state_changed, result.state_of(1)) == (True, "viewing")
    assert await presence.sweep(now=T0 + 12) == []


async def test_the_sweep_reports_an_editor_whose_last_tab_expired_as_a_departure(store):
    await touch(1, state="editing", ttl=10)
    found = await presence.sweep(now=T0 + 11)
    assert [(d.user_id, d.left) for d in found] == [(1, True)]


async def test_an_unknown_state_is_refused(store):
    with pytest.raises(ValueError):
        await touch(1, state="typing")

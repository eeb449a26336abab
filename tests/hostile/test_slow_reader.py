"""The queue of frames waiting for a socket (realtime/outgoing.py) when the client stops
reading: it is capped in frames and in characters, lets replies past the cap only up to a
hard limit, and then takes nothing more and asks for the connection to be closed."""

from __future__ import annotations

import asyncio

import pytest

from realtime.outgoing import HARD_LIMIT_FACTOR, Outgoing

CAP = 10
MAX_CHARS = 1000


class Stuck:
    """A socket whose client does not read: every write waits until `release`."""

    def __init__(self) -> None:
        self.released = asyncio.Event()
        self.written: list[str] = []

    async def write(self, text: str) -> None:
        await self.released.wait()
        self.written.append(text)


@pytest.fixture
async def stuck() -> Stuck:
    return Stuck()


def _queue(stuck: Stuck, **options) -> Outgoing:
    outgoing = Outgoing(stuck.write, cap=CAP, max_chars=MAX_CHARS, **options)
    outgoing.start()
    return outgoing


async def test_events_are_refused_once_the_frame_cap_is_reached(stuck):
    outgoing = _queue(stuck)
    accepted = [outgoing.put("e") for _ in range(CAP + 5)]
    assert accepted == [True] * CAP + [False] * 5
    # The writer takes one frame off the queue, and waits with it: room for one more.
    await asyncio.sleep(0)
    assert [outgoing.put("e"), outgoing.put("e")] == [True, False]
    await outgoing.stop()


async def test_events_are_refused_once_the_character_cap_is_reached(stuck):
    outgoing = _queue(stuck)
    big = "x" * (MAX_CHARS // 4)
    accepted = [outgoing.put(big) for _ in range(8)]
    assert accepted[:4] == [True] * 4
    assert not any(accepted[5:])
    await outgoing.stop()


async def test_replies_go_past_the_cap_but_not_past_the_hard_limit(stuck):
    overflowed = asyncio.Event()

    async def close() -> None:
        overflowed.set()

    outgoing = _queue(stuck, on_overflow=close)
    taken = [outgoing.put_always("r") for _ in range(CAP * HARD_LIMIT_FACTOR + 5)]
    assert taken.count(True) >= CAP * HARD_LIMIT_FACTOR
    assert taken[-1] is False
    await asyncio.wait_for(overflowed.wait(), 1)
    # Past the limit it takes nothing more, events or replies, and has no room for a replay.
    assert outgoing.overflowed
    assert not outgoing.put("e")
    assert not outgoing.put_always("r")
    assert not await outgoing.wait_for_room(timeout=1)
    await outgoing.stop()


async def test_large_replies_reach_the_hard_limit_by_their_characters(stuck):
    outgoing = _queue(stuck)
    big = "x" * (MAX_CHARS // 2)
    taken = [outgoing.put_always(big) for _ in range(CAP)]
    assert taken.count(True) <= MAX_CHARS * HARD_LIMIT_FACTOR // len(big) + 1
    assert outgoing.overflowed
    await outgoing.stop()


async def test_a_client_that_reads_again_drains_the_queue_in_order(stuck):
    outgoing = _queue(stuck)
    for number in range(CAP):
        assert outgoing.put(str(number))
    assert not await outgoing.wait_for_room(timeout=0.05)
    stuck.released.set()
    assert await outgoing.wait_for_room(timeout=1)
    for _ in range(100):
        if len(stuck.written) == CAP:
            break
        await asyncio.sleep(0.01)
    assert stuck.written == [str(number) for number in range(CAP)]
    assert outgoing.put("more")
    await outgoing.stop()

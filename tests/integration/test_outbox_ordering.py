"""The outbox under concurrent writers: a resuming client misses no event and sees none twice.

Why this would fail if positions were primary keys: an Event row gets its key at INSERT,
before commit. Writers here hold their transaction open for a random while after their
events are inserted, so a transaction that inserted first often commits last. With keys as
ids, the reader could read key 105 (committed) and only later see key 104 appear: a
`since=105` cursor would skip it forever (the union check fails), and a resume from before
104 would find an event behind the cursor that it never received (the resume check fails).
`test_a_transaction_that_commits_last_comes_after_what_was_already_read` shows the
interleaving step by step; the concurrent test asserts that such inversions did happen.
"""

from __future__ import annotations

import random
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field

import pytest
from django.db import connection, transaction
from django.db.models import Q

from common.actor import acting_as
from episodes import services as episode_services
from episodes.models import Episode
from realtime import outbox, relay
from realtime.models import Event
from realtime.selectors import events_since
from tests.factories import UserFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

WRITERS = 8
CHANGES_PER_WRITER = 15
MAX_DELAY_IN_TRANSACTION = 0.02
READER_DEADLINE = 60.0
READER_MAX_READS = 20_000
JOIN_TIMEOUT = 60.0
REWIND_WINDOW = 50
HANDSHAKE_TIMEOUT = 10.0


@dataclass
class WriterLog:
    """What one writer committed, in its own order: (episode id, event name) per change."""

    changes: list[tuple[int, str]] = field(default_factory=list)
    errors: list[BaseException] = field(default_factory=list)


def _write(user, season: int, seed: int, log: WriterLog, stop: threading.Event) -> None:
    """Create, update and publish episodes, holding each transaction open a random while."""
    rng = random.Random(seed)
    drafts: list[Episode] = []
    episodes: list[Episode] = []
    try:
        with acting_as(user):
            for number in range(1, CHANGES_PER_WRITER + 1):
                if stop.is_set():
                    return
                roll = rng.random()
                with transaction.atomic():
                    if not episodes or roll < 0.3:
                        episode = episode_services.episode_create(
                            actor=user, title=f"S{season} #{number}", season=season,
                            episode_number=number,
                        )  # fmt: skip
                        change = (episode.pk, "episode_created")
                        drafts.append(episode)
                        episodes.append(episode)
                    elif drafts and roll < 0.6:
                        episode = drafts.pop(rng.randrange(len(drafts)))
                        episode_services.episode_publish(episode=episode, actor=user)
                        change = (episode.pk, "episode_published")
                    else:
                        episode = rng.choice(episodes)
                        episode_services.episode_update(
                            episode=episode, actor=user, title=f"S{season} #{number} (edit)"
                        )
                        change = (episode.pk, "episode_updated")
                    time.sleep(rng.uniform(0, MAX_DELAY_IN_TRANSACTION))
                log.changes.append(change)
    except BaseException as exc:
        log.errors.append(exc)
    finally:
        connection.close()


class Writers:
    """Editors writing concurrently, one thread and one connection each.

    As a context manager it always stops and joins them, so that a failed assertion never
    leaves a thread writing into the next test.
    """

    def __init__(self, seed: int) -> None:
        self.users = [UserFactory(username=f"writer{i}", roles=["editors"]) for i in range(WRITERS)]
        self.logs = [WriterLog() for _ in self.users]
        self.stop = threading.Event()
        self.threads = [
            threading.Thread(target=_write, args=(user, i + 1, seed + i, self.logs[i], self.stop))
            for i, user in enumerate(self.users)
        ]

    def __enter__(self) -> Writers:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        if exc_info[0] is not None:
            self.stop.set()
        self.join()

    def alive(self) -> bool:
        return any(thread.is_alive() for thread in self.threads)

    def join(self) -> None:
        deadline = time.monotonic() + JOIN_TIMEOUT
        for thread in self.threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    def assert_all_committed(self) -> None:
        assert not self.alive(), "a writer did not finish"
        assert [log.errors for log in self.logs] == [[] for _ in self.logs]
        assert [len(log.changes) for log in self.logs] == [CHANGES_PER_WRITER] * WRITERS


@dataclass
class ResumingClient:
    """A client that reconnects again and again, sometimes from an older id than its last."""

    user: object
    rng: random.Random
    cursor: int = 0
    received: list[Event] = field(default_factory=list)

    def resume(self) -> None:
        seen = [row.position for row in self.received]
        since = self.cursor
        roll = self.rng.random()
        if seen and roll < 0.05:
            since = 0
        elif seen and roll < 0.5:
            since = self.rng.choice(seen[-REWIND_WINDOW:])
        rows = events_since(user=self.user, since=since, limit=self.rng.randint(1, 60))
        positions = [row.position for row in rows]
        assert positions == sorted(set(positions)), f"not in id order: {positions}"
        assert all(position > since for position in positions)
        known = [position for position in seen if since < position <= self.cursor]
        head = positions[: len(known)]
        assert head == known[: len(head)], (
            f"resuming from {since}, an event appeared behind the cursor {self.cursor}: "
            f"got {head}, had received {known[: len(head)]}"
        )
        fresh = rows[len(known) :]
        self.received.extend(fresh)
        if fresh:
            self.cursor = fresh[-1].position

    def drain(self) -> None:
        for _ in range(READER_MAX_READS):
            before = len(self.received)
            rows = events_since(user=self.user, since=self.cursor, limit=500)
            self.received.extend(rows)
            if rows:
                self.cursor = rows[-1].position
            if len(self.received) == before:
                return


def _late_commits() -> int:
    """Events numbered after an event with a higher key: they committed out of key order."""
    top = 0
    late = 0
    for event_id in Event.objects.order_by("position").values_list("id", flat=True):
        if event_id < top:
            late += 1
        top = max(top, event_id)
    return late


def test_concurrent_writers_reach_a_resuming_client_exactly_once_in_order():
    reader = UserFactory(username="reader", roles=["editors"])
    client = ResumingClient(user=reader, rng=random.Random(7))
    deadline = time.monotonic() + READER_DEADLINE
    with Writers(seed=1000) as writers:
        for _ in range(READER_MAX_READS):
            if time.monotonic() > deadline or not writers.alive():
                break
            if client.rng.random() < 0.5:
                relay.publish_pending()
            client.resume()
    writers.assert_all_committed()

    relay.publish_pending()
    client.drain()

    assert not Event.objects.filter(Q(position__isnull=True) | Q(published_at__isnull=True))
    visible = list(
        Event.objects.filter(Q(user__isnull=True) | Q(user=reader))
        .order_by("position")
        .values_list("position", flat=True)
    )
    received = [row.position for row in client.received]
    assert received == visible
    assert len(set(received)) == len(received)
    last_per_stream: dict[str, int] = {}
    for row in client.received:
        for stream in row.streams:
            assert row.position > last_per_stream.get(stream, 0), stream
            last_per_stream[stream] = row.position
    assert _late_commits() > 0, "no commit happened out of key order: the run proved nothing"


def test_each_episode_reaches_the_client_in_the_order_its_changes_committed():
    reader = UserFactory(username="reader", roles=["viewers"])
    with Writers(seed=2000) as writers:
        pass
    writers.assert_all_committed()
    relay.publish_pending()
    client = ResumingClient(user=reader, rng=random.Random(11))
    client.drain()

    received: dict[int, list[str]] = defaultdict(list)
    for row in client.received:
        if row.event in ("episode_created", "episode_updated", "episode_published"):
            received[row.data["episode"]["id"]].append(row.event)
    committed: dict[int, list[str]] = defaultdict(list)
    for log in writers.logs:
        for episode_id, event in log.changes:
            committed[episode_id].append(event)
    assert received == committed


def test_a_transaction_that_commits_last_comes_after_what_was_already_read():
    reader = UserFactory(username="reader", roles=["viewers"])
    inserted = threading.Event()
    release = threading.Event()
    failures: list[BaseException] = []

    def transaction_a() -> None:
        try:
            with transaction.atomic():
                outbox.emit(event="episode_updated", streams=["episodes"], data={"tx": "A"})
                inserted.set()
                assert release.wait(HANDSHAKE_TIMEOUT), "never released"
        except BaseException as exc:
            failures.append(exc)
        finally:
            inserted.set()
            connection.close()

    thread_a = threading.Thread(target=transaction_a)
    thread_a.start()
    try:
        assert inserted.wait(HANDSHAKE_TIMEOUT)
        with transaction.atomic():
            outbox.emit(event="episode_updated", streams=["episodes"], data={"tx": "B"})
        first_read = events_since(user=reader, since=0, limit=10)
    finally:
        release.set()
        thread_a.join(JOIN_TIMEOUT)
    assert failures == []
    relay.publish_pending()
    second_read = events_since(user=reader, since=first_read[-1].position, limit=10)

    assert [row.data["tx"] for row in first_read] == ["B"]
    assert [row.data["tx"] for row in second_read] == ["A"]
    a, b = second_read[0], first_read[0]
    assert a.id < b.id
    assert a.position > b.position
    # A client whose cursor were the key would never have been given A.
    assert not Event.objects.filter(published_at__isnull=False, id__gt=b.id).exists()

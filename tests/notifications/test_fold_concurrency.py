"""Folding under concurrent writers on PostgreSQL: every repeat counted, one unread row.

The writers call the notification service directly, each in a transaction of its own that
stays open a moment after writing, as changes that do not lock the episode row would (admin
saves, workers): the partial unique index and the row locks are all that keep them apart.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection, transaction

from realtime import grouping, services
from realtime.models import Event, Notification
from tests.factories import EpisodeFactory, UserFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

WRITERS = 8
HOLD = 0.05


def plan_for(episode, reader, actor) -> services.NotificationPlan:
    ref = {"id": actor.pk, "username": actor.username}
    return services.NotificationPlan(
        type="episode_updated",
        message=grouping.episode_update_message(episode.title, [ref]),
        data=grouping.episode_update_data(
            episode_id=episode.pk, title=episode.title, changed_fields=["title"], actor=ref
        ),
        recipients=lambda type: [reader.pk],
        group=grouping.episode_updates(episode.pk),
    )


def race(episode, reader, actors) -> list[int]:
    barrier = threading.Barrier(len(actors), timeout=10)

    def write(actor) -> int:
        try:
            with transaction.atomic():
                plan = plan_for(episode, reader, actor)
                barrier.wait()
                sent = services.notifications_send(plan=plan, actor=actor)
                time.sleep(HOLD)
            return sent
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=len(actors)) as pool:
        return list(pool.map(write, actors, timeout=30))


@pytest.fixture
def cast():
    episode = EpisodeFactory(title="Pilot")
    reader = UserFactory(username="reader", roles=["viewers"])
    actors = [UserFactory(username=f"editor{n}", roles=["editors"]) for n in range(WRITERS)]
    Notification.objects.all().delete()
    Event.objects.all().delete()
    return episode, reader, actors


def test_concurrent_first_updates_make_one_notification_counting_them_all(cast):
    episode, reader, actors = cast
    assert race(episode, reader, actors) == [1] * WRITERS
    [row] = Notification.objects.filter(user=reader)
    assert row.read_at is None
    assert row.data["count"] == WRITERS
    assert {actor["id"] for actor in row.data["actors"]} == {actor.pk for actor in actors}
    assert row.message == f"Pilot updated by {row.data['last_actor']['username']} and 7 others"
    assert Event.objects.filter(event="notification_created").count() == 1
    assert Event.objects.filter(event="notification_updated").count() == WRITERS - 1


def test_concurrent_folds_into_an_unread_notification_count_every_one(cast):
    episode, reader, actors = cast
    services.notifications_send(plan=plan_for(episode, reader, actors[0]), actor=actors[0])
    race(episode, reader, actors)
    [row] = Notification.objects.filter(user=reader)
    assert row.data["count"] == WRITERS + 1
    updated = Event.objects.filter(event="notification_updated").order_by("id")
    assert sorted(event.data["notification"]["data"]["count"] for event in updated) == list(
        range(2, WRITERS + 2)
    )

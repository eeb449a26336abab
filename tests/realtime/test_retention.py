"""Retention: `prune_events` deletes old events and old read notifications, in batches."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO
from unittest import mock

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from realtime import retention, selectors
from realtime.models import Event, Notification, OutboxMark
from realtime.selectors import PRUNED_THROUGH

pytestmark = pytest.mark.django_db

DAY = timedelta(days=1)


@pytest.fixture(autouse=True)
def _retention(settings) -> None:
    settings.EVENTS_RETENTION = 3600
    settings.NOTIFICATIONS_RETENTION = 7 * 24 * 3600


def event(position: int | None, *, age: timedelta, published: bool = True) -> Event:
    return Event.objects.create(
        event="episode_created",
        streams=["episodes"],
        data={},
        position=position,
        created_at=timezone.now() - age,
        published_at=timezone.now() if published else None,
    )


def notification(user, *, read_ago: timedelta | None, age: timedelta = DAY * 60) -> Notification:
    now = timezone.now()
    return Notification.objects.create(
        user=user,
        type="episode_created",
        message="m",
        created_at=now - age,
        read_at=None if read_ago is None else now - read_ago,
    )


def prune(batch: int = 1000) -> str:
    out = StringIO()
    call_command("prune_events", batch=batch, stdout=out)
    return out.getvalue()


def positions() -> list[int | None]:
    return list(Event.objects.order_by("id").values_list("position", flat=True))


def pruned_through() -> int:
    return selectors.event_pruned_through()


def test_prune_deletes_published_events_past_retention(db):
    for position in (1, 2, 3):
        event(position, age=DAY)
    event(4, age=timedelta(minutes=5))
    prune()
    assert positions() == [4]


def test_prune_keeps_the_newest_event_however_old(db):
    for position in (1, 2, 3):
        event(position, age=DAY)
    prune()
    assert positions() == [3]


def test_prune_keeps_events_not_yet_published(db):
    event(1, age=DAY)
    event(2, age=DAY, published=False)
    event(None, age=DAY, published=False)
    event(3, age=DAY)
    prune()
    assert positions() == [2, None, 3]


def test_prune_records_how_far_it_went(db):
    for position in (1, 2, 3):
        event(position, age=DAY)
    event(4, age=timedelta(minutes=1))
    prune()
    assert OutboxMark.objects.get(name=PRUNED_THROUGH).position == 3


def test_prune_never_moves_the_mark_back(db):
    OutboxMark.objects.create(name=PRUNED_THROUGH, position=50)
    event(51, age=DAY)
    event(52, age=timedelta(minutes=1))
    prune()
    assert pruned_through() == 51
    event(10, age=DAY)  # a position the mark is already past, found late
    prune()
    assert pruned_through() == 51


def test_prune_with_nothing_to_do_leaves_no_mark(db):
    event(1, age=timedelta(minutes=1))
    prune()
    assert not OutboxMark.objects.exists()


def test_prune_deletes_in_batches_of_the_given_size(db):
    for position in range(1, 8):
        event(position, age=DAY)
    with CaptureQueriesContext(connection) as queries:
        prune(batch=3)
    deletes = [q["sql"] for q in queries if q["sql"].startswith('DELETE FROM "realtime_event"')]
    assert len(deletes) == 2  # six old events in batches of three; the newest stays
    assert positions() == [7]


def test_prune_stops_after_max_batches(db):
    for position in range(1, 8):
        event(position, age=DAY)
    assert retention.events_prune(batch=2, max_batches=2) == 4
    assert positions() == [5, 6, 7]
    assert pruned_through() == 6


def test_the_mark_moves_before_rows_are_deleted(db):
    for position in (1, 2, 3):
        event(position, age=DAY)
    with (
        mock.patch.object(retention, "_delete_in_batches", side_effect=RuntimeError("killed")),
        pytest.raises(RuntimeError),
    ):
        retention.events_prune()
    assert pruned_through() == 2


def test_a_prune_during_an_events_read_answers_too_old(api_client_for, viewer):
    for position in (1, 2, 3):
        event(position, age=DAY)
    read_rows = selectors.events_since

    def rows_then_pruned(**kwargs):
        rows = read_rows(**kwargs)
        retention.events_prune()
        return rows

    with mock.patch.object(selectors, "events_since", rows_then_pruned):
        response = api_client_for(viewer).get("/api/v1/events/?since=0")
    assert response.status_code == 410
    assert response.json()["code"] == "too_old"


def test_events_before_the_mark_are_gone_after_a_prune(api_client_for, viewer):
    for position in (1, 2, 3):
        event(position, age=DAY)
    event(4, age=timedelta(minutes=1))
    prune()
    client = api_client_for(viewer)
    assert client.get("/api/v1/events/?since=1").status_code == 410
    response = client.get("/api/v1/events/?since=3")
    assert [frame["id"] for frame in response.json()["events"]] == [4]


def test_prune_deletes_notifications_read_past_retention(viewer):
    notification(viewer, read_ago=DAY * 8)
    kept = notification(viewer, read_ago=DAY)
    prune()
    assert list(Notification.objects.values_list("id", flat=True)) == [kept.id]


def test_prune_keeps_unread_notifications_however_old(viewer):
    unread = notification(viewer, read_ago=None, age=DAY * 365)
    prune()
    assert list(Notification.objects.values_list("id", flat=True)) == [unread.id]


def test_prune_deletes_notifications_in_batches(viewer):
    for _ in range(5):
        notification(viewer, read_ago=DAY * 8)
    with CaptureQueriesContext(connection) as queries:
        prune(batch=2)
    deletes = [q for q in queries if q["sql"].startswith('DELETE FROM "realtime_notification"')]
    assert len(deletes) == 3
    assert not Notification.objects.exists()


def test_prune_command_reports_what_it_deleted(viewer):
    event(1, age=DAY)
    event(2, age=DAY)
    notification(viewer, read_ago=DAY * 8)
    assert prune().strip() == "Deleted 1 event(s) and 1 read notification(s)."

"""A fan-out of events written at once (COPY on PostgreSQL) is stored and relayed as written."""

from __future__ import annotations

import pytest
from django.db import transaction
from django.utils import timezone

from realtime import outbox
from realtime.models import Event
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

FANOUT = outbox.COPY_MIN_ROWS + 20
AWKWARD = {
    "message": 'He said "cut!" \\ then left\ttab\nnewline, café, 🎬, {braces}, NULL, \\N',
    "nested": {"list": [1, 2.5, None, True, "x"], "empty": {}},
}


def _fanout(users) -> list[Event]:
    now = timezone.now()
    return [
        Event(
            event="notification_created",
            streams=[f"user:{user.pk}"],
            data={"n": n, **AWKWARD},
            user_id=user.pk,
            created_at=now,
        )
        for n, user in enumerate(users)
    ]


@pytest.fixture
def users():
    return [UserFactory(username=f"fan{n}", roles=["viewers"]) for n in range(FANOUT)]


def test_a_large_fanout_stores_every_event_as_built(users):
    built = _fanout(users)

    with transaction.atomic():
        outbox.emit_many(built)

    stored = list(Event.objects.order_by("id"))
    assert [(row.event, row.streams, row.data, row.user_id) for row in stored] == [
        (row.event, row.streams, row.data, row.user_id) for row in built
    ]
    assert {row.created_at for row in stored} == {built[0].created_at}


def test_a_large_fanout_is_numbered_and_published_after_commit(users):
    with transaction.atomic():
        outbox.emit_many(_fanout(users))

    positions = list(Event.objects.order_by("id").values_list("position", flat=True))
    assert positions == list(range(1, FANOUT + 1))
    assert not Event.objects.filter(published_at__isnull=True).exists()


def test_a_large_fanout_rolled_back_with_its_transaction_leaves_nothing(users):
    with transaction.atomic():
        outbox.emit_many(_fanout(users))
        transaction.set_rollback(True)

    assert not Event.objects.exists()

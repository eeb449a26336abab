"""Writing events to the outbox, inside the caller's transaction, and waking the relay."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction

from realtime import relay
from realtime.models import Event


def emit(*, event: str, streams: Iterable[str], data: dict, user_id: int | None = None) -> Event:
    row = Event.objects.create(event=event, streams=list(streams), data=data, user_id=user_id)
    transaction.on_commit(relay.schedule)
    return row


def emit_many(rows: list[Event]) -> list[Event]:
    """Several events in one INSERT (a fan-out of notifications)."""
    if not rows:
        return rows
    created = Event.objects.bulk_create(rows, batch_size=1000)
    transaction.on_commit(relay.schedule)
    return created

"""Writing events to the outbox, inside the caller's transaction, and waking the relay."""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import nullcontext

from django.db import connection, transaction

from realtime import relay
from realtime.models import Event

# Several events are written with COPY on PostgreSQL: an INSERT of many rows spends most of
# its time quoting their JSON into array literals in Python (5,000 events: about 0.6 s
# against 0.1 s), and COPY was the faster already at 2 rows (50 notification events: 2-4x,
# bench/write_overhead.py's publish and PATCH notify 50 users).
COPY_MIN_ROWS = 2
_COPIED_FIELDS = ("event", "streams", "data", "user", "created_at")


def emit(*, event: str, streams: Iterable[str], data: dict, user_id: int | None = None) -> Event:
    row = Event.objects.create(event=event, streams=list(streams), data=data, user_id=user_id)
    _wake_relay_on_commit()
    return row


def emit_many(rows: list[Event]) -> None:
    """Several events at once (a fan-out of notifications); their keys are not read back."""
    if not rows:
        return
    if connection.vendor == "postgresql" and len(rows) >= COPY_MIN_ROWS:
        _copy(rows)
    else:
        Event.objects.bulk_create(rows, batch_size=1000)
    _wake_relay_on_commit()


def _wake_relay_on_commit() -> None:
    """Once per transaction: one relay round publishes all of its events.

    A callback registered in a savepoint that rolls back is dropped with it, so a later
    event of the transaction finds none and registers its own.
    """
    if not any(callback is relay.schedule for _, callback, _ in connection.run_on_commit):
        transaction.on_commit(relay.schedule)


def _copy(rows: list[Event]) -> None:
    fields = [Event._meta.get_field(name) for name in _COPIED_FIELDS]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(field.column) for field in fields)
    sql = f"COPY {quote(Event._meta.db_table)} ({columns}) FROM STDIN"
    with connection.cursor() as cursor, connection.wrap_database_errors:
        # Logged, where queries are (DEBUG, CaptureQueriesContext), with the time of the
        # whole copy: Django's own `copy` would log only the time to start it.
        logged = cursor.debug_sql(sql) if hasattr(cursor, "debug_sql") else nullcontext()
        with logged, cursor.cursor.copy(sql) as copy:
            for row in rows:
                copy.write_row(
                    [
                        field.get_db_prep_save(getattr(row, field.attname), connection)
                        for field in fields
                    ]
                )

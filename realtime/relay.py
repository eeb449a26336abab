"""The relay: gives committed events their position and publishes them to the channel layer.

Positions are assigned under one lock (a PostgreSQL advisory lock; a process lock on
SQLite, which is single-process by design), only to committed rows, so they follow commit
order: see the package docstring. Publishing happens under the same lock, in position
order, so every channel receives a stream's events in increasing id order. Whoever fails to
take the lock leaves the work to the holder, who looks again after releasing it.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import orjson
import structlog
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import close_old_connections, connection
from django.utils import timezone

from realtime.models import Event
from realtime.streams import group_name

logger = structlog.get_logger(__name__)

_ADVISORY_LOCK_KEY = 0x5D0E7  # any constant unique to the outbox relay
_process_lock = threading.Lock()
_MAX_ROUNDS = 50
# A channel layer that hangs (a black-holed Redis) must not hold a request's commit hook.
SEND_TIMEOUT = 5.0
# After the channel layer failed (Redis down), how long the relay thread waits once it
# answers again before publishing the backlog: every process's subscriber connections are
# reconnecting too (channels-redis retries each second), and an event published before
# they are back reaches no socket, while later ones do, so a client's `resume` from the
# last id it saw would skip it.
LAYER_RECOVERY_GRACE = 3.0
_PROBE_GROUP = "relay.probe"


@contextmanager
def _outbox_lock() -> Iterator[bool]:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [_ADVISORY_LOCK_KEY])
            acquired = cursor.fetchone()[0]
        try:
            yield acquired
        finally:
            if acquired:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_unlock(%s)", [_ADVISORY_LOCK_KEY])
        return
    acquired = _process_lock.acquire(blocking=False)
    try:
        yield acquired
    finally:
        if acquired:
            _process_lock.release()


_ASSIGN_SQL = """
WITH base AS (SELECT COALESCE(MAX(position), 0) AS top FROM realtime_event),
todo AS (
    SELECT id, ROW_NUMBER() OVER (ORDER BY id) AS rn
    FROM realtime_event WHERE position IS NULL ORDER BY id LIMIT %s
)
UPDATE realtime_event SET position = (SELECT top FROM base) + todo.rn
FROM todo WHERE realtime_event.id = todo.id
"""


def assign_positions(limit: int) -> int:
    """Number the committed, unnumbered events in id order, after the highest position."""
    with connection.cursor() as cursor:
        cursor.execute(_ASSIGN_SQL, [limit])
        return cursor.rowcount


def encode_frame(row: Event, stream: str) -> str:
    """The client frame of one event on one stream, encoded once for every member."""
    return orjson.dumps(
        {
            "type": "event",
            "id": row.position,
            "event": row.event,
            "stream": stream,
            "data": row.data,
            "timestamp": row.created_at.isoformat().replace("+00:00", "Z"),
        }
    ).decode()


async def _send(rows: list[Event]) -> list[int]:
    """Send rows in order; return the ids done. Stops at the first failure of the layer.

    A row the layer refuses as such (a stream that makes no valid group name, data it
    cannot serialise) would otherwise block every row after it forever: it is logged and
    counted as done. It stays readable through `events_since`.
    """
    layer = get_channel_layer()
    sent: list[int] = []
    try:
        for row in rows:
            try:
                for stream in row.streams:
                    message = {
                        "type": "realtime.event",
                        "id": row.position,
                        "stream": stream,
                        "text": encode_frame(row, stream),
                    }
                    await asyncio.wait_for(
                        layer.group_send(group_name(stream), message), SEND_TIMEOUT
                    )
            except (TypeError, ValueError) as exc:
                logger.error(
                    "relay_event_unsendable",
                    error=repr(exc),
                    event_id=row.id,
                    position=row.position,
                    streams=row.streams,
                )
            sent.append(row.id)
    except Exception as exc:
        logger.warning(
            "relay_publish_failed",
            error=repr(exc),
            event_id=rows[len(sent)].id,
            position=rows[len(sent)].position,
        )
    return sent


async def _layer_answers() -> bool:
    try:
        await asyncio.wait_for(
            get_channel_layer().group_send(_PROBE_GROUP, {"type": "relay.probe"}), SEND_TIMEOUT
        )
    except Exception:
        return False
    return True


class _Runner:
    """Runs the async sends: on the server's loop inline, or on the relay thread's own loop."""

    loop: asyncio.AbstractEventLoop | None = None
    # A send failed: the layer is (or was) down.
    layer_failed = False

    def _run(self, function, *args):
        if self.loop is not None:
            return self.loop.run_until_complete(function(*args))
        return async_to_sync(function)(*args)

    def send(self, rows: list[Event]) -> list[int]:
        sent = self._run(_send, rows)
        if len(sent) < len(rows):
            self.layer_failed = True
        return sent

    def recovered(self) -> bool:
        """After a failure: whether the layer answers again, and its subscribers have had
        LAYER_RECOVERY_GRACE to come back with it."""
        if not self.layer_failed:
            return True
        if not self._run(_layer_answers):
            return False
        logger.info("relay_layer_back", grace=LAYER_RECOVERY_GRACE)
        time.sleep(LAYER_RECOVERY_GRACE)
        self.layer_failed = False
        return True


_inline = _Runner()


def publish_unpublished(limit: int, runner: _Runner = _inline) -> tuple[int, bool]:
    """Publish numbered, unpublished events in position order: (count, all went out)."""
    rows = list(
        Event.objects.filter(published_at__isnull=True, position__isnull=False).order_by(
            "position"
        )[:limit]
    )
    if not rows:
        return 0, True
    sent = runner.send(rows)
    if sent:
        Event.objects.filter(id__in=sent).update(published_at=timezone.now())
    return len(sent), len(sent) == len(rows)


def _has_pending() -> bool:
    return (
        Event.objects.filter(position__isnull=True).exists()
        or Event.objects.filter(published_at__isnull=True, position__isnull=False).exists()
    )


def publish_pending(runner: _Runner = _inline) -> int:
    """Number and publish everything committed so far; return how many were published.

    Returns early when another relay holds the lock (it will see our rows) or when the
    channel layer fails (the rows stay unpublished for the next round). Call it outside any
    transaction, as the commit hook, the relay thread and `run_relay` do: positions must be
    committed before the lock is released.
    """
    batch = settings.REALTIME_RELAY_BATCH
    total = 0
    for _ in range(_MAX_ROUNDS):
        with _outbox_lock() as acquired:
            if not acquired:
                return total
            healthy = True
            while healthy:
                assign_positions(batch)
                count, healthy = publish_unpublished(batch, runner)
                total += count
                if count == 0:
                    break
        if not healthy or not _has_pending():
            return total
    return total


class _RelayThread(threading.Thread):
    """One per process: publishes after each commit it is woken for, and every interval."""

    def __init__(self) -> None:
        super().__init__(name="showdesk-relay", daemon=True)
        self.wake = threading.Event()
        self.runner = _Runner()

    def run(self) -> None:
        self.runner.loop = asyncio.new_event_loop()
        while True:
            self.wake.wait(timeout=settings.REALTIME_RELAY_INTERVAL)
            self.wake.clear()
            try:
                if self.runner.recovered():
                    publish_pending(self.runner)
            except Exception as exc:
                logger.warning("relay_round_failed", error=repr(exc))
            finally:
                close_old_connections()


_thread: _RelayThread | None = None
_thread_pid: int | None = None
_thread_guard = threading.Lock()


def _relay_thread() -> _RelayThread:
    global _thread, _thread_pid
    with _thread_guard:
        if _thread is None or _thread_pid != os.getpid() or not _thread.is_alive():
            _thread = _RelayThread()
            _thread_pid = os.getpid()
            _thread.start()
        return _thread


def schedule() -> None:
    """Called after a commit that wrote events. Never raises: the request has succeeded.

    REALTIME_RELAY_MODE: "thread" wakes this process's relay thread; "inline" publishes in
    the committing thread; "command" leaves it all to `manage.py run_relay` (or the beat
    task), for deployments that run the relay as a process of its own.
    """
    mode = settings.REALTIME_RELAY_MODE
    if mode == "command":
        return
    if mode == "thread":
        _relay_thread().wake.set()
        return
    try:
        publish_pending()
    except Exception as exc:
        logger.warning("relay_inline_failed", error=repr(exc))

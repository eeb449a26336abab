"""Writes of the realtime app: activities, notifications and their events.

Called by the receivers (inside the change's transaction) and by the notification
endpoints. Each write of a side effect runs in its own savepoint: when it fails, the
change it describes still commits, and one warning per change says what was lost.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

import structlog
from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from realtime import events, flags, outbox
from realtime.models import Activity, Event, Notification

logger = structlog.get_logger(__name__)

NOTIFICATION_BATCH = 1000


@dataclass(frozen=True)
class NotificationPlan:
    type: str
    message: str
    data: dict[str, Any]
    recipients: Callable[[], Iterable[int]]


@dataclass
class _Change:
    """The side effects of one change being written: the parts that failed, and why."""

    failed: dict[str, str] = field(default_factory=dict)


_change: ContextVar[_Change | None] = ContextVar("realtime_change", default=None)


def _lost(part: str, exc: Exception, ids: dict[str, Any]) -> None:
    change = _change.get()
    if change is None:
        logger.warning("side_effect_failed", part=part, error=repr(exc), **ids)
    else:
        change.failed.setdefault(part, repr(exc))


@contextmanager
def side_effect(part: str, **ids: Any) -> Iterator[None]:
    """A savepoint whose failure is swallowed: the change still commits.

    Within `change_side_effects` the failure is reported once for the whole change;
    on its own it is logged at once.
    """
    try:
        with transaction.atomic():
            yield
    except Exception as exc:
        _lost(part, exc, ids)


@contextmanager
def change_side_effects(**ids: Any) -> Iterator[None]:
    """Write the side effects of one change: whatever fails, the change commits.

    Each part (activity, notifications, events) has its own savepoint, so that one failing
    does not take the others with it; anything else that fails in the block (building a
    payload, the cache) is the part `receiver`. One warning names every part lost, with
    the error and the change's ids.
    """
    if _change.get() is not None:
        with side_effect("receiver", **ids):
            yield
        return
    change = _Change()
    token = _change.set(change)
    try:
        with side_effect("receiver", **ids):
            yield
    finally:
        _change.reset(token)
    if change.failed:
        logger.warning(
            "side_effect_failed",
            part=", ".join(change.failed),
            error="; ".join(change.failed.values()),
            **ids,
        )


def activity_log(
    *, actor: Any, action: str, resource_type: str, resource_id: int, metadata: dict[str, Any]
) -> Activity | None:
    if not flags.activity_logging():
        return None
    ids = {"action": action, "resource_type": resource_type, "resource_id": resource_id}
    with side_effect("activity", **ids):
        activity = Activity.objects.create(
            user=actor,
            action=action,
            resource_type=resource_type,
            resource_id=resource_id,
            metadata=metadata,
        )
        # Its own savepoint: the activity stays when only its live event is lost.
        change_events_emit([events.activity_logged(activity, actor)], **ids)
        return activity
    return None


def events_emit(specs: Iterable[events.EventSpec]) -> None:
    """Write events to the outbox (when live broadcasting is on)."""
    if not flags.websocket_broadcast():
        return
    rows = [
        Event(event=spec.event, streams=list(spec.streams), data=spec.data, user_id=spec.user_id)
        for spec in specs
    ]
    if len(rows) == 1:
        outbox.emit(
            event=rows[0].event, streams=rows[0].streams, data=rows[0].data, user_id=rows[0].user_id
        )
    else:
        outbox.emit_many(rows)


def change_events_emit(specs: Iterable[events.EventSpec], **ids: Any) -> None:
    """Write events in a savepoint of their own: when they fail, the rest is kept."""
    if not flags.websocket_broadcast():
        return
    with side_effect("events", **ids):
        events_emit(specs)


def unread_counts(user_ids: list[int]) -> dict[int, int]:
    rows = (
        Notification.objects.filter(user_id__in=user_ids, read_at__isnull=True)
        .values("user_id")
        .annotate(count=Count("id"))
        .order_by()
    )
    return {row["user_id"]: row["count"] for row in rows}


def notifications_send(*, plan: NotificationPlan, actor: Any, **ids: Any) -> int:
    """Notify every recipient but the actor: one INSERT per batch, one event each."""
    if not flags.notifications():
        return 0
    sent = 0
    with side_effect("notifications", type=plan.type, **ids):
        actor_id = actor.pk if actor is not None else None
        recipients = [user_id for user_id in plan.recipients() if user_id != actor_id]
        now = timezone.now()
        for start in range(0, len(recipients), NOTIFICATION_BATCH):
            batch = recipients[start : start + NOTIFICATION_BATCH]
            created = Notification.objects.bulk_create(
                Notification(
                    user_id=user_id,
                    type=plan.type,
                    message=plan.message,
                    data=plan.data,
                    created_at=now,
                )
                for user_id in batch
            )
            if flags.websocket_broadcast():
                counts = unread_counts(batch)
                change_events_emit(
                    (
                        events.notification_created(row, counts.get(row.user_id, 0))
                        for row in created
                    ),
                    type=plan.type,
                    **ids,
                )
            sent += len(created)
    return sent


@transaction.atomic
def notification_mark_read(*, notification: Notification) -> Notification:
    updated = Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(
        read_at=timezone.now()
    )
    notification.refresh_from_db(fields=["read_at"])
    if updated:
        _announce_read(notification.user_id, [notification.pk])
    return notification


@transaction.atomic
def notifications_mark_all_read(*, user: Any) -> int:
    """One UPDATE however many are unread: a list of ids would overflow the bound parameters
    of the database (32,766 on SQLite, 65,535 with psycopg) for a user who never reads."""
    now = timezone.now()
    marked = Notification.objects.filter(user=user, read_at__isnull=True).update(read_at=now)
    if marked:
        ids = Notification.objects.filter(user=user, read_at=now).order_by("id")
        _announce_read(user.pk, list(ids.values_list("id", flat=True)))
    return marked


def _announce_read(user_id: int, ids: list[int]) -> None:
    unread = unread_counts([user_id]).get(user_id, 0)
    change_events_emit([events.notifications_read(user_id, ids, unread)], user_id=user_id)

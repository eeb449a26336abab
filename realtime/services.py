"""Writes of the realtime app: activities, notifications and their events.

Called by the receivers (inside the change's transaction) and by the notification
endpoints. Each write of a side effect runs in its own savepoint: when it fails, the
change it describes still commits, and one warning says what was lost.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
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


@contextmanager
def side_effect(part: str, **ids: Any) -> Iterator[None]:
    """A savepoint whose failure is logged once and swallowed: the change still commits."""
    try:
        with transaction.atomic():
            yield
    except Exception as exc:
        logger.warning("side_effect_failed", part=part, error=repr(exc), **ids)


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
        events_emit([events.activity_logged(activity, actor)])
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


def change_events_emit(specs: list[events.EventSpec], **ids: Any) -> None:
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
            counts = unread_counts(batch)
            events_emit(
                events.notification_created(row, counts.get(row.user_id, 0)) for row in created
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
    unread = Notification.objects.filter(user=user, read_at__isnull=True)
    ids = list(unread.values_list("id", flat=True).order_by("id"))
    if ids:
        Notification.objects.filter(id__in=ids).update(read_at=timezone.now())
        _announce_read(user.pk, ids)
    return len(ids)


def _announce_read(user_id: int, ids: list[int]) -> None:
    unread = unread_counts([user_id]).get(user_id, 0)
    change_events_emit([events.notifications_read(user_id, ids, unread)], user_id=user_id)

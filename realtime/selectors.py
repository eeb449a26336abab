"""Reads of the realtime app: the feeds, unread counts, and the events a user may see."""

from __future__ import annotations

from typing import Any

from django.db.models import Max, Q, QuerySet

from accounts.roles import can_read
from realtime.models import (
    NOTIFICATION_TYPES,
    Activity,
    EpisodeMute,
    Event,
    Notification,
    NotificationPreference,
    OutboxMark,
)

PRUNED_THROUGH = "pruned_through"


def activity_list(*, user: Any) -> QuerySet[Activity]:
    if not can_read(user):
        return Activity.objects.none()
    return Activity.objects.select_related("user")


def notification_list(*, user: Any) -> QuerySet[Notification]:
    """A user's own notifications, never anyone else's (none for an anonymous user)."""
    if not getattr(user, "is_authenticated", False):
        return Notification.objects.none()
    return Notification.objects.filter(user=user)


def notification_unread_count(*, user: Any) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


def notification_preferences(*, user: Any) -> dict[str, Any]:
    """Every type with its state (on unless turned off), and the muted episodes' ids."""
    chosen = dict(NotificationPreference.objects.filter(user=user).values_list("type", "enabled"))
    muted = EpisodeMute.objects.filter(user=user).order_by("episode_id")
    return {
        "types": {name: chosen.get(name, True) for name in NOTIFICATION_TYPES},
        "muted_episodes": list(muted.values_list("episode_id", flat=True)),
    }


def event_last_position() -> int:
    """The id of the newest numbered event: what a client connecting now has not missed."""
    return Event.objects.aggregate(top=Max("position"))["top"] or 0


def event_pruned_through() -> int:
    mark = OutboxMark.objects.filter(name=PRUNED_THROUGH).first()
    return mark.position if mark else 0


def events_visible(*, user: Any) -> QuerySet[Event]:
    """Numbered events the user may see: public ones and the user's own.

    Numbered, not only published: a position is given only to a committed row, so an event
    the relay could not send yet (Redis down) is still served to a client that asks.
    """
    return Event.objects.filter(position__isnull=False).filter(Q(user__isnull=True) | Q(user=user))


def events_since(*, user: Any, since: int, limit: int) -> list[Event]:
    return list(events_visible(user=user).filter(position__gt=since).order_by("position")[:limit])

"""The live events of a user's notifications: `notification_created` and `notification_updated`.

Their `notification` is the object REST lists, `updated_at` included. (They belong with the
other builders in events.py, whose `notification_payload` lacks `updated_at`.)
"""

from __future__ import annotations

from typing import Any

from realtime import events, streams


def notification_payload(notification: Any) -> dict[str, Any]:
    return {
        **events.notification_payload(notification),
        "updated_at": events.iso(notification.updated_at),
    }


def _for_user(name: str, notification: Any, unread_count: int) -> events.EventSpec:
    data = {"notification": notification_payload(notification), "unread_count": unread_count}
    return events.EventSpec(
        name, (streams.user(notification.user_id),), data, user_id=notification.user_id
    )


def notification_created(notification: Any, unread_count: int) -> events.EventSpec:
    return _for_user("notification_created", notification, unread_count)


def notification_updated(notification: Any, unread_count: int) -> events.EventSpec:
    """A repeat folded into the unread notification (see grouping.py): same id, new
    message, data and `updated_at`; the unread count is unchanged by the fold."""
    return _for_user("notification_updated", notification, unread_count)

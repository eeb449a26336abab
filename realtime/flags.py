"""Feature flags, read from settings at every call so that they can be flipped at run time."""

from __future__ import annotations

from django.conf import settings


def activity_logging() -> bool:
    return settings.ACTIVITY_LOGGING and not settings.DISABLE_ACTIVITY_LOGGING


def notifications() -> bool:
    return settings.NOTIFICATIONS


def presence_tracking() -> bool:
    return settings.PRESENCE_TRACKING


def websocket_broadcast() -> bool:
    return settings.WEBSOCKET_BROADCAST

"""Periodic tasks of the realtime app (run by Celery beat, or by the matching commands)."""

from __future__ import annotations

from celery import shared_task

from realtime import relay, retention


@shared_task(name="realtime.publish_pending", ignore_result=True)
def publish_pending_task() -> int:
    return relay.publish_pending()


@shared_task(name="realtime.prune_events", ignore_result=True)
def prune_events_task() -> dict[str, int]:
    return {
        "events": retention.events_prune(),
        "notifications": retention.notifications_prune(),
    }

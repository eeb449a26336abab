"""Retention: delete old events and old read notifications in small batches."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from realtime.models import Event, Notification, OutboxMark
from realtime.selectors import PRUNED_THROUGH

BATCH = 5000


def _delete_in_batches(queryset, batch: int, max_batches: int) -> int:
    deleted = 0
    for _ in range(max_batches):
        ids = list(queryset.values_list("id", flat=True)[:batch])
        if not ids:
            break
        with transaction.atomic():
            deleted += queryset.model.objects.filter(id__in=ids).delete()[0]
    return deleted


def events_prune(*, batch: int = BATCH, max_batches: int = 1000) -> int:
    """Delete published events past EVENTS_RETENTION and remember how far it went.

    The newest event is kept so that positions keep increasing after a quiet day.
    """
    cutoff = timezone.now() - timedelta(seconds=settings.EVENTS_RETENTION)
    newest = Event.objects.aggregate(top=Max("position"))["top"] or 0
    old = Event.objects.filter(
        created_at__lt=cutoff, published_at__isnull=False, position__lt=newest
    ).order_by("position")
    through = old.aggregate(top=Max("position"))["top"]
    if not through:
        return 0
    # The mark moves before any row goes: a client asking for older events is then told
    # `too_old` rather than served a page with a silent gap where rows were just deleted.
    mark, _ = OutboxMark.objects.get_or_create(name=PRUNED_THROUGH)
    OutboxMark.objects.filter(pk=mark.pk, position__lt=through).update(position=through)
    return _delete_in_batches(old, batch, max_batches)


def notifications_prune(*, batch: int = BATCH, max_batches: int = 1000) -> int:
    """Delete notifications read longer ago than NOTIFICATIONS_RETENTION."""
    cutoff = timezone.now() - timedelta(seconds=settings.NOTIFICATIONS_RETENTION)
    old = Notification.objects.filter(read_at__lt=cutoff).order_by("id")
    return _delete_in_batches(old, batch, max_batches)

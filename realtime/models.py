"""Activity log, notifications, and the event outbox."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class Activity(models.Model):
    # No index of its own: `activity_user` (user, -id) starts with it.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="activities",
        db_index=False,
    )
    action = models.CharField(max_length=64)
    resource_type = models.CharField(max_length=32)
    resource_id = models.BigIntegerField()
    metadata = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-id"]
        verbose_name_plural = "activities"
        indexes = [
            models.Index(fields=["resource_type", "resource_id", "-id"], name="activity_resource"),
            models.Index(fields=["user", "-id"], name="activity_user"),
            models.Index(fields=["action", "-id"], name="activity_action"),
            models.Index(fields=["created_at"], name="activity_created"),
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.resource_type}:{self.resource_id}"


class Notification(models.Model):
    # No index of its own: `notification_user` (user, -id) starts with it, and one index
    # fewer is one write fewer per row of a fan-out.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notifications",
        db_index=False,
    )
    type = models.CharField(max_length=32)
    message = models.CharField(max_length=500)
    data = models.JSONField(default=dict, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["user", "-id"], name="notification_user"),
            models.Index(
                fields=["user", "-id"],
                name="notification_user_unread",
                condition=Q(read_at__isnull=True),
            ),
            models.Index(fields=["read_at"], name="notification_read_at"),
        ]

    def __str__(self) -> str:
        return f"{self.type} for {self.user_id}"


class Event(models.Model):
    """One event of the outbox.

    `position` is the id clients see: assigned by the relay in commit order (see the
    package docstring), so it is null until the row is committed and relayed.
    `user` is set for an event only its user may see (notifications); null is public.
    """

    event = models.CharField(max_length=64)
    streams = models.JSONField(default=list)
    data = models.JSONField(default=dict)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now)
    position = models.BigIntegerField(null=True, blank=True, unique=True)
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["position", "id"]
        indexes = [
            models.Index(
                fields=["id"], name="event_unpositioned", condition=Q(position__isnull=True)
            ),
            models.Index(
                fields=["position"],
                name="event_unpublished",
                condition=Q(published_at__isnull=True, position__isnull=False),
            ),
            models.Index(fields=["created_at"], name="event_created"),
        ]

    def __str__(self) -> str:
        return f"{self.position or '-'} {self.event}"


class OutboxMark(models.Model):
    """Named positions of the outbox, e.g. how far retention has pruned it."""

    name = models.CharField(max_length=32, primary_key=True)
    position = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.name}={self.position}"

"""Activity log, notifications, and the event outbox."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Now
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


# The types of Notification.type, each on by default (see NotificationPreference).
NOTIFICATION_TYPES = (
    "episode_created",
    "episode_published",
    "episode_updated",
    "episode_deleted",
    "job_failed",
)
# The types about an episode itself, which muting the episode silences. Not
# `episode_deleted` (admins hear of a permanent deletion whatever they muted) nor
# `job_failed` (about a job, sent to those who run it).
EPISODE_MUTED_TYPES = frozenset({"episode_published", "episode_updated"})


class Notification(models.Model):
    # No index of its own: `notification_user` (user, ...) starts with it, and one index
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
    # Repeats of one thing (updates of one episode) fold into the unread notification of
    # their group ("": none): at most one unread per user and group, as the constraint says.
    group_key = models.CharField(max_length=64, blank=True, default="", db_default="")
    read_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    # Raised when a repeat folds in: the list is ordered by it, so a folded notification
    # rises to the top. Database defaults serve rows inserted by SQL.
    updated_at = models.DateTimeField(default=timezone.now, db_default=Now())

    class Meta:
        ordering = ["-updated_at", "-id"]
        indexes = [
            models.Index(fields=["user", "-updated_at", "-id"], name="notification_user"),
            models.Index(
                fields=["user", "-updated_at", "-id"],
                name="notification_user_unread",
                condition=Q(read_at__isnull=True),
            ),
            models.Index(fields=["read_at"], name="notification_read_at"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "group_key"],
                name="notification_one_unread_per_group",
                condition=Q(read_at__isnull=True) & ~Q(group_key=""),
            )
        ]

    def __str__(self) -> str:
        return f"{self.type} for {self.user_id}"


class NotificationPreference(models.Model):
    """A user's choice for one notification type; a type without a row is on."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notification_preferences",
        db_index=False,
    )
    type = models.CharField(max_length=32)
    enabled = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "type"], name="notification_preference_unique")
        ]

    def __str__(self) -> str:
        return f"{self.type} {'on' if self.enabled else 'off'} for {self.user_id}"


class EpisodeMute(models.Model):
    """A user who hears nothing more of one episode (the types of EPISODE_MUTED_TYPES)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="episode_mutes",
        db_index=False,
    )
    episode = models.ForeignKey("episodes.Episode", on_delete=models.CASCADE, related_name="mutes")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "episode"], name="episode_mute_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} muted {self.episode_id}"


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

"""Episodes, their compositions, and who follows which episode."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

MAX_EPISODE_NUMBER = 100_000
MAX_SEASON = 1_000


class Episode(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PUBLISHED = "published", "Published"
        ARCHIVED = "archived", "Archived"

    title = models.CharField(max_length=200)
    episode_number = models.PositiveIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(MAX_EPISODE_NUMBER)]
    )
    season = models.PositiveIntegerField(
        default=1, validators=[MinValueValidator(1), MaxValueValidator(MAX_SEASON)]
    )
    description = models.TextField(blank=True, default="", max_length=20_000)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT)
    air_date = models.DateField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="episodes_created",
    )
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["season", "episode_number"]
        constraints = [
            models.UniqueConstraint(
                fields=["season", "episode_number"],
                name="episode_unique_season_number",
                violation_error_message="An episode with this season and number already exists.",
            )
        ]
        indexes = [
            models.Index(fields=["status", "season", "episode_number"]),
            models.Index(fields=["-created_at", "-id"]),
            models.Index(fields=["-updated_at", "-id"]),
        ]

    def __str__(self) -> str:
        return f"S{self.season:02d}E{self.episode_number:02d} {self.title}"


class Composition(models.Model):
    episode = models.ForeignKey(Episode, on_delete=models.CASCADE, related_name="compositions")
    name = models.CharField(max_length=200)
    layout = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="compositions_created",
    )
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["episode_id", "id"]
        indexes = [models.Index(fields=["episode", "id"])]

    def __str__(self) -> str:
        return self.name


class EpisodeSubscription(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="episode_subscriptions"
    )
    episode = models.ForeignKey(Episode, on_delete=models.CASCADE, related_name="subscriptions")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["episode", "user"], name="subscription_unique_user")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} follows {self.episode_id}"

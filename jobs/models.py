"""Jobs: one row per unit of background work, whose state clients follow live."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models


class Job(models.Model):
    class Type(models.TextChoices):
        MEDIA_PROBE = "media_probe", "Media probe"
        THUMBNAIL = "thumbnail", "Thumbnail"
        SEARCH_INDEX = "search_index", "Search index"
        EXPORT_EPISODE = "export_episode", "Export episode"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        RETRYING = "retrying", "Retrying"
        COMPLETED = "completed", "Completed"
        FAILED = "failed", "Failed"
        DEAD = "dead", "Dead"

    FINISHED = frozenset({Status.COMPLETED, Status.FAILED, Status.DEAD})

    type = models.CharField(max_length=32, choices=Type.choices)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    episode = models.ForeignKey(
        "episodes.Episode", null=True, blank=True, on_delete=models.CASCADE, related_name="jobs"
    )
    file = models.ForeignKey(
        "files.FileAsset", null=True, blank=True, on_delete=models.SET_NULL, related_name="jobs"
    )
    params = models.JSONField(default=dict, blank=True)
    progress = models.PositiveSmallIntegerField(default=0, validators=[MaxValueValidator(100)])
    attempts = models.PositiveIntegerField(default=0)
    max_attempts = models.PositiveIntegerField(default=3)
    result = models.JSONField(null=True, blank=True)
    error = models.TextField(blank=True, default="")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="jobs_started",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # The running attempt's lease: extended by its heartbeat and progress reports, so that
    # an attempt whose worker died is known once it lapses (or at once, on the same host,
    # when the `worker` process is gone), and the job can be started again.
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    # `host:pid` of the process running the current attempt.
    worker = models.CharField(max_length=255, blank=True, default="")
    # When a `retrying` job's next attempt is due (its backoff), for clients joining late.
    next_retry_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["status", "-id"], name="job_status"),
            models.Index(fields=["episode", "-id"], name="job_episode"),
            models.Index(fields=["type", "-id"], name="job_type"),
        ]

    def __str__(self) -> str:
        return f"{self.type} #{self.pk} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in self.FINISHED

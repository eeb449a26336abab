"""Files attached to an episode: uploaded by clients straight to storage, then verified."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class FileAsset(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        UPLOADED = "uploaded", "Uploaded"
        PROCESSED = "processed", "Processed"
        FAILED = "failed", "Failed"

    episode = models.ForeignKey("episodes.Episode", on_delete=models.CASCADE, related_name="files")
    filename = models.CharField(max_length=255)
    # Made by the server (episodes/<id>/<uuid>/<safe name>); never the client's path.
    storage_key = models.CharField(max_length=512, unique=True)
    content_type = models.CharField(max_length=127)
    size = models.BigIntegerField()
    checksum_sha256 = models.CharField(max_length=64, blank=True, default="")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    metadata = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="files_created",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    uploaded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["episode", "-id"], name="file_episode"),
            models.Index(fields=["status", "created_at"], name="file_status_created"),
        ]

    def __str__(self) -> str:
        return f"{self.filename} ({self.status})"

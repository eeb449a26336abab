"""Reads of files, scoped to what the user may see."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import QuerySet
from django.utils import timezone

from accounts.roles import can_read
from files.models import FileAsset


def file_list(*, user: AbstractBaseUser) -> QuerySet[FileAsset]:
    """Every role reads every file; a user without a role reads none."""
    if not can_read(user):
        return FileAsset.objects.none()
    return FileAsset.objects.all()


def file_list_stale_pending(*, ttl: int | None = None) -> QuerySet[FileAsset]:
    """Uploads still pending FILES_PENDING_TTL seconds (or `ttl`) after they were created."""
    seconds = settings.FILES_PENDING_TTL if ttl is None else ttl
    cutoff = timezone.now() - timedelta(seconds=seconds)
    return FileAsset.objects.filter(status=FileAsset.Status.PENDING, created_at__lt=cutoff)

"""Reads of jobs: the list every role may see, and counts for the ops endpoints."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Count, QuerySet
from django.utils import timezone

from accounts.roles import can_read
from jobs.models import Job


def job_list(*, user: AbstractBaseUser) -> QuerySet[Job]:
    """Every role reads every job; a user without a role reads none."""
    if not can_read(user):
        return Job.objects.none()
    return Job.objects.all()


def job_counts_by_status() -> dict[str, int]:
    counts = dict.fromkeys(Job.Status.values, 0)
    for row in Job.objects.order_by().values("status").annotate(count=Count("id")):
        counts[row["status"]] = row["count"]
    return counts


def job_list_stale_running() -> QuerySet[Job]:
    """Running jobs whose attempt's lease has lapsed: their worker stopped beating."""
    return Job.objects.filter(status=Job.Status.RUNNING, lease_expires_at__lt=timezone.now())


def job_list_dead() -> QuerySet[Job]:
    return Job.objects.filter(status=Job.Status.DEAD).select_related("episode")

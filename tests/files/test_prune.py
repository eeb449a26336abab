"""Uploads left pending past FILES_PENDING_TTL are deleted, bytes included, by command or beat."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.utils import timezone

from files.models import FileAsset
from files.tasks import prune_uploads_task

pytestmark = pytest.mark.django_db

DAY = 24 * 3600


def make_file(episode, media: Path | None, *, age: float, status: str = "pending") -> FileAsset:
    """A file created `age` seconds ago; with `media`, its bytes (and a half-sent part)."""
    key = f"episodes/{episode.pk}/{FileAsset.objects.count():032x}/a.mp4"
    file = FileAsset.objects.bulk_create(
        [
            FileAsset(
                episode=episode,
                filename="a.mp4",
                storage_key=key,
                content_type="video/mp4",
                size=3,
                status=status,
            )
        ]
    )[0]
    FileAsset.objects.filter(pk=file.pk).update(created_at=timezone.now() - timedelta(seconds=age))
    if media is not None:
        (media / key).parent.mkdir(parents=True)
        (media / key).write_bytes(b"abc")
        (media / key).with_name(".0123.part").write_bytes(b"ab")
    return file


def run_prune(*args: str) -> str:
    out = StringIO()
    call_command("prune_uploads", *args, stdout=out)
    return out.getvalue()


def test_a_pending_upload_older_than_a_day_is_deleted(episode, local_storage):
    stale = make_file(episode, local_storage, age=DAY + 60)
    output = run_prune()
    assert not FileAsset.objects.filter(pk=stale.pk).exists()
    assert output.strip() == "Deleted 1 pending upload(s)."


def test_pruning_deletes_the_bytes_and_half_sent_parts_once_committed(
    episode, local_storage, django_capture_on_commit_callbacks
):
    stale = make_file(episode, local_storage, age=DAY + 60)
    folder = (local_storage / stale.storage_key).parent
    with django_capture_on_commit_callbacks(execute=True):
        run_prune()
    assert not folder.exists()


def test_a_recent_pending_upload_is_kept(episode, local_storage):
    recent = make_file(episode, None, age=DAY - 60)
    run_prune()
    assert FileAsset.objects.filter(pk=recent.pk).exists()


@pytest.mark.parametrize("status", ["uploaded", "processed", "failed"])
def test_an_old_file_that_is_not_pending_is_kept(episode, status):
    old = make_file(episode, None, age=10 * DAY, status=status)
    run_prune()
    assert FileAsset.objects.filter(pk=old.pk).exists()


def test_files_pending_ttl_sets_the_age(episode, settings):
    settings.FILES_PENDING_TTL = 60
    stale = make_file(episode, None, age=120)
    run_prune()
    assert not FileAsset.objects.filter(pk=stale.pk).exists()


def test_the_command_takes_a_ttl(episode):
    stale = make_file(episode, None, age=120)
    assert run_prune("--ttl", "60").strip() == "Deleted 1 pending upload(s)."
    assert not FileAsset.objects.filter(pk=stale.pk).exists()


def test_the_periodic_task_prunes_too(episode):
    stale = make_file(episode, None, age=DAY + 60)
    assert prune_uploads_task() == 1
    assert not FileAsset.objects.filter(pk=stale.pk).exists()


def test_beat_runs_the_prune_task_every_hour():
    entry = django_settings.CELERY_BEAT_SCHEDULE["prune-uploads"]
    assert entry == {"task": "files.prune_uploads", "schedule": 3600.0}
    assert prune_uploads_task.name == "files.prune_uploads"


def test_pruning_an_s3_upload_deletes_its_object(episode, s3, django_capture_on_commit_callbacks):
    stale = make_file(episode, None, age=DAY + 60)
    s3.client.put_object(Bucket=s3.bucket, Key=stale.storage_key, Body=b"abc")
    with django_capture_on_commit_callbacks(execute=True):
        run_prune()
    assert s3.head(stale.storage_key) is None

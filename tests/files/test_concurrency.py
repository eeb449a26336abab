"""Completing the same upload from several requests at once: one completes it, once."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from django.db import connection

from files import services
from files.models import FileAsset
from jobs.models import Job
from realtime.models import Activity
from tests.factories import EpisodeFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

RACERS = 4


def test_racing_completions_queue_one_job_and_log_one_upload(local_storage: Path):
    editor = UserFactory(username="ed", roles=["editors"])
    episode = EpisodeFactory()
    file = services.file_create_upload(
        episode=episode, filename="a.mp4", content_type="video/mp4", size=3, actor=editor
    )
    (local_storage / file.storage_key).parent.mkdir(parents=True)
    (local_storage / file.storage_key).write_bytes(b"abc")
    start = threading.Barrier(RACERS)

    def complete() -> str:
        try:
            start.wait(timeout=10)
            return services.file_complete_upload(file=file, actor=editor).status
        finally:
            connection.close()

    with ThreadPoolExecutor(RACERS) as pool:
        statuses = list(pool.map(lambda _: complete(), range(RACERS)))
    # Every racer gets the file back, none an error; the probe may have moved it on since.
    assert len(statuses) == RACERS
    assert "pending" not in statuses
    assert FileAsset.objects.get(pk=file.pk).uploaded_at is not None
    assert Job.objects.filter(file=file).count() == 1
    assert Activity.objects.filter(action="uploaded_file").count() == 1

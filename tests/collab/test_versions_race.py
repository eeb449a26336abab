"""Two writers of one version at the same time, on PostgreSQL: one saves, the other gets 412."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, connections, transaction
from rest_framework.test import APIClient

from episodes.models import Episode
from tests.factories import EpisodeFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

WAIT = 10.0


def _patch_in_thread(user, url: str, title: str, statuses: list[int], start: threading.Barrier):
    def run() -> None:
        try:
            client = APIClient()
            client.force_authenticate(user)
            start.wait(timeout=WAIT)
            response = client.patch(
                url, {"title": title}, format="json", headers={"If-Match": '"1"'}
            )
            statuses.append(response.status_code)
        finally:
            connections.close_all()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def _waiting_on_a_lock() -> int:
    """Sessions of this test database waiting for a lock right now."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0]


def test_two_patches_that_both_passed_the_view_check_answer_one_200_and_one_412(editor):
    """Both requests read version 1 before either writes: only the row lock tells them apart."""
    episode = EpisodeFactory(title="Pilot")
    url = f"/api/v1/episodes/{episode.pk}/"
    statuses: list[int] = []
    start = threading.Barrier(2)
    with transaction.atomic():
        # Hold the row: both requests get past their view's check and queue on the lock.
        Episode.objects.select_for_update().get(pk=episode.pk)
        threads = [_patch_in_thread(editor, url, name, statuses, start) for name in "AB"]
        deadline = time.monotonic() + WAIT
        while _waiting_on_a_lock() < 2:
            assert time.monotonic() < deadline, "the requests never queued on the row lock"
            time.sleep(0.02)
    for thread in threads:
        thread.join(timeout=WAIT)
    assert sorted(statuses) == [200, 412]
    stored = Episode.objects.get(pk=episode.pk)
    assert stored.version == 2
    assert stored.title in {"A", "B"}


def test_many_patches_of_one_version_at_once_let_exactly_one_through(editor):
    episode = EpisodeFactory(title="Pilot")
    url = f"/api/v1/episodes/{episode.pk}/"
    statuses: list[int] = []
    start = threading.Barrier(4)
    threads = [_patch_in_thread(editor, url, name, statuses, start) for name in "ABCD"]
    for thread in threads:
        thread.join(timeout=WAIT)
    assert sorted(statuses) == [200, 412, 412, 412]
    assert Episode.objects.get(pk=episode.pk).version == 2

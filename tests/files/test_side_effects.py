"""What an upload or a deletion writes: the activity and the live events of CONTRACT.md."""

from __future__ import annotations

import logging

import pytest

from episodes import services as episode_services
from files import services
from files.models import FileAsset
from realtime import events
from realtime.models import Activity, Event
from tests.files.conftest import FILES, declare, stored_file, upload_local, wipe_side_effects

pytestmark = pytest.mark.django_db

DATA = b"some bytes"


def file_activities() -> list[Activity]:
    return list(Activity.objects.filter(resource_type="file").order_by("id"))


def events_named(name: str) -> list[Event]:
    return list(Event.objects.filter(event=name).order_by("id"))


@pytest.fixture
def uploaded(editor_client, episode) -> dict:
    return upload_local(editor_client, episode, DATA, filename="take.mp4")


def test_declaring_an_upload_logs_nothing(editor_client, episode):
    declare(editor_client, episode)
    assert not Activity.objects.exists()
    assert not Event.objects.exists()


def test_completing_logs_uploaded_file_by_the_caller(uploaded, editor, episode):
    (activity,) = file_activities()
    assert (activity.action, activity.user) == ("uploaded_file", editor)
    assert activity.resource_id == uploaded["id"]
    assert activity.metadata == {
        "filename": "take.mp4",
        "episode_id": episode.pk,
        "content_type": "video/mp4",
        "size": len(DATA),
    }


def test_completing_emits_file_uploaded_on_the_episode_stream(uploaded, editor, episode):
    (event,) = events_named("file_uploaded")
    assert event.streams == [f"episode:{episode.pk}"]
    assert event.data["actor"] == {"id": editor.pk, "username": "ed"}


def test_the_file_uploaded_event_carries_the_file_as_rest_shows_it(uploaded):
    (event,) = events_named("file_uploaded")
    rest = {**uploaded, "url": f"/api/v1/files/{uploaded['id']}/content/"}
    assert event.data["file"] == rest


def test_completing_twice_logs_and_emits_once(uploaded, editor_client):
    editor_client.post(f"{FILES}{uploaded['id']}/complete/")
    assert [a.action for a in file_activities()] == ["uploaded_file"]
    assert len(events_named("file_uploaded")) == 1


def test_a_refused_completion_logs_nothing(editor_client, episode):
    file_id = declare(editor_client, episode).json()["id"]
    editor_client.post(f"{FILES}{file_id}/complete/")
    assert not Activity.objects.exists()
    assert not Event.objects.exists()


def test_deleting_logs_deleted_file_by_the_caller(uploaded, editor_client, editor):
    wipe_side_effects()
    editor_client.delete(f"{FILES}{uploaded['id']}/")
    (activity,) = file_activities()
    assert (activity.action, activity.user, activity.resource_id) == (
        "deleted_file",
        editor,
        uploaded["id"],
    )
    assert activity.metadata["filename"] == "take.mp4"


def test_deleting_emits_file_deleted_on_the_episode_stream(
    uploaded, editor_client, episode, editor
):
    wipe_side_effects()
    editor_client.delete(f"{FILES}{uploaded['id']}/")
    (event,) = events_named("file_deleted")
    assert event.streams == [f"episode:{episode.pk}"]
    assert event.data["file"]["id"] == uploaded["id"]
    assert event.data["file"]["url"] is None
    assert event.data["actor"] == {"id": editor.pk, "username": "ed"}


def test_files_deleted_with_their_episode_are_covered_by_episode_deleted(uploaded, episode, editor):
    wipe_side_effects()
    episode_services.episode_delete(episode=episode, actor=editor)
    assert not events_named("file_deleted")
    assert not file_activities()
    assert len(events_named("episode_deleted")) == 1


def test_a_deletion_by_the_system_is_logged_without_a_user(uploaded):
    wipe_side_effects()
    services.file_delete(file=stored_file(uploaded["id"]), actor=None)
    (activity,) = file_activities()
    assert (activity.action, activity.user) == ("deleted_file", None)


def test_activity_logging_off_still_completes_the_upload(editor_client, episode, settings):
    settings.ACTIVITY_LOGGING = False
    body = upload_local(editor_client, episode, DATA)
    assert body["status"] == "uploaded"
    assert not Activity.objects.exists()
    assert len(events_named("file_uploaded")) == 1


def test_the_file_stays_uploaded_when_its_event_cannot_be_built(
    editor_client, episode, monkeypatch, caplog
):
    def broken(*args, **kwargs):
        raise RuntimeError("payload")

    monkeypatch.setattr(events, "file_uploaded", broken)
    caplog.set_level(logging.WARNING)
    body = upload_local(editor_client, episode, DATA)
    assert FileAsset.objects.get(pk=body["id"]).status == "uploaded"
    warnings = [
        record.msg
        for record in caplog.records
        if isinstance(record.msg, dict) and record.msg.get("event") == "side_effect_failed"
    ]
    assert [warning["action"] for warning in warnings] == ["uploaded_file"]

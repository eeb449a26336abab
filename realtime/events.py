"""Builders of the live events, one per event of CONTRACT.md, and the payloads they carry."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from realtime import streams


@dataclass(frozen=True)
class EventSpec:
    event: str
    streams: tuple[str, ...]
    data: dict[str, Any]
    user_id: int | None = field(default=None)


def iso(value: datetime | None) -> str | None:
    """Datetimes as DRF renders them, so that events and REST agree byte for byte."""
    if value is None:
        return None
    text = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def actor_ref(actor: Any) -> dict[str, Any] | None:
    if actor is None:
        return None
    return {"id": actor.pk, "username": actor.get_username()}


def episode_payload(episode: Any) -> dict[str, Any]:
    from episodes.serializers import EpisodeSerializer

    return dict(EpisodeSerializer(episode).data)


def composition_payload(composition: Any) -> dict[str, Any]:
    from episodes.serializers import CompositionSerializer

    return dict(CompositionSerializer(composition).data)


def notification_payload(notification: Any) -> dict[str, Any]:
    return {
        "id": notification.pk,
        "type": notification.type,
        "message": notification.message,
        "data": notification.data,
        "read_at": iso(notification.read_at),
        "created_at": iso(notification.created_at),
    }


def activity_payload(activity: Any, actor: Any) -> dict[str, Any]:
    return {
        "id": activity.pk,
        "user": actor_ref(actor),
        "action": activity.action,
        "resource_type": activity.resource_type,
        "resource_id": activity.resource_id,
        "metadata": activity.metadata,
        "created_at": iso(activity.created_at),
    }


def episode_created(episode: Any, actor: Any) -> EventSpec:
    data = {"episode": episode_payload(episode), "actor": actor_ref(actor)}
    return EventSpec("episode_created", ("episodes", "broadcast"), data)


def episode_updated(episode: Any, changed_fields: list[str], actor: Any) -> EventSpec:
    data = {
        "episode": episode_payload(episode),
        "changed_fields": changed_fields,
        "actor": actor_ref(actor),
    }
    return EventSpec("episode_updated", ("episodes", streams.episode(episode.pk)), data)


def _episode_transition(name: str, episode: Any, actor: Any) -> EventSpec:
    data = {"episode": episode_payload(episode), "actor": actor_ref(actor)}
    return EventSpec(name, ("episodes", streams.episode(episode.pk), "broadcast"), data)


def episode_published(episode: Any, actor: Any) -> EventSpec:
    return _episode_transition("episode_published", episode, actor)


def episode_archived(episode: Any, actor: Any) -> EventSpec:
    return _episode_transition("episode_archived", episode, actor)


def episode_deleted(episode_id: int, title: str, actor: Any) -> EventSpec:
    data = {"episode_id": episode_id, "title": title, "actor": actor_ref(actor)}
    return EventSpec("episode_deleted", ("episodes", streams.episode(episode_id)), data)


def composition_changed(verb: str, composition: Any, actor: Any) -> EventSpec:
    data = {"composition": composition_payload(composition), "actor": actor_ref(actor)}
    targets = (streams.episode(composition.episode_id), streams.composition(composition.pk))
    return EventSpec(f"composition_{verb}", targets, data)


def file_payload(file: Any, *, deleted: bool = False) -> dict[str, Any]:
    """The FileAsset of REST, its `url` the API path (a presigned URL would expire first)."""
    from files.serializers import FileAssetSerializer

    return dict(FileAssetSerializer(file, context={"deleted": deleted}).data)


def file_uploaded(file: Any, actor: Any) -> EventSpec:
    data = {"file": file_payload(file), "actor": actor_ref(actor)}
    return EventSpec("file_uploaded", (streams.episode(file.episode_id),), data)


def file_deleted(file: Any, actor: Any) -> EventSpec:
    data = {"file": file_payload(file, deleted=True), "actor": actor_ref(actor)}
    return EventSpec("file_deleted", (streams.episode(file.episode_id),), data)


def notification_created(notification: Any, unread_count: int) -> EventSpec:
    data = {"notification": notification_payload(notification), "unread_count": unread_count}
    return EventSpec(
        "notification_created",
        (streams.user(notification.user_id),),
        data,
        user_id=notification.user_id,
    )


def notifications_read(user_id: int, ids: list[int], unread_count: int) -> EventSpec:
    data = {"ids": ids, "unread_count": unread_count}
    return EventSpec("notifications_read", (streams.user(user_id),), data, user_id=user_id)


def activity_logged(activity: Any, actor: Any) -> EventSpec:
    return EventSpec(
        "activity_logged", ("activity",), {"activity": activity_payload(activity, actor)}
    )


def viewer_changed(
    name: str, resource_type: str, resource_id: int, user: dict[str, Any], viewers: list
) -> EventSpec:
    """`viewer_joined` or `viewer_left` on the resource's stream."""
    stream = f"{resource_type}:{resource_id}"
    return EventSpec(name, (stream,), {"user": user, "viewers": viewers})


def _job_streams(job: Any, *, admins: bool = False) -> tuple[str, ...]:
    targets = [streams.job(job.pk)]
    if job.episode_id is not None:
        targets.append(streams.episode(job.episode_id))
    if admins:
        targets.append(streams.role("admins"))
    return tuple(targets)


def job_state(name: str, job: Any) -> EventSpec:
    """`job_queued`, `job_started`, `job_progress` or `job_completed`."""
    data = {
        "job_id": job.pk,
        "job_type": job.type,
        "status": job.status,
        "attempt": job.attempts,
        "progress": job.progress,
        "result": job.result,
    }
    return EventSpec(name, _job_streams(job), data)


def job_trouble(name: str, job: Any) -> EventSpec:
    """`job_retry` or `job_failed` (failed or dead): admins see every one."""
    data = {
        "job_id": job.pk,
        "job_type": job.type,
        "status": job.status,
        "attempt": job.attempts,
        "error": job.error,
    }
    return EventSpec(name, _job_streams(job, admins=True), data)

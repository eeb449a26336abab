"""The one place that maps a change to its activity, notifications and events.

It listens to the saves and deletes of the tracked models and to the apps' domain signals,
and knows the rules of CONTRACT.md: which action is logged, who is notified, which streams
carry the event. App code only saves models and sends its signals.
"""

from __future__ import annotations

import time
from functools import partial
from typing import Any

import structlog
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db.models.signals import post_delete, post_save, pre_save
from django.dispatch import receiver

from common.actor import current_actor
from episodes import signals as episode_signals
from episodes.models import Composition, Episode
from files import signals as file_signals
from files.models import FileAsset
from jobs import signals as job_signals
from jobs.models import Job
from realtime import events, flags, grouping, recipients
from realtime.services import (
    NotificationPlan,
    activity_log,
    change_events_emit,
    change_side_effects,
    notifications_send,
)

logger = structlog.get_logger(__name__)

# Fields whose change is an update. Status changes are announced by the transition
# signals (published, archived), not as updates.
TRACKED_FIELDS: dict[type, tuple[str, ...]] = {
    Episode: ("title", "episode_number", "season", "description", "air_date"),
    Composition: ("name", "layout"),
}
_BEFORE = "_realtime_before"
MESSAGE_MAX_CHARS = 500


@receiver(pre_save, sender=Episode)
@receiver(pre_save, sender=Composition)
def remember_stored_values(
    sender, instance: Any, raw: bool = False, update_fields=None, **kwargs
) -> None:
    """Read the tracked values as stored, just before an update, to compare after it.

    Read from the database rather than remembered at load: an instance refreshed, stale or
    changed in place (a JSON layout) still compares with what the row held, and loading a
    page of episodes costs nothing.
    """
    if raw or instance.pk is None:
        return
    names = [
        name for name in TRACKED_FIELDS[sender] if update_fields is None or name in update_fields
    ]
    stored = None
    if names:
        stored = sender._base_manager.filter(pk=instance.pk).values(*names).first()
    instance.__dict__[_BEFORE] = stored or {}


def changed_fields(instance: Any) -> list[str]:
    """Tracked fields saved with a value other than the row held before the save."""
    before = instance.__dict__.pop(_BEFORE, None) or {}
    loaded = instance.__dict__
    return [
        name
        for name in TRACKED_FIELDS[type(instance)]
        if name in before and name in loaded and _differs(instance, name, before[name])
    ]


def _differs(instance: Any, name: str, stored: Any) -> bool:
    """Compare as the database would: `"2027-01-05"` set on a date field equals the date."""
    try:
        return instance._meta.get_field(name).to_python(instance.__dict__[name]) != stored
    except ValidationError:
        return True


def _actor(explicit: Any = None) -> Any:
    if explicit is not None and getattr(explicit, "is_authenticated", False):
        return explicit
    return current_actor()


def _episode_ids(episode: Episode) -> dict[str, Any]:
    return {"resource_type": "episode", "resource_id": episode.pk}


# --- Episodes -----------------------------------------------------------------------------


@receiver(post_save, sender=Episode)
def episode_saved(sender, instance: Episode, created: bool, raw: bool = False, **kwargs) -> None:
    if raw:  # loaddata: restoring rows is not a change anyone made
        return
    actor = _actor()
    changed = changed_fields(instance)
    if created:
        _episode_created(instance, actor)
    elif changed:
        _episode_updated(instance, changed, actor)


def _episode_created(episode: Episode, actor: Any) -> None:
    ids = _episode_ids(episode)
    with change_side_effects(action="created_episode", **ids):
        change_events_emit([events.episode_created(episode, actor)], **ids)
        activity_log(
            actor=actor, action="created_episode", metadata={"title": episode.title}, **ids
        )
        notifications_send(
            plan=NotificationPlan(
                type="episode_created",
                message=f"New episode: {episode.title}",
                data={
                    "episode_id": episode.pk,
                    "title": episode.title,
                    "actor": events.actor_ref(actor),
                },
                recipients=recipients.admins_and_editors,
            ),
            actor=actor,
            **ids,
        )


def _episode_updated(episode: Episode, changed: list[str], actor: Any) -> None:
    ids = _episode_ids(episode)
    with change_side_effects(action="updated_episode", **ids):
        change_events_emit([events.episode_updated(episode, changed, actor)], **ids)
        activity_log(
            actor=actor,
            action="updated_episode",
            metadata={"title": episode.title, "changed_fields": changed},
            **ids,
        )
        actor_ref = events.actor_ref(actor)
        notifications_send(
            plan=NotificationPlan(
                type="episode_updated",
                message=grouping.episode_update_message(episode.title, [actor_ref]),
                data=grouping.episode_update_data(
                    episode_id=episode.pk,
                    title=episode.title,
                    changed_fields=changed,
                    actor=actor_ref,
                ),
                recipients=partial(recipients.episode_subscribers_not_viewing, episode.pk),
                group=grouping.episode_updates(episode.pk),
            ),
            actor=actor,
            **ids,
        )


@receiver(episode_signals.episode_published)
def episode_published(sender, episode: Episode, actor: Any = None, **kwargs) -> None:
    actor = _actor(actor)
    ids = _episode_ids(episode)
    with change_side_effects(action="published_episode", **ids):
        change_events_emit([events.episode_published(episode, actor)], **ids)
        activity_log(
            actor=actor, action="published_episode", metadata={"title": episode.title}, **ids
        )
        notifications_send(
            plan=NotificationPlan(
                type="episode_published",
                message=f"{episode.title} published",
                data={
                    "episode_id": episode.pk,
                    "title": episode.title,
                    "actor": events.actor_ref(actor),
                },
                recipients=partial(recipients.every_active_user, episode_id=episode.pk),
            ),
            actor=actor,
            **ids,
        )


@receiver(episode_signals.episode_archived)
def episode_archived(sender, episode: Episode, actor: Any = None, **kwargs) -> None:
    actor = _actor(actor)
    ids = _episode_ids(episode)
    with change_side_effects(action="archived_episode", **ids):
        change_events_emit([events.episode_archived(episode, actor)], **ids)
        activity_log(
            actor=actor, action="archived_episode", metadata={"title": episode.title}, **ids
        )


@receiver(post_delete, sender=Episode)
def episode_deleted(sender, instance: Episode, **kwargs) -> None:
    actor = _actor()
    ids = _episode_ids(instance)
    with change_side_effects(action="deleted_episode", **ids):
        change_events_emit([events.episode_deleted(instance.pk, instance.title, actor)], **ids)
        activity_log(
            actor=actor, action="deleted_episode", metadata={"title": instance.title}, **ids
        )
        notifications_send(
            plan=NotificationPlan(
                type="episode_deleted",
                message=f"{instance.title} deleted permanently",
                data={
                    "episode_id": instance.pk,
                    "title": instance.title,
                    "actor": events.actor_ref(actor),
                },
                recipients=recipients.admins,
            ),
            actor=actor,
            **ids,
        )


@receiver(episode_signals.episode_viewed)
def episode_viewed(
    sender, episode: Episode, actor: Any = None, joined: bool = False, viewers=(), **kwargs
) -> None:
    """`viewer_joined` when the GET made the user a viewer; `viewed_episode` at most once per
    user and episode per interval (a cache key)."""
    actor = _actor(actor)
    if actor is None:
        return
    ids = _episode_ids(episode)
    if joined:
        user = events.actor_ref(actor)
        with change_side_effects(action="viewer_joined", **ids):
            change_events_emit(
                [
                    events.viewer_changed(
                        "viewer_joined", "episode", episode.pk, user, list(viewers)
                    )
                ],
                **ids,
            )
    if not flags.activity_logging():
        return
    key = f"realtime:viewed:{actor.pk}:{episode.pk}"
    try:
        first = cache.add(key, 1, timeout=settings.VIEWED_EPISODE_INTERVAL)
    except Exception as exc:  # the cache is down: the view is not logged, the GET succeeds
        logger.warning(
            "side_effect_failed", part="cache", error=repr(exc), action="viewed_episode", **ids
        )
        return
    if first:
        with change_side_effects(action="viewed_episode", **ids):
            activity_log(
                actor=actor, action="viewed_episode", metadata={"title": episode.title}, **ids
            )


# --- Compositions ---------------------------------------------------------------------------


def _composition_ids(composition: Composition) -> dict[str, Any]:
    return {"resource_type": "composition", "resource_id": composition.pk}


def _composition_metadata(composition: Composition, **extra: Any) -> dict[str, Any]:
    return {"name": composition.name, "episode_id": composition.episode_id, **extra}


@receiver(post_save, sender=Composition)
def composition_saved(
    sender, instance: Composition, created: bool, raw: bool = False, **kwargs
) -> None:
    if raw:
        return
    actor = _actor()
    ids = _composition_ids(instance)
    changed = changed_fields(instance)
    if created:
        with change_side_effects(action="created_composition", **ids):
            change_events_emit([events.composition_changed("created", instance, actor)], **ids)
            activity_log(
                actor=actor,
                action="created_composition",
                metadata=_composition_metadata(instance),
                **ids,
            )
    elif changed:
        with change_side_effects(action="updated_composition", **ids):
            change_events_emit([events.composition_changed("updated", instance, actor)], **ids)
            activity_log(
                actor=actor,
                action="updated_composition",
                metadata=_composition_metadata(instance, changed_fields=changed),
                **ids,
            )


@receiver(post_delete, sender=Composition)
def composition_deleted(sender, instance: Composition, origin: Any = None, **kwargs) -> None:
    # Compositions deleted with their episode (one, or a queryset of them) are covered by
    # `episode_deleted`.
    if isinstance(origin, Episode) or getattr(origin, "model", None) is Episode:
        return
    actor = _actor()
    ids = _composition_ids(instance)
    with change_side_effects(action="deleted_composition", **ids):
        change_events_emit([events.composition_changed("deleted", instance, actor)], **ids)
        activity_log(
            actor=actor,
            action="deleted_composition",
            metadata=_composition_metadata(instance),
            **ids,
        )


# --- Edit conflicts ---------------------------------------------------------------------------


@receiver(post_save, sender=Episode)
@receiver(post_save, sender=Composition)
def revision_saved(
    sender, instance: Any, created: bool, raw: bool = False, update_fields=None, **kwargs
) -> None:
    """`revision_saved` to the connections editing the object, when a save moved its version
    on (the services save `version` with every change). The consumer leaves out the saver's
    own connections."""
    if raw or created or not update_fields or "version" not in update_fields:
        return
    if not flags.websocket_broadcast():
        return
    from realtime.connection import editing_stream
    from realtime.services import events_emit, side_effect

    resource_type = sender.__name__.lower()
    # One savepoint (a write's cost): whatever fails in it, the save still commits.
    with side_effect("events", action="revision_saved", resource_type=resource_type):
        data = {
            "actor": events.actor_ref(_actor()),
            "version": instance.version,
            "resource_type": resource_type,
            "resource_id": instance.pk,
        }
        stream = editing_stream(f"{resource_type}:{instance.pk}")
        events_emit([events.EventSpec("revision_saved", (stream,), data)])


# --- Files ------------------------------------------------------------------------------------


def _file_ids(file: FileAsset) -> dict[str, Any]:
    return {"resource_type": "file", "resource_id": file.pk}


def _file_metadata(file: FileAsset) -> dict[str, Any]:
    return {
        "filename": file.filename,
        "episode_id": file.episode_id,
        "content_type": file.content_type,
        "size": file.size,
    }


@receiver(file_signals.file_uploaded)
def file_uploaded(sender, file: FileAsset, actor: Any = None, **kwargs) -> None:
    actor = _actor(actor)
    ids = _file_ids(file)
    with change_side_effects(action="uploaded_file", **ids):
        change_events_emit([events.file_uploaded(file, actor)], **ids)
        activity_log(actor=actor, action="uploaded_file", metadata=_file_metadata(file), **ids)


@receiver(post_delete, sender=FileAsset)
def file_deleted(sender, instance: FileAsset, origin: Any = None, **kwargs) -> None:
    # Files deleted with their episode are covered by `episode_deleted`.
    if isinstance(origin, Episode) or getattr(origin, "model", None) is Episode:
        return
    actor = _actor()
    ids = _file_ids(instance)
    with change_side_effects(action="deleted_file", **ids):
        change_events_emit([events.file_deleted(instance, actor)], **ids)
        activity_log(actor=actor, action="deleted_file", metadata=_file_metadata(instance), **ids)


# --- Jobs -------------------------------------------------------------------------------------

_JOB_ACTIONS = {
    Job.Status.QUEUED: "queued",
    Job.Status.RUNNING: "started",
    Job.Status.COMPLETED: "completed",
    Job.Status.RETRYING: "retried",
    Job.Status.FAILED: "failed",
    Job.Status.DEAD: "dead",
}
_JOB_EVENTS = {
    Job.Status.QUEUED: "job_queued",
    Job.Status.RUNNING: "job_started",
    Job.Status.COMPLETED: "job_completed",
    Job.Status.RETRYING: "job_retry",
    Job.Status.FAILED: "job_failed",
    Job.Status.DEAD: "job_failed",
}
_JOB_TROUBLE = frozenset({Job.Status.RETRYING, Job.Status.FAILED, Job.Status.DEAD})
PROGRESS_INTERVAL = 0.25
# When each running job last sent `job_progress`, in this process (its worker's).
_progress_sent: dict[int, float] = {}


def _job_ids(job: Job) -> dict[str, Any]:
    return {"resource_type": "job", "resource_id": job.pk}


@receiver(job_signals.job_state_changed)
def job_state_changed(sender, job: Job, previous: str | None, actor: Any = None, **kwargs) -> None:
    actor = _actor(actor)
    ids = _job_ids(job)
    action = f"{_JOB_ACTIONS[job.status]}_{job.type}"
    builder = events.job_trouble if job.status in _JOB_TROUBLE else events.job_state
    metadata = {
        "job_type": job.type,
        "episode_id": job.episode_id,
        "attempt": job.attempts,
        "previous": previous,
    }
    if job.error:
        metadata["error"] = job.error
    with change_side_effects(action=action, **ids):
        change_events_emit([builder(_JOB_EVENTS[job.status], job)], **ids)
        activity_log(actor=actor, action=action, metadata=metadata, **ids)
        if job.status in (Job.Status.FAILED, Job.Status.DEAD):
            _job_failed_notify(job, actor)
    if job.is_finished:
        _progress_sent.pop(job.pk, None)


def _job_failed_notify(job: Job, actor: Any) -> None:
    title = job.episode.title if job.episode_id else "no episode"
    notifications_send(
        plan=NotificationPlan(
            type="job_failed",
            message=f"{job.type} failed for {title}: {job.error}"[:MESSAGE_MAX_CHARS],
            data={
                "job_id": job.pk,
                "job_type": job.type,
                "episode_id": job.episode_id,
                "status": job.status,
                "error": job.error,
            },
            recipients=partial(recipients.admins_and_user, job.created_by_id),
        ),
        actor=actor,
        **_job_ids(job),
    )


@receiver(job_signals.job_progress)
def job_progress(sender, job: Job, progress: int, **kwargs) -> None:
    """At most one `job_progress` per job every 250 ms, and always the one at 100."""
    now = time.monotonic()
    last = _progress_sent.get(job.pk)
    if progress < 100 and last is not None and now - last < PROGRESS_INTERVAL:
        return
    if len(_progress_sent) > 10_000:
        _progress_sent.clear()
    _progress_sent[job.pk] = now
    ids = _job_ids(job)
    with change_side_effects(action="job_progress", **ids):
        change_events_emit([events.job_state("job_progress", job)], **ids)

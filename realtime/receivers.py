"""The one place that maps a change to its activity, notifications and events.

It listens to post_save/post_delete of the tracked models and to the apps' domain signals,
and knows the rules of CONTRACT.md: which action is logged, who is notified, which streams
carry the event. App code only saves models and sends its signals.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db.models.signals import post_delete, post_init, post_save
from django.dispatch import receiver

from common.actor import current_actor
from episodes import signals as episode_signals
from episodes.models import Composition, Episode
from realtime import events, recipients
from realtime.services import (
    NotificationPlan,
    activity_log,
    change_events_emit,
    notifications_send,
)

TRACKED_FIELDS: dict[type, tuple[str, ...]] = {
    Episode: ("title", "episode_number", "season", "description", "air_date", "status"),
    Composition: ("name", "layout"),
}
_SNAPSHOT = "_realtime_snapshot"
# Status changes are announced by the transition signals, not as updates.
_NOT_AN_UPDATE = frozenset({"status"})


def _snapshot(instance: Any) -> None:
    fields = TRACKED_FIELDS[type(instance)]
    setattr(instance, _SNAPSHOT, {name: getattr(instance, name) for name in fields})


def changed_fields(instance: Any) -> list[str]:
    """Fields whose value differs from when the instance was loaded or last saved."""
    before = getattr(instance, _SNAPSHOT, None)
    if before is None:
        return []
    return [name for name, value in before.items() if getattr(instance, name) != value]


@receiver(post_init, sender=Episode)
@receiver(post_init, sender=Composition)
def remember_loaded_values(sender, instance, **kwargs) -> None:
    if instance.pk is not None:
        _snapshot(instance)


def _actor(explicit: Any = None) -> Any:
    if explicit is not None and getattr(explicit, "is_authenticated", False):
        return explicit
    return current_actor()


def _episode_ids(episode: Episode) -> dict[str, Any]:
    return {"resource_type": "episode", "resource_id": episode.pk}


# --- Episodes -----------------------------------------------------------------------------


@receiver(post_save, sender=Episode)
def episode_saved(sender, instance: Episode, created: bool, **kwargs) -> None:
    actor = _actor()
    if created:
        _episode_created(instance, actor)
    else:
        changed = [name for name in changed_fields(instance) if name not in _NOT_AN_UPDATE]
        if changed:
            _episode_updated(instance, changed, actor)
    _snapshot(instance)


def _episode_created(episode: Episode, actor: Any) -> None:
    ids = _episode_ids(episode)
    change_events_emit([events.episode_created(episode, actor)], **ids)
    activity_log(actor=actor, action="created_episode", metadata={"title": episode.title}, **ids)
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
    change_events_emit([events.episode_updated(episode, changed, actor)], **ids)
    activity_log(
        actor=actor,
        action="updated_episode",
        metadata={"title": episode.title, "changed_fields": changed},
        **ids,
    )
    username = actor.get_username() if actor is not None else "system"
    notifications_send(
        plan=NotificationPlan(
            type="episode_updated",
            message=f"{episode.title} updated by {username}",
            data={
                "episode_id": episode.pk,
                "title": episode.title,
                "changed_fields": changed,
                "actor": events.actor_ref(actor),
            },
            recipients=lambda: recipients.episode_subscribers(episode.pk),
        ),
        actor=actor,
        **ids,
    )


@receiver(episode_signals.episode_published)
def episode_published(sender, episode: Episode, actor: Any = None, **kwargs) -> None:
    actor = _actor(actor)
    ids = _episode_ids(episode)
    change_events_emit([events.episode_published(episode, actor)], **ids)
    activity_log(actor=actor, action="published_episode", metadata={"title": episode.title}, **ids)
    notifications_send(
        plan=NotificationPlan(
            type="episode_published",
            message=f"{episode.title} published",
            data={
                "episode_id": episode.pk,
                "title": episode.title,
                "actor": events.actor_ref(actor),
            },
            recipients=recipients.every_active_user,
        ),
        actor=actor,
        **ids,
    )


@receiver(episode_signals.episode_archived)
def episode_archived(sender, episode: Episode, actor: Any = None, **kwargs) -> None:
    actor = _actor(actor)
    ids = _episode_ids(episode)
    change_events_emit([events.episode_archived(episode, actor)], **ids)
    activity_log(actor=actor, action="archived_episode", metadata={"title": episode.title}, **ids)


@receiver(post_delete, sender=Episode)
def episode_deleted(sender, instance: Episode, **kwargs) -> None:
    actor = _actor()
    ids = _episode_ids(instance)
    change_events_emit([events.episode_deleted(instance.pk, instance.title, actor)], **ids)
    activity_log(actor=actor, action="deleted_episode", metadata={"title": instance.title}, **ids)
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
def episode_viewed(sender, episode: Episode, actor: Any = None, **kwargs) -> None:
    """`viewed_episode` at most once per user and episode per interval (a cache key)."""
    actor = _actor(actor)
    if actor is None:
        return
    key = f"realtime:viewed:{actor.pk}:{episode.pk}"
    if cache.add(key, 1, timeout=settings.VIEWED_EPISODE_INTERVAL):
        activity_log(
            actor=actor,
            action="viewed_episode",
            metadata={"title": episode.title},
            **_episode_ids(episode),
        )


# --- Compositions ---------------------------------------------------------------------------


def _composition_ids(composition: Composition) -> dict[str, Any]:
    return {"resource_type": "composition", "resource_id": composition.pk}


def _composition_metadata(composition: Composition, **extra: Any) -> dict[str, Any]:
    return {"name": composition.name, "episode_id": composition.episode_id, **extra}


@receiver(post_save, sender=Composition)
def composition_saved(sender, instance: Composition, created: bool, **kwargs) -> None:
    actor = _actor()
    ids = _composition_ids(instance)
    if created:
        change_events_emit([events.composition_changed("created", instance, actor)], **ids)
        activity_log(
            actor=actor,
            action="created_composition",
            metadata=_composition_metadata(instance),
            **ids,
        )
    else:
        changed = changed_fields(instance)
        if changed:
            change_events_emit([events.composition_changed("updated", instance, actor)], **ids)
            activity_log(
                actor=actor,
                action="updated_composition",
                metadata=_composition_metadata(instance, changed_fields=changed),
                **ids,
            )
    _snapshot(instance)


@receiver(post_delete, sender=Composition)
def composition_deleted(sender, instance: Composition, origin: Any = None, **kwargs) -> None:
    # Compositions deleted with their episode are covered by `episode_deleted`.
    if isinstance(origin, Episode):
        return
    actor = _actor()
    ids = _composition_ids(instance)
    change_events_emit([events.composition_changed("deleted", instance, actor)], **ids)
    activity_log(
        actor=actor, action="deleted_composition", metadata=_composition_metadata(instance), **ids
    )

"""Writes of episodes and compositions. Each service owns its transaction."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction

from common.actor import as_actor
from common.errors import ConflictError, FieldError
from episodes import signals
from episodes.models import Composition, Episode, EpisodeSubscription
from realtime import presence

EPISODE_EDITABLE_FIELDS = ("title", "episode_number", "season", "description", "air_date")
COMPOSITION_EDITABLE_FIELDS = ("name", "layout")

_ALLOWED_TRANSITIONS = {
    "publish": {Episode.Status.DRAFT, Episode.Status.ARCHIVED},
    "archive": {Episode.Status.DRAFT, Episode.Status.PUBLISHED},
}


def _save_episode(episode: Episode, **kwargs: Any) -> None:
    """Save, turning the unique (season, episode_number) race into a field error."""
    try:
        with transaction.atomic():
            episode.save(**kwargs)
    except IntegrityError as exc:
        if "episode_unique_season_number" in str(exc) or "UNIQUE" in str(exc).upper():
            raise FieldError(
                "episode_number", "An episode with this season and number already exists."
            ) from exc
        raise


def _lock_episode(episode_id: int) -> Episode:
    """Hold the episode until commit: a row pointing at it must not race its deletion, whose
    foreign key violation would only surface at COMMIT. Raises Episode.DoesNotExist."""
    return Episode.objects.select_for_update().get(pk=episode_id)


@transaction.atomic
def episode_subscribe(*, episode: Episode, user: AbstractBaseUser) -> EpisodeSubscription:
    _lock_episode(episode.pk)
    subscription, _ = EpisodeSubscription.objects.get_or_create(episode=episode, user=user)
    return subscription


def episode_unsubscribe(*, episode: Episode, user: AbstractBaseUser) -> None:
    EpisodeSubscription.objects.filter(episode=episode, user=user).delete()


def _subscribe_author(episode: Episode, actor: AbstractBaseUser | None) -> None:
    if actor is not None and actor.is_authenticated:
        episode_subscribe(episode=episode, user=actor)


@as_actor
@transaction.atomic
def episode_create(*, actor: AbstractBaseUser | None, **fields: Any) -> Episode:
    episode = Episode(created_by=actor if actor and actor.is_authenticated else None)
    for name in EPISODE_EDITABLE_FIELDS:
        if name in fields:
            setattr(episode, name, fields[name])
    _save_episode(episode)
    _subscribe_author(episode, actor)
    return episode


@as_actor
@transaction.atomic
def episode_update(*, episode: Episode, actor: AbstractBaseUser | None, **fields: Any) -> Episode:
    locked = Episode.objects.select_for_update().get(pk=episode.pk)
    changed = [
        name
        for name in EPISODE_EDITABLE_FIELDS
        if name in fields and getattr(locked, name) != fields[name]
    ]
    for name in changed:
        setattr(locked, name, fields[name])
    if changed:
        _save_episode(locked, update_fields=[*changed, "updated_at"])
    _subscribe_author(locked, actor)
    return locked


def _transition(
    *, episode: Episode, actor: AbstractBaseUser | None, action: str, target: str
) -> Episode:
    locked = Episode.objects.select_for_update().get(pk=episode.pk)
    if locked.status not in _ALLOWED_TRANSITIONS[action]:
        raise ConflictError(
            f"Cannot {action} an episode that is {locked.status}.",
            extra={"status": locked.status, "allowed_from": sorted(_ALLOWED_TRANSITIONS[action])},
        )
    locked.status = target
    locked.save(update_fields=["status", "updated_at"])
    return locked


@as_actor
@transaction.atomic
def episode_publish(*, episode: Episode, actor: AbstractBaseUser | None) -> Episode:
    episode = _transition(
        episode=episode, actor=actor, action="publish", target=Episode.Status.PUBLISHED
    )
    signals.episode_published.send(sender=Episode, episode=episode, actor=actor)
    return episode


@as_actor
@transaction.atomic
def episode_archive(*, episode: Episode, actor: AbstractBaseUser | None) -> Episode:
    episode = _transition(
        episode=episode, actor=actor, action="archive", target=Episode.Status.ARCHIVED
    )
    signals.episode_archived.send(sender=Episode, episode=episode, actor=actor)
    return episode


@as_actor
@transaction.atomic
def episode_delete(*, episode: Episode, actor: AbstractBaseUser | None) -> None:
    episode.delete()


def episode_record_view(*, episode: Episode, actor: AbstractBaseUser) -> list[dict[str, Any]]:
    """A user opened the episode: they are a viewer for PRESENCE_TTL; return the viewers.

    Presence that cannot be reached costs the viewers list, never the request.
    """
    joined, viewers = False, []
    if settings.PRESENCE_TRACKING:
        try:
            transition = presence.touch_sync(
                "episode", episode.pk, user_id=actor.pk, username=actor.get_username()
            )
        except presence.PresenceUnavailable:
            pass
        else:
            joined, viewers = transition.joined, list(transition.viewers)
    signals.episode_viewed.send(
        sender=Episode, episode=episode, actor=actor, joined=joined, viewers=viewers
    )
    return viewers


@as_actor
@transaction.atomic
def composition_create(
    *, episode: Episode, actor: AbstractBaseUser | None, **fields: Any
) -> Composition:
    try:
        episode = _lock_episode(episode.pk)
    except Episode.DoesNotExist:
        raise FieldError("episode", "This episode no longer exists.") from None
    composition = Composition(
        episode=episode, created_by=actor if actor and actor.is_authenticated else None
    )
    for name in COMPOSITION_EDITABLE_FIELDS:
        if name in fields:
            setattr(composition, name, fields[name])
    composition.save()
    return composition


@as_actor
@transaction.atomic
def composition_update(
    *, composition: Composition, actor: AbstractBaseUser | None, **fields: Any
) -> Composition:
    locked = Composition.objects.select_for_update().get(pk=composition.pk)
    changed = [
        name
        for name in COMPOSITION_EDITABLE_FIELDS
        if name in fields and getattr(locked, name) != fields[name]
    ]
    for name in changed:
        setattr(locked, name, fields[name])
    if changed:
        locked.save(update_fields=[*changed, "updated_at"])
    return locked


@as_actor
@transaction.atomic
def composition_delete(*, composition: Composition, actor: AbstractBaseUser | None) -> None:
    composition.delete()

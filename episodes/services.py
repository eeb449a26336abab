"""Writes of episodes and compositions. Each service owns its transaction."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction

from common.actor import as_actor
from common.errors import ConflictError, DomainError, FieldError
from episodes import signals
from episodes.models import Composition, Episode, EpisodeSubscription
from realtime import presence

EPISODE_EDITABLE_FIELDS = ("title", "episode_number", "season", "description", "air_date")
COMPOSITION_EDITABLE_FIELDS = ("name", "layout")

_ALLOWED_TRANSITIONS = {
    "publish": {Episode.Status.DRAFT, Episode.Status.ARCHIVED},
    "archive": {Episode.Status.DRAFT, Episode.Status.PUBLISHED},
}


class VersionMismatch(DomainError):
    """The caller's copy is stale: someone saved the object since (If-Match failed).

    `current` is the object as stored now, locked, for the caller to show or merge.
    """

    status_code = 412
    code = "precondition_failed"

    def __init__(self, current: Episode | Composition) -> None:
        kind = type(current).__name__.lower()
        super().__init__(
            f"This {kind} was changed since your copy (it is at version {current.version}).",
        )
        self.current = current


def _check_version(locked: Episode | Composition, if_match: Collection[int] | None) -> None:
    """`if_match`: the versions the caller accepts, or None for any (no If-Match, or `*`)."""
    if if_match is not None and locked.version not in if_match:
        raise VersionMismatch(locked)


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
def episode_update(
    *,
    episode: Episode,
    actor: AbstractBaseUser | None,
    if_match: Collection[int] | None = None,
    **fields: Any,
) -> Episode:
    """Change the given fields; a save that changes something moves the version on by one.

    The row lock makes the version check and the increment one step: of two writers holding
    the same version, the second finds it moved on (VersionMismatch).
    """
    locked = Episode.objects.select_for_update().get(pk=episode.pk)
    _check_version(locked, if_match)
    changed = [
        name
        for name in EPISODE_EDITABLE_FIELDS
        if name in fields and getattr(locked, name) != fields[name]
    ]
    for name in changed:
        setattr(locked, name, fields[name])
    if changed:
        locked.version += 1
        _save_episode(locked, update_fields=[*changed, "updated_at", "version"])
    _subscribe_author(locked, actor)
    return locked


def _transition(
    *,
    episode: Episode,
    actor: AbstractBaseUser | None,
    action: str,
    target: str,
    if_match: Collection[int] | None,
) -> Episode:
    locked = Episode.objects.select_for_update().get(pk=episode.pk)
    _check_version(locked, if_match)
    if locked.status not in _ALLOWED_TRANSITIONS[action]:
        raise ConflictError(
            f"Cannot {action} an episode that is {locked.status}.",
            extra={"status": locked.status, "allowed_from": sorted(_ALLOWED_TRANSITIONS[action])},
        )
    locked.status = target
    locked.version += 1
    locked.save(update_fields=["status", "updated_at", "version"])
    return locked


@as_actor
@transaction.atomic
def episode_publish(
    *, episode: Episode, actor: AbstractBaseUser | None, if_match: Collection[int] | None = None
) -> Episode:
    episode = _transition(
        episode=episode,
        actor=actor,
        action="publish",
        target=Episode.Status.PUBLISHED,
        if_match=if_match,
    )
    signals.episode_published.send(sender=Episode, episode=episode, actor=actor)
    return episode


@as_actor
@transaction.atomic
def episode_archive(
    *, episode: Episode, actor: AbstractBaseUser | None, if_match: Collection[int] | None = None
) -> Episode:
    episode = _transition(
        episode=episode,
        actor=actor,
        action="archive",
        target=Episode.Status.ARCHIVED,
        if_match=if_match,
    )
    signals.episode_archived.send(sender=Episode, episode=episode, actor=actor)
    return episode


@as_actor
@transaction.atomic
def episode_delete(
    *, episode: Episode, actor: AbstractBaseUser | None, if_match: Collection[int] | None = None
) -> None:
    if if_match is not None:
        episode = Episode.objects.select_for_update().get(pk=episode.pk)
        _check_version(episode, if_match)
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
    *,
    composition: Composition,
    actor: AbstractBaseUser | None,
    if_match: Collection[int] | None = None,
    **fields: Any,
) -> Composition:
    """Change the given fields; as `episode_update`, a change moves the version on by one."""
    locked = Composition.objects.select_for_update().get(pk=composition.pk)
    _check_version(locked, if_match)
    changed = [
        name
        for name in COMPOSITION_EDITABLE_FIELDS
        if name in fields and getattr(locked, name) != fields[name]
    ]
    for name in changed:
        setattr(locked, name, fields[name])
    if changed:
        locked.version += 1
        locked.save(update_fields=[*changed, "updated_at", "version"])
    return locked


@as_actor
@transaction.atomic
def composition_delete(
    *,
    composition: Composition,
    actor: AbstractBaseUser | None,
    if_match: Collection[int] | None = None,
) -> None:
    if if_match is not None:
        composition = Composition.objects.select_for_update().get(pk=composition.pk)
        _check_version(composition, if_match)
    composition.delete()

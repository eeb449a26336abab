"""Reads of episodes and compositions, with their relations loaded so query counts stay flat."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import QuerySet

from accounts.roles import can_read
from episodes.models import Composition, Episode, EpisodeSubscription


def episode_list(*, user: AbstractBaseUser) -> QuerySet[Episode]:
    """Every role reads every episode; a user without a role reads none."""
    if not can_read(user):
        return Episode.objects.none()
    return Episode.objects.select_related("created_by")


def composition_list(*, user: AbstractBaseUser) -> QuerySet[Composition]:
    if not can_read(user):
        return Composition.objects.none()
    return Composition.objects.select_related("created_by", "episode")


def episode_is_subscribed(*, episode: Episode, user: AbstractBaseUser) -> bool:
    return EpisodeSubscription.objects.filter(episode=episode, user=user).exists()

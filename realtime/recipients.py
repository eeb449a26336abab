"""Who receives a notification: one query per rule, user ids out."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db.models import Q

from accounts.roles import ADMINS, ALL_ROLES, EDITORS


def _active_with_roles(roles: tuple[str, ...]) -> list[int]:
    users = get_user_model().objects.filter(is_active=True)
    condition = Q(groups__name__in=roles)
    if ADMINS in roles:
        condition |= Q(is_superuser=True)
    return list(users.filter(condition).values_list("id", flat=True).distinct().order_by("id"))


def admins() -> list[int]:
    return _active_with_roles((ADMINS,))


def admins_and_editors() -> list[int]:
    return _active_with_roles((ADMINS, EDITORS))


def every_active_user() -> list[int]:
    """Every active user who has a role: a user without one cannot read notifications."""
    return _active_with_roles(ALL_ROLES)


def episode_subscribers(episode_id: int) -> list[int]:
    from episodes.models import EpisodeSubscription

    return list(
        EpisodeSubscription.objects.filter(episode_id=episode_id, user__is_active=True)
        .values_list("user_id", flat=True)
        .order_by("user_id")
    )


def admins_and_user(user_id: int | None) -> list[int]:
    """Admins, and one more user (who started a job) if active with a role."""
    ids = set(admins())
    if user_id is not None and user_id in set(every_active_user_among([user_id])):
        ids.add(user_id)
    return sorted(ids)


def every_active_user_among(user_ids: list[int]) -> list[int]:
    users = get_user_model().objects.filter(is_active=True, id__in=user_ids)
    condition = Q(groups__name__in=ALL_ROLES) | Q(is_superuser=True)
    return list(users.filter(condition).values_list("id", flat=True).distinct())

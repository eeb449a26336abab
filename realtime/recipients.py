"""Who receives a notification: one query per rule, user ids out.

Every rule takes the notification's type (and the episode it is about, if any) and leaves
out, in that same query, the users who turned the type off or muted the episode.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db.models import Exists, OuterRef, Q, QuerySet

from accounts.roles import ADMINS, ALL_ROLES, EDITORS
from realtime import socket_presence
from realtime.models import EPISODE_MUTED_TYPES, EpisodeMute, NotificationPreference


def wanting(
    users: QuerySet, *, type: str, episode_id: int | None = None, user_ref: str = "pk"
) -> QuerySet:
    """`users` without those who turned `type` off or muted the episode (as subqueries).

    `user_ref` names the user's id in `users` (`pk` for users, `user_id` for a table that
    points at them).
    """
    turned_off = NotificationPreference.objects.filter(
        user_id=OuterRef(user_ref), type=type, enabled=False
    )
    users = users.filter(~Exists(turned_off))
    if episode_id is not None and type in EPISODE_MUTED_TYPES:
        muted = EpisodeMute.objects.filter(user_id=OuterRef(user_ref), episode_id=episode_id)
        users = users.filter(~Exists(muted))
    return users


def _role_condition(roles: tuple[str, ...]) -> Q:
    condition = Q(groups__name__in=roles)
    if ADMINS in roles:
        condition |= Q(is_superuser=True)
    return condition


def _ids(users: QuerySet) -> list[int]:
    return list(users.values_list("id", flat=True).distinct().order_by("id"))


def _active_with_roles(
    roles: tuple[str, ...], *, type: str, episode_id: int | None = None
) -> list[int]:
    users = get_user_model().objects.filter(_role_condition(roles), is_active=True)
    return _ids(wanting(users, type=type, episode_id=episode_id))


def admins(*, type: str, episode_id: int | None = None) -> list[int]:
    return _active_with_roles((ADMINS,), type=type, episode_id=episode_id)


def admins_and_editors(*, type: str, episode_id: int | None = None) -> list[int]:
    return _active_with_roles((ADMINS, EDITORS), type=type, episode_id=episode_id)


def every_active_user(*, type: str, episode_id: int | None = None) -> list[int]:
    """Every active user who has a role: a user without one cannot read notifications."""
    return _active_with_roles(ALL_ROLES, type=type, episode_id=episode_id)


def episode_subscribers(episode_id: int, *, type: str) -> list[int]:
    from episodes.models import EpisodeSubscription

    subscriptions = EpisodeSubscription.objects.filter(episode_id=episode_id, user__is_active=True)
    subscriptions = wanting(subscriptions, type=type, episode_id=episode_id, user_ref="user_id")
    return list(subscriptions.values_list("user_id", flat=True).order_by("user_id"))


def episode_subscribers_not_viewing(episode_id: int, *, type: str) -> list[int]:
    """The subscribers, less those who have the episode open on a socket right now: they
    see the change live, so a notification would only repeat it."""
    ids = episode_subscribers(episode_id, type=type)
    if not ids:
        return ids
    viewing = socket_presence.socket_viewer_ids("episode", episode_id)
    return [user_id for user_id in ids if user_id not in viewing]


def admins_and_user(user_id: int | None, *, type: str, episode_id: int | None = None) -> list[int]:
    """Admins, and one more user (who started a job) if active with a role."""
    condition = _role_condition((ADMINS,))
    if user_id is not None:
        condition |= Q(pk=user_id) & _role_condition(ALL_ROLES)
    users = get_user_model().objects.filter(condition, is_active=True)
    return _ids(wanting(users, type=type, episode_id=episode_id))

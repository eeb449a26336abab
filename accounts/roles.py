"""The three roles of Showdesk, kept as Django groups; superusers count as admins."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

ADMINS = "admins"
EDITORS = "editors"
VIEWERS = "viewers"
ALL_ROLES = (ADMINS, EDITORS, VIEWERS)
EDIT_ROLES = frozenset({ADMINS, EDITORS})
READ_ROLES = frozenset(ALL_ROLES)

_CACHE_ATTR = "_showdesk_roles"


def user_roles(user: AbstractBaseUser | AnonymousUser | None) -> list[str]:
    """The user's roles in a stable order, read once per user object."""
    if user is None or not user.is_authenticated or not user.is_active:
        return []
    cached = getattr(user, _CACHE_ATTR, None)
    if cached is not None:
        return cached
    names = set(user.groups.filter(name__in=ALL_ROLES).values_list("name", flat=True))
    if user.is_superuser:
        names.add(ADMINS)
    roles = [role for role in ALL_ROLES if role in names]
    setattr(user, _CACHE_ATTR, roles)
    return roles


def has_any_role(user, roles: frozenset[str]) -> bool:
    return any(role in roles for role in user_roles(user))


def can_read(user) -> bool:
    return has_any_role(user, READ_ROLES)


def can_edit(user) -> bool:
    return has_any_role(user, EDIT_ROLES)


def is_admin(user) -> bool:
    return ADMINS in user_roles(user)

"""Django model permissions of each role, so that the admin follows the same roles as the API.

Kept in sync after every migrate: permissions of a new model exist only once it is migrated.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Group, Permission
from django.db import DEFAULT_DB_ALIAS
from django.db.models import QuerySet

from accounts.roles import ADMINS, EDITORS, VIEWERS

# app label -> models an editor may change; everyone with a role may view them.
EDITABLE_MODELS = {
    "episodes": ("episode", "composition", "episodesubscription"),
    "files": ("fileasset",),
    "jobs": ("job",),
}
READ_ONLY_MODELS = {
    "realtime": ("activity", "event", "notification"),
}


def _permissions(
    models_by_app: dict[str, tuple[str, ...]], actions: tuple[str, ...], *, using: str
) -> QuerySet[Permission]:
    codenames = [
        f"{action}_{model}"
        for models in models_by_app.values()
        for model in models
        for action in actions
    ]
    return Permission.objects.using(using).filter(
        content_type__app_label__in=list(models_by_app), codename__in=codenames
    )


def sync_role_permissions(*, using: str = DEFAULT_DB_ALIAS, **kwargs: Any) -> None:
    """Give each role group its permissions (adding only: a grant made by hand stays)."""
    everything = {**EDITABLE_MODELS, **READ_ONLY_MODELS}
    view = list(_permissions(everything, ("view",), using=using))
    edit = list(_permissions(EDITABLE_MODELS, ("add", "change", "delete"), using=using))
    for name, perms in ((VIEWERS, view), (EDITORS, view + edit), (ADMINS, view + edit)):
        group, _ = Group.objects.using(using).get_or_create(name=name)
        group.permissions.add(*perms)

"""Who may subscribe to which stream: the rule the consumer asks before joining a group."""

from __future__ import annotations

from typing import Any, Literal

from accounts.roles import can_read
from realtime import streams

Access = Literal["ok", "forbidden", "not_found"]
SUBSCRIBABLE_COLLECTIONS = frozenset({"episodes", "activity"})
AUTOMATIC_KINDS = frozenset({"user", "role", "broadcast"})


def _resource_exists(kind: str, key: str) -> bool:
    from episodes.models import Composition, Episode
    from jobs.models import Job

    models = {"episode": Episode, "composition": Composition, "job": Job}
    if not key.isdigit() or len(key) > 18:
        return False
    return models[kind].objects.filter(pk=int(key)).exists()


def stream_access(*, user: Any, stream: str) -> Access:
    """ok, forbidden (a stream the user may not see) or not_found (no such resource)."""
    parsed = streams.parse(stream)
    if parsed is None:
        return "not_found"
    kind, key = parsed
    if not can_read(user):
        return "forbidden"
    if kind in AUTOMATIC_KINDS:
        # Joined automatically where they belong to the user; never by asking.
        return "forbidden"
    if key is None:
        return "ok" if kind in SUBSCRIBABLE_COLLECTIONS else "not_found"
    if kind in streams.RESOURCE_TYPES:
        return "ok" if _resource_exists(kind, key) else "not_found"
    return "not_found"

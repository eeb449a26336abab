"""Stream names (`episode:42`) and the channel-layer group each maps to."""

from __future__ import annotations

import re

PUBLIC_COLLECTIONS = frozenset({"episodes", "activity", "broadcast"})
RESOURCE_TYPES = frozenset({"episode", "composition", "job"})
_STREAM = re.compile(r"^(?P<kind>[a-z_]+)(?::(?P<key>[a-z0-9_]{1,40}))?$")


def group_name(stream: str) -> str:
    """Channels group names allow only [a-zA-Z0-9-_.]: `episode:42` -> `stream.episode.42`."""
    return "stream." + stream.replace(":", ".")


def episode(episode_id: int) -> str:
    return f"episode:{episode_id}"


def composition(composition_id: int) -> str:
    return f"composition:{composition_id}"


def job(job_id: int) -> str:
    return f"job:{job_id}"


def user(user_id: int) -> str:
    return f"user:{user_id}"


def role(name: str) -> str:
    return f"role:{name}"


def parse(stream: object) -> tuple[str, str | None] | None:
    """(kind, key) of a well-formed stream name, or None."""
    if not isinstance(stream, str) or len(stream) > 64:
        return None
    match = _STREAM.match(stream)
    if not match:
        return None
    return match["kind"], match["key"]

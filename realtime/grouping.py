"""Repeats folded into one notification: the group of an `episode_updated`, its message and data.

While a user's `episode_updated` for an episode is unread, later updates of that episode
fold into it instead of adding rows: `count` updates so far, by `actors` (distinct, the
most recent first), `last_actor` (also `actor`) and the union of the `changed_fields`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

MESSAGE_MAX_CHARS = 500

Fold = Callable[[dict[str, Any], dict[str, Any]], tuple[str, dict[str, Any]]]


@dataclass(frozen=True)
class Group:
    """Notifications of one group fold into its unread one: `fold(unread data, new data)`
    gives the message and data of the folded notification."""

    key: str
    fold: Fold


def episode_updates(episode_id: int) -> Group:
    return Group(key=f"episode_updated:{episode_id}", fold=_fold_episode_update)


def _name(actor: dict[str, Any] | None) -> str:
    return actor["username"] if actor else "system"


def _same(one: dict[str, Any] | None, other: dict[str, Any] | None) -> bool:
    return (one or {}).get("id") == (other or {}).get("id")


def episode_update_message(title: str, actors: list[dict[str, Any] | None]) -> str:
    """`Pilot updated by ana`, `… by ana and 1 other`, `… by ana and 3 others`: the last
    actor named, the other distinct actors counted."""
    others = len(actors) - 1
    text = f"{title} updated by {_name(actors[0])}"
    if others == 1:
        text += " and 1 other"
    elif others > 1:
        text += f" and {others} others"
    return text[:MESSAGE_MAX_CHARS]


def episode_update_data(
    *, episode_id: int, title: str, changed_fields: list[str], actor: dict[str, Any] | None
) -> dict[str, Any]:
    """The data of a first `episode_updated` notification: a group of one."""
    return {
        "episode_id": episode_id,
        "title": title,
        "changed_fields": changed_fields,
        "actor": actor,
        "count": 1,
        "last_actor": actor,
        "actors": [actor],
    }


def _fold_episode_update(unread: dict[str, Any], new: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    actor = new["last_actor"]
    earlier = unread.get("actors", [unread.get("actor")])
    actors = [actor, *(other for other in earlier if not _same(other, actor))]
    changed = list(dict.fromkeys([*unread.get("changed_fields", []), *new["changed_fields"]]))
    data = {
        **new,
        "changed_fields": changed,
        "count": int(unread.get("count", 1)) + 1,
        "actors": actors,
    }
    return episode_update_message(new["title"], actors), data

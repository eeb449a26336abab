"""Keep the OpenSearch index current: episode saves and deletes, acted on after commit.

Connected in `EpisodesConfig.ready`. Without OPENSEARCH_URL they do nothing: PostgreSQL
computes its search vector itself, SQLite searches the rows as they are.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from episodes.models import Episode
from episodes.search import opensearch, updates

# The fields the index holds: a save that changes none of them (a publish) changes nothing.
INDEXED_FIELDS = frozenset({"title", "description"})


@receiver(post_save, sender=Episode, dispatch_uid="episodes.search.episode_saved")
def episode_saved(
    sender: type, instance: Episode, raw: bool = False, update_fields: Any = None, **kwargs: Any
) -> None:
    if raw or not opensearch.configured():
        return
    if update_fields is not None and not INDEXED_FIELDS.intersection(update_fields):
        return
    episode_id = instance.pk
    transaction.on_commit(lambda: updates.episode_index_queue(episode_id=episode_id))


@receiver(post_delete, sender=Episode, dispatch_uid="episodes.search.episode_deleted")
def episode_deleted(sender: type, instance: Episode, **kwargs: Any) -> None:
    if not opensearch.configured():
        return
    episode_id = instance.pk
    transaction.on_commit(lambda: updates.episode_unindex(episode_id=episode_id))

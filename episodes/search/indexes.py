"""Building OpenSearch indexes: `search_setup` creates the first, `search_reindex` swaps in a new.

Each build is a new index `<alias>-v<n>`; the alias moves to it in one `_aliases` call
(remove from the old, add to the new), so searches and writes never see a missing or
half-loaded index. Writes made to the old index while the new one loaded are then copied
over (the episodes saved since the load began, the documents of episodes deleted since
removed), and the old index is deleted.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone
from opensearchpy import OpenSearch
from opensearchpy.exceptions import NotFoundError
from opensearchpy.helpers import streaming_bulk

from episodes.models import Episode
from episodes.search import opensearch

BATCH = 500
# How far before the load began the catch-up looks: a transaction that saved an episode just
# before the load's snapshot but committed after it is in neither.
CATCH_UP_MARGIN = timedelta(minutes=5)


class SetupError(Exception):
    """The cluster is not in a state this command can build on; the message says why."""


@dataclass
class ReindexOutcome:
    index: str
    previous: list[str]
    loaded: int = 0
    caught_up: int = 0
    removed: int = 0
    errors: list[str] = field(default_factory=list)


def index_body() -> dict[str, Any]:
    return {"settings": opensearch.INDEX_SETTINGS, "mappings": opensearch.MAPPINGS}


def aliased_indexes(client: OpenSearch, alias: str) -> list[str]:
    """The indexes the alias points at now (none before the first setup)."""
    if client.indices.exists(index=alias) and not client.indices.exists_alias(name=alias):
        raise SetupError(
            f"An index named {alias!r} exists where the alias should be (made by a write "
            "before search_setup?). Delete it, or set OPENSEARCH_INDEX to another name."
        )
    try:
        return sorted(client.indices.get_alias(name=alias))
    except NotFoundError:
        return []


def next_index_name(client: OpenSearch, alias: str) -> str:
    pattern = re.compile(rf"^{re.escape(alias)}-v(\d+)$")
    try:
        names = client.indices.get(index=f"{alias}-v*")
    except NotFoundError:
        names = {}
    numbers = [int(match.group(1)) for name in names if (match := pattern.match(name))]
    return f"{alias}-v{max(numbers, default=0) + 1}"


def setup(client: OpenSearch | None = None) -> tuple[bool, str]:
    """Create the first index behind the alias; (created, index). Idempotent."""
    client = client or opensearch.client()
    alias = opensearch.alias()
    existing = aliased_indexes(client, alias)
    if existing:
        return False, existing[0]
    name = next_index_name(client, alias)
    client.indices.create(index=name, body={**index_body(), "aliases": {alias: {}}})
    return True, name


def _actions(
    index: str, episodes: Iterator[Episode], seen: set[int] | None = None
) -> Iterator[dict[str, Any]]:
    for episode in episodes:
        if seen is not None:
            seen.add(episode.pk)
        yield {
            "_index": index,
            "_id": str(episode.pk),
            "_source": opensearch.document(episode),
            "version": opensearch.document_version(episode),
            "version_type": "external_gte",
        }


def _deletions(index: str, ids: Iterator[int]) -> Iterator[dict[str, Any]]:
    version = int(timezone.now().timestamp() * 1_000_000)
    for pk in ids:
        yield {
            "_op_type": "delete",
            "_index": index,
            "_id": str(pk),
            "version": version,
            "version_type": "external",
        }


def _bulk(
    client: OpenSearch, actions: Iterator[dict[str, Any]], step: Callable[[int], None]
) -> tuple[int, list[str]]:
    """Send the actions in batches; (done, errors). A refusal by version (409: the index
    holds a newer document) and a delete of a missing document (404) are not errors."""
    done, errors = 0, []
    results = streaming_bulk(
        client,
        actions,
        chunk_size=BATCH,
        raise_on_error=False,
        raise_on_exception=True,
        max_retries=3,
        request_timeout=max(settings.OPENSEARCH_INDEX_TIMEOUT, 30.0),
    )
    for ok, info in results:
        step(1)
        item = next(iter(info.values()), {})
        if ok or item.get("status") in (404, 409):
            done += 1
        else:
            errors.append(f"episode {item.get('_id')}: {item.get('error')}"[:300])
    return done, errors


def _episodes(**filters: Any) -> Iterator[Episode]:
    return (
        Episode.objects.filter(**filters)
        .only("pk", "title", "description", "updated_at")
        .order_by("pk")
        .iterator(chunk_size=BATCH)
    )


def _nothing(count: int) -> None:
    return None


def reindex(
    client: OpenSearch | None = None,
    *,
    progress: Callable[[int], Callable[[int], None]] = lambda total: _nothing,
) -> ReindexOutcome:
    """Build a new index from the database, swap the alias to it, delete the old ones.

    `progress(total)` returns the function told of each document loaded.
    """
    client = client or opensearch.client()
    alias = opensearch.alias()
    previous = aliased_indexes(client, alias)
    outcome = ReindexOutcome(index=next_index_name(client, alias), previous=previous)
    client.indices.create(index=outcome.index, body=index_body())
    started = timezone.now()
    loaded: set[int] = set()
    try:
        outcome.loaded, errors = _bulk(
            client, _actions(outcome.index, _episodes(), loaded), progress(Episode.objects.count())
        )
        if errors:
            raise SetupError(
                f"{len(errors)} episodes could not be indexed (first: {errors[0]}); "
                f"{outcome.index} was dropped and the alias left as it was."
            )
        client.indices.refresh(index=outcome.index)
        swap = [{"remove": {"index": name, "alias": alias}} for name in previous]
        swap.append({"add": {"index": outcome.index, "alias": alias}})
        client.indices.update_aliases(body={"actions": swap})
    except BaseException:
        # Nothing points at the half-built index: drop it, and leave the old one serving.
        with contextlib.suppress(Exception):
            if not client.indices.exists_alias(name=alias, index=outcome.index):
                client.indices.delete(index=outcome.index)
        raise
    _catch_up(client, outcome, started, loaded)
    for name in previous:
        client.indices.delete(index=name)
    return outcome


def _catch_up(
    client: OpenSearch, outcome: ReindexOutcome, started: datetime, loaded: set[int]
) -> None:
    """What was written to the old index while the new one loaded, written to the new one."""
    changed = _episodes(updated_at__gte=started - CATCH_UP_MARGIN)
    outcome.caught_up, errors = _bulk(client, _actions(outcome.index, changed), _nothing)
    gone = loaded - set(Episode.objects.values_list("pk", flat=True))
    outcome.removed, more = _bulk(client, _deletions(outcome.index, iter(sorted(gone))), _nothing)
    outcome.errors += errors + more

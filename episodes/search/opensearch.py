"""OpenSearch: the client, the index's mapping, the search request, one-document writes.

The index is `<OPENSEARCH_INDEX>-v<n>` behind the alias OPENSEARCH_INDEX (`indexes.py`
builds and swaps them); searches and writes go to the alias. A document is an episode's
title and description under the episode's id, versioned by its `updated_at` (external
versioning), so that of two writes of one episode racing, the older never wins.
"""

from __future__ import annotations

import logging
import time
from functools import lru_cache
from typing import Any

import structlog
from django.conf import settings
from django.db.models import Case, FloatField, QuerySet, Value, When
from django.utils import timezone
from opensearchpy import OpenSearch
from opensearchpy.exceptions import (
    ConflictError,
    ConnectionError,
    NotFoundError,
    OpenSearchException,
    TransportError,
)

from episodes.models import Episode
from episodes.search.database import TIE_BREAK

logger = structlog.get_logger(__name__)

ANALYZER = "showdesk_text"
# Words, lowercased, accents folded, English stop words dropped and stems kept: "Café
# Publishing" is found by "cafe published". PostgreSQL's configuration does the same.
INDEX_SETTINGS: dict[str, Any] = {
    "number_of_shards": 1,
    "analysis": {
        "filter": {
            "showdesk_possessive": {"type": "stemmer", "language": "possessive_english"},
            "showdesk_stop": {"type": "stop", "stopwords": "_english_"},
            "showdesk_stemmer": {"type": "stemmer", "language": "english"},
        },
        "analyzer": {
            ANALYZER: {
                "type": "custom",
                "tokenizer": "standard",
                "filter": [
                    "showdesk_possessive",
                    "lowercase",
                    "asciifolding",
                    "showdesk_stop",
                    "showdesk_stemmer",
                ],
            }
        },
    },
}
MAPPINGS: dict[str, Any] = {
    "dynamic": "strict",
    "properties": {
        "title": {"type": "text", "analyzer": ANALYZER},
        "description": {"type": "text", "analyzer": ANALYZER},
    },
}
# A title match counts more than a description match (PostgreSQL: weights A and B).
FIELDS = ["title^3", "description"]
# simple_query_string's operators that PostgreSQL's websearch_to_tsquery also has: `"a
# phrase"`, `-word`, `a | b`, parentheses. No prefix, fuzzy or slop operator: a `*` or a `~`
# is just a character.
FLAGS = "AND|NOT|OR|PHRASE|PRECEDENCE|WHITESPACE|ESCAPE"


class Unavailable(Exception):
    """OpenSearch did not answer (down, too slow) or refused the request."""


class NotSetUp(Unavailable):
    """The alias does not exist: `manage.py search_setup` (or `search_reindex`) was not run."""


def _unavailable(exc: Exception) -> Unavailable:
    if isinstance(exc, NotFoundError) and exc.error == "index_not_found_exception":
        return NotSetUp(
            f"{describe(exc)}: the alias {alias()} does not exist; run manage.py search_setup"
        )
    return Unavailable(describe(exc))


def configured() -> bool:
    return bool(settings.OPENSEARCH_URL)


def alias() -> str:
    return settings.OPENSEARCH_INDEX


@lru_cache(maxsize=4)
def _client_for(url: str) -> OpenSearch:
    # The client logs each request (INFO) and each failure with its traceback (WARNING);
    # Showdesk logs one structured line per failure itself, and no line per search.
    logging.getLogger("opensearch").setLevel(logging.ERROR)
    # No retry by the client: a search falls back at once, a job retries with its backoff.
    return OpenSearch(hosts=[url], max_retries=0, retry_on_timeout=False)


def client() -> OpenSearch:
    return _client_for(settings.OPENSEARCH_URL)


# --- Failures ----------------------------------------------------------------------------------

# Until when (time.monotonic) searches skip OpenSearch after a failure, in this process.
_skip_until = 0.0


def reset() -> None:
    """Forget a recent failure (tests)."""
    global _skip_until
    _skip_until = 0.0


def recently_down() -> bool:
    """A call failed moments ago (OPENSEARCH_RETRY_AFTER): callers in a request skip it."""
    return time.monotonic() < _skip_until


def _note(exc: Exception) -> None:
    global _skip_until
    if _down(exc):
        _skip_until = time.monotonic() + settings.OPENSEARCH_RETRY_AFTER


def _down(exc: Exception) -> bool:
    """The server is unreachable or failing, rather than refusing this one request."""
    status = getattr(exc, "status_code", None)
    return isinstance(exc, ConnectionError) or (isinstance(status, int) and status >= 500)


def describe(exc: Exception) -> str:
    """A short account of an OpenSearch error, without the request (nor any credential)."""
    if isinstance(exc, ConnectionError):
        return f"{type(exc).__name__}: {type(exc.info).__name__ if exc.info else 'no answer'}"
    if isinstance(exc, TransportError):
        return f"{type(exc).__name__}: {exc.status_code} {exc.error}"[:300]
    return f"{type(exc).__name__}: {exc}"[:300]


# --- Search ----------------------------------------------------------------------------------


def search_body(text: str, size: int) -> dict[str, Any]:
    """The request of a search: `text` is a value, never parsed as OpenSearch query syntax."""
    return {
        "query": {
            "simple_query_string": {
                "query": text,
                "fields": FIELDS,
                "default_operator": "and",
                "flags": FLAGS,
                "lenient": True,
            }
        },
        "size": size,
        "_source": False,
        "track_total_hits": False,
    }


def search_hits(text: str) -> list[tuple[int, float]]:
    """Ids and scores of the best matches, best first. Raises Unavailable."""
    if recently_down():
        raise Unavailable("OpenSearch failed moments ago; not asked again yet")
    try:
        response = client().search(
            index=alias(),
            body=search_body(text, settings.OPENSEARCH_MAX_HITS),
            params={"request_timeout": settings.OPENSEARCH_TIMEOUT},
        )
    except (OpenSearchException, OSError) as exc:
        _note(exc)
        raise _unavailable(exc) from exc
    hits = []
    for hit in response.get("hits", {}).get("hits", []):
        try:
            hits.append((int(hit["_id"]), float(hit.get("_score") or 0.0)))
        except (KeyError, TypeError, ValueError):
            continue
    return hits


class OpenSearchSearch:
    def search(self, queryset: QuerySet[Episode], text: str) -> QuerySet[Episode]:
        hits = search_hits(text)
        if not hits:
            return queryset.none()
        rank = Case(
            *(When(pk=pk, then=Value(score)) for pk, score in hits),
            default=Value(0.0),
            output_field=FloatField(),
        )
        return (
            queryset.filter(pk__in=[pk for pk, _ in hits])
            .annotate(search_rank=rank)
            .order_by("-search_rank", *TIE_BREAK)
        )


# --- Documents -------------------------------------------------------------------------------


def document(episode: Episode) -> dict[str, Any]:
    return {"title": episode.title, "description": episode.description}


def document_version(episode: Episode) -> int:
    """Microseconds of the episode's `updated_at`: later saves have higher versions."""
    return int(episode.updated_at.timestamp() * 1_000_000)


def _write_params(timeout: float | None = None, **params: Any) -> dict[str, Any]:
    return {"request_timeout": timeout or settings.OPENSEARCH_INDEX_TIMEOUT, **params}


def index_document(episode: Episode) -> str:
    """Write the episode's document: `indexed`, or `stale` when a newer one is there.

    Raises Unavailable. Only into an alias: before `search_setup`, a write would otherwise
    create an index of that name with a guessed mapping.
    """
    try:
        client().index(
            index=alias(),
            id=str(episode.pk),
            body=document(episode),
            params=_write_params(
                version=document_version(episode),
                version_type="external_gte",
                require_alias="true",
            ),
        )
    except ConflictError:
        return "stale"
    except (OpenSearchException, OSError) as exc:
        raise _unavailable(exc) from exc
    return "indexed"


def delete_document(episode_id: int, *, timeout: float | None = None) -> str:
    """Remove an episode's document: `deleted`, `absent` when there was none, or `stale`
    when the index holds a document newer than now (clocks apart). Raises Unavailable.

    Versioned by the clock: a write of the episode read before its deletion, landing after
    this, is refused (for the index's `gc_deletes`, a minute by default).
    """
    version = int(timezone.now().timestamp() * 1_000_000)
    try:
        client().delete(
            index=alias(),
            id=str(episode_id),
            params=_write_params(timeout, version=version, version_type="external"),
        )
    except NotFoundError as exc:
        if exc.error == "index_not_found_exception":
            raise _unavailable(exc) from exc
        return "absent"
    except ConflictError:
        return "stale"
    except (OpenSearchException, OSError) as exc:
        _note(exc)
        raise _unavailable(exc) from exc
    return "deleted"

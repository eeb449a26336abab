"""Episode search behind one small interface: OpenSearch when configured, the database otherwise.

`episode_search(queryset=..., text=...)` narrows a queryset that is already scoped to the
caller (`selectors.episode_list`) to the episodes matching `text`, annotated with
`search_rank` and ordered by it, best first. The backends:

- OpenSearch (`OPENSEARCH_URL`): the ids and scores of the best `OPENSEARCH_MAX_HITS` matches,
  then the queryset filtered by those ids. Down or failing, the database answers instead and
  the result says so (`fallback`).
- PostgreSQL: the `search_vector` column (migration 0003) with `websearch_to_tsquery`.
- Any other database (SQLite, the embedded default): `icontains` over title and description.

Every backend reads the text as the user typed it, as plain words (`"a phrase"` and `-word`
where the backend knows them): no input is ever query syntax for the engine.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import structlog
from django.db import connection
from django.db.models import QuerySet

from episodes.models import Episode
from episodes.search import database, opensearch
from episodes.search.text import MAX_QUERY_CHARS, clean_query

logger = structlog.get_logger(__name__)

__all__ = [
    "BACKEND_HEADER",
    "MAX_QUERY_CHARS",
    "SearchResult",
    "backend_used",
    "episode_search",
    "remember_backend",
]

# The response header that says which backend answered a search.
BACKEND_HEADER = "X-Search-Backend"
OPENSEARCH = "opensearch"
DATABASE = "database"
_REQUEST_ATTR = "showdesk_search_backend"


@dataclass(frozen=True)
class SearchResult:
    queryset: QuerySet[Episode]
    backend: str  # OPENSEARCH or DATABASE
    fallback: bool = False  # the database answered because OpenSearch could not

    @property
    def header(self) -> str:
        return f"{self.backend}; fallback" if self.fallback else self.backend


def database_backend() -> database.Backend:
    if connection.vendor == "postgresql":
        return database.PostgresSearch()
    return database.ContainsSearch()


def episode_search(*, queryset: QuerySet[Episode], text: str) -> SearchResult:
    text = clean_query(text)
    if not text:
        return SearchResult(queryset.none(), DATABASE)
    if opensearch.configured():
        try:
            return SearchResult(opensearch.OpenSearchSearch().search(queryset, text), OPENSEARCH)
        except opensearch.Unavailable as exc:
            logger.warning(
                "search_fallback", backend=OPENSEARCH, fallback=DATABASE, reason=str(exc)
            )
            return SearchResult(database_backend().search(queryset, text), DATABASE, True)
    return SearchResult(database_backend().search(queryset, text), DATABASE)


def remember_backend(request: Any, result: SearchResult) -> None:
    """Note on the request which backend answered, for the response header."""
    if request is not None:
        setattr(request, _REQUEST_ATTR, result.header)


def backend_used(request: Any) -> str | None:
    return getattr(request, _REQUEST_ATTR, None)

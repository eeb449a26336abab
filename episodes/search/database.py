"""The database's own search: full-text search on PostgreSQL, `icontains` anywhere else."""

from __future__ import annotations

from typing import Protocol

from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVectorField
from django.db.models import Case, Expression, FloatField, Q, QuerySet, Value, When

from episodes.models import Episode

# The text search configuration and column made by migration 0003 (PostgreSQL only): English
# stemming, accents folded where the `unaccent` extension could be created.
CONFIG = "showdesk_search"
VECTOR_COLUMN = "search_vector"
# Equal ranks keep the list's default order, and a page boundary never splits a tie.
TIE_BREAK = ("season", "episode_number", "pk")
# websearch_to_tsquery reads each `-` before a word as a NOT, and fails ("tsquery stack too
# small") on 33 of them in a row with nothing between. Past this many, a `-` is a space.
MAX_MINUS_SIGNS = 16


class Backend(Protocol):
    def search(self, queryset: QuerySet[Episode], text: str) -> QuerySet[Episode]:
        """The episodes of `queryset` matching `text`, with `search_rank`, best first."""
        ...


class SearchVectorColumn(Expression):
    """The episode table's `search_vector` column, which the model does not declare.

    The database computes it (a generated column): the ORM must never write it, and lists
    need not read it, so it is referred to only here, under whatever alias the query gives
    the episode table.
    """

    output_field = SearchVectorField()

    def as_sql(self, compiler, connection):
        table = compiler.quote_name_unless_alias(compiler.query.base_table)
        return f"{table}.{connection.ops.quote_name(VECTOR_COLUMN)}", []


class PostgresSearch:
    """`websearch_to_tsquery` over the weighted vector (title A, description B), ts_rank order.

    websearch_to_tsquery reads any text without a syntax error: `"a phrase"`, `-word`, `or`
    are understood, anything else is words.
    """

    def search(self, queryset: QuerySet[Episode], text: str) -> QuerySet[Episode]:
        query = SearchQuery(bounded_minus_signs(text), search_type="websearch", config=CONFIG)
        vector = SearchVectorColumn()
        return (
            queryset.alias(search_match=vector)
            .filter(search_match=query)
            .annotate(search_rank=SearchRank(vector, query))
            .order_by("-search_rank", *TIE_BREAK)
        )


def bounded_minus_signs(text: str) -> str:
    """The text with every `-` past the first MAX_MINUS_SIGNS replaced by a space."""
    head, *rest = text.split("-")
    if len(rest) <= MAX_MINUS_SIGNS:
        return text
    return "-".join([head, *rest[:MAX_MINUS_SIGNS]]) + " " + " ".join(rest[MAX_MINUS_SIGNS:])


class ContainsSearch:
    """A case-insensitive substring of the title or the description; title matches first."""

    def search(self, queryset: QuerySet[Episode], text: str) -> QuerySet[Episode]:
        in_title = Q(title__icontains=text)
        return (
            queryset.filter(in_title | Q(description__icontains=text))
            .annotate(
                search_rank=Case(
                    When(in_title, then=Value(1.0)), default=Value(0.5), output_field=FloatField()
                )
            )
            .order_by("-search_rank", *TIE_BREAK)
        )

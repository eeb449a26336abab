"""SQL queries per request stay flat: the same count with 2 rows as with 50."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from episodes.models import Composition, Episode, EpisodeSubscription
from tests.factories import CompositionFactory, EpisodeFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def count_queries(api_client_for, editor, settings) -> Callable[[str], int]:
    client = api_client_for(editor)

    def count(url: str) -> int:
        # The first view of an episode per user is logged (a cache key) and makes the user a
        # viewer (presence): the same conditions each time.
        cache.clear()
        settings.PRESENCE_KEY_PREFIX = f"presence-counted-{uuid.uuid4().hex}"
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        assert response.status_code == 200, response.content
        return len(queries)

    return count


@pytest.fixture
def authors(db) -> list:
    """A few authors: a serializer reading `created_by` row by row would query once per row."""
    return UserFactory.create_batch(3)


# Rows are bulk-created: the reads are under test, not the side effects of each save.
def _episodes(authors: list, n: int) -> list:
    built = [EpisodeFactory.build(created_by=authors[i % len(authors)]) for i in range(n)]
    return Episode.objects.bulk_create(built)


def _compositions(authors: list, episodes: list, n: int) -> list:
    built = [
        CompositionFactory.build(
            episode=episodes[i % len(episodes)], created_by=authors[i % len(authors)]
        )
        for i in range(n)
    ]
    return Composition.objects.bulk_create(built)


def _rows_in_page(url: str, api_client) -> int:
    return len(api_client.get(url).json()["results"])


@pytest.mark.parametrize(
    "query", ["", "?ordering=-title", "?status=draft&search=Episode", "?season=1"]
)
def test_episode_list_queries_do_not_grow_with_rows(
    count_queries, api_client_for, editor, authors, query
):
    url = f"/api/v1/episodes/?page_size=100&{query.lstrip('?')}"
    _episodes(authors, 2)
    few = count_queries(url)
    _episodes(authors, 48)
    assert _rows_in_page(url, api_client_for(editor)) == 50
    assert count_queries(url) == few


def test_episode_detail_queries_do_not_grow_with_related_rows(count_queries, editor, authors):
    episode = EpisodeFactory(created_by=authors[0])
    url = f"/api/v1/episodes/{episode.pk}/"
    _compositions(authors, [episode], 2)
    EpisodeSubscription.objects.create(episode=episode, user=editor)
    few = count_queries(url)
    _episodes(authors, 48)
    _compositions(authors, [episode], 48)
    EpisodeSubscription.objects.bulk_create(
        EpisodeSubscription(episode=episode, user=user) for user in UserFactory.create_batch(48)
    )
    assert count_queries(url) == few


@pytest.mark.parametrize("query", ["", "?ordering=-name", "?episode={episode}"])
def test_composition_list_queries_do_not_grow_with_rows(
    count_queries, api_client_for, editor, authors, query
):
    episodes = _episodes(authors, 2)
    url = f"/api/v1/compositions/?page_size=100&{query.lstrip('?')}".format(episode=episodes[0].pk)
    _compositions(authors, [episodes[0]], 2)
    few = count_queries(url)
    _compositions(authors, [episodes[0]], 48)
    _compositions(authors, [episodes[1]], 5)
    assert _rows_in_page(url, api_client_for(editor)) >= 50
    assert count_queries(url) == few


def test_composition_detail_queries_do_not_grow_with_rows(count_queries, authors):
    episodes = _episodes(authors, 2)
    composition = _compositions(authors, episodes, 2)[0]
    url = f"/api/v1/compositions/{composition.pk}/"
    few = count_queries(url)
    _compositions(authors, _episodes(authors, 5), 48)
    assert count_queries(url) == few

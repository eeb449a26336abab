"""List filters, ordering and pagination of episodes and compositions."""

from __future__ import annotations

import datetime

import pytest

from tests.factories import CompositionFactory, EpisodeFactory

pytestmark = pytest.mark.django_db

EPISODES = "/api/v1/episodes/"
COMPOSITIONS = "/api/v1/compositions/"
EPISODE_ORDERINGS = [
    "title",
    "episode_number",
    "season",
    "status",
    "air_date",
    "created_at",
    "updated_at",
    "id",
]


@pytest.fixture
def client(fast_client_for, viewer):
    return fast_client_for(viewer)


def _ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


@pytest.fixture
def catalogue(db):
    """Three episodes whose every orderable field sorts them differently from the others."""
    base = datetime.date(2026, 1, 1)
    return [
        EpisodeFactory(
            title="Bravo",
            season=2,
            episode_number=1,
            status="published",
            air_date=base + datetime.timedelta(days=2),
            description="a dragon wakes",
        ),
        EpisodeFactory(
            title="Charlie",
            season=1,
            episode_number=3,
            status="archived",
            air_date=base,
            description="quiet",
        ),
        EpisodeFactory(
            title="Alpha",
            season=3,
            episode_number=2,
            status="draft",
            air_date=base + datetime.timedelta(days=1),
            description="The DRAGON returns",
        ),
    ]


# --- Filters --------------------------------------------------------------------------------


@pytest.mark.parametrize("status", ["draft", "published", "archived"])
def test_status_filter_keeps_only_that_status(client, catalogue, status):
    expected = [e.pk for e in catalogue if e.status == status]
    assert _ids(client.get(EPISODES, {"status": status})) == expected


def test_season_filter_keeps_only_that_season(client, catalogue):
    assert _ids(client.get(EPISODES, {"season": 2})) == [catalogue[0].pk]


def test_season_filter_with_no_match_is_empty(client, catalogue):
    assert _ids(client.get(EPISODES, {"season": 9})) == []


def test_search_matches_title_case_insensitively(client, catalogue):
    assert _ids(client.get(EPISODES, {"search": "charlie"})) == [catalogue[1].pk]


def test_search_matches_description_case_insensitively(client, catalogue):
    found = _ids(client.get(EPISODES, {"search": "dragon"}))
    assert sorted(found) == sorted([catalogue[0].pk, catalogue[2].pk])


def test_search_with_no_match_is_empty(client, catalogue):
    assert _ids(client.get(EPISODES, {"search": "zebra"})) == []


def test_filters_combine(client, catalogue):
    assert _ids(client.get(EPISODES, {"search": "dragon", "status": "draft"})) == [catalogue[2].pk]


def test_empty_filters_are_ignored(client, catalogue):
    response = client.get(EPISODES, {"status": "", "season": "", "search": ""})
    assert response.status_code == 200
    assert response.json()["count"] == 3


def test_unknown_status_filter_is_400_naming_status(client, catalogue):
    response = client.get(EPISODES, {"status": "deleted"})
    assert response.status_code == 400
    assert set(response.json()) == {"status"}


def test_composition_episode_filter_keeps_that_episodes_compositions(client):
    first, second = EpisodeFactory(), EpisodeFactory()
    mine = [CompositionFactory(episode=first), CompositionFactory(episode=first)]
    CompositionFactory(episode=second)
    assert _ids(client.get(COMPOSITIONS, {"episode": first.pk})) == [c.pk for c in mine]


def test_composition_episode_filter_for_an_unknown_episode_is_empty(client, composition):
    assert _ids(client.get(COMPOSITIONS, {"episode": 987654})) == []


# --- Ordering -------------------------------------------------------------------------------


def _sort_key(field: str):
    def key(episode):
        return (getattr(episode, field), episode.pk)

    return key


@pytest.mark.parametrize("field", EPISODE_ORDERINGS)
def test_ordering_ascending_by_each_allowed_field(client, catalogue, field):
    expected = [e.pk for e in sorted(catalogue, key=_sort_key(field))]
    assert _ids(client.get(EPISODES, {"ordering": field})) == expected


@pytest.mark.parametrize("field", EPISODE_ORDERINGS)
def test_ordering_descending_by_each_allowed_field(client, catalogue, field):
    expected = [e.pk for e in sorted(catalogue, key=_sort_key(field), reverse=True)]
    assert _ids(client.get(EPISODES, {"ordering": f"-{field}"})) == expected


def test_default_ordering_is_season_then_number(client, catalogue):
    expected = [catalogue[1].pk, catalogue[0].pk, catalogue[2].pk]
    assert _ids(client.get(EPISODES)) == expected


def test_ordering_by_two_fields(client):
    a = EpisodeFactory(season=1, episode_number=2, status="draft")
    b = EpisodeFactory(season=2, episode_number=1, status="draft")
    c = EpisodeFactory(season=1, episode_number=3, status="archived")
    assert _ids(client.get(EPISODES, {"ordering": "status,-season"})) == [c.pk, b.pk, a.pk]


def test_ties_are_broken_by_id_in_the_direction_of_the_last_term(client):
    same_day = datetime.date(2026, 5, 5)
    episodes = [EpisodeFactory(air_date=same_day) for _ in range(3)]
    ascending = _ids(client.get(EPISODES, {"ordering": "air_date"}))
    descending = _ids(client.get(EPISODES, {"ordering": "-air_date"}))
    assert ascending == [e.pk for e in episodes]
    assert descending == ascending[::-1]


def test_episodes_without_an_air_date_come_last_ascending_and_first_descending(client):
    undated = EpisodeFactory(air_date=None)
    dated = EpisodeFactory(air_date=datetime.date(2026, 1, 1))
    assert _ids(client.get(EPISODES, {"ordering": "air_date"})) == [dated.pk, undated.pk]
    assert _ids(client.get(EPISODES, {"ordering": "-air_date"})) == [undated.pk, dated.pk]


@pytest.mark.parametrize(
    "ordering", ["password", "created_by__password", "-description", "title,secret", "?"]
)
def test_ordering_by_a_field_not_allowed_is_400_naming_ordering(client, catalogue, ordering):
    response = client.get(EPISODES, {"ordering": ordering})
    assert response.status_code == 400
    assert set(response.json()) == {"ordering"}


@pytest.mark.parametrize("field", ["name", "created_at", "updated_at", "id"])
def test_compositions_order_by_each_allowed_field(client, field):
    episode = EpisodeFactory()
    cuts = [CompositionFactory(episode=episode, name=name) for name in ("B", "C", "A")]
    expected = [c.pk for c in sorted(cuts, key=lambda c: (getattr(c, field), c.pk))]
    assert _ids(client.get(COMPOSITIONS, {"ordering": field})) == expected
    assert _ids(client.get(COMPOSITIONS, {"ordering": f"-{field}"})) == expected[::-1]


def test_compositions_ordering_by_a_field_not_allowed_is_400(client, composition):
    response = client.get(COMPOSITIONS, {"ordering": "layout"})
    assert response.status_code == 400
    assert set(response.json()) == {"ordering"}


# --- Pagination -----------------------------------------------------------------------------


@pytest.fixture
def five(db):
    return [EpisodeFactory(season=1, episode_number=n) for n in range(1, 6)]


def test_page_size_and_page_select_a_slice(client, five):
    body = client.get(EPISODES, {"page_size": 2, "page": 2}).json()
    assert body["count"] == 5
    assert [row["id"] for row in body["results"]] == [five[2].pk, five[3].pk]
    assert body["next"] is not None
    assert body["previous"] is not None


def test_last_page_has_the_remainder_and_no_next(client, five):
    body = client.get(EPISODES, {"page_size": 2, "page": 3}).json()
    assert [row["id"] for row in body["results"]] == [five[4].pk]
    assert body["next"] is None


def test_page_last_is_the_last_page(client, five):
    body = client.get(EPISODES, {"page_size": 2, "page": "last"}).json()
    assert [row["id"] for row in body["results"]] == [five[4].pk]


def test_page_size_above_the_maximum_is_capped(client, five):
    response = client.get(EPISODES, {"page_size": 1000})
    assert response.status_code == 200
    assert len(response.json()["results"]) == 5


def test_default_page_size_is_25(client):
    for n in range(1, 27):
        EpisodeFactory(episode_number=n)
    assert len(client.get(EPISODES).json()["results"]) == 25


@pytest.mark.parametrize("page", ["-1", "0", "abc", "1.5", "1e3", "0x10"])
def test_bad_page_is_400_naming_page(client, five, page):
    response = client.get(EPISODES, {"page": page})
    assert response.status_code == 400
    assert set(response.json()) == {"page"}


@pytest.mark.parametrize("page_size", ["-1", "0", "abc", "2.5", "1e3"])
def test_bad_page_size_is_400_naming_page_size(client, five, page_size):
    response = client.get(EPISODES, {"page_size": page_size})
    assert response.status_code == 400
    assert set(response.json()) == {"page_size"}


def test_empty_page_and_page_size_mean_not_given(client, five):
    response = client.get(EPISODES, {"page": "", "page_size": ""})
    assert response.status_code == 200
    assert len(response.json()["results"]) == 5


@pytest.mark.parametrize("page", ["4", "99999999999999999999999999"])
def test_page_beyond_the_last_is_404(client, five, page):
    response = client.get(EPISODES, {"page": page, "page_size": 2})
    assert response.status_code == 404
    assert response.json() == {"detail": "Invalid page."}


def test_compositions_are_paginated_too(client):
    episode = EpisodeFactory()
    for _ in range(3):
        CompositionFactory(episode=episode)
    body = client.get(COMPOSITIONS, {"page_size": 2}).json()
    assert body["count"] == 3
    assert len(body["results"]) == 2

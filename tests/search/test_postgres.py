"""Full-text search on PostgreSQL: ranking, phrases, negation, stemming, accents, the vector."""

from __future__ import annotations

import pytest
from django.db import connection

from common.actor import acting_as
from episodes import services
from episodes.models import Episode
from episodes.search.database import PostgresSearch
from tests.search.conftest import EPISODES, ids

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def test_a_title_match_ranks_above_a_description_match(client, make_episode):
    in_description = make_episode("Harbour", "a dragon sleeps under the dragon hill, dragon")
    in_title = make_episode("The Dragon", "nothing to see")
    make_episode("Unrelated", "boats")
    assert ids(client.get(EPISODES, {"search": "dragon"})) == [in_title.pk, in_description.pk]


def test_a_quoted_phrase_matches_the_words_together_in_order(client, make_episode):
    together = make_episode("Night", "the red door opens")
    apart = make_episode("Day", "a red car by the door")
    reversed_ = make_episode("Dusk", "the door was red")
    assert ids(client.get(EPISODES, {"search": '"red door"'})) == [together.pk]
    found = set(ids(client.get(EPISODES, {"search": "red door"})))
    assert found == {together.pk, apart.pk, reversed_.pk}


def test_a_minus_word_excludes_the_episodes_having_it(client, make_episode):
    keeps = make_episode("Storm", "the ship sinks")
    make_episode("Storm again", "the ship sails home")
    assert ids(client.get(EPISODES, {"search": "storm -sails"})) == [keeps.pk]


@pytest.mark.parametrize(
    ("query", "text"),
    [
        ("publish", "The episode was published"),
        ("published", "we publish weekly"),
        ("running", "she runs"),
        ("stories", "a story"),
    ],
)
def test_words_match_their_other_forms(client, make_episode, query, text):
    match = make_episode("Notes", text)
    assert ids(client.get(EPISODES, {"search": query})) == [match.pk]


@pytest.mark.parametrize(("query", "title"), [("cafe", "Café Society"), ("CAFÉ", "cafe society")])
def test_accents_are_folded(client, make_episode, query, title):
    match = make_episode(title)
    assert ids(client.get(EPISODES, {"search": query})) == [match.pk]


def test_the_answer_says_the_database_answered(client, make_episode):
    make_episode("Pilot")
    response = client.get(EPISODES, {"search": "pilot"})
    assert response["X-Search-Backend"] == "database"


def test_an_explicit_ordering_replaces_relevance(client, make_episode):
    second = make_episode("Bravo dragon")
    first = make_episode("Alpha", "a dragon")
    assert ids(client.get(EPISODES, {"search": "dragon"})) == [second.pk, first.pk]
    assert ids(client.get(EPISODES, {"search": "dragon", "ordering": "title"})) == [
        first.pk,
        second.pk,
    ]


def test_the_vector_follows_an_update_through_the_service(client, make_episode, editor):
    episode = make_episode("Old name", "old words")
    with acting_as(editor):
        services.episode_update(episode=episode, actor=editor, title="Fresh name")
    assert ids(client.get(EPISODES, {"search": "fresh"})) == [episode.pk]
    assert ids(client.get(EPISODES, {"search": '"old name"'})) == []


def test_the_vector_follows_a_bulk_update_that_sends_no_signal(client, make_episode):
    episode = make_episode("Quiet", "nothing")
    Episode.objects.filter(pk=episode.pk).update(description="a thunderous finale")
    assert ids(client.get(EPISODES, {"search": "thunderous"})) == [episode.pk]


def test_the_vector_is_a_generated_column_that_lists_do_not_load(make_episode):
    make_episode("Pilot")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT attgenerated FROM pg_attribute "
            "WHERE attrelid = 'episodes_episode'::regclass AND attname = 'search_vector'"
        )
        assert cursor.fetchone() == ("s",)  # a stored generated column
    assert "search_vector" not in str(Episode.objects.all().query)


def test_the_search_uses_the_gin_index(make_episode):
    for number in range(50):
        make_episode(f"Episode {number}", "filler words")
    found = PostgresSearch().search(Episode.objects.all(), "filler")
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        plan = found.explain()
    assert "episode_search_vector" in plan

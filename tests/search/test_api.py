"""`?search=` on episodes, on whichever database runs the suite: scoping, order, the header."""

from __future__ import annotations

import pytest
from django.conf import settings

from episodes.models import Episode
from episodes.search.database import ContainsSearch
from tests.search.conftest import EPISODES, client_for, ids

pytestmark = pytest.mark.django_db


def test_a_user_without_a_role_finds_nothing(outsider, make_episode):
    make_episode("Pilot")
    response = client_for(outsider).get(EPISODES, {"search": "pilot"})
    assert response.status_code == 403
    assert b"Pilot" not in response.content


def test_an_anonymous_search_is_refused(anon_client, make_episode):
    make_episode("Pilot")
    assert anon_client.get(EPISODES, {"search": "pilot"}).status_code in (401, 403)


def test_search_combines_with_the_other_filters(client, make_episode):
    draft = make_episode("Dragon", status="draft")
    make_episode("Dragon returns", status="published")
    assert ids(client.get(EPISODES, {"search": "dragon", "status": "draft"})) == [draft.pk]


def test_the_header_is_only_on_searches(client, make_episode):
    make_episode("Pilot")
    assert "X-Search-Backend" not in client.get(EPISODES)
    assert "X-Search-Backend" not in client.get(EPISODES, {"search": "   "})
    assert client.get(EPISODES, {"search": "pilot"})["X-Search-Backend"] == "database"


def test_search_results_are_paginated_in_a_stable_order(client, make_episode):
    made = [make_episode(f"Signal {n}", "static") for n in range(7)]
    pages = [
        ids(client.get(EPISODES, {"search": "static", "page_size": 3, "page": p}))
        for p in (1, 2, 3)
    ]
    assert [pk for page in pages for pk in page] == [episode.pk for episode in made]


# --- The embedded default's backend: icontains --------------------------------------------------


def test_icontains_puts_title_matches_first(make_episode):
    in_description = make_episode("Harbour", "a dragon sleeps")
    in_title = make_episode("Dragon", "")
    make_episode("Other", "")
    found = ContainsSearch().search(Episode.objects.all(), "DRAGON")
    assert list(found.values_list("pk", flat=True)) == [in_title.pk, in_description.pk]


def test_icontains_matches_parts_of_words_and_wildcards_literally(make_episode):
    dragon = make_episode("Dragonfly")
    percent = make_episode("100% live")
    found = ContainsSearch().search(Episode.objects.all(), "agon")
    assert list(found.values_list("pk", flat=True)) == [dragon.pk]
    found = ContainsSearch().search(Episode.objects.all(), "%")
    assert list(found.values_list("pk", flat=True)) == [percent.pk]


@pytest.mark.skipif(
    settings.IS_POSTGRES, reason="the embedded default's path: PostgreSQL uses full-text search"
)
def test_the_embedded_default_searches_with_icontains(client, make_episode):
    match = make_episode("Dragonfly", "")
    response = client.get(EPISODES, {"search": "agonf"})
    assert ids(response) == [match.pk]
    assert response["X-Search-Backend"] == "database"

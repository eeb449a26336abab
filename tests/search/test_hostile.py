"""Malformed and hostile search texts: plain text to every backend, never a 500."""

from __future__ import annotations

import pytest

from episodes.models import Episode
from episodes.search import episode_search
from tests.search.conftest import EPISODES, ids

pytestmark = pytest.mark.django_db

HOSTILE = [
    '"unbalanced',
    'a "b c',
    '""',
    '"',
    "-",
    "--",
    "- -dragon",
    "-dragon",
    "dragon -",
    "!!!",
    "a & | ! b",
    "(",
    ")(",
    "((dragon",
    "dragon or",
    "or",
    "<->",
    "dragon:*",
    "*:*",
    "*",
    "?",
    "~",
    "dragon~2",
    '{"match_all": {}}',
    '{"query": {"match_all": {}}}',
    '"}}]}',
    "title:dragon",
    "_id:1",
    "\\",
    "\\\\",
    "'",
    "''; DROP TABLE episodes_episode; --",
    "%",
    "_",
    "\x01\x02\x1f",
    "\u200b",
    "\ufeff",
    "😀 dragon",
    "ドラゴン",
    "a" * 500,
    " ".join(["dragon"] * 70),
    "-" * 500,
    "-" * 33 + "dragon",
    "- " * 250,
    "-!" * 250,
    "(-" * 250,
    "dragon " + "-x " * 150,
    '"' * 500,
    "(" * 250 + ")" * 250,
]


@pytest.fixture
def catalogue(make_episode):
    return [make_episode("The Dragon", "it wakes"), make_episode("Pilot", "the first one")]


def _answer(client, text: str):
    response = client.get(EPISODES, {"search": text})
    assert response.status_code == 200, (text, response.status_code, response.content[:300])
    assert (
        response["X-Search-Backend"].startswith("database")
        or response["X-Search-Backend"] == "opensearch"
    )
    return ids(response)


@pytest.mark.parametrize("text", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_text_is_searched_as_plain_text(client, catalogue, text):
    assert set(_answer(client, text)) <= {episode.pk for episode in catalogue}


def test_whitespace_alone_is_no_search(client, catalogue):
    response = client.get(EPISODES, {"search": "\t\n\r  "})
    assert sorted(ids(response)) == sorted(episode.pk for episode in catalogue)
    assert "X-Search-Backend" not in response


@pytest.mark.parametrize(
    "raw", ["search=%ED%A0%80", "search=%FF%FE", "search=%C0%AF", "search=a%ED%B0%80b"]
)
def test_undecodable_bytes_are_searched_as_replacement_characters(client, catalogue, raw):
    response = client.get(f"{EPISODES}?{raw}")
    assert response.status_code == 200, response.content


@pytest.mark.parametrize(
    ("text", "why"),
    [("x" * 501, "over 500 characters"), ("x" * 10_240, "10 KB"), ("nul\x00byte", "a NUL")],
)
def test_a_text_no_filter_takes_is_a_400_naming_search(client, catalogue, text, why):
    response = client.get(EPISODES, {"search": text})
    assert response.status_code == 400, why
    assert set(response.json()) == {"search"}


@pytest.mark.parametrize(
    ("text", "finds"),
    [
        ("\x00dragon", True),
        ("dragon\ud800", True),
        ("\udfff", False),
        ("dragon " + "x" * 20_000, False),
    ],
    ids=["nul", "lone-surrogate", "only-a-surrogate", "20k"],
)
def test_the_orm_entry_point_cleans_what_no_backend_can_take(catalogue, text, finds):
    """Commands and code call the search without the filter's checks."""
    result = episode_search(queryset=Episode.objects.all(), text=text)
    assert list(result.queryset) == ([catalogue[0]] if finds else [])

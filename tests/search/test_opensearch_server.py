"""Against a real OpenSearch server (OPENSEARCH_URL): setup, index, reindex, delete.

Skipped, saying why, where OPENSEARCH_URL is not set. Each test works behind an alias of
its own (`showdesk-test-<random>`) and deletes its indexes afterwards.
"""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from episodes.search import indexes, opensearch
from jobs import runner
from jobs.models import Job
from tests.search.conftest import EPISODES, client_for, ids

pytestmark = pytest.mark.django_db


def _index(*episodes) -> None:
    """Run a search_index job for each episode, then make the writes visible to searches."""
    for episode in episodes:
        job = Job.objects.create(type="search_index", episode_id=episode.pk)
        assert runner.job_run(job_id=job.pk).status == "completed"
    opensearch.client().indices.refresh(index=opensearch.alias())


def _search(client, text: str) -> list[int]:
    response = client.get(EPISODES, {"search": text, "page_size": 100})
    assert response["X-Search-Backend"] == "opensearch"
    return ids(response)


def test_setup_creates_a_versioned_index_with_the_analyzer(real_opensearch):
    created, index = indexes.setup()
    assert (created, index) == (True, f"{real_opensearch}-v1")
    client = opensearch.client()
    assert list(client.indices.get_alias(name=real_opensearch)) == [index]
    analyzed = client.indices.analyze(
        index=real_opensearch, body={"analyzer": "showdesk_text", "text": "The Cafés' Publishing"}
    )
    assert [token["token"] for token in analyzed["tokens"]] == ["cafe", "publish"]
    assert indexes.setup() == (False, index)


def test_an_indexed_episode_is_found_by_stems_accents_phrases(
    real_opensearch, client, make_episode
):
    indexes.setup()
    episode = make_episode("Café Society", "the story was published on Monday")
    make_episode("Harbour lights", "nothing alike")
    _index(*[episode, *type(episode).objects.exclude(pk=episode.pk)])
    for text in ("cafe", "CAFÉ", "publishing", '"cafe society"', "stories -harbour"):
        assert _search(client, text) == [episode.pk], text
    assert _search(client, '"society cafe"') == []
    assert _search(client, "cafe -monday") == []


def test_a_title_match_ranks_above_a_description_match(real_opensearch, client, make_episode):
    indexes.setup()
    in_description = make_episode("Harbour", "a dragon sleeps under the hill")
    in_title = make_episode("The Dragon", "nothing to see here")
    _index(in_description, in_title)
    assert _search(client, "dragon") == [in_title.pk, in_description.pk]


@pytest.mark.parametrize("text", ['{"match_all": {}}', "*:*", "title:*", '"unbalanced', "-" * 300])
def test_hostile_text_is_plain_text_to_opensearch(real_opensearch, client, make_episode, text):
    indexes.setup()
    _index(make_episode("Pilot", "the first one"))
    assert _search(client, text) == []


def test_reindex_moves_the_alias_to_a_new_index_and_drops_the_old(
    real_opensearch, client, make_episode
):
    indexes.setup()
    episodes = [make_episode(f"Signal {n}", "static on the line") for n in range(30)]
    out, err = io.StringIO(), io.StringIO()
    call_command("search_reindex", stdout=out, stderr=err)
    client_ = opensearch.client()
    assert list(client_.indices.get_alias(name=real_opensearch)) == [f"{real_opensearch}-v2"]
    assert not client_.indices.exists(index=f"{real_opensearch}-v1")
    assert client_.count(index=real_opensearch)["count"] == 30
    assert "Loaded 30 episodes" in out.getvalue()
    assert sorted(_search(client, "static")) == sorted(e.pk for e in episodes)


def test_a_deleted_episode_leaves_the_index(
    real_opensearch, make_episode, editor, django_capture_on_commit_callbacks
):
    indexes.setup()
    episode = make_episode("Pilot")
    _index(episode)
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(editor).delete(f"{EPISODES}{episode.pk}/")
    assert response.status_code == 204
    assert not opensearch.client().exists(index=real_opensearch, id=str(episode.pk))


def test_an_older_write_never_replaces_a_newer_one(real_opensearch, make_episode):
    indexes.setup()
    episode = make_episode("Newer title")
    assert opensearch.index_document(episode) == "indexed"
    stale = type(episode).objects.get(pk=episode.pk)
    stale.title = "Older title"
    stale.updated_at = episode.updated_at.replace(year=episode.updated_at.year - 1)
    assert opensearch.index_document(stale) == "stale"
    stored = opensearch.client().get(index=real_opensearch, id=str(episode.pk))
    assert stored["_source"]["title"] == "Newer title"


def test_a_write_before_setup_creates_no_index(real_opensearch, make_episode):
    with pytest.raises(opensearch.Unavailable):
        opensearch.index_document(make_episode("Pilot"))
    assert not opensearch.client().indices.exists(index=real_opensearch)

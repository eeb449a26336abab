"""What Showdesk sends to OpenSearch and how it reads the answers, against a fake transport.

These check the requests (the query is a value, the mapping, versions, the one-call alias
swap) and the handling of answers and errors. They are not tests of OpenSearch: a fake
answers. `test_opensearch_server.py` runs against a real server where one is configured.
"""

from __future__ import annotations

import logging

import pytest

from episodes.search import indexes, opensearch
from jobs import runner
from jobs.models import Job
from tests.search.conftest import EPISODES, ids
from tests.search.fake_opensearch import routes

pytestmark = pytest.mark.django_db

ALIAS = "showdesk-test"
SEARCH = ("POST", f"/{ALIAS}/_search")


def _hits(*pairs: tuple[int, float]):
    hits = [{"_index": f"{ALIAS}-v1", "_id": str(pk), "_score": score} for pk, score in pairs]
    return 200, {"hits": {"hits": hits}}


# --- Search ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ['{"match_all": {}}', "*:*", "title:dragon", '"unbalanced', "a OR b", "dragon~2 ^3"],
)
def test_the_text_is_only_ever_a_value_of_a_simple_query_string(
    client, fake_opensearch, settings, text
):
    fake_opensearch.handler = routes({SEARCH: _hits()})
    client.get(EPISODES, {"search": text})
    [request] = fake_opensearch.requests
    assert (request.method, request.path) == SEARCH
    assert request.body == {
        "query": {
            "simple_query_string": {
                "query": text,
                "fields": ["title^3", "description"],
                "default_operator": "and",
                "flags": "AND|NOT|OR|PHRASE|PRECEDENCE|WHITESPACE|ESCAPE",
                "lenient": True,
            }
        },
        "size": settings.OPENSEARCH_MAX_HITS,
        "_source": False,
        "track_total_hits": False,
    }
    assert request.timeout == settings.OPENSEARCH_TIMEOUT


def test_results_come_in_the_order_of_the_scores(client, fake_opensearch, make_episode):
    first, second, third = (make_episode(title) for title in ("A", "B", "C"))
    fake_opensearch.handler = routes(
        {SEARCH: _hits((third.pk, 9.5), (first.pk, 3.0), (second.pk, 1.25))}
    )
    response = client.get(EPISODES, {"search": "anything"})
    assert ids(response) == [third.pk, first.pk, second.pk]
    assert response["X-Search-Backend"] == "opensearch"


def test_only_episodes_the_database_has_and_the_filters_keep_are_answered(
    client, fake_opensearch, make_episode
):
    draft = make_episode("Draft one", status="draft")
    published = make_episode("Published one", status="published")
    fake_opensearch.handler = routes(
        {SEARCH: _hits((987_654, 20.0), (published.pk, 5.0), (draft.pk, 4.0), (-3, 2.0))}
    )
    assert ids(client.get(EPISODES, {"search": "one"})) == [published.pk, draft.pk]
    assert ids(client.get(EPISODES, {"search": "one", "status": "draft"})) == [draft.pk]


def test_no_hit_is_an_empty_list(client, fake_opensearch, make_episode):
    make_episode("Pilot")
    fake_opensearch.handler = routes({SEARCH: _hits()})
    assert ids(client.get(EPISODES, {"search": "zebra"})) == []


def test_an_explicit_ordering_replaces_the_scores(client, fake_opensearch, make_episode):
    alpha, bravo = make_episode("Alpha"), make_episode("Bravo")
    fake_opensearch.handler = routes({SEARCH: _hits((bravo.pk, 9.0), (alpha.pk, 1.0))})
    response = client.get(EPISODES, {"search": "x", "ordering": "title"})
    assert ids(response) == [alpha.pk, bravo.pk]


def _warnings(caplog) -> list[dict]:
    return [
        record.msg
        for record in caplog.records
        if isinstance(record.msg, dict) and record.msg.get("event") == "search_fallback"
    ]


def test_a_failing_server_is_a_fallback_to_the_database(
    client, fake_opensearch, make_episode, caplog
):
    match = make_episode("Dragon")
    fake_opensearch.handler = routes({SEARCH: (503, {"error": {"type": "unavailable"}})})
    caplog.set_level(logging.WARNING)
    response = client.get(EPISODES, {"search": "dragon"})
    assert ids(response) == [match.pk]
    assert response["X-Search-Backend"] == "database; fallback"
    [warning] = _warnings(caplog)
    assert warning["backend"] == "opensearch" and "503" in warning["reason"]


def test_after_a_failure_searches_skip_opensearch_for_a_while(
    client, fake_opensearch, make_episode, settings
):
    settings.OPENSEARCH_RETRY_AFTER = 60.0
    fake_opensearch.handler = routes({SEARCH: (502, {"error": "bad gateway"})})
    for _ in range(3):
        response = client.get(EPISODES, {"search": "dragon"})
        assert response["X-Search-Backend"] == "database; fallback"
    assert len(fake_opensearch.requests) == 1
    opensearch.reset()
    fake_opensearch.handler = routes({SEARCH: _hits()})
    assert client.get(EPISODES, {"search": "dragon"})["X-Search-Backend"] == "opensearch"


def test_a_refused_request_falls_back_without_pausing_opensearch(client, fake_opensearch, settings):
    settings.OPENSEARCH_RETRY_AFTER = 60.0
    fake_opensearch.handler = routes({SEARCH: (400, {"error": {"type": "parsing_exception"}})})
    for _ in range(2):
        response = client.get(EPISODES, {"search": "dragon"})
        assert response["X-Search-Backend"] == "database; fallback"
    assert len(fake_opensearch.requests) == 2


# --- The index: mapping, setup, reindex ---------------------------------------------------------


def test_setup_creates_the_first_versioned_index_behind_the_alias(fake_opensearch):
    fake_opensearch.handler = routes(
        {
            ("HEAD", f"/{ALIAS}"): (404, {}),
            ("GET", f"/_alias/{ALIAS}"): (404, {"error": "alias missing", "status": 404}),
            ("GET", f"/{ALIAS}-v*"): (200, {}),
        }
    )
    assert indexes.setup() == (True, f"{ALIAS}-v1")
    create = fake_opensearch.requests[-1]
    assert (create.method, create.path) == ("PUT", f"/{ALIAS}-v1")
    assert create.body["aliases"] == {ALIAS: {}}
    assert create.body["mappings"]["dynamic"] == "strict"
    assert create.body["mappings"]["properties"]["title"]["analyzer"] == "showdesk_text"
    analysis = create.body["settings"]["analysis"]
    analyzer = analysis["analyzer"]["showdesk_text"]
    assert analyzer["tokenizer"] == "standard"
    filters = [analysis["filter"].get(name, name) for name in analyzer["filter"]]
    assert "lowercase" in filters and "asciifolding" in filters
    assert {"type": "stemmer", "language": "english"} in filters


def test_setup_again_changes_nothing(fake_opensearch):
    fake_opensearch.handler = routes(
        {
            ("HEAD", f"/{ALIAS}"): (200, {}),
            ("HEAD", f"/_alias/{ALIAS}"): (200, {}),
            ("GET", f"/_alias/{ALIAS}"): (200, {f"{ALIAS}-v3": {"aliases": {ALIAS: {}}}}),
        }
    )
    assert indexes.setup() == (False, f"{ALIAS}-v3")
    assert fake_opensearch.paths("PUT") == []


def test_setup_refuses_an_index_where_the_alias_should_be(fake_opensearch):
    fake_opensearch.handler = routes(
        {("HEAD", f"/{ALIAS}"): (200, {}), ("HEAD", f"/_alias/{ALIAS}"): (404, {})}
    )
    with pytest.raises(indexes.SetupError, match="exists where the alias should be"):
        indexes.setup()


def _reindex_routes(extra=None):
    return routes(
        {
            ("HEAD", f"/{ALIAS}"): (200, {}),
            ("HEAD", f"/_alias/{ALIAS}"): (200, {}),
            ("GET", f"/_alias/{ALIAS}"): (200, {f"{ALIAS}-v1": {"aliases": {ALIAS: {}}}}),
            ("GET", f"/{ALIAS}-v*"): (200, {f"{ALIAS}-v1": {}}),
            **(extra or {}),
        }
    )


def test_reindex_loads_a_new_index_and_swaps_the_alias_in_one_call(fake_opensearch, make_episode):
    episodes = [make_episode(f"Episode {n}", "words") for n in range(3)]
    fake_opensearch.handler = _reindex_routes()
    outcome = indexes.reindex()
    assert (outcome.index, outcome.previous, outcome.loaded) == (f"{ALIAS}-v2", [f"{ALIAS}-v1"], 3)
    calls = [(r.method, r.path) for r in fake_opensearch.requests if r.method != "HEAD"]
    assert calls[calls.index(("PUT", f"/{ALIAS}-v2")) :] == [
        ("PUT", f"/{ALIAS}-v2"),
        ("POST", "/_bulk"),
        ("POST", f"/{ALIAS}-v2/_refresh"),
        ("POST", "/_aliases"),
        ("POST", "/_bulk"),  # the catch-up: episodes saved since the load began
        ("DELETE", f"/{ALIAS}-v1"),
    ]
    create = next(r for r in fake_opensearch.requests if r.method == "PUT")
    assert "aliases" not in create.body
    swap = next(r for r in fake_opensearch.requests if r.path == "/_aliases")
    assert swap.body == {
        "actions": [
            {"remove": {"index": f"{ALIAS}-v1", "alias": ALIAS}},
            {"add": {"index": f"{ALIAS}-v2", "alias": ALIAS}},
        ]
    }
    load = next(r for r in fake_opensearch.requests if r.path == "/_bulk")
    actions, sources = load.body[0::2], load.body[1::2]
    assert [a["index"]["_id"] for a in actions] == [str(e.pk) for e in episodes]
    assert {a["index"]["_index"] for a in actions} == {f"{ALIAS}-v2"}
    assert {a["index"]["version_type"] for a in actions} == {"external_gte"}
    assert sources[0] == {"title": "Episode 0", "description": "words"}


def test_a_failed_load_keeps_the_old_index_serving(fake_opensearch, make_episode):
    make_episode("Pilot")

    def failed(body):
        return 200, {
            "errors": True,
            "items": [{"index": {"_id": body[0]["index"]["_id"], "status": 400, "error": "x"}}],
        }

    fake_opensearch.handler = _reindex_routes(
        {("POST", "/_bulk"): failed, ("HEAD", f"/{ALIAS}-v2/_alias/{ALIAS}"): (404, {})}
    )
    with pytest.raises(indexes.SetupError, match="1 episodes could not be indexed"):
        indexes.reindex()
    assert ("POST", "/_aliases") not in [(r.method, r.path) for r in fake_opensearch.requests]
    assert fake_opensearch.paths("DELETE") == [f"/{ALIAS}-v2"]


# --- One document ------------------------------------------------------------------------------


def test_an_episode_is_written_versioned_by_its_last_save(fake_opensearch, make_episode, settings):
    episode = make_episode("Pilot", "The first one")
    assert opensearch.index_document(episode) == "indexed"
    [request] = fake_opensearch.requests
    assert (request.method, request.path) == ("PUT", f"/{ALIAS}/_doc/{episode.pk}")
    assert request.body == {"title": "Pilot", "description": "The first one"}
    assert request.params == {
        "version": int(episode.updated_at.timestamp() * 1_000_000),
        "version_type": "external_gte",
        "require_alias": "true",
    }
    assert request.timeout == settings.OPENSEARCH_INDEX_TIMEOUT


def test_a_write_older_than_the_indexed_document_is_stale(fake_opensearch, make_episode):
    episode = make_episode("Pilot")
    fake_opensearch.handler = routes(
        {("PUT", f"/{ALIAS}/_doc/{episode.pk}"): (409, {"error": {"type": "version_conflict"}})}
    )
    assert opensearch.index_document(episode) == "stale"


@pytest.mark.parametrize(
    ("answer", "outcome"),
    [
        ((200, {"result": "deleted"}), "deleted"),
        ((404, {"result": "not_found"}), "absent"),
    ],
)
def test_a_document_is_deleted_versioned_by_the_clock(fake_opensearch, answer, outcome):
    fake_opensearch.handler = routes({("DELETE", f"/{ALIAS}/_doc/42"): answer})
    assert opensearch.delete_document(42) == outcome
    [request] = fake_opensearch.requests
    assert request.params["version_type"] == "external"


def test_a_delete_from_a_missing_index_is_unavailable(fake_opensearch):
    fake_opensearch.handler = routes(
        {("DELETE", f"/{ALIAS}/_doc/42"): (404, {"error": {"type": "index_not_found_exception"}})}
    )
    with pytest.raises(opensearch.Unavailable, match="index_not_found"):
        opensearch.delete_document(42)


# --- The job ---------------------------------------------------------------------------------


def _job(episode) -> Job:
    return Job.objects.create(type="search_index", episode=episode)


def test_the_job_writes_the_episode_as_it_is_now(fake_opensearch, make_episode):
    episode = make_episode("Pilot")
    job = _job(episode)
    episode.title = "Pilot, renamed"
    episode.save()
    assert runner.job_run(job_id=job.pk).status == "completed"
    job.refresh_from_db()
    assert (job.result["backend"], job.result["action"]) == ("opensearch", "indexed")
    [request] = [r for r in fake_opensearch.requests if r.method == "PUT"]
    assert request.body["title"] == "Pilot, renamed"


def test_the_job_retries_when_opensearch_fails(fake_opensearch, make_episode):
    episode = make_episode("Pilot")
    fake_opensearch.handler = routes(
        {("PUT", f"/{ALIAS}/_doc/{episode.pk}"): (503, {"error": "unavailable"})}
    )
    job = _job(episode)
    assert runner.job_run(job_id=job.pk).status == "retrying"
    job.refresh_from_db()
    assert "OpenSearch" in job.error and "503" in job.error


def test_the_job_fails_at_once_when_the_index_was_never_set_up(fake_opensearch, make_episode):
    episode = make_episode("Pilot")
    fake_opensearch.handler = routes(
        {
            ("PUT", f"/{ALIAS}/_doc/{episode.pk}"): (
                404,
                {"error": {"type": "index_not_found_exception"}, "status": 404},
            )
        }
    )
    job = _job(episode)
    assert runner.job_run(job_id=job.pk).status == "failed"
    job.refresh_from_db()
    assert "search_setup" in job.error

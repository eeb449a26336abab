"""Edit conflicts over REST: versions, the ETag of the stored object, If-Match and its 412."""

from __future__ import annotations

import pytest

from episodes import services
from episodes.models import Composition, Episode
from realtime.models import Event
from tests.factories import CompositionFactory, EpisodeFactory

pytestmark = pytest.mark.django_db

EPISODES = "/api/v1/episodes/"
COMPOSITIONS = "/api/v1/compositions/"


@pytest.fixture
def pilot(db) -> Episode:
    return EpisodeFactory(title="Pilot", season=1, episode_number=1)


@pytest.fixture
def cut(pilot) -> Composition:
    return CompositionFactory(episode=pilot, name="Opening", layout={"tracks": [1]})


@pytest.fixture
def client(api_client_for, editor):
    return api_client_for(editor)


def _patch(client, url: str, body: dict, if_match: str | None = None):
    headers = {} if if_match is None else {"If-Match": if_match}
    return client.patch(url, body, format="json", headers=headers)


def _stored(model, pk: int) -> tuple[int, str]:
    row = model.objects.get(pk=pk)
    return row.version, getattr(row, "title", None) or row.name


# --- ETag out --------------------------------------------------------------------------


def test_the_detail_carries_the_version_and_its_etag(client, pilot):
    response = client.get(f"{EPISODES}{pilot.pk}/")
    assert response.status_code == 200
    assert response.json()["version"] == 1
    assert response["ETag"] == '"1"'


def test_a_created_episode_is_at_version_1_with_its_etag(client):
    response = client.post(EPISODES, {"title": "New", "episode_number": 9}, format="json")
    assert response.status_code == 201
    assert (response.json()["version"], response["ETag"]) == (1, '"1"')


def test_the_list_carries_versions_but_no_etag(client, pilot):
    response = client.get(EPISODES)
    assert response.json()["results"][0]["version"] == 1
    assert "ETag" not in response


def test_a_save_moves_the_version_on_and_answers_with_the_new_etag(client, pilot):
    response = _patch(client, f"{EPISODES}{pilot.pk}/", {"title": "Renamed"})
    assert response.status_code == 200
    assert (response.json()["version"], response["ETag"]) == (2, '"2"')
    assert _stored(Episode, pilot.pk) == (2, "Renamed")


def test_a_save_that_changes_nothing_keeps_the_version(client, pilot):
    response = _patch(client, f"{EPISODES}{pilot.pk}/", {"title": "Pilot"}, '"1"')
    assert response.status_code == 200
    assert response["ETag"] == '"1"'
    assert _stored(Episode, pilot.pk) == (1, "Pilot")


@pytest.mark.parametrize("verb", ["publish", "archive"])
def test_a_transition_moves_the_version_on(client, pilot, verb):
    response = client.post(f"{EPISODES}{pilot.pk}/{verb}/", headers={"If-Match": '"1"'})
    assert response.status_code == 200
    assert (response.json()["version"], response["ETag"]) == (2, '"2"')


# --- If-Match in --------------------------------------------------------------------------


@pytest.mark.parametrize("if_match", ['"1"', "*", '"7", "1"', ' "1" ', 'W/"2", "1"'])
def test_an_if_match_that_names_the_stored_version_lets_the_save_through(client, pilot, if_match):
    response = _patch(client, f"{EPISODES}{pilot.pk}/", {"title": "Renamed"}, if_match)
    assert response.status_code == 200
    assert _stored(Episode, pilot.pk) == (2, "Renamed")


def test_a_stale_if_match_is_412_with_the_current_episode(client, pilot):
    services.episode_update(episode=pilot, actor=None, title="Theirs")

    response = _patch(client, f"{EPISODES}{pilot.pk}/", {"title": "Mine"}, '"1"')

    assert response.status_code == 412
    body = response.json()
    assert body["code"] == "precondition_failed"
    assert body["detail"]
    assert body["current"]["id"] == pilot.pk
    assert (body["current"]["title"], body["current"]["version"]) == ("Theirs", 2)
    assert response["ETag"] == '"2"'
    assert _stored(Episode, pilot.pk) == (2, "Theirs")


@pytest.mark.parametrize("if_match", ['W/"1"', '"abc"', '""', '"99999999999999999999999"'])
def test_a_tag_that_names_no_version_is_412(client, pilot, if_match):
    response = _patch(client, f"{EPISODES}{pilot.pk}/", {"title": "Mine"}, if_match)
    assert response.status_code == 412
    assert _stored(Episode, pilot.pk) == (1, "Pilot")


@pytest.mark.parametrize("if_match", ["1", "", '*, "1"', '"1" "2"', "W/1", '"1'])
def test_a_malformed_if_match_is_400_and_changes_nothing(client, pilot, if_match):
    response = _patch(client, f"{EPISODES}{pilot.pk}/", {"title": "Mine"}, if_match)
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_if_match"
    assert _stored(Episode, pilot.pk) == (1, "Pilot")


def test_a_stale_copy_is_412_before_its_body_is_validated(client, pilot):
    services.episode_update(episode=pilot, actor=None, title="Theirs")
    response = _patch(client, f"{EPISODES}{pilot.pk}/", {"episode_number": -5}, '"1"')
    assert response.status_code == 412


def test_a_put_with_a_stale_if_match_is_412(client, pilot):
    services.episode_update(episode=pilot, actor=None, title="Theirs")
    body = {"title": "Mine", "episode_number": 1, "season": 1}
    response = client.put(
        f"{EPISODES}{pilot.pk}/", body, format="json", headers={"If-Match": '"1"'}
    )
    assert response.status_code == 412


def test_without_if_match_the_last_save_wins_as_before(client, pilot):
    services.episode_update(episode=pilot, actor=None, title="Theirs")
    response = _patch(client, f"{EPISODES}{pilot.pk}/", {"title": "Mine"})
    assert response.status_code == 200
    assert _stored(Episode, pilot.pk) == (3, "Mine")


def test_a_delete_with_a_stale_if_match_is_412_and_keeps_the_episode(client, pilot):
    services.episode_update(episode=pilot, actor=None, title="Theirs")
    response = client.delete(f"{EPISODES}{pilot.pk}/", headers={"If-Match": '"1"'})
    assert response.status_code == 412
    assert response.json()["current"]["version"] == 2
    assert Episode.objects.filter(pk=pilot.pk).exists()


def test_a_delete_with_the_current_if_match_deletes(client, pilot):
    response = client.delete(f"{EPISODES}{pilot.pk}/", headers={"If-Match": '"1"'})
    assert response.status_code == 204
    assert not Episode.objects.filter(pk=pilot.pk).exists()


@pytest.mark.parametrize("verb", ["publish", "archive"])
def test_a_transition_with_a_stale_if_match_is_412(client, pilot, verb):
    services.episode_update(episode=pilot, actor=None, title="Theirs")
    response = client.post(f"{EPISODES}{pilot.pk}/{verb}/", headers={"If-Match": '"1"'})
    assert response.status_code == 412
    assert Episode.objects.get(pk=pilot.pk).status == "draft"


def test_the_subscription_ignores_if_match(client, pilot):
    response = client.put(f"{EPISODES}{pilot.pk}/subscription/", headers={"If-Match": '"9"'})
    assert response.status_code == 200


def test_the_service_refuses_a_stale_version_under_its_lock(pilot):
    services.episode_update(episode=pilot, actor=None, title="Theirs")
    with pytest.raises(services.VersionMismatch) as raised:
        services.episode_update(episode=pilot, actor=None, if_match={1}, title="Mine")
    assert raised.value.current.version == 2
    assert _stored(Episode, pilot.pk) == (2, "Theirs")


# --- Compositions ---------------------------------------------------------------------------


def test_a_composition_detail_carries_its_etag(client, cut):
    response = client.get(f"{COMPOSITIONS}{cut.pk}/")
    assert (response.json()["version"], response["ETag"]) == (1, '"1"')


def test_a_composition_save_moves_its_version_on(client, cut):
    response = _patch(client, f"{COMPOSITIONS}{cut.pk}/", {"name": "Cold open"}, '"1"')
    assert response.status_code == 200
    assert (response.json()["version"], response["ETag"]) == (2, '"2"')


def test_a_stale_composition_save_is_412_with_the_current_composition(client, cut):
    services.composition_update(composition=cut, actor=None, layout={"tracks": [2]})

    response = _patch(client, f"{COMPOSITIONS}{cut.pk}/", {"name": "Mine"}, '"1"')

    assert response.status_code == 412
    current = response.json()["current"]
    assert (current["id"], current["version"], current["layout"]) == (cut.pk, 2, {"tracks": [2]})
    assert response["ETag"] == '"2"'
    assert _stored(Composition, cut.pk) == (2, "Opening")


def test_a_stale_composition_delete_is_412(client, cut):
    services.composition_update(composition=cut, actor=None, name="Theirs")
    response = client.delete(f"{COMPOSITIONS}{cut.pk}/", headers={"If-Match": '"1"'})
    assert response.status_code == 412
    assert Composition.objects.filter(pk=cut.pk).exists()


# --- Events carry the version -------------------------------------------------------------


def test_episode_updated_carries_the_new_version(client, pilot):
    _patch(client, f"{EPISODES}{pilot.pk}/", {"title": "Renamed"})
    event = Event.objects.filter(event="episode_updated").get()
    assert event.data["episode"]["version"] == 2


def test_composition_updated_carries_the_new_version(client, cut):
    _patch(client, f"{COMPOSITIONS}{cut.pk}/", {"name": "Renamed"})
    event = Event.objects.filter(event="composition_updated").get()
    assert event.data["composition"]["version"] == 2


def test_a_save_tells_the_editors_stream_who_saved_and_the_new_version(client, editor, pilot):
    _patch(client, f"{EPISODES}{pilot.pk}/", {"title": "Renamed"})
    event = Event.objects.filter(event="revision_saved").get()
    assert event.streams == [f"editing:episode:{pilot.pk}"]
    assert event.data == {
        "actor": {"id": editor.pk, "username": editor.username},
        "version": 2,
        "resource_type": "episode",
        "resource_id": pilot.pk,
    }


def test_a_save_that_changes_nothing_tells_no_editor(client, pilot):
    _patch(client, f"{EPISODES}{pilot.pk}/", {"title": "Pilot"})
    assert not Event.objects.filter(event="revision_saved").exists()


def test_a_revision_saved_that_cannot_be_written_costs_only_itself(
    client, pilot, monkeypatch, caplog
):
    from realtime import outbox

    emit = outbox.emit

    def emit_but_refuse_revision_saved(**kwargs):
        if kwargs["event"] == "revision_saved":
            raise RuntimeError("outbox full")
        return emit(**kwargs)

    monkeypatch.setattr(outbox, "emit", emit_but_refuse_revision_saved)

    response = _patch(client, f"{EPISODES}{pilot.pk}/", {"title": "Renamed"})

    assert response.status_code == 200
    assert _stored(Episode, pilot.pk) == (2, "Renamed")
    assert Event.objects.filter(event="episode_updated").exists()
    assert not Event.objects.filter(event="revision_saved").exists()
    assert any("outbox full" in str(record.msg) for record in caplog.records)

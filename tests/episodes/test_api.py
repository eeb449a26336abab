"""Creating, changing and deleting episodes and compositions, and following episodes."""

from __future__ import annotations

import pytest

from episodes.models import Composition, Episode, EpisodeSubscription
from tests.factories import CompositionFactory, EpisodeFactory

pytestmark = pytest.mark.django_db

EPISODES = "/api/v1/episodes/"
COMPOSITIONS = "/api/v1/compositions/"
EPISODE_FIELDS = {
    "id",
    "title",
    "episode_number",
    "season",
    "description",
    "status",
    "air_date",
    "created_by",
    "version",
    "created_at",
    "updated_at",
}
COMPOSITION_FIELDS = {
    "id",
    "episode",
    "name",
    "layout",
    "created_by",
    "version",
    "created_at",
    "updated_at",
}
DUPLICATE = ["An episode with this season and number already exists."]


@pytest.fixture
def client(fast_client_for, editor):
    return fast_client_for(editor)


def _subscribed(episode_id: int, user) -> bool:
    return EpisodeSubscription.objects.filter(episode_id=episode_id, user=user).exists()


# --- Episodes: create -----------------------------------------------------------------------


def test_create_episode_returns_it_as_a_draft_by_its_author(client, editor):
    response = client.post(
        EPISODES,
        {"title": "Pilot", "episode_number": 1, "season": 2, "air_date": "2026-11-24"},
        format="json",
    )
    assert response.status_code == 201
    body = response.json()
    assert set(body) == EPISODE_FIELDS
    assert body["title"] == "Pilot"
    assert (body["season"], body["episode_number"]) == (2, 1)
    assert body["status"] == "draft"
    assert body["air_date"] == "2026-11-24"
    assert body["created_by"] == {"id": editor.pk, "username": "ed"}


def test_create_episode_writes_the_row(client, editor):
    response = client.post(EPISODES, {"title": "Pilot", "episode_number": 1}, format="json")
    episode = Episode.objects.get(pk=response.json()["id"])
    assert (episode.title, episode.created_by) == ("Pilot", editor)


def test_create_episode_defaults_season_and_description(client):
    response = client.post(EPISODES, {"title": "Pilot", "episode_number": 1}, format="json")
    assert response.status_code == 201
    assert (response.json()["season"], response.json()["description"]) == (1, "")


def test_create_ignores_a_status_in_the_body(client):
    response = client.post(
        EPISODES, {"title": "P", "episode_number": 1, "status": "published"}, format="json"
    )
    assert response.status_code == 201
    assert response.json()["status"] == "draft"


def test_create_with_a_taken_season_and_number_is_400_naming_episode_number(client, episode):
    response = client.post(
        EPISODES, {"title": "Again", "episode_number": 1, "season": 1}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {"episode_number": DUPLICATE}
    assert Episode.objects.count() == 1


def test_same_number_in_another_season_is_fine(client, episode):
    response = client.post(
        EPISODES, {"title": "S2", "episode_number": 1, "season": 2}, format="json"
    )
    assert response.status_code == 201


def test_creating_an_episode_subscribes_its_author(client, editor):
    response = client.post(EPISODES, {"title": "Pilot", "episode_number": 1}, format="json")
    assert _subscribed(response.json()["id"], editor)


# --- Episodes: read ---------------------------------------------------------------------------


def test_list_is_paginated_with_the_episode_fields(client, episode):
    body = client.get(EPISODES).json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] == 1
    assert set(body["results"][0]) == EPISODE_FIELDS


def test_detail_returns_the_episode(client, episode):
    response = client.get(f"{EPISODES}{episode.pk}/")
    assert response.status_code == 200
    assert response.json()["id"] == episode.pk
    assert response.json()["title"] == "Pilot"


def test_unknown_episode_is_404(client):
    assert client.get(f"{EPISODES}987654/").status_code == 404


@pytest.mark.parametrize("pk", ["abc", "1.5", "-1", "0", "99999999999999999999999"])
def test_malformed_or_huge_episode_id_is_404(client, pk):
    assert client.get(f"{EPISODES}{pk}/").status_code == 404


# --- Episodes: update -------------------------------------------------------------------------


def test_put_replaces_the_editable_fields(client, episode):
    response = client.put(
        f"{EPISODES}{episode.pk}/",
        {
            "title": "Renamed",
            "episode_number": 7,
            "season": 3,
            "description": "New",
            "air_date": "2027-01-02",
        },
        format="json",
    )
    assert response.status_code == 200
    episode.refresh_from_db()
    assert (episode.title, episode.episode_number, episode.season) == ("Renamed", 7, 3)
    assert (episode.description, str(episode.air_date)) == ("New", "2027-01-02")


def test_put_without_a_required_field_is_400(client, episode):
    response = client.put(f"{EPISODES}{episode.pk}/", {"title": "Only"}, format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"episode_number", "season"}


def test_patch_changes_only_the_given_fields(client, episode):
    response = client.patch(f"{EPISODES}{episode.pk}/", {"title": "Renamed"}, format="json")
    assert response.status_code == 200
    episode.refresh_from_db()
    assert episode.title == "Renamed"
    assert (episode.season, episode.episode_number) == (1, 1)
    assert episode.description == "The first one"


def test_patch_can_clear_the_air_date(client):
    episode = EpisodeFactory(air_date="2026-01-01")
    response = client.patch(f"{EPISODES}{episode.pk}/", {"air_date": None}, format="json")
    assert response.status_code == 200
    assert response.json()["air_date"] is None


def test_patch_with_an_empty_body_changes_nothing(client, episode):
    before = Episode.objects.values().get(pk=episode.pk)
    response = client.patch(f"{EPISODES}{episode.pk}/", {}, format="json")
    assert response.status_code == 200
    assert Episode.objects.values().get(pk=episode.pk) == before


def test_put_with_its_own_season_and_number_is_not_a_duplicate(client, episode):
    response = client.put(
        f"{EPISODES}{episode.pk}/",
        {"title": "Same slot", "episode_number": 1, "season": 1},
        format="json",
    )
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("method", "body"),
    [
        ("put", {"title": "Clash", "episode_number": 2, "season": 1}),
        ("patch", {"episode_number": 2}),
        ("patch", {"season": 1, "episode_number": 2}),
    ],
)
def test_update_onto_a_taken_season_and_number_is_400_naming_episode_number(
    client, episode, method, body
):
    EpisodeFactory(season=1, episode_number=2)
    response = getattr(client, method)(f"{EPISODES}{episode.pk}/", body, format="json")
    assert response.status_code == 400
    assert response.json() == {"episode_number": DUPLICATE}
    episode.refresh_from_db()
    assert episode.episode_number == 1


def test_patch_of_the_season_onto_a_taken_slot_is_400(client, episode):
    EpisodeFactory(season=2, episode_number=1)
    response = client.patch(f"{EPISODES}{episode.pk}/", {"season": 2}, format="json")
    assert response.status_code == 400
    assert response.json() == {"episode_number": DUPLICATE}


def test_updating_an_episode_subscribes_the_editor(fast_client_for, editor, admin):
    episode = EpisodeFactory(created_by=admin)
    fast_client_for(editor).patch(f"{EPISODES}{episode.pk}/", {"title": "Mine"}, format="json")
    assert _subscribed(episode.pk, editor)


def test_update_keeps_the_original_author(fast_client_for, editor, admin):
    episode = EpisodeFactory(created_by=admin)
    response = fast_client_for(editor).patch(
        f"{EPISODES}{episode.pk}/", {"title": "Mine"}, format="json"
    )
    assert response.json()["created_by"] == {"id": admin.pk, "username": "ada"}


# --- Episodes: delete -------------------------------------------------------------------------


def test_delete_removes_the_episode_and_its_compositions(client, composition):
    episode_id = composition.episode_id
    response = client.delete(f"{EPISODES}{episode_id}/")
    assert response.status_code == 204
    assert not Episode.objects.filter(pk=episode_id).exists()
    assert not Composition.objects.filter(pk=composition.pk).exists()


def test_delete_of_an_unknown_episode_is_404(client):
    assert client.delete(f"{EPISODES}987654/").status_code == 404


@pytest.fixture
def deleted_while_running(monkeypatch):
    """The object the view loaded is deleted by someone else before the service runs."""
    from episodes.views import CompositionViewSet, EpisodeViewSet

    def install(viewset) -> None:
        original = viewset.get_object

        def get_object(self):
            instance = original(self)
            type(instance).objects.filter(pk=instance.pk).delete()
            return instance

        monkeypatch.setattr(viewset, "get_object", get_object)

    return {
        "episode": lambda: install(EpisodeViewSet),
        "composition": lambda: install(CompositionViewSet),
    }


@pytest.mark.parametrize(
    ("method", "suffix", "body"),
    [
        ("patch", "", {"title": "Late"}),
        ("put", "", {"title": "Late", "episode_number": 1, "season": 1}),
        ("post", "publish/", None),
        ("post", "archive/", None),
    ],
)
def test_episode_deleted_while_the_request_runs_is_404(
    client, episode, deleted_while_running, method, suffix, body
):
    deleted_while_running["episode"]()
    response = getattr(client, method)(f"{EPISODES}{episode.pk}/{suffix}", body, format="json")
    assert response.status_code == 404


def test_composition_deleted_while_the_request_runs_is_404(
    client, composition, deleted_while_running
):
    deleted_while_running["composition"]()
    response = client.patch(f"{COMPOSITIONS}{composition.pk}/", {"name": "Late"}, format="json")
    assert response.status_code == 404


# --- Subscription -----------------------------------------------------------------------------


def test_subscription_put_follows_the_episode(fast_client_for, viewer, episode):
    response = fast_client_for(viewer).put(f"{EPISODES}{episode.pk}/subscription/")
    assert response.status_code == 200
    assert response.json() == {"episode": episode.pk, "subscribed": True}
    assert _subscribed(episode.pk, viewer)


def test_subscription_put_twice_keeps_one_row(fast_client_for, viewer, episode):
    client = fast_client_for(viewer)
    client.put(f"{EPISODES}{episode.pk}/subscription/")
    assert client.put(f"{EPISODES}{episode.pk}/subscription/").status_code == 200
    assert EpisodeSubscription.objects.filter(episode=episode, user=viewer).count() == 1


def test_subscription_delete_unfollows_the_episode(fast_client_for, viewer, episode):
    client = fast_client_for(viewer)
    client.put(f"{EPISODES}{episode.pk}/subscription/")
    response = client.delete(f"{EPISODES}{episode.pk}/subscription/")
    assert response.status_code == 204
    assert not _subscribed(episode.pk, viewer)


def test_subscription_delete_when_not_following_is_204(fast_client_for, viewer, episode):
    response = fast_client_for(viewer).delete(f"{EPISODES}{episode.pk}/subscription/")
    assert response.status_code == 204


def test_subscription_delete_leaves_other_followers(fast_client_for, viewer, editor, episode):
    fast_client_for(editor).put(f"{EPISODES}{episode.pk}/subscription/")
    fast_client_for(viewer).put(f"{EPISODES}{episode.pk}/subscription/")
    fast_client_for(viewer).delete(f"{EPISODES}{episode.pk}/subscription/")
    assert _subscribed(episode.pk, editor)


def test_subscription_of_an_unknown_episode_is_404(fast_client_for, viewer):
    response = fast_client_for(viewer).put(f"{EPISODES}987654/subscription/")
    assert response.status_code == 404
    assert not EpisodeSubscription.objects.exists()


# --- Compositions -----------------------------------------------------------------------------


def test_create_composition_returns_it_by_its_author(client, editor, episode):
    response = client.post(
        COMPOSITIONS,
        {"episode": episode.pk, "name": "Cold open", "layout": {"tracks": [{"id": 1}]}},
        format="json",
    )
    assert response.status_code == 201
    body = response.json()
    assert set(body) == COMPOSITION_FIELDS
    assert (body["episode"], body["name"]) == (episode.pk, "Cold open")
    assert body["layout"] == {"tracks": [{"id": 1}]}
    assert body["created_by"] == {"id": editor.pk, "username": "ed"}
    assert Composition.objects.get(pk=body["id"]).created_by == editor


def test_create_composition_defaults_layout_to_an_empty_object(client, episode):
    response = client.post(COMPOSITIONS, {"episode": episode.pk, "name": "Bare"}, format="json")
    assert response.status_code == 201
    assert response.json()["layout"] == {}


def test_create_composition_for_an_unknown_episode_is_400_naming_episode(client):
    response = client.post(COMPOSITIONS, {"episode": 987654, "name": "Lost"}, format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"episode"}


def test_put_composition_replaces_name_and_layout(client, composition):
    response = client.put(
        f"{COMPOSITIONS}{composition.pk}/",
        {"name": "Final", "layout": {"tracks": []}},
        format="json",
    )
    assert response.status_code == 200
    composition.refresh_from_db()
    assert (composition.name, composition.layout) == ("Final", {"tracks": []})


def test_patch_composition_changes_only_the_given_fields(client, composition):
    response = client.patch(f"{COMPOSITIONS}{composition.pk}/", {"name": "Cut"}, format="json")
    assert response.status_code == 200
    composition.refresh_from_db()
    assert (composition.name, composition.layout) == ("Cut", {"tracks": [1]})


@pytest.mark.parametrize("method", ["put", "patch"])
def test_composition_episode_cannot_change_on_update(client, composition, method):
    other = EpisodeFactory()
    response = getattr(client, method)(
        f"{COMPOSITIONS}{composition.pk}/",
        {"episode": other.pk, "name": "Moved?", "layout": {}},
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["episode"] == composition.episode_id
    composition.refresh_from_db()
    assert composition.episode_id != other.pk


def test_delete_composition_removes_only_it(client, composition):
    sibling = CompositionFactory(episode=composition.episode)
    response = client.delete(f"{COMPOSITIONS}{composition.pk}/")
    assert response.status_code == 204
    assert list(Composition.objects.values_list("pk", flat=True)) == [sibling.pk]
    assert Episode.objects.filter(pk=composition.episode_id).exists()


def test_unknown_composition_is_404(client):
    assert client.get(f"{COMPOSITIONS}987654/").status_code == 404


# --- Races that commit: deferred foreign keys are only checked at the real COMMIT -----------


@pytest.mark.django_db(transaction=True)
def test_composition_for_an_episode_deleted_meanwhile_is_400_naming_episode(
    monkeypatch, fast_client_for, editor
):
    from episodes.views import CompositionViewSet

    episode = EpisodeFactory()
    original = CompositionViewSet.perform_create

    def perform_create(self, serializer):
        Episode.objects.filter(pk=serializer.validated_data["episode"].pk).delete()
        original(self, serializer)

    monkeypatch.setattr(CompositionViewSet, "perform_create", perform_create)
    response = fast_client_for(editor).post(
        COMPOSITIONS, {"episode": episode.pk, "name": "Orphan"}, format="json"
    )
    assert response.status_code == 400
    assert set(response.json()) == {"episode"}
    assert not Composition.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_subscribing_to_an_episode_deleted_meanwhile_is_404(monkeypatch, fast_client_for, viewer):
    from episodes.views import EpisodeViewSet

    episode = EpisodeFactory()
    original = EpisodeViewSet.get_object

    def get_object(self):
        instance = original(self)
        Episode.objects.filter(pk=instance.pk).delete()
        return instance

    monkeypatch.setattr(EpisodeViewSet, "get_object", get_object)
    response = fast_client_for(viewer).put(f"{EPISODES}{episode.pk}/subscription/")
    assert response.status_code == 404
    assert not EpisodeSubscription.objects.exists()

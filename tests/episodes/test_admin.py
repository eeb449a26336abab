"""The Django admin of episodes and compositions writes through the services, like the API."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django.test import Client

from episodes.models import Composition, Episode, EpisodeSubscription
from realtime.models import Activity
from tests.factories import DEFAULT_PASSWORD, EpisodeFactory, UserFactory

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/episodes/episode/"
ADD = "/admin/episodes/episode/add/"


def _form(**overrides) -> dict[str, str]:
    return {
        "title": "From the admin",
        "season": "1",
        "episode_number": "7",
        "description": "",
        "air_date": "",
        **overrides,
    }


@pytest.fixture(params=["superuser", "staff-admin"])
def admin_user(request, django_user_model):
    if request.param == "superuser":
        return django_user_model.objects.create_superuser("root", password=DEFAULT_PASSWORD)
    user = UserFactory(username="staffer", roles=["admins"])
    user.is_staff = True
    user.save()
    return user


@pytest.fixture
def client(admin_user) -> Client:
    client = Client()
    client.force_login(admin_user)
    return client


@pytest.fixture
def root_client(superuser) -> Client:
    """For the form-validation sweeps, where which kind of admin asks makes no difference."""
    client = Client()
    client.force_login(superuser)
    return client


def _messages(response) -> list[tuple[str, str]]:
    return [(m.level_tag, str(m)) for m in get_messages(response.wsgi_request)]


def _publish(client: Client, *episodes: Episode, action: str = "publish"):
    return client.post(
        CHANGELIST,
        {"action": action, "_selected_action": [str(e.pk) for e in episodes]},
        follow=True,
    )


def test_admin_lists_episodes(client, episode):
    response = client.get(CHANGELIST)
    assert response.status_code == 200
    assert b"Pilot" in response.content


def test_admin_searches_episodes(client, episode):
    EpisodeFactory(title="Unrelated")
    response = client.get(CHANGELIST, {"q": "pilot"})
    assert response.status_code == 200
    assert b"Pilot" in response.content
    assert b"Unrelated" not in response.content


def test_admin_add_form_renders(client):
    assert client.get(ADD).status_code == 200


def test_admin_adds_an_episode(client):
    response = client.post(ADD, _form())
    assert response.status_code == 302
    episode = Episode.objects.get()
    assert (episode.title, episode.season, episode.episode_number) == ("From the admin", 1, 7)
    assert episode.status == "draft"


def test_admin_add_sets_created_by(client, admin_user):
    client.post(ADD, _form())
    assert Episode.objects.get().created_by == admin_user


def test_admin_add_subscribes_the_author(client, admin_user):
    client.post(ADD, _form())
    assert EpisodeSubscription.objects.filter(user=admin_user).count() == 1


def test_admin_add_of_a_taken_season_and_number_is_a_form_error(client, episode):
    response = client.post(ADD, _form(episode_number="1"))
    assert response.status_code == 200
    assert b"already exists" in response.content
    assert Episode.objects.count() == 1


@pytest.mark.parametrize(
    ("field", "value"),
    [("episode_number", "0"), ("season", "abc"), ("title", ""), ("air_date", "2026-13-45")],
)
def test_admin_add_with_a_bad_value_is_a_form_error(root_client, field, value):
    response = root_client.post(ADD, _form(**{field: value}))
    assert response.status_code == 200
    assert not Episode.objects.exists()


def test_admin_changes_an_episode(client, episode):
    response = client.post(
        f"{CHANGELIST}{episode.pk}/change/", _form(title="Renamed", episode_number="1")
    )
    assert response.status_code == 302
    episode.refresh_from_db()
    assert episode.title == "Renamed"


def test_admin_change_keeps_the_author(client, editor):
    episode = EpisodeFactory(created_by=editor)
    client.post(f"{CHANGELIST}{episode.pk}/change/", _form(title="Renamed"))
    episode.refresh_from_db()
    assert episode.created_by == editor


def test_admin_change_onto_a_taken_slot_is_a_form_error(client, episode):
    other = EpisodeFactory(season=1, episode_number=2)
    response = client.post(f"{CHANGELIST}{other.pk}/change/", _form(episode_number="1"))
    assert response.status_code == 200
    other.refresh_from_db()
    assert other.episode_number == 2


def test_admin_publish_action_publishes(client, episode):
    response = _publish(client, episode)
    assert response.status_code == 200
    episode.refresh_from_db()
    assert episode.status == "published"
    assert ("success", "1 episode(s) published.") in _messages(response)


def test_admin_publish_goes_through_the_service_and_is_logged_as_the_admin(
    client, admin_user, episode
):
    _publish(client, episode)
    logged = Activity.objects.filter(
        action="published_episode", resource_type="episode", resource_id=episode.pk
    )
    assert list(logged.values_list("user_id", flat=True)) == [admin_user.pk]


def test_admin_archive_action_archives(client, episode):
    _publish(client, episode, action="archive")
    episode.refresh_from_db()
    assert episode.status == "archived"


def test_admin_illegal_publish_is_a_warning_not_an_error(client):
    episode = EpisodeFactory(status="published", title="Live")
    response = _publish(client, episode)
    assert response.status_code == 200
    messages = _messages(response)
    assert any(
        level == "warning" and "Cannot publish an episode that is published." in text
        for level, text in messages
    )
    assert not any(level == "success" for level, _ in messages)


def test_admin_publish_of_a_mixed_selection_publishes_the_legal_ones(client):
    draft = EpisodeFactory(status="draft")
    live = EpisodeFactory(status="published")
    response = _publish(client, draft, live)
    draft.refresh_from_db()
    assert draft.status == "published"
    levels = [level for level, _ in _messages(response)]
    assert sorted(levels) == ["success", "warning"]


def test_admin_deletes_an_episode(client, episode):
    response = client.post(f"{CHANGELIST}{episode.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not Episode.objects.exists()


def test_admin_adds_a_composition_with_its_author(client, admin_user, episode):
    response = client.post(
        "/admin/episodes/composition/add/",
        {"episode": str(episode.pk), "name": "Admin cut", "layout": '{"tracks": []}'},
    )
    assert response.status_code == 302
    composition = Composition.objects.get()
    assert (composition.name, composition.layout) == ("Admin cut", {"tracks": []})
    assert composition.created_by == admin_user


@pytest.mark.parametrize(
    "layout",
    [
        "[]",
        '"text"',
        "not json",
        '{"label": "nul\\u0000"}',
        '{"label": "\\ud800"}',
        '{"x": 1e400}',
        '{"a": ' + "[" * 5000 + "]" * 5000 + "}",
        '{"a": ' + "[" * 200 + "]" * 200 + "}",
        '{"big": "' + "x" * (64 * 1024) + '"}',
    ],
    ids=["list", "string", "not-json", "nul", "surrogate", "inf", "deep-5000", "deep-200", "big"],
)
def test_admin_composition_with_a_bad_layout_is_a_form_error(root_client, episode, layout):
    response = root_client.post(
        "/admin/episodes/composition/add/",
        {"episode": str(episode.pk), "name": "Admin cut", "layout": layout},
    )
    assert response.status_code == 200
    assert not Composition.objects.exists()


def test_admin_composition_with_an_empty_layout_gets_an_empty_object(client, episode):
    client.post(
        "/admin/episodes/composition/add/",
        {"episode": str(episode.pk), "name": "Bare", "layout": ""},
    )
    assert Composition.objects.get().layout == {}


def test_admin_composition_change_form_shows_unicode_layout(client, composition):
    composition.layout = {"label": "Café"}
    composition.save()
    response = client.get(f"/admin/episodes/composition/{composition.pk}/change/")
    assert response.status_code == 200
    assert "Café" in response.content.decode()


def test_admin_composition_episode_is_read_only_on_change(client, composition):
    other = EpisodeFactory()
    client.post(
        f"/admin/episodes/composition/{composition.pk}/change/",
        {"episode": str(other.pk), "name": "Moved?", "layout": "{}"},
    )
    composition.refresh_from_db()
    assert composition.name == "Moved?"
    assert composition.episode_id != other.pk


@pytest.mark.parametrize("role", ["viewers", "editors"])
def test_staff_without_the_admin_role_follows_their_role(role, episode):
    user = UserFactory(username=f"staff-{role}", roles=[role])
    user.is_staff = True
    user.save()
    client = Client()
    client.force_login(user)
    assert client.get(CHANGELIST).status_code == 200
    expected = 200 if role == "editors" else 403
    assert client.get(ADD).status_code == expected


def test_staff_viewer_cannot_publish(episode):
    user = UserFactory(username="staff-viewer", roles=["viewers"])
    user.is_staff = True
    user.save()
    client = Client()
    client.force_login(user)
    _publish(client, episode)
    episode.refresh_from_db()
    assert episode.status == "draft"


def test_non_staff_admin_role_cannot_enter_the_admin(admin, episode):
    client = Client()
    client.force_login(admin)
    response = client.get(CHANGELIST)
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]

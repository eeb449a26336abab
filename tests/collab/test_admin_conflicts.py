"""The admin's change forms refuse to overwrite a save made since the page was opened."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from episodes import services
from episodes.models import Composition, Episode
from tests.factories import CompositionFactory, EpisodeFactory, UserFactory

pytestmark = pytest.mark.django_db

EPISODE_CHANGE = "/admin/episodes/episode/{}/change/"
COMPOSITION_CHANGE = "/admin/episodes/composition/{}/change/"


@pytest.fixture
def staff(db):
    return UserFactory(username="adam", roles=["admins"], is_staff=True)


@pytest.fixture
def client(staff) -> Client:
    client = Client()
    client.force_login(staff)
    return client


@pytest.fixture
def pilot(db) -> Episode:
    return EpisodeFactory(title="Pilot", season=1, episode_number=1, description="")


def _episode_form(**overrides) -> dict[str, str]:
    return {
        "title": "Mine",
        "season": "1",
        "episode_number": "1",
        "description": "",
        "air_date": "",
        **overrides,
    }


def _loaded_version(html: str) -> str:
    found = re.search(r'<input type="hidden" name="loaded_version" value="(\d+)"', html)
    assert found, "no hidden loaded_version in the change form"
    return found.group(1)


def test_the_change_form_carries_the_version_it_shows(client, pilot):
    services.episode_update(episode=pilot, actor=None, title="Second")
    response = client.get(EPISODE_CHANGE.format(pilot.pk))
    assert response.status_code == 200
    assert _loaded_version(response.content.decode()) == "2"


def test_a_save_of_the_version_shown_goes_through(client, pilot):
    response = client.post(EPISODE_CHANGE.format(pilot.pk), _episode_form(loaded_version="1"))
    assert response.status_code == 302
    stored = Episode.objects.get(pk=pilot.pk)
    assert (stored.title, stored.version) == ("Mine", 2)


def test_a_save_over_someone_elses_is_a_form_error_naming_them_and_when(client, pilot, editor):
    services.episode_update(episode=pilot, actor=editor, title="Theirs")

    response = client.post(EPISODE_CHANGE.format(pilot.pk), _episode_form(loaded_version="1"))

    assert response.status_code == 200
    errors = " ".join(response.context["adminform"].form.non_field_errors())
    assert errors.startswith(f"{editor.username} saved this episode at 20")
    assert "now at version 2; you opened version 1" in errors
    assert "reload the page" in errors
    stored = Episode.objects.get(pk=pilot.pk)
    assert (stored.title, stored.version) == ("Theirs", 2)


def test_a_publish_since_the_page_opened_is_a_conflict_too(client, pilot, editor):
    services.episode_publish(episode=pilot, actor=editor)
    response = client.post(EPISODE_CHANGE.format(pilot.pk), _episode_form(loaded_version="1"))
    assert response.status_code == 200
    assert Episode.objects.get(pk=pilot.pk).title == "Pilot"


def test_a_save_by_nobody_logged_is_attributed_to_someone(client, pilot, settings):
    settings.ACTIVITY_LOGGING = False
    services.episode_update(episode=pilot, actor=None, title="Theirs")
    response = client.post(EPISODE_CHANGE.format(pilot.pk), _episode_form(loaded_version="1"))
    errors = " ".join(response.context["adminform"].form.non_field_errors())
    assert errors.startswith("Someone saved this episode at ")


def test_a_damaged_version_is_a_form_error(client, pilot):
    response = client.post(EPISODE_CHANGE.format(pilot.pk), _episode_form(loaded_version="x1"))
    assert response.status_code == 200
    assert Episode.objects.get(pk=pilot.pk).title == "Pilot"


def test_a_post_without_the_version_is_not_checked(client, pilot):
    services.episode_update(episode=pilot, actor=None, title="Theirs")
    response = client.post(EPISODE_CHANGE.format(pilot.pk), _episode_form())
    assert response.status_code == 302
    assert Episode.objects.get(pk=pilot.pk).title == "Mine"


def test_a_composition_save_over_someone_elses_is_a_form_error(client, pilot, editor):
    cut = CompositionFactory(episode=pilot, name="Opening", layout={})
    page = client.get(COMPOSITION_CHANGE.format(cut.pk)).content.decode()
    services.composition_update(composition=cut, actor=editor, name="Theirs")

    response = client.post(
        COMPOSITION_CHANGE.format(cut.pk),
        {"name": "Mine", "layout": "{}", "loaded_version": _loaded_version(page)},
    )

    assert response.status_code == 200
    errors = " ".join(response.context["adminform"].form.non_field_errors())
    assert errors.startswith(f"{editor.username} saved this composition at ")
    assert Composition.objects.get(pk=cut.pk).name == "Theirs"


def test_a_composition_save_of_the_version_shown_goes_through(client, pilot):
    cut = CompositionFactory(episode=pilot, name="Opening", layout={})
    response = client.post(
        COMPOSITION_CHANGE.format(cut.pk), {"name": "Mine", "layout": "{}", "loaded_version": "1"}
    )
    assert response.status_code == 302
    assert Composition.objects.get(pk=cut.pk).version == 2

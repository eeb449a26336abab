"""`notifications/preferences/`: every type on by default, PUT replaces, PATCH changes some."""

from __future__ import annotations

import pytest

from realtime.models import NOTIFICATION_TYPES, EpisodeMute, NotificationPreference
from tests.factories import EpisodeFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/notifications/preferences/"
ALL_ON = dict.fromkeys(NOTIFICATION_TYPES, True)


def test_every_type_is_on_and_nothing_muted_by_default(api_client_for, bo):
    response = api_client_for(bo).get(URL)
    assert response.status_code == 200
    assert response.json() == {
        "types": {
            "episode_created": True,
            "episode_published": True,
            "episode_updated": True,
            "episode_deleted": True,
            "job_failed": True,
        },
        "muted_episodes": [],
    }


def test_put_sets_types_and_mutes_and_answers_the_new_state(
    api_client_for, bo, episode, other_episode
):
    body = {
        "types": {"episode_updated": False, "job_failed": True},
        "muted_episodes": [other_episode.pk, episode.pk, episode.pk],
    }
    response = api_client_for(bo).put(URL, body)
    assert response.status_code == 200
    expected = {
        "types": {**ALL_ON, "episode_updated": False},
        "muted_episodes": sorted([episode.pk, other_episode.pk]),
    }
    assert response.json() == expected
    assert api_client_for(bo).get(URL).json() == expected


def test_put_replaces_what_it_leaves_out_by_the_default(api_client_for, bo, episode, other_episode):
    client = api_client_for(bo)
    client.put(
        URL,
        {
            "types": {"episode_updated": False, "episode_published": False},
            "muted_episodes": [episode.pk],
        },
    )
    response = client.put(
        URL, {"types": {"job_failed": False}, "muted_episodes": [other_episode.pk]}
    )
    assert response.json() == {
        "types": {**ALL_ON, "job_failed": False},
        "muted_episodes": [other_episode.pk],
    }


def test_patch_changes_only_the_types_it_names(api_client_for, bo, episode):
    client = api_client_for(bo)
    client.put(URL, {"types": {"episode_updated": False}, "muted_episodes": [episode.pk]})
    response = client.patch(URL, {"types": {"job_failed": False}})
    assert response.status_code == 200
    assert response.json() == {
        "types": {**ALL_ON, "episode_updated": False, "job_failed": False},
        "muted_episodes": [episode.pk],
    }


def test_patch_turns_a_type_back_on(api_client_for, bo):
    client = api_client_for(bo)
    client.patch(URL, {"types": {"episode_updated": False}})
    response = client.patch(URL, {"types": {"episode_updated": True}})
    assert response.json()["types"] == ALL_ON


def test_patch_with_muted_episodes_replaces_the_list(api_client_for, bo, episode, other_episode):
    client = api_client_for(bo)
    client.patch(URL, {"muted_episodes": [episode.pk]})
    response = client.patch(URL, {"muted_episodes": [other_episode.pk]})
    assert response.json()["muted_episodes"] == [other_episode.pk]


def test_preferences_are_the_callers_own(api_client_for, bo, cy, episode):
    api_client_for(bo).put(
        URL, {"types": {"episode_updated": False}, "muted_episodes": [episode.pk]}
    )
    assert api_client_for(cy).get(URL).json() == {"types": ALL_ON, "muted_episodes": []}


def test_the_same_put_twice_writes_no_duplicate(api_client_for, bo, episode):
    body = {"types": {"episode_updated": False}, "muted_episodes": [episode.pk]}
    client = api_client_for(bo)
    assert client.put(URL, body).status_code == 200
    assert client.put(URL, body).status_code == 200
    assert NotificationPreference.objects.filter(user=bo).count() == 1
    assert EpisodeMute.objects.filter(user=bo).count() == 1


# --- bad input: 400 with the field's errors, nothing written ---------------------------------


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        (
            {"types": {"episode_exploded": False}, "muted_episodes": []},
            {
                "types": {
                    "episode_exploded": [
                        "Not a notification type; the types are episode_created, "
                        "episode_published, episode_updated, episode_deleted, job_failed."
                    ]
                }
            },
        ),
        (
            {"types": {"episode_updated": "no"}, "muted_episodes": []},
            {"types": {"episode_updated": ["Must be a valid boolean."]}},
        ),
        (
            {"types": {"episode_updated": 0}, "muted_episodes": []},
            {"types": {"episode_updated": ["Must be a valid boolean."]}},
        ),
        (
            {"types": {"episode_updated": None}, "muted_episodes": []},
            {"types": {"episode_updated": ["This field may not be null."]}},
        ),
        (
            {"types": ["episode_updated"], "muted_episodes": []},
            {"types": {"non_field_errors": ["Invalid data. Expected a dictionary, but got list."]}},
        ),
        ({"muted_episodes": []}, {"types": ["This field is required."]}),
        ({"types": {}}, {"muted_episodes": ["This field is required."]}),
        (
            {"types": {}, "muted_episodes": [], "sounds": True},
            {"sounds": ["Unknown field."]},
        ),
        (
            {"types": {}, "muted_episodes": "1"},
            {"muted_episodes": ['Expected a list of items but got type "str".']},
        ),
        (
            {"types": {}, "muted_episodes": [0]},
            {"muted_episodes": {"0": ["Ensure this value is greater than or equal to 1."]}},
        ),
        (
            {"types": {}, "muted_episodes": ["x"]},
            {"muted_episodes": {"0": ["A valid integer is required."]}},
        ),
        (
            {"types": {}, "muted_episodes": [2**63]},
            {
                "muted_episodes": {
                    "0": ["Ensure this value is less than or equal to 9223372036854775807."]
                }
            },
        ),
        (
            {"types": {}, "muted_episodes": list(range(1, 1002))},
            {"muted_episodes": ["Ensure this field has no more than 1000 elements."]},
        ),
        ([1, 2], {"non_field_errors": ["Invalid data. Expected a dictionary, but got list."]}),
    ],
)
def test_bad_input_is_a_400_naming_the_field(api_client_for, bo, body, errors):
    response = api_client_for(bo).put(URL, body, format="json")
    assert response.status_code == 400
    assert response.json() == errors
    assert not NotificationPreference.objects.exists()


def test_an_episode_that_does_not_exist_is_a_400_naming_it(api_client_for, bo, episode):
    response = api_client_for(bo).put(
        URL, {"types": {}, "muted_episodes": [episode.pk, 987654, 987653]}
    )
    assert response.status_code == 400
    assert response.json() == {"muted_episodes": ["No episode with the id 987653, 987654."]}
    assert not EpisodeMute.objects.exists()


def test_patch_validates_like_put(api_client_for, bo):
    response = api_client_for(bo).patch(URL, {"types": {"nope": True}})
    assert response.status_code == 400
    assert list(response.json()["types"]) == ["nope"]


def test_a_body_that_is_not_json_is_refused(api_client_for, bo):
    response = api_client_for(bo).generic("PUT", URL, "types=1", content_type="text/plain")
    assert response.status_code == 415


def test_a_user_without_a_role_is_refused(api_client_for, outsider):
    assert api_client_for(outsider).get(URL).status_code == 403
    body = {"types": {}, "muted_episodes": []}
    assert api_client_for(outsider).put(URL, body).status_code == 403


def test_anonymous_callers_are_refused(anon_client):
    assert anon_client.get(URL).status_code == 403


def test_a_deleted_episode_leaves_the_mute_list(api_client_for, bo):
    doomed = EpisodeFactory()
    client = api_client_for(bo)
    client.put(URL, {"types": {}, "muted_episodes": [doomed.pk]})
    doomed.delete()
    assert client.get(URL).json()["muted_episodes"] == []

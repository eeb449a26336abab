"""Choosing the recipients of a change is one query, whatever the number of users, their
preferences and their mutes; the whole change's queries do not grow with its recipients."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from realtime import recipients
from realtime.models import EpisodeMute, Notification, NotificationPreference
from tests.factories import UserFactory
from tests.notifications.conftest import follow

pytestmark = pytest.mark.django_db


def crowd(count: int, episode, roles: list[str]) -> list:
    """`count` users following the episode, one in three with the type off, one in five
    muting the episode, so that every filter has rows to read."""
    users = [UserFactory(roles=roles) for _ in range(count)]
    follow(episode, *users)
    NotificationPreference.objects.bulk_create(
        NotificationPreference(user=user, type="episode_updated", enabled=n % 3 != 2)
        for n, user in enumerate(users)
    )
    EpisodeMute.objects.bulk_create(
        EpisodeMute(user=user, episode=episode) for n, user in enumerate(users) if n % 5 == 3
    )
    return users


def wanted(users: list) -> set[int]:
    return {user.pk for n, user in enumerate(users) if n % 3 != 2 and n % 5 != 3}


RULES = {
    "episode_subscribers": lambda episode: recipients.episode_subscribers(
        episode.pk, type="episode_updated"
    ),
    "episode_subscribers_not_viewing": lambda episode: recipients.episode_subscribers_not_viewing(
        episode.pk, type="episode_updated"
    ),
    "every_active_user": lambda episode: recipients.every_active_user(
        type="episode_updated", episode_id=episode.pk
    ),
    "admins_and_editors": lambda episode: recipients.admins_and_editors(
        type="episode_updated", episode_id=episode.pk
    ),
    "admins": lambda episode: recipients.admins(type="episode_updated", episode_id=episode.pk),
    "admins_and_user": lambda episode: recipients.admins_and_user(
        None, type="episode_updated", episode_id=episode.pk
    ),
}


@pytest.mark.parametrize("count", [1, 50])
@pytest.mark.parametrize("rule", sorted(RULES))
def test_each_rule_is_one_query_with_preferences_and_mutes(episode, rule, count):
    users = crowd(count, episode, roles=["admins"])
    with CaptureQueriesContext(connection) as captured:
        chosen = RULES[rule](episode)
    assert len(captured) == 1, [query["sql"] for query in captured]
    assert set(chosen) == wanted(users)


def test_the_starter_of_a_job_is_chosen_in_the_same_one_query(episode, bo, boss):
    NotificationPreference.objects.create(user=boss, type="job_failed", enabled=False)
    with CaptureQueriesContext(connection) as captured:
        chosen = recipients.admins_and_user(bo.pk, type="job_failed")
    assert len(captured) == 1
    assert chosen == [bo.pk]


def queries_of_an_update(client, episode, title: str) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        response = client.patch(f"/api/v1/episodes/{episode.pk}/", {"title": title})
    assert response.status_code == 200
    return [query["sql"] for query in captured]


def test_an_update_runs_as_many_queries_for_50_followers_as_for_1(
    api_client_for, ana, episode, other_episode
):
    client = api_client_for(ana)
    crowd(1, episode, roles=["viewers"])
    fifty = crowd(50, other_episode, roles=["viewers"])
    few = queries_of_an_update(client, episode, "One")
    many = queries_of_an_update(client, other_episode, "Fifty")
    notified = Notification.objects.filter(data__episode_id=other_episode.pk)
    assert set(notified.values_list("user_id", flat=True)) == wanted(fifty)
    assert Notification.objects.filter(data__episode_id=episode.pk).count() == 1
    assert len(many) == len(few), many


def test_a_folding_update_runs_as_many_queries_for_50_followers_as_for_1(
    api_client_for, ana, episode, other_episode
):
    client = api_client_for(ana)
    crowd(1, episode, roles=["viewers"])
    crowd(50, other_episode, roles=["viewers"])
    queries_of_an_update(client, episode, "One")
    queries_of_an_update(client, other_episode, "Fifty")
    few = queries_of_an_update(client, episode, "One again")
    many = queries_of_an_update(client, other_episode, "Fifty again")
    assert {row.data["count"] for row in Notification.objects.all()} == {2}
    assert len(many) == len(few), many

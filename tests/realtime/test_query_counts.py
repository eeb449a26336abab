"""The feeds stay flat in queries as they grow, and their queries are served by an index."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from realtime.models import Activity, Notification
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def add_activity(count: int, *, resources: int = 1) -> None:
    users = [UserFactory() for _ in range(min(count, 5))]
    Activity.objects.bulk_create(
        Activity(
            user=users[n % len(users)],
            action="updated_episode",
            resource_type="episode",
            resource_id=n % resources + 1,
            metadata={"changed_fields": ["title"]},
        )
        for n in range(count)
    )


def add_notifications(user, count: int) -> None:
    Notification.objects.bulk_create(
        Notification(user=user, type="episode_created", message=f"n{n}") for n in range(count)
    )


def queries_of(client, path: str) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    assert response.status_code == 200
    return [query["sql"] for query in captured]


def test_activity_list_runs_as_many_queries_for_50_rows_as_for_2(api_client_for, viewer):
    client = api_client_for(viewer)
    client.get("/api/v1/activity/")
    add_activity(2)
    few = queries_of(client, "/api/v1/activity/")
    add_activity(48)
    many = queries_of(client, "/api/v1/activity/")
    assert len(many) == len(few), many


def test_notification_list_runs_as_many_queries_for_50_rows_as_for_2(api_client_for, viewer):
    client = api_client_for(viewer)
    client.get("/api/v1/notifications/")
    add_notifications(viewer, 2)
    few = queries_of(client, "/api/v1/notifications/?unread=true")
    add_notifications(viewer, 48)
    many = queries_of(client, "/api/v1/notifications/?unread=true")
    assert len(many) == len(few), many


# --- plans on PostgreSQL ---------------------------------------------------------------------


def feed_query(sql_list: list[str], table: str) -> str:
    [sql] = [sql for sql in sql_list if f'FROM "{table}"' in sql and sql.startswith("SELECT")]
    return sql


def plan_of(sql: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {sql}")
        return "\n".join(row[0] for row in cursor.fetchall())


def assert_index_scan(plan: str, table: str) -> None:
    assert f"Seq Scan on {table}" not in plan, plan
    assert re.search(rf"Index (Only )?Scan( Backward)? using \w+ on {table}\b", plan) or re.search(
        rf"Bitmap Heap Scan on {table}\b", plan
    ), plan


@pytest.fixture
def big_feeds(viewer, editor):
    """Enough rows that a sequential scan is what the planner would pick without an index.

    5,000 activities over 500 resources and 5 users; 250 notifications for each of 20 users,
    one in ten unread. Written by SQL: the factories would take seconds.
    """
    users = [viewer.id, editor.id, *(UserFactory().id for _ in range(18))]
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO realtime_activity
                (user_id, action, resource_type, resource_id, metadata, created_at)
            SELECT (%s::bigint[])[n %% 5 + 1], 'updated_episode', 'episode', n %% 500 + 1,
                   '{}'::jsonb, %s
            FROM generate_series(1, 5000) AS n
            """,
            [users[:5], now],
        )
        cursor.execute(
            """
            INSERT INTO realtime_notification (user_id, type, message, data, read_at, created_at)
            SELECT u, 'episode_created', 'm', '{}'::jsonb,
                   CASE WHEN n %% 10 = 0 THEN NULL ELSE %s::timestamptz END, %s
            FROM unnest(%s::bigint[]) AS u, generate_series(1, 250) AS n
            """,
            [now, now, users],
        )
        cursor.execute("ANALYZE realtime_activity")
        cursor.execute("ANALYZE realtime_notification")


@pytest.mark.postgres
@pytest.mark.parametrize(
    "query",
    ["", "?resource_type=episode&resource_id=7", "?user={user}", "?action=updated_episode"],
)
def test_activity_page_is_served_by_an_index(api_client_for, viewer, big_feeds, query):
    user_id = Activity.objects.values_list("user_id", flat=True).first()
    sql = feed_query(
        queries_of(api_client_for(viewer), "/api/v1/activity/" + query.format(user=user_id)),
        "realtime_activity",
    )
    assert_index_scan(plan_of(sql), "realtime_activity")


@pytest.mark.postgres
def test_activity_second_page_is_served_by_an_index(api_client_for, viewer, big_feeds):
    client = api_client_for(viewer)
    first = client.get("/api/v1/activity/?resource_type=episode&resource_id=7&page_size=5")
    next_url = first.json()["next"].split("testserver", 1)[1]
    sql = feed_query(queries_of(client, next_url), "realtime_activity")
    assert_index_scan(plan_of(sql), "realtime_activity")


@pytest.mark.postgres
@pytest.mark.parametrize("query", ["", "?unread=true"])
def test_notification_page_is_served_by_an_index(api_client_for, viewer, big_feeds, query):
    sql = feed_query(
        queries_of(api_client_for(viewer), "/api/v1/notifications/" + query),
        "realtime_notification",
    )
    assert_index_scan(plan_of(sql), "realtime_notification")


@pytest.mark.postgres
def test_unread_count_is_served_by_an_index(api_client_for, viewer, big_feeds):
    sql = feed_query(
        queries_of(api_client_for(viewer), "/api/v1/notifications/unread-count/"),
        "realtime_notification",
    )
    assert_index_scan(plan_of(sql), "realtime_notification")

"""Bench: `episode_publish` notifying N users (the notification fan-out), timed on PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/showdesk python -m bench.publish_fanout

It works in a database of its own (`showdesk_bench`, created and migrated if missing, its
data flushed on every run) on the server DATABASE_URL names, never in that database itself.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from bench._db import prepare_database
from bench._table import Row as TableRow
from bench._table import verdict

POSTGRES_SCHEMES = frozenset({"postgres", "postgresql", "pgsql", "psql"})
BENCH_DATABASE = "showdesk_bench"
GOAL_SECONDS = 1.0
MAX_USERS = 100_000
MAX_REPEATS = 20
ADMIN_SHARE = 0.01
EDITOR_SHARE = 0.10
USER_BATCH = 2_000


@dataclass(frozen=True)
class Run:
    seconds: float
    notifications: int
    queries: int
    relay_seconds: float
    relayed: int


def _bounded(low: int, high: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        value = int(text)
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be between {low} and {high}")
        return value

    return parse


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.publish_fanout", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="500 users, 3 repeats")
    parser.add_argument("--users", type=_bounded(1, MAX_USERS), default=0, help="(5,000)")
    parser.add_argument("--repeats", type=_bounded(1, MAX_REPEATS), default=0, help="(5)")
    parser.add_argument("--database", default=BENCH_DATABASE, help="the bench's own database")
    parser.add_argument(
        "--redis-db", type=int, default=None, help="the Redis database the relay publishes to"
    )
    parser.add_argument(
        "--server-side-binding",
        action="store_true",
        help="bind parameters on the server (psycopg), to compare with the settings' default",
    )
    args = parser.parse_args(argv)
    args.users = args.users or (500 if args.quick else 5_000)
    args.repeats = args.repeats or (3 if args.quick else 5)
    return args


def _bench_url(database: str) -> str:
    """DATABASE_URL with its database name replaced by the bench's; refuses anything but PG."""
    url = os.environ.get("DATABASE_URL", "")
    if not url:
        raise SystemExit("DATABASE_URL is required (a PostgreSQL server).")
    parts = urlsplit(url)
    if parts.scheme not in POSTGRES_SCHEMES:
        raise SystemExit(f"The bench runs on PostgreSQL only, not {parts.scheme or url!r}.")
    # It flushes the database it runs in: never the one the project works in.
    if "bench" not in database or database == parts.path.lstrip("/"):
        raise SystemExit(f"Refusing {database!r}: the bench needs a database of its own.")
    return urlunsplit(parts._replace(path=f"/{database}"))


def _setup_django(url: str, database: str, server_side_binding: bool, redis_db: int | None):
    os.environ["DATABASE_URL"] = url
    redis_url = os.environ.get("REDIS_URL", "")
    if redis_url and redis_db is not None:
        os.environ["REDIS_URL"] = urlunsplit(urlsplit(redis_url)._replace(path=f"/{redis_db}"))
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench._ws_settings"
    # The timed transaction is the write; the relay is timed on its own afterwards.
    os.environ["REALTIME_RELAY_MODE"] = "command"
    os.environ.setdefault("LOG_LEVEL", "WARNING")

    import django

    django.setup()
    from django.conf import settings

    if settings.DATABASES["default"]["NAME"] != database:
        raise SystemExit("Refusing to run: the settings do not point at the bench database.")
    if server_side_binding:
        settings.DATABASES["default"].setdefault("OPTIONS", {})["server_side_binding"] = True


def _reset(users: int) -> Any:
    """Flush the bench database and create the actor and `users` recipients with roles."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django.contrib.auth.models import Group
    from django.core.management import call_command

    from accounts.roles import ADMINS, ALL_ROLES, EDITORS, VIEWERS

    call_command("flush", verbosity=0, interactive=False)
    groups = {name: Group.objects.get_or_create(name=name)[0] for name in ALL_ROLES}
    user_model = get_user_model()
    membership = user_model.groups.through
    unusable = make_password(None)
    actor = user_model.objects.create(username="bench-actor", password=unusable)
    membership.objects.create(user_id=actor.pk, group_id=groups[EDITORS].pk)
    admins = max(1, int(users * ADMIN_SHARE))
    editors = int(users * EDITOR_SHARE)
    for start in range(0, users, USER_BATCH):
        numbers = range(start, min(start + USER_BATCH, users))
        created = user_model.objects.bulk_create(
            user_model(username=f"bench-{n:06d}", password=unusable) for n in numbers
        )
        roles = [
            ADMINS if n < admins else EDITORS if n < admins + editors else VIEWERS for n in numbers
        ]
        membership.objects.bulk_create(
            membership(user_id=user.pk, group_id=groups[role].pk)
            for user, role in zip(created, roles, strict=True)
        )
    return actor


def _publish_once(actor: Any, number: int) -> Run:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from common.actor import acting_as
    from episodes import services
    from realtime import relay
    from realtime.models import Notification

    with acting_as(actor):
        episode = services.episode_create(
            actor=actor, title=f"Bench episode {number}", episode_number=number
        )
    relay.publish_pending()
    before = Notification.objects.count()
    with CaptureQueriesContext(connection) as queries:
        start = time.perf_counter()
        services.episode_publish(episode=episode, actor=actor)
        seconds = time.perf_counter() - start
    notifications = Notification.objects.count() - before
    start = time.perf_counter()
    relayed = relay.publish_pending()
    relay_seconds = time.perf_counter() - start
    return Run(seconds, notifications, len(queries.captured_queries), relay_seconds, relayed)


def _p90(values: list[float]) -> float:
    if len(values) < 2:
        return values[0]
    return statistics.quantiles(values, n=10, method="inclusive")[8]


def _table(users: int, runs: list[Run], database: str) -> tuple[str, bool]:
    from django.conf import settings
    from django.db import connection

    seconds = [run.seconds for run in runs]
    p90 = _p90(seconds)
    # A fan-out that lost rows (a side effect that failed and was swallowed) is no pass.
    passed = p90 < GOAL_SECONDS and all(run.notifications == users for run in runs)
    layer = settings.CHANNEL_LAYERS["default"]["BACKEND"].rsplit(".", 1)[-1]
    binding = (
        "server" if connection.settings_dict["OPTIONS"].get("server_side_binding") else "client"
    )
    header = (
        "users",
        "runs",
        "median s",
        "p90 s",
        "notifications/publish (min)",
        "queries/publish (max)",
        "goal",
        "result",
        "relay median s",
        "events relayed/publish (max)",
    )
    row = (
        str(users),
        str(len(runs)),
        f"{statistics.median(seconds):.3f}",
        f"{p90:.3f}",
        str(min(run.notifications for run in runs)),
        str(max(run.queries for run in runs)),
        f"p90 < {GOAL_SECONDS:g} s",
        "pass" if passed else "FAIL",
        f"{statistics.median(run.relay_seconds for run in runs):.3f}",
        str(max(run.relayed for run in runs)),
    )
    widths = [max(len(a), len(b)) for a, b in zip(header, row, strict=True)]
    lines = [
        f"publish fan-out: episode_publish to every active user; database {database!r} "
        f"(PostgreSQL, {binding}-side binding), channel layer {layer}",
        " | ".join(cell.ljust(width) for cell, width in zip(header, widths, strict=True)),
        "-+-".join("-" * width for width in widths),
        " | ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)),
        "Times are of the service call (its transaction and commit); the relay, which numbers "
        "and publishes the events after commit, is timed apart and not part of the goal.",
    ]
    return "\n".join(lines) + "\n", passed


def measure(args: argparse.Namespace) -> list[Run]:
    url = _bench_url(args.database)
    prepare_database(url)
    _setup_django(url, args.database, args.server_side_binding, args.redis_db)
    actor = _reset(args.users)
    return [_publish_once(actor, number) for number in range(1, args.repeats + 1)]


def rows(argv: list[str] | None = None) -> list[TableRow]:
    """The summary for `python -m bench`."""
    args = _arguments(argv)
    runs = measure(args)
    seconds = [run.seconds for run in runs]
    p90 = _p90(seconds)
    complete = all(run.notifications == args.users for run in runs)
    return [
        TableRow(
            f"publish: episode_publish notifying {args.users:,} users, p50 / p90 of the "
            "service call",
            f"{statistics.median(seconds) * 1000:,.0f} / {p90 * 1000:,.0f} ms ({len(runs)} "
            f"runs, {max(run.queries for run in runs)} queries; relay "
            f"{statistics.median(run.relay_seconds for run in runs) * 1000:,.0f} ms after)",
            f"p90 < {GOAL_SECONDS:g} s, every user notified",
            verdict(complete and (p90 < GOAL_SECONDS or args.quick)),
        )
    ]


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    runs = measure(args)
    text, passed = _table(args.users, runs, args.database)
    sys.stdout.write(text)
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())

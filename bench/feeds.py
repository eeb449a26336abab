"""Bench: the activity feed and the notification list at 1,000 and 1,000,000 rows.

    DATABASE_URL=postgres://... REDIS_URL=redis://... python -m bench.feeds [--quick]

Two databases of the bench's own, one holding 1,000 activity rows and 1,000 notifications
of one user, the other 1,000,000 of each (`--quick`: 100,000), loaded with COPY and kept
between runs while their counts stay right. One server process on each, requests to the two
interleaved: the first page and page 50 (following the cursor, 20 rows a page) of
`activity/` and `notifications/`. Goal (DESIGN.md): the median at the large size at most
1.5 times the median at the small one.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from bench import _http
from bench import _ws_setup as ws
from bench._table import Row, Table, verdict

ROOT = Path(__file__).resolve().parent.parent
GOAL_RATIO = 1.5
PAGE_SIZE = 20
DEEP_PAGE = 50
SMALL = 1_000
MAX_ROWS = 5_000_000
WARMUP = 3
USERNAME = "bench-feeds"
COPY_BATCH = 50_000
TIMEOUT = 30.0


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.feeds", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="1,000 and 100,000 rows")
    parser.add_argument("--rows", type=int, default=0, help="rows of the large size (1,000,000)")
    parser.add_argument("--repeats", type=int, default=0, help="requests per page and size (30)")
    parser.add_argument("--database", default="showdesk_bench_feeds", help="prefix of the two")
    parser.add_argument("--redis-db", type=int, default=ws.BENCH_REDIS_DB)
    parser.add_argument("--load", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.rows = args.rows or (100_000 if args.quick else 1_000_000)
    args.repeats = args.repeats or (10 if args.quick else 30)
    if not SMALL < args.rows <= MAX_ROWS:
        parser.error(f"rows must be between {SMALL + 1} and {MAX_ROWS}")
    if not 1 <= args.repeats <= 1_000:
        parser.error("repeats must be between 1 and 1,000")
    return args


def _label(rows: int) -> str:
    return f"{rows // 1_000_000}m" if rows % 1_000_000 == 0 else f"{rows // 1_000}k"


def database_names(prefix: str, quick: bool) -> list[str]:
    """The two databases a run with these arguments works in."""
    args = _arguments(["--database", prefix, *(["--quick"] if quick else [])])
    return [f"{prefix}_{_label(rows)}" for rows in (SMALL, args.rows)]


# --- loading (in a process of its own per database: Django is set up once per process) ----


def _copy(model, count: int, per_row: dict, timestamps) -> None:
    """COPY `count` rows of `model`: `per_row[name](i)` for those columns, every other
    datetime the row's timestamp, every other column its default."""
    from django.db import connection
    from django.db.models import DateTimeField

    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    columns, makers = [], []
    for field in fields:
        columns.append(connection.ops.quote_name(field.column))
        if field.name in per_row:
            make = per_row[field.name]
            makers.append(lambda i, f=field, make=make: f.get_db_prep_save(make(i), connection))
        elif isinstance(field, DateTimeField) and not field.null:
            makers.append(lambda i: timestamps[i])
        else:
            constant = field.get_db_prep_save(field.get_default(), connection)
            makers.append(lambda i, constant=constant: constant)
    sql = (
        f"COPY {connection.ops.quote_name(model._meta.db_table)} ({', '.join(columns)}) FROM STDIN"
    )
    with connection.cursor() as cursor:
        for start in range(0, count, COPY_BATCH):
            with cursor.cursor.copy(sql) as copy:
                for i in range(start, min(start + COPY_BATCH, count)):
                    copy.write_row([make(i) for make in makers])


def load(database: str, rows: int, redis_db: int) -> dict:
    """Make `database` hold `rows` activity rows and notifications of the bench user."""
    from bench._db import prepare_database

    db_url, redis_url = ws.bench_urls(database, redis_db)
    prepare_database(db_url, {"REDIS_URL": redis_url})
    ws.setup_django(db_url, redis_url)
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.db import connection

    from accounts.roles import VIEWERS
    from realtime.models import Activity, Notification

    user, _ = get_user_model().objects.get_or_create(username=USERNAME)
    user.groups.add(Group.objects.get_or_create(name=VIEWERS)[0])
    token = _http.api_token(user.pk)
    started = time.monotonic()
    counts = (
        Activity.objects.count(),
        Notification.objects.filter(user=user).count(),
        Notification.objects.count(),
    )
    reused = counts == (rows, rows, rows)
    if not reused:
        with connection.cursor() as cursor:
            for model in (Activity, Notification):
                cursor.execute(f"TRUNCATE {connection.ops.quote_name(model._meta.db_table)}")
        now = datetime.now(UTC)
        # Oldest first, as they would have been written: the newest row has the highest id.
        timestamps = [now - timedelta(seconds=rows - i) for i in range(rows)]
        _copy(
            Activity,
            rows,
            {
                "user": lambda i: user.pk if i % 3 else None,
                "action": lambda i: "updated_episode",
                "resource_type": lambda i: "episode",
                "resource_id": lambda i: i % 5_000 + 1,
            },
            timestamps,
        )
        _copy(
            Notification,
            rows,
            {
                "user": lambda i: user.pk,
                "type": lambda i: "episode_updated",
                "message": lambda i: f"Bench episode {i % 5_000 + 1} updated by bench-editor",
                "read_at": lambda i: None,
            },
            timestamps,
        )
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    return {
        "database": database,
        "token": token,
        "rows": rows,
        "reused": reused,
        "seconds": time.monotonic() - started,
    }


def _load_in_child(args: argparse.Namespace, database: str, rows: int) -> dict:
    command = [
        sys.executable,
        "-m",
        "bench.feeds",
        "--database",
        database,
        "--redis-db",
        str(args.redis_db),
        "--load",
        str(rows),
    ]
    done = subprocess.run(command, cwd=ROOT, check=True, capture_output=True, text=True)  # noqa: S603
    return json.loads(done.stdout.strip().splitlines()[-1])


# --- timing ----------------------------------------------------------------------------------


def _deep_url(client, first: str) -> str:
    url = first
    for _ in range(DEEP_PAGE - 1):
        _, response = _http.timed(client, "GET", url, 200)
        url = response.json()["next"]
        if not url:
            raise RuntimeError(f"fewer than {DEEP_PAGE} pages of {PAGE_SIZE} at {first}")
    return url


def measure(args: argparse.Namespace) -> dict:
    import httpx

    sizes = {"small": SMALL, "large": args.rows}
    loaded = {
        name: _load_in_child(args, f"{args.database}_{_label(rows)}", rows)
        for name, rows in sizes.items()
    }
    redis_url = ws.bench_urls(args.database, args.redis_db)[1]
    db_urls = {
        name: urlunsplit(urlsplit(os.environ["DATABASE_URL"])._replace(path=f"/{info['database']}"))
        for name, info in loaded.items()
    }
    times: dict = {}
    started = time.monotonic()
    with (
        _http.api_server(db_urls["small"], redis_url, label="small") as small,
        _http.api_server(db_urls["large"], redis_url, label="large") as large,
    ):
        clients = {
            name: httpx.Client(
                base_url=f"{server.origin}{_http.API}",
                headers={"Authorization": f"Token {loaded[name]['token']}"},
                timeout=TIMEOUT,
            )
            for name, server in (("small", small), ("large", large))
        }
        try:
            urls: dict = {name: {} for name in clients}
            for name, client in clients.items():
                for feed in ("activity", "notifications"):
                    first = f"/{feed}/?page_size={PAGE_SIZE}"
                    urls[name][(feed, "first page")] = first
                    urls[name][(feed, f"page {DEEP_PAGE}")] = _deep_url(client, first)
            for key in urls["small"]:
                times[key] = {"small": [], "large": []}
            for number in range(WARMUP + args.repeats):
                order = list(clients) if number % 2 == 0 else list(reversed(clients))
                for key in times:
                    for name in order:
                        seconds, _ = _http.timed(clients[name], "GET", urls[name][key], 200)
                        if number >= WARMUP:
                            times[key][name].append(seconds)
        finally:
            for client in clients.values():
                client.close()
    return {
        "times": times,
        "loaded": loaded,
        "errors": {"small": dict(small.errors), "large": dict(large.errors)},
        "seconds": time.monotonic() - started,
    }


def _rows(args: argparse.Namespace, result: dict) -> list[Row]:
    out = []
    large = f"{args.rows:,}"
    for (feed, page), samples in result["times"].items():
        small_median = statistics.median(samples["small"])
        large_median = statistics.median(samples["large"])
        ratio = large_median / small_median
        out.append(
            Row(
                f"feeds: {feed}/ {page} ({PAGE_SIZE} a page), median {large} / 1,000 rows",
                f"{ratio:.2f}x ({large_median * 1000:.1f} / {small_median * 1000:.1f} ms, "
                f"{args.repeats} each)",
                f"≤ {GOAL_RATIO:g}",
                "" if args.quick else verdict(ratio <= GOAL_RATIO),
            )
        )
    errors = {name: errs for name, errs in result["errors"].items() if errs}
    if errors:
        summary = "; ".join(f"{name}: {ws.error_summary(e)}" for name, e in errors.items())
        out.append(Row("feeds: exceptions in the server logs", summary, "none", "FAIL"))
    return out


def rows(argv: list[str] | None = None) -> list[Row]:
    args = _arguments(argv)
    return _rows(args, measure(args))


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    if args.load:
        sys.stdout.write(json.dumps(load(args.database, args.load, args.redis_db)) + "\n")
        return 0
    result = measure(args)
    table = Table(
        f"feeds: activity/ and notifications/ at 1,000 and {args.rows:,} rows, one server "
        "process per database, requests interleaved"
    )
    table.rows += _rows(args, result)
    table.notes += [
        ws.machine_note(),
        "loading: "
        + "; ".join(
            f"{info['database']} {'kept' if info['reused'] else 'loaded'} in "
            f"{info['seconds']:.0f} s"
            for info in result["loaded"].values()
        ),
        f"wall time {result['seconds']:.0f} s",
    ]
    sys.stdout.write(table.render())
    return 1 if table.failed else 0


if __name__ == "__main__":
    sys.exit(main())

"""Bench: episode search on PostgreSQL (full-text search), p50 / p99 at 1,000 and 100,000 episodes.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/showdesk python -m bench.search [--quick]

Episodes get titles of 2-6 words and descriptions of 20-80 words drawn from an English word
list with a skewed (Zipf-like) frequency, so that some words match a third of the rows and
others a handful; rows are written with COPY, the database computing their search vectors.
About forty different searches (common and rare words, two words, phrases, negations,
other word forms, no match) are made in rounds through the real view, `GET
/api/v1/episodes/?search=...` with Django's test client as a viewer (session, filters, one
page of 25 and its count), and timed one by one. The list without a search is timed the
same way, for comparison.

It works in a PostgreSQL database of its own (`<BENCH_DATABASE_PREFIX or showdesk_bench>_search`,
created and migrated when missing, emptied on every run) on the server DATABASE_URL names.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from bench._db import create_database
from bench._table import Row, Table, percentile, verdict

POSTGRES_SCHEMES = frozenset({"postgres", "postgresql", "pgsql", "psql"})
DEFAULT_PREFIX = "showdesk_bench"
SIZES = (1_000, 100_000)
QUICK_SIZES = (1_000, 10_000)
EPISODES_PER_SEASON = 1_000
COPY_BATCH = 10_000
SEED = 8
# Each size is timed for at most this long, however many rounds are asked for.
SECONDS_PER_SIZE = 60.0
QUICK_SECONDS_PER_SIZE = 15.0
MAX_EPISODES = 200_000
INDEX_JUDGED_FROM = 10_000
BENCH_SECRET_KEY = "bench-only-secret-key-" + "s" * 40


@dataclass
class Timings:
    size: int
    search: list[float] = field(default_factory=list)  # seconds
    by_kind: dict[str, list[float]] = field(default_factory=dict)
    plain: list[float] = field(default_factory=list)
    matches: list[int] = field(default_factory=list)
    uses_index: bool = False
    errors: int = 0


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.search", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="1,000 and 10,000 episodes")
    parser.add_argument("--sizes", default="", help="episode counts, e.g. 1000,100000")
    parser.add_argument("--rounds", type=int, default=5, help="times each search is made")
    parser.add_argument("--database", default="", help="the bench's own database")
    args = parser.parse_args(argv)
    if args.sizes:
        args.sizes = tuple(sorted({int(size) for size in args.sizes.split(",")}))
    else:
        args.sizes = QUICK_SIZES if args.quick else SIZES
    if not 1 <= args.sizes[0] <= args.sizes[-1] <= MAX_EPISODES:
        parser.error(f"sizes must be between 1 and {MAX_EPISODES:,}")
    if not 1 <= args.rounds <= 50:
        parser.error("rounds must be between 1 and 50")
    prefix = os.environ.get("BENCH_DATABASE_PREFIX", DEFAULT_PREFIX)
    args.database = args.database or f"{prefix}_search"
    if "bench" not in args.database:
        parser.error("the bench's database name must contain 'bench'")
    args.seconds = QUICK_SECONDS_PER_SIZE if args.quick else SECONDS_PER_SIZE
    return args


def _bench_url(database: str) -> str:
    url = os.environ.get("DATABASE_URL", "")
    if not url:
        raise SystemExit("DATABASE_URL is required (a PostgreSQL server).")
    parts = urlsplit(url)
    if parts.scheme not in POSTGRES_SCHEMES:
        raise SystemExit(f"The bench runs on PostgreSQL only, not {parts.scheme or url!r}.")
    if database == parts.path.lstrip("/"):
        raise SystemExit(f"Refusing {database!r}: the bench needs a database of its own.")
    return urlunsplit(parts._replace(path=f"/{database}"))


def _setup_django(url: str, database: str) -> None:
    os.environ.update(
        DATABASE_URL=url,
        DJANGO_SETTINGS_MODULE="config.settings",
        # Not DEBUG: Django would keep every query in memory, and time the bench's own.
        DEBUG="false",
        SECRET_KEY=BENCH_SECRET_KEY,
        LOG_LEVEL="WARNING",
        REALTIME_RELAY_MODE="command",
        OPENSEARCH_URL="",
    )
    os.environ.pop("REDIS_URL", None)
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    if settings.DATABASES["default"]["NAME"] != database:
        raise SystemExit("Refusing to run: the settings do not point at the bench database.")
    call_command("migrate", verbosity=0, interactive=False)
    call_command("flush", verbosity=0, interactive=False)


# --- Data --------------------------------------------------------------------------------------


def _rng(seed: int) -> random.Random:
    return random.Random(seed)  # noqa: S311 - a reproducible data set, not a secret


def _vocabulary() -> tuple[list[str], list[float]]:
    """English words, each with a Zipf-like weight by its rank in a shuffled order."""
    from faker.providers.lorem.en_US import Provider

    words = sorted({word for word in Provider.word_list if word.isalpha() and len(word) > 2})
    _rng(SEED).shuffle(words)
    weights = [1.0 / (rank + 1) ** 0.9 for rank in range(len(words))]
    return words, weights


def _rows(start: int, count: int, words: list[str], weights: list[float]) -> Iterator[tuple]:
    rng = _rng(SEED + start)
    base = datetime(2026, 1, 1, tzinfo=UTC)
    statuses = ("draft", "published", "published", "archived")
    for number in range(start, start + count):
        title = " ".join(rng.choices(words, weights, k=rng.randint(2, 6))).capitalize()
        description = " ".join(rng.choices(words, weights, k=rng.randint(20, 80))) + "."
        stamp = base + timedelta(minutes=number)
        yield (
            title,
            number % EPISODES_PER_SEASON + 1,
            number // EPISODES_PER_SEASON + 1,
            description.capitalize(),
            statuses[number % len(statuses)],
            1,
            stamp,
            stamp,
        )


def _insert(start: int, count: int, words: list[str], weights: list[float]) -> float:
    """COPY `count` episodes in; the seconds it took (the database fills the vectors)."""
    from django.db import connection, transaction

    columns = "title, episode_number, season, description, status, version, created_at, updated_at"
    began = time.perf_counter()
    rows = _rows(start, count, words, weights)
    with transaction.atomic(), connection.cursor() as cursor:
        sql = f"COPY episodes_episode ({columns}) FROM STDIN"
        with cursor.cursor.copy(sql) as copy:
            for row in rows:
                copy.write_row(row)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE episodes_episode")
    return time.perf_counter() - began


def _viewer() -> Any:
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    user, created = get_user_model().objects.get_or_create(username="bench-viewer")
    if created:
        user.groups.add(Group.objects.get_or_create(name="viewers")[0])
    return user


# --- Queries -----------------------------------------------------------------------------------


def _queries(words: list[str]) -> list[tuple[str, str]]:
    """About forty searches, each (kind, text): the text a user might type."""
    from episodes.models import Episode

    common, rare = words[:12], words[-60:]
    rng = _rng(SEED)
    queries = [("common word", word) for word in common[:10]]
    queries += [("rare word", word) for word in rng.sample(rare, 8)]
    queries += [("two words", f"{a} {b}") for a, b in zip(common[:6], common[6:12], strict=True)]
    descriptions = Episode.objects.order_by("pk").values_list("description", flat=True)[:50]
    for text in list(descriptions)[::12][:4]:
        pair = text.rstrip(".").lower().split()[3:5]
        queries.append(("phrase", f'"{" ".join(pair)}"'))
    queries += [("negation", f"{a} -{b}") for a, b in zip(common[:4], common[4:8], strict=True)]
    queries += [("other form", f"{word}s") for word in common[8:10]]
    queries += [("other form", f"{word}ed") for word in common[10:12]]
    queries += [("no match", "zyxwvut"), ("no match", '"quantum chromodynamics"')]
    return queries


def _time(client: Any, params: dict[str, str]) -> tuple[float, int]:
    began = time.perf_counter()
    response = client.get("/api/v1/episodes/", params, secure=True)
    elapsed = time.perf_counter() - began
    if response.status_code != 200:
        raise RuntimeError(f"{params}: {response.status_code} {response.content[:200]!r}")
    return elapsed, response.json()["count"]


def _measure(size: int, queries: list[tuple[str, str]], rounds: int, seconds: float) -> Timings:
    from django.db import connection
    from django.test import Client

    from episodes.models import Episode
    from episodes.search.database import PostgresSearch

    client = Client()
    client.force_login(_viewer())
    timings = Timings(size)
    deadline = time.monotonic() + seconds
    for _kind, text in queries[:3]:  # warm the connection, the caches and the plans
        _time(client, {"search": text})
    for round_ in range(rounds):
        order = list(queries)
        _rng(SEED + round_).shuffle(order)
        for kind, text in order:
            elapsed, count = _time(client, {"search": text})
            timings.search.append(elapsed)
            timings.by_kind.setdefault(kind, []).append(elapsed)
            if round_ == 0:
                timings.matches.append(count)
            plain, _ = _time(client, {"page": str(round_ + 1)})
            timings.plain.append(plain)
            if time.monotonic() > deadline:
                break
        if time.monotonic() > deadline:
            break
    # A rare word: for a word in most rows, reading the table is the better plan.
    rare = next(text for kind, text in queries if kind == "rare word")
    found = PostgresSearch().search(Episode.objects.all(), rare)
    with connection.cursor():
        plan = found.explain()
    timings.uses_index = "episode_search_vector" in plan
    return timings


# --- Report ------------------------------------------------------------------------------------


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:,.1f}"


def _report(results: list[Timings], inserted: dict[int, float], args) -> list[Row]:
    out = []
    for timings in results:
        p50, p99 = percentile(timings.search, 50), percentile(timings.search, 99)
        out.append(
            Row(
                f"search: GET episodes/?search= at {timings.size:,} episodes, p50 / p99",
                f"{_ms(p50)} / {_ms(p99)} ms ({len(timings.search)} searches of "
                f"{len(timings.matches)} texts; max {_ms(max(timings.search))} ms)",
            )
        )
        kinds = "; ".join(
            f"{kind} {_ms(percentile(values, 50))}/{_ms(percentile(values, 99))}"
            for kind, values in timings.by_kind.items()
        )
        out.append(Row("  by kind, p50/p99 ms", kinds))
        out.append(
            Row(
                "  the list without a search (same client), p50 / p99",
                f"{_ms(percentile(timings.plain, 50))} / {_ms(percentile(timings.plain, 99))} ms",
            )
        )
        matches = sorted(timings.matches)
        judged = timings.size >= INDEX_JUDGED_FROM
        out.append(
            Row(
                "  matches per search: median / max; GIN index in the plan of a rare word",
                f"{matches[len(matches) // 2]:,} / {matches[-1]:,}; "
                f"{'yes' if timings.uses_index else 'no'}",
                # On a small table, reading it all is the planner's right choice.
                "the index is used" if judged else "",
                verdict(timings.uses_index) if judged else "",
            )
        )
        out.append(
            Row(
                "  COPY of the rows (vectors computed by the database) and ANALYZE",
                f"{inserted[timings.size]:,.1f} s for "
                f"{timings.size - _previous(timings.size, args.sizes):,} rows",
            )
        )
    return out


def _previous(size: int, sizes: tuple[int, ...]) -> int:
    smaller = [other for other in sizes if other < size]
    return smaller[-1] if smaller else 0


def measure(args: argparse.Namespace) -> list[Row]:
    url = _bench_url(args.database)
    create_database(url)
    _setup_django(url, args.database)
    words, weights = _vocabulary()
    results: list[Timings] = []
    inserted: dict[int, float] = {}
    have = 0
    queries: list[tuple[str, str]] = []
    for size in args.sizes:
        inserted[size] = _insert(have, size - have, words, weights)
        have = size
        queries = queries or _queries(words)
        results.append(_measure(size, queries, args.rounds, args.seconds))
    return _report(results, inserted, args)


def rows(argv: list[str] | None = None) -> list[Row]:
    """The rows for `python -m bench`."""
    return measure(_arguments(argv))


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    started = time.monotonic()
    table = Table(
        f"search: episode full-text search on PostgreSQL, through the view (database "
        f"{args.database!r})"
    )
    table.rows = measure(args)
    table.notes += [
        "each search is GET /api/v1/episodes/?search=<text> by Django's test client as a "
        "viewer, in this process: session, filters, websearch_to_tsquery over the generated "
        "search_vector (GIN), ts_rank order, the count and a page of 25 serialized",
        f"{args.rounds} rounds of every search, each round shuffled, at most "
        f"{args.seconds:g} s per size; the list without a search is timed between searches",
        f"machine: {os.cpu_count()} cores shared with PostgreSQL; wall time "
        f"{time.monotonic() - started:,.0f} s",
    ]
    sys.stdout.write(table.render())
    return 1 if table.failed else 0


if __name__ == "__main__":
    sys.exit(main())

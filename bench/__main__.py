"""Every measurement of DESIGN.md's performance budget, run in turn, printed as one table.

    python -m bench [--quick] [--only NAME[,NAME]] [--list]      (or bench/run ...)

It starts what it needs on 127.0.0.1 (server processes, client processes, a Celery worker)
on the PostgreSQL and Redis servers that DATABASE_URL and REDIS_URL name (default
postgres://postgres@127.0.0.1:5432 and redis://127.0.0.1:6379), in databases of its own:
`<prefix>` and `<prefix>_feeds_*` (created and migrated when missing, emptied by each
measurement but the feeds', whose rows are kept while their counts are right) and Redis
database --redis-db (emptied). Never the project's own database.

Each measurement runs in a process of its own, bounded in time; one that crashes or runs out
of time shows as ERROR. A full run exits 1 when a goal is missed or a measurement errs;
`--quick` (smaller counts, for CI) exits 1 only when a measurement errs: its figures are
printed, never judged against the goals.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from bench._table import ERROR, FAIL, Row, render

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/postgres"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379"
DEFAULT_PREFIX = "showdesk_bench"
DEFAULT_REDIS_DB = 12
TERM_GRACE = 30.0
MIGRATE_TIMEOUT = 300.0


@dataclass(frozen=True)
class Measurement:
    name: str
    module: str
    what: str
    full_limit: float  # seconds
    quick_limit: float
    # Appended to --prefix for the bench's --database; None: the bench takes no such option.
    database: str | None = ""
    extra: tuple[str, ...] = ()


MEASUREMENTS = [
    Measurement("write", "bench.write_overhead", "write overhead of the feature flags", 600, 90),
    Measurement("fanout", "bench.ws_fanout", "one event to N sockets", 900, 120),
    Measurement("connections", "bench.ws_memory", "memory of idle sockets", 1200, 120),
    Measurement(
        "jobs", "bench.jobs_latency", "job state change to socket", 600, 120, extra=("broker",)
    ),
    Measurement("feeds", "bench.feeds", "activity and notification pages", 1500, 120, "_feeds"),
    Measurement("resume", "bench.resume", "replay of missed events", 600, 90),
    Measurement("http", "bench.http_load", "REST reads under load", 600, 90),
    Measurement("publish", "bench.publish_fanout", "publish notifying every user", 600, 90),
    # Written alongside (issue 8); run when present.
    Measurement("search", "bench.search", "episode search", 900, 120, database=None),
]


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--quick", action="store_true", help="smaller counts, never fails a goal")
    parser.add_argument("--only", default="", help="comma-separated measurement names")
    parser.add_argument("--list", action="store_true", help="list the measurements and exit")
    parser.add_argument(
        "--prefix",
        default=os.environ.get("BENCH_DATABASE_PREFIX", DEFAULT_PREFIX),
        help=f"prefix of the bench's PostgreSQL databases (default {DEFAULT_PREFIX})",
    )
    parser.add_argument(
        "--redis-db",
        type=int,
        default=int(os.environ.get("BENCH_REDIS_DB", DEFAULT_REDIS_DB)),
        help=f"the Redis database number the bench empties and uses (default {DEFAULT_REDIS_DB})",
    )
    args = parser.parse_args(argv)
    known = {m.name: m for m in MEASUREMENTS}
    names = [name for name in args.only.split(",") if name]
    unknown = [name for name in names if name not in known]
    if unknown:
        parser.error(f"unknown measurement {', '.join(unknown)}; known: {', '.join(known)}")
    args.selected = [known[name] for name in names] if names else list(MEASUREMENTS)
    if not args.prefix.replace("_", "").isalnum() or "bench" not in args.prefix:
        parser.error("--prefix must be letters, digits and _, and contain 'bench'")
    return args


def _environment(args: argparse.Namespace) -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("DATABASE_URL", DEFAULT_DATABASE_URL)
    env.setdefault("REDIS_URL", DEFAULT_REDIS_URL)
    # The benches read only the server parts: each names its own database and number.
    redis = urlsplit(env["REDIS_URL"])
    env["REDIS_URL"] = urlunsplit(redis._replace(path=f"/{args.redis_db}"))
    env["BENCH_DATABASE_PREFIX"] = args.prefix
    env["BENCH_REDIS_DB"] = str(args.redis_db)
    env.pop("DJANGO_SETTINGS_MODULE", None)
    return env


def _available(measurement: Measurement) -> bool:
    return importlib.util.find_spec(measurement.module) is not None


def _run_one(measurement: Measurement, args, env) -> tuple[list[Row], float]:
    limit = measurement.quick_limit if args.quick else measurement.full_limit
    argv = ["--quick"] if args.quick else []
    if measurement.database is not None:
        argv += ["--database", args.prefix + measurement.database]
        argv += ["--redis-db", str(args.redis_db)]
    if "broker" in measurement.extra:
        argv += ["--broker-redis-db", str(args.redis_db)]
    handle, out = tempfile.mkstemp(prefix=f"bench-{measurement.name}-", suffix=".json")
    os.close(handle)
    started = time.monotonic()
    sys.stderr.write(f"bench: {measurement.name} ({measurement.what}), at most {limit:.0f} s\n")
    sys.stderr.flush()
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "bench._child", measurement.module, out, *argv],
        cwd=ROOT,
        env=env,
        stdout=sys.stderr,
        start_new_session=True,
    )
    timed_out = False
    try:
        process.wait(timeout=limit)
    except subprocess.TimeoutExpired:
        timed_out = True
    finally:
        if process.poll() is None:
            _stop(process)
    seconds = time.monotonic() - started
    try:
        result = json.loads(Path(out).read_text() or "{}")
    except ValueError:
        result = {}
    finally:
        with contextlib.suppress(OSError):
            os.unlink(out)
    sys.stderr.write(f"bench: {measurement.name} done in {seconds:.0f} s\n")
    if timed_out:
        return [Row(measurement.name, f"stopped after its limit of {limit:.0f} s", "", ERROR)], (
            seconds
        )
    if "rows" not in result:
        reason = result.get("error") or f"exited with code {process.returncode}"
        return [Row(measurement.name, f"crashed: {reason}", "", ERROR)], seconds
    return [Row(*row) for row in result["rows"]], seconds


def _stop(process: subprocess.Popen) -> None:
    """SIGTERM first, so that the bench stops its servers; then its whole process group."""
    with contextlib.suppress(ProcessLookupError):
        process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=TERM_GRACE)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=TERM_GRACE)


def _migrate(args: argparse.Namespace, env: dict[str, str]) -> None:
    """Migrate the databases of the selected measurements once, side by side, up front."""
    names = set()
    for measurement in args.selected:
        if measurement.database == "":
            names.add(args.prefix)
        elif measurement.name == "feeds":
            from bench.feeds import database_names

            names.update(database_names(args.prefix + measurement.database, args.quick))
    base = urlsplit(env["DATABASE_URL"])
    processes = []
    for name in sorted(names):
        url = urlunsplit(base._replace(path=f"/{name}"))
        code = f"from bench._db import prepare_database; prepare_database({url!r})"
        processes.append(
            subprocess.Popen(  # noqa: S603 - our own interpreter
                [sys.executable, "-c", code], cwd=ROOT, env=env, stdout=sys.stderr
            )
        )
    for process in processes:
        if process.wait(timeout=MIGRATE_TIMEOUT) != 0:
            raise SystemExit("bench: a bench database could not be created or migrated")
    env["BENCH_MIGRATED"] = ",".join(sorted(names))


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    if args.list:
        for m in MEASUREMENTS:
            state = "" if _available(m) else "  (not present)"
            sys.stdout.write(f"{m.name:12} {m.what}{state}\n")
        return 0
    env = _environment(args)
    rows: list[Row] = []
    durations: list[str] = []
    started = time.monotonic()
    _migrate(args, env)
    durations.append(f"migrations {time.monotonic() - started:.0f} s")
    for measurement in args.selected:
        if not _available(measurement):
            rows.append(Row(measurement.name, f"not run: no {measurement.module} module"))
            continue
        try:
            found, seconds = _run_one(measurement, args, env)
        except KeyboardInterrupt:
            sys.stderr.write("bench: interrupted\n")
            return 130
        rows += found
        durations.append(f"{measurement.name} {seconds:.0f} s")
    total = time.monotonic() - started
    errors = any(row.result == ERROR for row in rows)
    failed = any(row.result == FAIL for row in rows)
    notes = [
        f"{'quick run: smaller counts, goals shown but not enforced' if args.quick else 'full run'}"
        f"; wall time {total:.0f} s ({', '.join(durations)})",
        f"machine: {os.cpu_count()} cores shared by servers, clients, PostgreSQL and Redis: "
        "absolute times are noisy, ratios and distributions from one run are the figures",
        f"databases {args.prefix}, {args.prefix}_feeds_* on {_server(env['DATABASE_URL'])}; "
        f"Redis database {args.redis_db} on {_server(env['REDIS_URL'])}",
    ]
    title = "Showdesk performance budget (DESIGN.md), measured by python -m bench"
    sys.stdout.write(render(rows, title, notes))
    if errors:
        return 1
    return 1 if failed and not args.quick else 0


def _server(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.hostname}:{parts.port or ''}".rstrip(":")


if __name__ == "__main__":
    sys.exit(main())

"""What the WebSocket benches share: their database and Redis, Django, server and client processes.

Each bench works in a PostgreSQL database of its own (created and migrated if missing, its
data flushed on every run) and a Redis database number of its own (flushed on every run),
on the servers that DATABASE_URL and REDIS_URL name. Servers and clients listen and connect
on 127.0.0.1 only.
"""

from __future__ import annotations

import collections
import contextlib
import json
import multiprocessing
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from bench import _ws_clients
from bench._db import prepare_database
from bench._table import Table, percentile  # noqa: F401 - the benches use them from here

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
BENCH_DATABASE = "showdesk_bench_ws"
BENCH_REDIS_DB = 12
SETTINGS_MODULE = "bench._ws_settings"
POSTGRES_SCHEMES = frozenset({"postgres", "postgresql", "pgsql", "psql"})
START_TIMEOUT = 30.0
STOP_TIMEOUT = 15.0
CLIENT_REPLY_TIMEOUT = 600.0
BENCH_SECRET_KEY = "bench-only-secret-key-" + "x" * 40
SESSION_BACKEND = "django.contrib.auth.backends.ModelBackend"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
_EXCEPTION_LINE = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception|Timeout)\b.*")


# --- services --------------------------------------------------------------------------------


def bench_urls(database: str, redis_db: int) -> tuple[str, str]:
    """DATABASE_URL and REDIS_URL with the bench's database name and number in them."""
    db_url = os.environ.get("DATABASE_URL", "")
    redis_url = os.environ.get("REDIS_URL", "")
    if not db_url or not redis_url:
        raise SystemExit("DATABASE_URL (PostgreSQL) and REDIS_URL are both required.")
    parts = urlsplit(db_url)
    if parts.scheme not in POSTGRES_SCHEMES:
        raise SystemExit(f"The bench runs on PostgreSQL only, not {parts.scheme!r}.")
    redis_parts = urlsplit(redis_url)
    if redis_parts.scheme not in {"redis", "rediss"}:
        raise SystemExit(f"REDIS_URL must be a redis:// URL, not {redis_parts.scheme!r}.")
    return (
        urlunsplit(parts._replace(path=f"/{database}")),
        urlunsplit(redis_parts._replace(path=f"/{redis_db}")),
    )


def prepare_services(db_url: str, redis_url: str) -> None:
    """Create the bench database if missing, migrate it, and empty the bench's Redis db."""
    import redis

    prepare_database(db_url, _base_env(db_url, redis_url))
    client = redis.Redis.from_url(redis_url)
    try:
        client.flushdb()
    finally:
        client.close()


def _base_env(db_url: str, redis_url: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE=SETTINGS_MODULE,
        DATABASE_URL=db_url,
        REDIS_URL=redis_url,
        LOG_LEVEL="WARNING",
    )
    return env


def setup_django(db_url: str, redis_url: str, *, relay_mode: str = "inline") -> None:
    """Django in this process, on the bench database; events published right after commit."""
    os.environ.update(_base_env(db_url, redis_url))
    os.environ["REALTIME_RELAY_MODE"] = relay_mode
    os.environ["DEBUG"] = "true"
    # Sessions are signed: the bench signs them with the servers' key.
    os.environ["SECRET_KEY"] = BENCH_SECRET_KEY
    import django

    django.setup()
    from django.conf import settings

    expected = urlsplit(db_url).path.lstrip("/")
    if settings.DATABASES["default"]["NAME"] != expected:
        raise SystemExit("Refusing to run: the settings do not point at the bench database.")


@dataclass(frozen=True)
class Seed:
    actor_id: int
    sessions: list[str]
    episode_ids: list[int]


def seed(*, users: int, episodes: int) -> Seed:
    """Flush the bench database; an editor, `users` viewers with a session each, episodes."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django.contrib.auth.models import Group
    from django.contrib.sessions.backends.db import SessionStore
    from django.contrib.sessions.models import Session
    from django.core.management import call_command
    from django.utils import timezone
    from django.utils.crypto import get_random_string

    from accounts.roles import ALL_ROLES, EDITORS, VIEWERS
    from episodes.models import Episode

    call_command("flush", verbosity=0, interactive=False)
    groups = {name: Group.objects.get_or_create(name=name)[0] for name in ALL_ROLES}
    user_model = get_user_model()
    membership = user_model.groups.through
    unusable = make_password(None)
    actor = user_model.objects.create(username="bench-editor", password=unusable)
    membership.objects.create(user_id=actor.pk, group_id=groups[EDITORS].pk)
    viewers = user_model.objects.bulk_create(
        user_model(username=f"bench-viewer-{n:05d}", password=unusable) for n in range(users)
    )
    membership.objects.bulk_create(
        membership(user_id=user.pk, group_id=groups[VIEWERS].pk) for user in viewers
    )
    expire = timezone.now() + timezone.timedelta(days=1)
    store = SessionStore()
    rows = [
        Session(
            session_key=get_random_string(32),
            session_data=store.encode(
                {
                    "_auth_user_id": str(user.pk),
                    "_auth_user_backend": SESSION_BACKEND,
                    "_auth_user_hash": user.get_session_auth_hash(),
                }
            ),
            expire_date=expire,
        )
        for user in viewers
    ]
    Session.objects.bulk_create(rows)
    made = Episode.objects.bulk_create(
        Episode(title=f"Bench episode {n}", episode_number=n, created_by=actor)
        for n in range(1, episodes + 1)
    )
    return Seed(actor.pk, [row.session_key for row in rows], [episode.pk for episode in made])


def redis_cpu_seconds(redis_url: str) -> float:
    """CPU used by the Redis server so far (all its clients, not only the bench)."""
    import redis

    client = redis.Redis.from_url(redis_url)
    try:
        info = client.info("cpu")
    finally:
        client.close()
    return float(info["used_cpu_sys"]) + float(info["used_cpu_user"])


# --- processes -------------------------------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    """User and system CPU of a process (all its threads) so far."""
    text = Path(f"/proc/{pid}/stat").read_text()
    fields = text[text.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")


def file_limit() -> tuple[int, int]:
    """`ulimit -n` of this process (soft, hard), after raising the soft limit to the hard."""
    return _ws_clients.raise_file_limit()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    kind: str
    port: int
    process: subprocess.Popen
    log: Path
    label: str = ""
    errors: collections.Counter[str] = field(default_factory=collections.Counter)

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def ws_url(self) -> str:
        return f"ws://{HOST}:{self.port}/ws/"

    @property
    def origin(self) -> str:
        return f"http://{HOST}:{self.port}"

    def rss_kib(self) -> int:
        return rss_kib(self.pid)

    def cpu_seconds(self) -> float:
        return cpu_seconds(self.pid)

    def alive(self) -> bool:
        return self.process.poll() is None

    def read_errors(self) -> None:
        """Count the exceptions (the last line of each traceback) and warnings logged."""
        try:
            lines = self.log.read_text(errors="replace").splitlines()
        except OSError:
            return
        for line in lines:
            if _EXCEPTION_LINE.match(line):
                self.errors[line[:160]] += 1
            elif line.startswith("{") and '"level": "warning"' in line:
                # A load tool closing its connections at the end of a run, not a failure.
                if '"request_cancelled"' in line:
                    continue
                try:
                    record = json.loads(line)
                except ValueError:
                    continue
                self.errors[f"warning {record.get('event')} ({record.get('logger')})"] += 1
            elif line.startswith("{") and '"level": "error"' in line:
                # A structured (JSON) log line: daphne reports application errors this way.
                try:
                    record = json.loads(line)
                except ValueError:
                    continue
                text = str(record.get("exception") or record.get("event") or "")
                last = next((part for part in reversed(text.splitlines()) if part.strip()), "")
                # Tasks still pending when the server is stopped: shutdown, not a failure.
                if last and "Task was destroyed but it is pending" not in text:
                    self.errors[last.strip()[:160]] += 1

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


PROJECT_APP = "config.asgi:application"
# The same application with RealtimeConsumer.dispatch skipping channels' per-message
# close_old_connections round trip (bench/_ws_asgi.py).
PATCHED_APP = "bench._ws_asgi:application"


def _override(app: str) -> str:
    """BENCH_SERVER_APP=module:attribute serves that application instead of the project's,
    to measure a change (as bench/_ws_asgi.py does) in every bench without editing each."""
    if app == PROJECT_APP:
        return os.environ.get("BENCH_SERVER_APP") or app
    return app


def server_command(kind: str, port: int, *, deflate: bool = True, app: str = PROJECT_APP):
    if kind == "uvicorn":
        return [
            sys.executable,
            "-m",
            "uvicorn",
            app,
            "--host",
            HOST,
            "--port",
            str(port),
            "--no-access-log",
            "--ws-per-message-deflate",
            "true" if deflate else "false",
        ]
    if kind == "daphne":
        return [
            sys.executable,
            "-m",
            "daphne",
            "-b",
            HOST,
            "-p",
            str(port),
            app,
        ]
    raise ValueError(f"unknown server {kind!r}")


def _wait_ready(server: Server) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if not server.alive():
            raise RuntimeError(f"the {server.kind} server exited:\n{server.log_tail()}")
        try:
            with urllib.request.urlopen(f"{server.origin}/healthz", timeout=1) as response:  # noqa: S310
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"the {server.kind} server did not answer /healthz:\n{server.log_tail()}")


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=STOP_TIMEOUT)


@contextlib.contextmanager
def run_server(
    kind: str,
    db_url: str,
    redis_url: str,
    *,
    layer: str = "core",
    debug: bool = False,
    relay_mode: str = "thread",
    deflate: bool = True,
    extra_env: dict[str, str] | None = None,
    label: str = "",
    app: str = PROJECT_APP,
) -> Iterator[Server]:
    """One ASGI server process on 127.0.0.1, in a process group of its own, stopped on exit.

    DEBUG=false is the production configuration (SECRET_KEY, ALLOWED_HOSTS=127.0.0.1); the
    same SECRET_KEY either way, as the bench signs the sessions the sockets present.
    """
    env = _base_env(db_url, redis_url)
    env.update(
        CHANNEL_LAYER=layer,
        REALTIME_RELAY_MODE=relay_mode,
        DEBUG="true" if debug else "false",
        ALLOWED_HOSTS=HOST,
    )
    env["SECRET_KEY"] = BENCH_SECRET_KEY
    env.update(extra_env or {})
    port = _free_port()
    log = Path(tempfile.mkstemp(prefix=f"bench-ws-{kind}-", suffix=".log")[1])
    with log.open("wb") as out:
        process = subprocess.Popen(  # noqa: S603
            server_command(kind, port, deflate=deflate, app=_override(app)),
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = Server(kind, port, process, log, label or kind)
    try:
        _wait_ready(server)
        yield server
    finally:
        _stop(process)
        server.read_errors()
        if os.environ.get("BENCH_KEEP_LOGS"):
            sys.stderr.write(f"server log kept: {log}\n")
        else:
            with contextlib.suppress(OSError):
                log.unlink()


class ClientPool:
    """Client processes (spawned: no Django, no inherited loop), each with its own sockets."""

    def __init__(self, processes: int) -> None:
        context = multiprocessing.get_context("spawn")
        self.pipes = []
        self.processes = []
        for index in range(processes):
            parent, child = context.Pipe()
            process = context.Process(target=_ws_clients.worker, args=(child, index), daemon=True)
            process.start()
            child.close()
            self.pipes.append(parent)
            self.processes.append(process)

    def __enter__(self) -> ClientPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def ask_each(self, commands: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """One command per process, all at once; their replies in order."""
        for pipe, command in zip(self.pipes, commands, strict=True):
            pipe.send(command)
        replies = []
        for pipe, process in zip(self.pipes, self.processes, strict=True):
            if not pipe.poll(CLIENT_REPLY_TIMEOUT):
                raise RuntimeError(f"client process {process.pid} did not answer")
            reply = pipe.recv()
            if "error" in reply:
                raise RuntimeError(f"client process {process.pid}: {reply['error']}")
            replies.append(reply)
        return replies

    def ask_all(self, cmd: str, **args: Any) -> list[dict[str, Any]]:
        return self.ask_each([{"cmd": cmd, **args} for _ in self.pipes])

    def open(
        self,
        specs: list[dict[str, Any]],
        *,
        concurrency: int,
        compression: bool,
        keep_events: bool = True,
    ) -> dict[str, Any]:
        """Open the sockets, dealt round robin; totals of the replies."""
        shares: list[list[dict[str, Any]]] = [[] for _ in self.pipes]
        for index, spec in enumerate(specs):
            shares[index % len(shares)].append(spec)
        replies = self.ask_each(
            [
                {
                    "cmd": "open",
                    "specs": share,
                    "concurrency": concurrency,
                    "compression": compression,
                    "timeout": 60.0,
                    "keep_events": keep_events,
                }
                for share in shares
            ]
        )
        errors: dict[str, int] = {}
        for reply in replies:
            for text, count in reply["errors"].items():
                errors[text] = errors.get(text, 0) + count
        return {
            "opened": sum(reply["opened"] for reply in replies),
            "failed": sum(reply["failed"] for reply in replies),
            "errors": errors,
            "open_seconds": [s for reply in replies for s in reply["open_seconds"]],
        }

    def cpu_seconds(self) -> float:
        total = 0.0
        for process in self.processes:
            with contextlib.suppress(OSError):
                total += cpu_seconds(process.pid)
        return total

    def rss_kib(self) -> int:
        total = 0
        for process in self.processes:
            with contextlib.suppress(OSError, RuntimeError):
                total += rss_kib(process.pid)
        return total

    def stop(self) -> None:
        for pipe, process in zip(self.pipes, self.processes, strict=True):
            if process.is_alive():
                with contextlib.suppress(OSError):
                    pipe.send({"cmd": "stop"})
        for pipe, process in zip(self.pipes, self.processes, strict=True):
            with contextlib.suppress(OSError, EOFError):
                if pipe.poll(30):
                    pipe.recv()
            process.join(timeout=5)
            if process.is_alive():
                process.kill()
                process.join(timeout=5)
            pipe.close()


def socket_specs(
    server: Server, sessions: list[str], count: int, subscribe, *, first_key: int = 0, tag: str = ""
) -> list[dict[str, Any]]:
    """`count` socket specs for `server`; socket k uses session k mod len(sessions).

    `subscribe(k)` gives the streams socket k subscribes to.
    """
    return [
        {
            "key": key,
            "url": server.ws_url,
            "origin": server.origin,
            "session": sessions[key % len(sessions)],
            "tag": tag or server.label,
            "subscribe": subscribe(key),
        }
        for key in range(first_key, first_key + count)
    ]


# --- figures and the table -------------------------------------------------------------------


def error_summary(errors: dict[str, int]) -> str:
    """`12 x MaxConnectionsError: Too many connections; ...`, most frequent first."""
    parts = []
    for line, count in sorted(errors.items(), key=lambda item: -item[1]):
        name, _, message = line.partition(":")
        if " " not in name:
            name = name.rsplit(".", 1)[-1]
        parts.append(f"{count} x {name}" + (f":{message[:45]}" if message else ""))
    return "; ".join(parts) or "none"


def machine_note() -> str:
    cores = os.cpu_count()
    soft, hard = file_limit()
    return (
        f"machine: {cores} cores shared by the server, the client processes, Redis and "
        f"PostgreSQL; ulimit -n {soft} (hard {hard})"
    )

"""Bench: one event to N sockets subscribed to `episodes` on one server process, per layer.

    DATABASE_URL=postgres://... REDIS_URL=redis://... python -m bench.ws_fanout [--quick]

One server process per channel layer (core and pubsub), each with the same N sockets, run
side by side. The bench updates an episode through `episode_update` and publishes right
after commit (inline relay), alternating the layer it publishes on, one event every
`--spacing` seconds; clients note the time each `episode_updated` frame arrives. Latency is
receipt minus commit. Goal (DESIGN.md): p99 under 250 ms at 2,000 sockets.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import time
from dataclasses import dataclass, field

from bench import _ws_setup as ws
from bench._table import Row, verdict

GOAL_SECONDS = 0.250
GOAL_SOCKETS = 2_000
DRAIN_SECONDS = 90.0
STALL_SECONDS = 3.0
MAX_SOCKETS = 5_000
MAX_EVENTS = 200
LAYER_CLASSES = {
    "core": "channels_redis.core.RedisChannelLayer",
    "pubsub": "channels_redis.pubsub.RedisPubSubChannelLayer",
}


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.ws_fanout", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="500 sockets, fewer events")
    parser.add_argument("--sizes", default="", help="cumulative socket counts, e.g. 500,2000")
    parser.add_argument("--events", type=int, default=0, help="events per layer and size (30)")
    parser.add_argument("--spacing", type=float, default=0.2, help="seconds between events")
    parser.add_argument(
        "--isolated",
        type=int,
        default=-1,
        help="then this many events per layer spaced --isolated-spacing apart (default 5, 3)",
    )
    parser.add_argument("--isolated-spacing", type=float, default=2.0)
    parser.add_argument(
        "--patched-dispatch",
        action="store_true",
        help="servers run bench/_ws_asgi.py: no close_old_connections round trip per message",
    )
    parser.add_argument("--layers", default="core,pubsub")
    parser.add_argument("--server", choices=["uvicorn", "daphne"], default="uvicorn")
    parser.add_argument("--clients", type=int, default=2, help="client processes")
    parser.add_argument("--concurrency", type=int, default=20, help="opening at once, each")
    parser.add_argument("--users", type=int, default=100, help="viewers the sockets log in as")
    parser.add_argument("--no-deflate", action="store_true", help="clients offer no compression")
    parser.add_argument("--debug", action="store_true", help="servers with DEBUG=true")
    parser.add_argument("--conn-max-age", default="60", help="the servers' CONN_MAX_AGE")
    parser.add_argument(
        "--redis-fix",
        action="store_true",
        help="give the layer's Redis client socket_timeout=10 and an unbounded pool",
    )
    parser.add_argument("--database", default=ws.BENCH_DATABASE)
    parser.add_argument("--redis-db", type=int, default=ws.BENCH_REDIS_DB)
    args = parser.parse_args(argv)
    if not args.sizes:
        args.sizes = "500" if args.quick else "500,2000"
    args.events = args.events or (15 if args.quick else 30)
    if args.isolated < 0:
        args.isolated = 2 if args.quick else 5
    args.sizes = sorted({int(size) for size in args.sizes.split(",")})
    if not 1 <= args.sizes[0] <= args.sizes[-1] <= MAX_SOCKETS:
        parser.error(f"sizes must be between 1 and {MAX_SOCKETS}")
    if not 1 <= args.events <= MAX_EVENTS:
        parser.error(f"events must be between 1 and {MAX_EVENTS}")
    args.layers = [name for name in args.layers.split(",") if name]
    if not args.layers or any(name not in LAYER_CLASSES for name in args.layers):
        parser.error(f"layers are among {', '.join(LAYER_CLASSES)}")
    return args


def _layer(name: str):
    """The layer the servers run with CHANNEL_LAYER=name, as config/settings.py builds it."""
    from django.conf import settings
    from django.utils.module_loading import import_string

    config = {
        key: value
        for key, value in settings.CHANNEL_LAYERS["default"]["CONFIG"].items()
        if key != "capacity"
    }
    if name == "core":
        config["capacity"] = 1000
    return import_string(LAYER_CLASSES[name])(**config)


@dataclass
class Sent:
    layer: str
    size: int
    title: str
    committed: float = 0.0
    published: float = 0.0


@dataclass
class Figures:
    layer: str
    size: int
    kind: str
    last: list[float] = field(default_factory=list)
    first: list[float] = field(default_factory=list)
    each: list[float] = field(default_factory=list)
    publish: list[float] = field(default_factory=list)
    delivered: int = 0
    expected: int = 0
    server_cpu: float = 0.0
    lost: int = 0


def _publish(sent: Sent, episode, actor) -> None:
    from django.db import transaction

    from common.actor import acting_as
    from episodes import services

    def committed() -> None:
        sent.committed = time.time()

    with acting_as(actor), transaction.atomic():
        # Registered first, so it runs before the relay's own commit hook publishes.
        transaction.on_commit(committed)
        services.episode_update(episode=episode, actor=actor, title=sent.title)
    sent.published = time.time()


def _drain(pool: ws.ClientPool, expected: int) -> None:
    """Wait until every expected frame arrived, or none arrived for STALL_SECONDS."""
    deadline = time.monotonic() + DRAIN_SECONDS
    seen, progress = -1, time.monotonic()
    while time.monotonic() < deadline:
        count = sum(item["events"] for item in pool.ask_all("status"))
        if count >= expected:
            return
        if count != seen:
            seen, progress = count, time.monotonic()
        elif time.monotonic() - progress > STALL_SECONDS:
            return
        time.sleep(0.2)


def _burst(args, kind, size, count, spacing, pool, servers, layers, episode, actor):
    """`count` events per layer, `spacing` apart, layers alternating; their figures."""
    from channels.layers import channel_layers

    pool.ask_all("collect", event="", stream="", clear=True)
    before = _closed_by_tag(pool)
    cpu = {name: server.cpu_seconds() for name, server in servers.items()}
    clients_cpu = pool.cpu_seconds()
    phase_start = time.monotonic()
    sent: list[Sent] = []
    slot = time.monotonic()
    for k in range(count):
        order = args.layers if k % 2 == 0 else list(reversed(args.layers))
        for name in order:
            channel_layers.set("default", layers[name])
            item = Sent(name, size, f"fanout {kind} {name} {size} #{k}")
            _publish(item, episode, actor)
            sent.append(item)
            slot += spacing
            time.sleep(max(0.0, slot - time.monotonic()))
    live = sum(size - before.get(name, 0) for name in args.layers)
    _drain(pool, live * count)
    phase = time.monotonic() - phase_start
    cpu = {name: servers[name].cpu_seconds() - cpu[name] for name in servers}
    clients_share = (pool.cpu_seconds() - clients_cpu) / phase
    found = [
        row
        for reply in pool.ask_all("collect", event="episode_updated", stream="episodes", clear=True)
        for row in reply["found"]
    ]
    figures = _figures(args, kind, size, sent, found, cpu, _closed_by_tag(pool))
    return figures, clients_share


def _run(args: argparse.Namespace, urls: tuple[str, str]) -> tuple[list[Figures], dict]:
    from django.contrib.auth import get_user_model

    from episodes.models import Episode

    seed = ws.seed(users=args.users, episodes=1)
    actor = get_user_model().objects.get(pk=seed.actor_id)
    episode = Episode.objects.get(pk=seed.episode_ids[0])
    layers = {name: _layer(name) for name in args.layers}
    extra = {"CONN_MAX_AGE": str(args.conn_max_age)}
    results: list[Figures] = []
    info: dict = {"open_rates": [], "clients_cpu": []}
    with ws.ClientPool(args.clients) as pool, _servers(args, urls, extra) as servers:
        opened = 0
        for size in args.sizes:
            specs = []
            for server in servers.values():
                specs += ws.socket_specs(
                    server, seed.sessions, size - opened, _episodes_only, first_key=opened
                )
            started = time.monotonic()
            reply = pool.open(
                specs,
                concurrency=args.concurrency,
                compression=not args.no_deflate,
                keep_events=True,
            )
            info["open_rates"].append(
                (len(specs), reply["failed"], len(specs) / (time.monotonic() - started))
            )
            if reply["failed"]:
                info.setdefault("open_errors", {}).update(reply["errors"])
            opened = size
            time.sleep(1.0)
            common = (pool, servers, layers, episode, actor)
            figures, share = _burst(args, "sustained", size, args.events, args.spacing, *common)
            results += figures
            info["clients_cpu"].append(share)
            if args.isolated:
                figures, _ = _burst(
                    args, "isolated", size, args.isolated, args.isolated_spacing, *common
                )
                results += figures
    info["server_errors"] = {name: dict(server.errors) for name, server in servers.items()}
    return results, info


def _episodes_only(_key: int) -> list[str]:
    return ["episodes"]


class _servers:
    """One server process per layer, started side by side, all stopped on exit."""

    def __init__(self, args: argparse.Namespace, urls: tuple[str, str], extra: dict) -> None:
        self.args = args
        self.urls = urls
        self.extra = extra
        self.stack = None
        self.servers: dict[str, ws.Server] = {}

    def __enter__(self) -> dict[str, ws.Server]:
        self.stack = contextlib.ExitStack()
        try:
            for name in self.args.layers:
                self.servers[name] = self.stack.enter_context(
                    ws.run_server(
                        self.args.server,
                        *self.urls,
                        layer=name,
                        debug=self.args.debug,
                        relay_mode="command",
                        deflate=not self.args.no_deflate,
                        extra_env=self.extra,
                        label=name,
                        app=ws.PATCHED_APP if self.args.patched_dispatch else ws.PROJECT_APP,
                    )
                )
        except BaseException:
            self.stack.close()
            raise
        return self.servers

    def __exit__(self, *exc: object) -> None:
        self.stack.close()


def _closed_by_tag(pool: ws.ClientPool) -> dict[str, int]:
    closed: dict[str, int] = {}
    for item in pool.ask_all("status"):
        for tag, count in item["closed_by_tag"].items():
            closed[tag] = closed.get(tag, 0) + count
    return closed


def _figures(args, kind, size, sent, found, cpu, closed) -> list[Figures]:
    by_title: dict[str, list[float]] = {}
    for _tag, _key, title, received in found:
        by_title.setdefault(title, []).append(received)
    out = []
    for name in args.layers:
        figures = Figures(name, size, kind)
        for item in sent:
            if item.layer != name:
                continue
            receipts = by_title.get(item.title, [])
            figures.publish.append(item.published - item.committed)
            figures.expected += size
            figures.delivered += len(receipts)
            if receipts:
                figures.last.append(max(receipts) - item.committed)
                figures.first.append(min(receipts) - item.committed)
                figures.each += [received - item.committed for received in receipts]
        figures.server_cpu = cpu[name]
        figures.lost = closed.get(name, 0)
        out.append(figures)
    return out


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:,.0f}"


def _report(table: ws.Table, results: list[Figures], info: dict, args) -> None:
    groups: dict[tuple[int, str], dict[str, Figures]] = {}
    for figures in results:
        groups.setdefault((figures.size, figures.kind), {})[figures.layer] = figures
    for (size, kind), layers in groups.items():
        spacing = args.spacing if kind == "sustained" else args.isolated_spacing
        for name, figures in layers.items():
            p99 = ws.percentile(figures.last, 99)
            is_goal = size >= GOAL_SOCKETS
            table.add(
                f"{size:,} sockets, {name}, {kind} (one event per "
                f"{spacing * len(layers):g} s): commit to last socket p50 / p99",
                f"{_ms(ws.percentile(figures.last, 50))} / {_ms(p99)} ms "
                f"({len(figures.last)} events)",
                f"p99 < {_ms(GOAL_SECONDS)} ms at {GOAL_SOCKETS:,}" if is_goal else "",
                (p99 < GOAL_SECONDS and figures.delivered == figures.expected) if is_goal else None,
            )
            table.add(
                "  each socket: p50 / p90 / p99 / max",
                " / ".join(_ms(ws.percentile(figures.each, q)) for q in (50, 90, 99, 100)) + " ms",
            )
            table.add(
                "  commit to first socket p50; commit to publish done p50",
                f"{_ms(ws.percentile(figures.first, 50))} ms; "
                f"{_ms(ws.percentile(figures.publish, 50))} ms",
            )
            table.add(
                "  frames delivered / expected; sockets the server closed",
                f"{figures.delivered:,} / {figures.expected:,}; {figures.lost}",
                "all delivered",
                figures.delivered == figures.expected,
            )
            events = max(len(figures.publish), 1)
            per_event = figures.server_cpu / events
            table.add(
                "  server CPU per event (fan-out to every socket)",
                f"{per_event * 1000:,.1f} ms ({per_event / size * 1e6:,.0f} µs per socket)",
            )
        if "core" in layers and "pubsub" in layers:
            core, pubsub = layers["core"], layers["pubsub"]
            ratio99 = ws.percentile(core.last, 99) / ws.percentile(pubsub.last, 99)
            ratio50 = ws.percentile(core.last, 50) / ws.percentile(pubsub.last, 50)
            table.add(
                f"{size:,} sockets, {kind}: core / pubsub, last-socket p50 and p99",
                f"{ratio50:.2f}x and {ratio99:.2f}x",
            )
    rates = "; ".join(
        f"{count:,} at {rate:,.0f}/s" + (f" ({failed} failed)" if failed else "")
        for count, failed, rate in info["open_rates"]
    )
    table.add("sockets opened (all servers)", rates)
    if info.get("open_errors"):
        table.add("open errors", "; ".join(f"{n}x {e}" for e, n in info["open_errors"].items()))
    cpu = ", ".join(f"{share * 100:.0f}%" for share in info.get("clients_cpu", []))
    table.add("client processes' CPU during the sustained events (of one core)", cpu)
    for name, errors in info["server_errors"].items():
        table.add(
            f"exceptions and warnings in the {name} server log",
            ws.error_summary(errors),
        )


def _measure(args: argparse.Namespace) -> tuple[list[Figures], dict]:
    if args.redis_fix:
        os.environ["BENCH_REDIS_CLIENT_FIX"] = "1"
    urls = ws.bench_urls(args.database, args.redis_db)
    ws.file_limit()
    ws.prepare_services(*urls)
    ws.setup_django(*urls, relay_mode="inline")
    started = time.monotonic()
    results, info = _run(args, urls)
    info["seconds"] = time.monotonic() - started
    return results, info


def rows(argv: list[str] | None = None) -> list[Row]:
    """The summary for `python -m bench`: the project's layer (pubsub) and server flags.

    Judged: events one every 0.5 s, each fan-out finished before the next (at 2,000 sockets
    it takes about 0.2 s of server CPU). Shown too: one every 0.2 s, past what one process
    fans out on this machine, where events queue behind each other.
    """
    quick = "--quick" in (argv or [])
    counts = ["--events", "10", "--isolated", "6"] if quick else ["--isolated", "30"]
    fixed = ["--layers", "pubsub", "--no-deflate", "--spacing", "0.2", "--isolated-spacing", "0.5"]
    args = _arguments([*fixed, *counts, *(argv or [])])
    results, info = _measure(args)
    out = []
    for figures in sorted(results, key=lambda f: (f.size, f.kind != "isolated")):
        judged = figures.kind == "isolated"
        spacing = args.isolated_spacing if judged else args.spacing
        p99 = ws.percentile(figures.last, 99)
        all_there = figures.delivered == figures.expected
        events = max(len(figures.publish), 1)
        per_socket = figures.server_cpu / events / figures.size
        if judged and figures.size >= GOAL_SOCKETS:
            goal = f"p99 < {_ms(GOAL_SECONDS)} ms, all delivered"
            result = "" if args.quick else verdict(p99 < GOAL_SECONDS and all_there)
        else:
            goal, result = "all delivered", verdict(all_there)
        out.append(
            Row(
                f"fan-out: {figures.size:,} sockets, one event per {spacing:g} s"
                f"{'' if judged else ' (overload)'}, commit to last socket p50 / p99",
                f"{_ms(ws.percentile(figures.last, 50))} / {_ms(p99)} ms ({len(figures.last)} "
                f"events; {figures.delivered:,}/{figures.expected:,} frames; server CPU "
                f"{per_socket * 1e6:,.0f} µs per socket per event)",
                goal,
                result,
            )
        )
    errors = info["server_errors"].get("pubsub", {})
    if errors:
        out.append(Row("fan-out: exceptions in the server log", ws.error_summary(errors)))
    return out


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    results, info = _measure(args)
    table = ws.Table(
        f"ws_fanout: episode_updated to N sockets on `episodes`, one {args.server} process "
        f"per layer ({', '.join(args.layers)}), layers interleaved"
    )
    _report(table, results, info, args)
    table.notes += [
        ws.machine_note() + f"; {args.clients} client processes",
        f"sustained: {args.events} events per layer and size, one every {args.spacing:g} s "
        f"alternating layers; isolated: {args.isolated} per layer, one every "
        f"{args.isolated_spacing:g} s; latency is the client's time.time() at receipt minus "
        "the bench's at commit (same machine); a server short of CPU queues the events",
        "the bench publishes (inline relay, as REALTIME_RELAY_MODE=inline); servers run "
        "REALTIME_RELAY_MODE=command so that no server relay publishes on the other layer",
        "servers run "
        + (
            "bench/_ws_asgi.py (dispatch without close_old_connections)"
            if args.patched_dispatch
            else "the project's config.asgi"
        )
        + f"; DEBUG={'true' if args.debug else 'false'}, CONN_MAX_AGE={args.conn_max_age}, "
        f"permessage-deflate {'off' if args.no_deflate else 'on (clients offer it)'}; "
        "layer Redis client: "
        + (
            "socket_timeout=10, unbounded pool (--redis-fix)"
            if args.redis_fix
            else "the project's (redis-py 8 defaults)"
        ),
        f"wall time {info['seconds']:,.0f} s",
    ]
    sys.stdout.write(table.render())
    return 1 if table.failed else 0


if __name__ == "__main__":
    sys.exit(main())

"""Bench: resident memory of one server process holding many idle, authenticated sockets.

    DATABASE_URL=postgres://... REDIS_URL=redis://... python -m bench.ws_memory [--quick]

Each socket (a session cookie, as the browser client sends it) subscribes to `episodes`,
`episode:<id>` and `activity`, then stays idle (presence kept by a long socket TTL rather
than heartbeats, which cost CPU and not memory). The server's VmRSS is read from /proc
before and after each step. Goal (DESIGN.md): 10,000 open connections fit in one process
under 1 GiB.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import dataclass

from bench import _ws_setup as ws
from bench._table import Row, verdict

GOAL_KIB = 1024 * 1024
GOAL_SOCKETS = 10_000
IDLE_PRESENCE_TTL = "3600"
SETTLE_MAX_SECONDS = 20.0
MAX_SOCKETS = 16_000


@dataclass(frozen=True)
class Variant:
    """One server configuration: a channel layer, permessage-deflate, DEBUG."""

    layer: str = "core"
    deflate: bool = True
    debug: bool = False

    def describe(self) -> str:
        return (
            f"uvicorn, {self.layer} layer, permessage-deflate {'on' if self.deflate else 'off'}, "
            f"DEBUG={'true' if self.debug else 'false'}"
        )


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.ws_memory", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="1,000 sockets, no variants")
    parser.add_argument("--steps", default="", help="cumulative socket counts, e.g. 1000,10000")
    parser.add_argument("--clients", type=int, default=2, help="client processes")
    parser.add_argument("--per-episode", type=int, default=10, help="sockets per episode")
    parser.add_argument("--per-user", type=int, default=4, help="sockets per user (tabs)")
    parser.add_argument("--layer", choices=["core", "pubsub"], default="pubsub")
    parser.add_argument(
        "--no-deflate",
        action="store_true",
        help="the server refuses permessage-deflate, as bin/serve and the Dockerfile run it",
    )
    parser.add_argument(
        "--conn-max-age",
        default="60",
        help="the servers' CONN_MAX_AGE (used only with DATABASE_POOL_MAX_SIZE=0)",
    )
    parser.add_argument(
        "--concurrency",
        type=int,
        default=20,
        help="sockets each client process opens at once",
    )
    parser.add_argument(
        "--redis-fix",
        action="store_true",
        help="give the layer's Redis client socket_timeout=10 and an unbounded pool",
    )
    parser.add_argument(
        "--heartbeat",
        type=float,
        default=0.0,
        help="seconds between heartbeats of each socket; 0 (the default): none, and the "
        f"server's PRESENCE_SOCKET_TTL is raised to {IDLE_PRESENCE_TTL} s so that the "
        "sockets stay viewers (heartbeats cost CPU, not memory: see bench.ws_frames)",
    )
    parser.add_argument("--no-variants", action="store_true")
    parser.add_argument("--skip-closing", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument(
        "--variant-sockets",
        type=int,
        default=500,
        help="sockets of each comparison (other layer, no permessage-deflate, DEBUG=true)",
    )
    parser.add_argument("--database", default=ws.BENCH_DATABASE)
    parser.add_argument("--redis-db", type=int, default=ws.BENCH_REDIS_DB)
    args = parser.parse_args(argv)
    if not args.steps:
        args.steps = "1000" if args.quick else "1000,10000"
    args.steps = sorted({int(step) for step in args.steps.split(",")})
    if not 1 <= args.steps[0] <= args.steps[-1] <= MAX_SOCKETS:
        parser.error(f"steps must be between 1 and {MAX_SOCKETS}")
    if args.quick:
        args.no_variants = True
    return args


def _settle(server: ws.Server) -> float:
    """Wait until the server is idle (its viewer events relayed); return the wait."""
    start = time.monotonic()
    before = server.cpu_seconds()
    while time.monotonic() - start < SETTLE_MAX_SECONDS:
        time.sleep(1.0)
        now = server.cpu_seconds()
        if now - before < 0.1:
            break
        before = now
    return time.monotonic() - start


def _subscriptions(episode_ids: list[int], per_episode: int):
    def subscribe(key: int) -> list[str]:
        episode = episode_ids[(key // per_episode) % len(episode_ids)]
        return ["episodes", f"episode:{episode}", "activity"]

    return subscribe


@dataclass
class Step:
    sockets: int
    opened: int
    failed: int
    errors: dict[str, int]
    rss_kib: int
    open_seconds: float
    open_p50: float
    open_p99: float
    server_cpu: float


def _run_variant(
    args: argparse.Namespace, variant: Variant, steps: list[int], seed: ws.Seed, urls
) -> dict:
    db_url, redis_url = urls
    subscribe = _subscriptions(seed.episode_ids, args.per_episode)
    results: dict = {"steps": [], "variant": variant}
    extra = {"CONN_MAX_AGE": str(args.conn_max_age)}
    if not args.heartbeat:
        extra["PRESENCE_SOCKET_TTL"] = IDLE_PRESENCE_TTL
    with (
        ws.ClientPool(args.clients) as pool,
        ws.run_server(
            "uvicorn",
            db_url,
            redis_url,
            layer=variant.layer,
            debug=variant.debug,
            deflate=variant.deflate,
            extra_env=extra,
        ) as server,
    ):
        results["rss_start"] = server.rss_kib()
        # Warm up: the first socket loads the modules, pools and the sweeper every socket shares.
        warm = ws.socket_specs(server, seed.sessions, 1, subscribe, first_key=10**6)
        pool.ask_each(
            [
                {
                    "cmd": "open",
                    "specs": warm,
                    "concurrency": 1,
                    "compression": variant.deflate,
                    "timeout": 30.0,
                    "keep_events": False,
                },
                *[{"cmd": "status"} for _ in range(args.clients - 1)],
            ]
        )
        pool.ask_all("close")
        _settle(server)
        results["rss_base"] = server.rss_kib()
        redis_before = _redis_used_memory(redis_url)
        if args.heartbeat:
            pool.ask_all("keepalive", interval=args.heartbeat)
        opened_so_far = 0
        for target in steps:
            specs = ws.socket_specs(
                server, seed.sessions, target - opened_so_far, subscribe, first_key=opened_so_far
            )
            cpu_before = server.cpu_seconds()
            started = time.monotonic()
            reply = pool.open(
                specs, concurrency=args.concurrency, compression=variant.deflate, keep_events=False
            )
            seconds = time.monotonic() - started
            cpu = server.cpu_seconds() - cpu_before
            _settle(server)
            opened_so_far = target
            results["steps"].append(
                Step(
                    sockets=target,
                    opened=reply["opened"],
                    failed=reply["failed"],
                    errors=reply["errors"],
                    rss_kib=server.rss_kib(),
                    open_seconds=seconds,
                    open_p50=ws.percentile(reply["open_seconds"], 50),
                    open_p99=ws.percentile(reply["open_seconds"], 99),
                    server_cpu=cpu,
                )
            )
        status = pool.ask_all("status")
        results["open_now"] = sum(item["open"] for item in status)
        results["closed_by_server"] = {}
        for item in status:
            for code, count in item["closed"].items():
                results["closed_by_server"][code] = results["closed_by_server"].get(code, 0) + count
        results["heartbeat_failures"] = sum(sum(item["failures"].values()) for item in status)
        results["events"] = sum(item["events"] for item in status)
        results["redis_growth"] = _redis_used_memory(redis_url) - redis_before
        results["client_rss"] = pool.rss_kib()
        if not args.skip_closing:
            pool.ask_all("close")
            _settle(server)
            results["rss_closed"] = server.rss_kib()
    results["server_errors"] = dict(server.errors)
    return results


def _redis_used_memory(redis_url: str) -> int:
    import redis

    client = redis.Redis.from_url(redis_url)
    try:
        return int(client.info("memory")["used_memory"])
    finally:
        client.close()


def _mib(kib: float) -> str:
    return f"{kib / 1024:,.1f} MiB"


def _report(table: ws.Table, main: dict, variants: list[dict], args: argparse.Namespace) -> None:
    base = main["rss_base"]
    table.add("server RSS at start", _mib(main["rss_start"]))
    table.add("server RSS after one warm-up socket (the baseline)", _mib(base))
    for step in main["steps"]:
        sockets = step.sockets
        grown = step.rss_kib - base
        per = grown / sockets
        is_goal = step.sockets >= 10_000
        table.add(
            f"server RSS with {sockets:,} sockets",
            f"{_mib(step.rss_kib)} (+{_mib(grown)})",
            "< 1 GiB at 10,000" if is_goal else "",
            step.rss_kib < GOAL_KIB if is_goal else None,
        )
        table.add(f"  per socket, {sockets:,} sockets", f"{per:,.1f} KiB")
        if step.sockets < 10_000 and step is main["steps"][-1]:
            projected = base + per * 10_000
            table.add(
                "  projected RSS at 10,000 (linear)",
                _mib(projected),
                "< 1 GiB at 10,000",
                projected < GOAL_KIB,
            )
        rate = (step.opened + step.failed) / step.open_seconds if step.open_seconds else 0
        table.add(
            "  opening this step: opened / failed",
            f"{step.opened:,} / {step.failed:,}"
            + (
                f" ({'; '.join(f'{n}x {e}' for e, n in step.errors.items())})"
                if step.errors
                else ""
            ),
        )
        table.add(
            "  opening: sockets/s; per socket p50 / p99",
            f"{rate:,.0f}/s; {step.open_p50 * 1000:,.0f} / {step.open_p99 * 1000:,.0f} ms",
        )
        opened = max(step.opened, 1)
        table.add("  opening: server CPU per socket", f"{step.server_cpu / opened * 1000:.1f} ms")
    table.add("server RSS after closing every socket", _mib(main["rss_closed"]))
    table.add(
        "sockets closed by the server while idle",
        ", ".join(f"{n} x code {c}" for c, n in main["closed_by_server"].items()) or "none",
        "none",
        not main["closed_by_server"],
    )
    table.add("event frames received (viewer_joined etc.)", f"{main['events']:,}")
    table.add("Redis used_memory growth (whole server)", f"{main['redis_growth'] / 2**20:,.1f} MiB")
    table.add("client processes' RSS (all sockets)", _mib(main["client_rss"]))
    table.add(
        "exceptions and warnings in the server log",
        ws.error_summary(main["server_errors"]),
    )
    first = main["steps"][0]
    if variants:
        table.add(
            f"variant: as above, at {first.sockets:,} sockets",
            f"{(first.rss_kib - base) / first.sockets:,.1f} KiB per socket",
        )
    for result in variants:
        step = result["steps"][-1]
        per = (step.rss_kib - result["rss_base"]) / step.sockets
        lost = sum(result["closed_by_server"].values())
        table.add(
            f"variant: {result['variant'].describe()}",
            f"{per:,.1f} KiB per socket at {step.sockets:,}; opened {step.opened:,}, "
            f"{step.failed} failed, {lost} closed by the server",
        )


def _measure(args: argparse.Namespace) -> tuple[dict, list[dict], dict]:
    if args.redis_fix:
        os.environ["BENCH_REDIS_CLIENT_FIX"] = "1"
    urls = ws.bench_urls(args.database, args.redis_db)
    ws.file_limit()
    ws.prepare_services(*urls)
    ws.setup_django(*urls)
    top = args.steps[-1]
    users = max(1, -(-top // args.per_user))
    episodes = max(1, -(-top // args.per_episode))
    seed = ws.seed(users=users, episodes=episodes)
    started = time.monotonic()
    primary = Variant(layer=args.layer, deflate=not args.no_deflate)
    main_result = _run_variant(args, primary, args.steps, seed, urls)
    variants = []
    if not args.no_variants:
        small = [min(args.variant_sockets, args.steps[0])]
        other = "pubsub" if args.layer == "core" else "core"
        for variant in (
            Variant(layer=other, deflate=primary.deflate),
            Variant(layer=args.layer, deflate=not primary.deflate),
            Variant(layer=args.layer, deflate=primary.deflate, debug=True),
        ):
            ws.prepare_services(*urls)
            variants.append(_run_variant(args, variant, small, seed, urls))
    info = {"users": users, "episodes": episodes, "seconds": time.monotonic() - started}
    return main_result, variants, info


def rows(argv: list[str] | None = None) -> list[Row]:
    """The summary for `python -m bench`: the project's layer, deflate off as served."""
    args = _arguments(["--no-variants", "--no-deflate", "--skip-closing", *(argv or [])])
    result, _, _ = _measure(args)
    base = result["rss_base"]
    out = []
    for step in result["steps"]:
        per = (step.rss_kib - base) / step.sockets
        is_goal = step.sockets >= GOAL_SOCKETS
        failed = f", {step.failed:,} failed to open" if step.failed else ""
        out.append(
            Row(
                f"connections: RSS of one server with {step.sockets:,} idle sockets (3 streams)",
                f"{_mib(step.rss_kib)}, {per:,.1f} KiB per socket above the "
                f"{_mib(base)} baseline{failed}",
                "< 1 GiB at 10,000" if is_goal else "",
                verdict(step.rss_kib < GOAL_KIB and not step.failed) if is_goal else "",
            )
        )
    last = result["steps"][-1]
    if last.sockets < GOAL_SOCKETS:
        per = (last.rss_kib - base) / last.sockets
        projected = base + per * GOAL_SOCKETS
        out.append(
            Row(
                "connections: projected RSS at 10,000 sockets (linear)",
                _mib(projected),
                "< 1 GiB at 10,000",
                verdict(projected < GOAL_KIB),
            )
        )
    closed = sum(result["closed_by_server"].values())
    if closed or result["server_errors"]:
        out.append(
            Row(
                "connections: sockets closed by the server; server log",
                f"{closed}; {ws.error_summary(result['server_errors'])}",
                "none",
                verdict(False),
            )
        )
    return out


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    main_result, variants, info = _measure(args)
    primary = main_result["variant"]
    table = ws.Table(
        f"ws_memory: idle authenticated sockets on one server process ({primary.describe()}), "
        f"3 streams each"
    )
    _report(table, main_result, variants, args)
    table.notes += [
        ws.machine_note() + f"; {args.clients} client processes",
        f"sockets: {args.per_episode} per episode, {args.per_user} per user (session cookie), "
        f"{info['users']:,} users, {info['episodes']:,} episodes; "
        + (
            f"heartbeats every {args.heartbeat:g} s"
            if args.heartbeat
            else f"no heartbeats (server PRESENCE_SOCKET_TTL={IDLE_PRESENCE_TTL})"
        )
        + "; clients offer permessage-deflate as browsers do",
        "the server takes PostgreSQL connections from its pool (config/asgi.py); relay mode "
        "thread; RSS is read once the server's CPU is idle after each step",
        "layer Redis client: "
        + ("socket_timeout=10, unbounded pool (--redis-fix)" if args.redis_fix else "the project's")
        + f"; {args.concurrency} sockets opening at once per client process",
        f"wall time {info['seconds']:,.0f} s",
    ]
    sys.stdout.write(table.render())
    return 1 if table.failed else 0


if __name__ == "__main__":
    sys.exit(main())

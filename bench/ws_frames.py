"""Bench: heartbeat round trips per second that one server process sustains, by ASGI server.

    DATABASE_URL=postgres://... REDIS_URL=redis://... python -m bench.ws_frames [--quick]

Many sockets each send `heartbeat` and wait for `heartbeat_ack`, paced to stay under the
per-connection limit (50 frames/s sustained), so that the total offered is far above what
one process can answer: the acks counted in a fixed window are the server's capacity. Run
for uvicorn (with and without permessage-deflate) and daphne, one server at a time.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import dataclass

from bench import _ws_setup as ws

MAX_SOCKETS = 3_000
START_DELAY = 1.0


@dataclass(frozen=True)
class Config:
    server: str
    deflate: bool = True
    presence: bool = False
    patched: bool = False

    def describe(self) -> str:
        parts = [self.server]
        if self.patched:
            parts.append("dispatch without close_old_connections (bench/_ws_asgi.py)")
        if self.server == "uvicorn":
            parts.append("permessage-deflate " + ("on" if self.deflate else "off"))
        else:
            parts.append("no permessage-deflate (daphne offers none)")
        if self.presence:
            parts.append("each socket on an episode (heartbeat refreshes presence)")
        return ", ".join(parts)


@dataclass
class Outcome:
    config: Config
    sockets: int
    opened: int
    acks: int
    refused: int
    lost: int
    rtts: list[float]
    seconds: float
    server_cpu: float
    clients_cpu: float
    redis_cpu: float
    errors: dict[str, int]

    @property
    def rate(self) -> float:
        return self.acks / self.seconds


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.ws_frames", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="200 sockets, 5 s windows")
    parser.add_argument("--sockets", type=int, default=0)
    parser.add_argument("--seconds", type=float, default=0.0, help="the measured window")
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument(
        "--rate", type=float, default=40.0, help="heartbeats/s per socket (the limit is 50)"
    )
    parser.add_argument("--clients", type=int, default=2, help="client processes")
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--per-episode", type=int, default=10)
    parser.add_argument("--debug", action="store_true", help="servers with DEBUG=true")
    parser.add_argument("--conn-max-age", default="60", help="the servers' CONN_MAX_AGE")
    parser.add_argument(
        "--configs",
        default="",
        help="comma-separated among uvicorn, uvicorn-nodeflate, daphne, uvicorn-presence, "
        "daphne-presence, uvicorn-patched, daphne-patched",
    )
    parser.add_argument(
        "--redis-fix",
        action="store_true",
        help="give the layer's Redis client socket_timeout=10 and an unbounded pool",
    )
    parser.add_argument("--database", default=ws.BENCH_DATABASE)
    parser.add_argument("--redis-db", type=int, default=ws.BENCH_REDIS_DB)
    args = parser.parse_args(argv)
    args.sockets = args.sockets or (200 if args.quick else 400)
    args.seconds = args.seconds or (5.0 if args.quick else 12.0)
    if not 1 <= args.sockets <= MAX_SOCKETS:
        parser.error(f"sockets must be between 1 and {MAX_SOCKETS}")
    if not 0 < args.rate < 50:
        parser.error("rate must stay under the limit of 50 frames/s")
    names = args.configs or (
        "uvicorn,daphne"
        if args.quick
        else "uvicorn,uvicorn-nodeflate,daphne,uvicorn-presence,uvicorn-patched,daphne-patched"
    )
    known = {
        "uvicorn": Config("uvicorn"),
        "uvicorn-nodeflate": Config("uvicorn", deflate=False),
        "daphne": Config("daphne", deflate=False),
        "uvicorn-presence": Config("uvicorn", presence=True),
        "daphne-presence": Config("daphne", deflate=False, presence=True),
        "uvicorn-patched": Config("uvicorn", patched=True),
        "daphne-patched": Config("daphne", deflate=False, patched=True),
    }
    try:
        args.configs = [known[name] for name in names.split(",") if name]
    except KeyError as exc:
        parser.error(f"unknown config {exc}")
    return args


def _measure(args, config: Config, seed: ws.Seed, urls) -> Outcome:
    per_episode = args.per_episode

    def subscribe(key: int) -> list[str]:
        if not config.presence:
            return []
        return [f"episode:{seed.episode_ids[(key // per_episode) % len(seed.episode_ids)]}"]

    extra = {"CONN_MAX_AGE": str(args.conn_max_age)}
    with (
        ws.ClientPool(args.clients) as pool,
        ws.run_server(
            config.server,
            *urls,
            debug=args.debug,
            deflate=config.deflate,
            extra_env=extra,
            app=ws.PATCHED_APP if config.patched else ws.PROJECT_APP,
        ) as server,
    ):
        reply = pool.open(
            ws.socket_specs(server, seed.sessions, args.sockets, subscribe),
            concurrency=20,
            compression=config.deflate,
            keep_events=False,
        )
        start_at = time.time() + START_DELAY
        for pipe in pool.pipes:
            pipe.send(
                {
                    "cmd": "heartbeats",
                    "start_at": start_at,
                    "warmup": args.warmup,
                    "seconds": args.seconds,
                    "rate": args.rate,
                }
            )
        time.sleep(max(0.0, start_at + args.warmup - time.time()))
        cpu0, clients0, redis0 = server.cpu_seconds(), pool.cpu_seconds(), _redis_cpu(urls)
        time.sleep(args.seconds)
        cpu1, clients1, redis1 = server.cpu_seconds(), pool.cpu_seconds(), _redis_cpu(urls)
        replies = []
        for pipe in pool.pipes:
            if not pipe.poll(ws.CLIENT_REPLY_TIMEOUT):
                raise RuntimeError("a client process did not finish its heartbeats")
            answer = pipe.recv()
            if "error" in answer:
                raise RuntimeError(answer["error"])
            replies.append(answer)
    return Outcome(
        config=config,
        sockets=args.sockets,
        opened=reply["opened"],
        acks=sum(item["acks"] for item in replies),
        refused=sum(item["refused"] for item in replies),
        lost=sum(item["lost"] for item in replies),
        rtts=[rtt for item in replies for rtt in item["rtts"]],
        seconds=args.seconds,
        server_cpu=(cpu1 - cpu0) / args.seconds,
        clients_cpu=(clients1 - clients0) / args.seconds,
        redis_cpu=(redis1 - redis0) / args.seconds,
        errors=dict(server.errors),
    )


def _redis_cpu(urls: tuple[str, str]) -> float:
    return ws.redis_cpu_seconds(urls[1])


def _report(table: ws.Table, outcomes: list[Outcome], args) -> None:
    for outcome in outcomes:
        name = outcome.config.describe()
        offered = outcome.opened * args.rate
        table.add(
            f"{name}: heartbeat round trips/s",
            f"{outcome.rate:,.0f}/s ({outcome.rate * 2:,.0f} frames/s in+out)",
        )
        table.add(
            "  round trip p50 / p99",
            f"{ws.percentile(outcome.rtts, 50) * 1000:,.1f} / "
            f"{ws.percentile(outcome.rtts, 99) * 1000:,.1f} ms",
        )
        table.add(
            "  sockets; offered at most (sockets x rate)",
            f"{outcome.opened:,} of {outcome.sockets:,}; {offered:,.0f}/s",
        )
        table.add(
            "  CPU: server / clients / Redis (share of one core)",
            f"{outcome.server_cpu * 100:.0f}% / {outcome.clients_cpu * 100:.0f}% / "
            f"{outcome.redis_cpu * 100:.0f}%",
        )
        if outcome.server_cpu:
            table.add(
                "  server CPU per round trip",
                f"{outcome.server_cpu / outcome.rate * 1e6:,.0f} µs" if outcome.rate else "n/a",
            )
        table.add(
            "  refused (rate_limited) / sockets lost",
            f"{outcome.refused:,} / {outcome.lost:,}",
            "none",
            outcome.refused == 0 and outcome.lost == 0,
        )
        if outcome.errors:
            table.add(
                "  exceptions and warnings in the server log",
                ws.error_summary(outcome.errors),
            )
    plain = {o.config: o for o in outcomes if not o.config.presence and not o.config.patched}
    uvicorn = plain.get(Config("uvicorn")) or plain.get(Config("uvicorn", deflate=False))
    daphne = plain.get(Config("daphne", deflate=False))
    for outcome in outcomes:
        if not outcome.config.patched:
            continue
        base = plain.get(
            Config(outcome.config.server, deflate=outcome.config.deflate, presence=False)
        )
        if base and base.rate:
            table.add(
                f"{outcome.config.server}: dispatch without / with close_old_connections",
                f"{outcome.rate / base.rate:.2f}x round trips/s",
            )
    if uvicorn and daphne and daphne.rate:
        table.add(
            f"uvicorn / daphne ({uvicorn.config.describe()})",
            f"{uvicorn.rate / daphne.rate:.2f}x round trips/s",
            "pick the faster",
        )


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    if args.redis_fix:
        os.environ["BENCH_REDIS_CLIENT_FIX"] = "1"
    urls = ws.bench_urls(args.database, args.redis_db)
    ws.file_limit()
    ws.prepare_services(*urls)
    ws.setup_django(*urls)
    episodes = max(1, -(-args.sockets // args.per_episode))
    seed = ws.seed(users=args.users, episodes=episodes)
    started = time.monotonic()
    outcomes = []
    for config in args.configs:
        ws.prepare_services(*urls)
        outcomes.append(_measure(args, config, seed, urls))
    table = ws.Table(
        f"ws_frames: heartbeat round trips one server process answers, {args.sockets:,} "
        f"sockets at up to {args.rate:g}/s each, {args.seconds:g} s window"
    )
    _report(table, outcomes, args)
    table.notes += [
        ws.machine_note() + f"; {args.clients} client processes (websockets, asyncio)",
        "each socket: send heartbeat, wait for its ack, pace to the rate; with the server "
        "saturated the round trip grows and the rate per socket falls (a closed loop)",
        f"servers: DEBUG={'true' if args.debug else 'false'}, CONN_MAX_AGE={args.conn_max_age}, "
        "core layer; a heartbeat touches presence only on sockets subscribed to an episode",
        f"wall time {time.monotonic() - started:,.0f} s",
    ]
    sys.stdout.write(table.render())
    return 1 if table.failed else 0


if __name__ == "__main__":
    sys.exit(main())

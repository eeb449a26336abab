"""Bench: what the real-time features cost a write, as the ratio flags on / flags off.

    DATABASE_URL=postgres://... REDIS_URL=redis://... python -m bench.write_overhead [--quick]

Two server processes on the same database: one with the four feature flags on
(ACTIVITY_LOGGING, NOTIFICATIONS, PRESENCE_TRACKING, WEBSOCKET_BROADCAST), one with all of
them off. Each round creates an episode on each (POST episodes/), has 50 viewers follow
both, then changes them (PATCH episodes/{id}/, which notifies the followers) and publishes
them (POST publish/, which notifies every user: the same 50), the two servers' requests
interleaved and their order alternating. Times are the client's, one request at a time.
Goal (DESIGN.md): the median ratio at most 1.15 for each request.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

from bench import _http
from bench import _ws_setup as ws
from bench._table import Row, Table, verdict

GOAL_RATIO = 1.15
FLAGS = ("ACTIVITY_LOGGING", "NOTIFICATIONS", "PRESENCE_TRACKING", "WEBSOCKET_BROADCAST")
OPERATIONS = ("POST episodes/", "PATCH episodes/{id}/", "POST episodes/{id}/publish/")
WARMUP_ROUNDS = 3
MAX_ROUNDS = 500
TIMEOUT = 30.0


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.write_overhead", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="10 rounds")
    parser.add_argument("--rounds", type=int, default=0, help="timed rounds (default 40)")
    parser.add_argument("--followers", type=int, default=50, help="users notified per write")
    parser.add_argument("--database", default="showdesk_bench_write")
    parser.add_argument("--redis-db", type=int, default=ws.BENCH_REDIS_DB)
    args = parser.parse_args(argv)
    args.rounds = args.rounds or (10 if args.quick else 40)
    if not 1 <= args.rounds <= MAX_ROUNDS:
        parser.error(f"rounds must be between 1 and {MAX_ROUNDS}")
    if not 1 <= args.followers <= 10_000:
        parser.error("followers must be between 1 and 10,000")
    return args


def _follow(episode_id: int, user_ids: list[int]) -> None:
    from episodes.models import EpisodeSubscription

    EpisodeSubscription.objects.bulk_create(
        [EpisodeSubscription(episode_id=episode_id, user_id=user) for user in user_ids],
        ignore_conflicts=True,
    )


def _round(number: int, clients: dict, followers: list[int], times: dict | None) -> None:
    """One episode per server through its three writes, the servers interleaved."""
    order = list(clients) if number % 2 == 0 else list(reversed(clients))
    episode_ids = {}
    for name in order:
        body = {"title": f"Write bench {number} {name}", "episode_number": 2 * number + 1}
        body["season"] = 1 if name == "on" else 2
        seconds, response = _http.timed(clients[name], "POST", "/episodes/", 201, json=body)
        episode_ids[name] = response.json()["id"]
        if times is not None:
            times[name][OPERATIONS[0]].append(seconds)
    for name in order:
        _follow(episode_ids[name], followers)
    for operation, method, suffix, body in (
        (OPERATIONS[1], "PATCH", "", {"title": f"Write bench {number} changed"}),
        (OPERATIONS[2], "POST", "publish/", None),
    ):
        for name in order:
            url = f"/episodes/{episode_ids[name]}/{suffix}"
            seconds, _ = _http.timed(clients[name], method, url, 200, json=body)
            if times is not None:
                times[name][operation].append(seconds)


def measure(args: argparse.Namespace) -> dict:
    import httpx

    urls = ws.bench_urls(args.database, args.redis_db)
    ws.prepare_services(*urls)
    ws.setup_django(*urls)
    seed = ws.seed(users=args.followers, episodes=0)
    from django.contrib.auth import get_user_model

    followers = list(
        get_user_model().objects.exclude(pk=seed.actor_id).values_list("pk", flat=True)
    )
    token = _http.api_token(seed.actor_id)
    times: dict = {name: {op: [] for op in OPERATIONS} for name in ("on", "off")}
    started = time.monotonic()
    with (
        _http.api_server(*urls, label="on", extra_env=dict.fromkeys(FLAGS, "true")) as on,
        _http.api_server(*urls, label="off", extra_env=dict.fromkeys(FLAGS, "false")) as off,
    ):
        clients = {
            name: httpx.Client(
                base_url=f"{server.origin}{_http.API}",
                headers={"Authorization": f"Token {token}"},
                timeout=TIMEOUT,
            )
            for name, server in (("on", on), ("off", off))
        }
        try:
            for number in range(WARMUP_ROUNDS + args.rounds):
                warm = number < WARMUP_ROUNDS
                _round(number, clients, followers, None if warm else times)
        finally:
            for client in clients.values():
                client.close()
    from realtime.models import Notification

    return {
        "times": times,
        "notifications": Notification.objects.count(),
        "errors": {"on": dict(on.errors), "off": dict(off.errors)},
        "seconds": time.monotonic() - started,
    }


def _rows(args: argparse.Namespace, result: dict) -> list[Row]:
    out = []
    for operation in OPERATIONS:
        on = statistics.median(result["times"]["on"][operation])
        off = statistics.median(result["times"]["off"][operation])
        ratio = on / off
        notified = "" if operation == OPERATIONS[0] else f", {args.followers} users notified"
        out.append(
            Row(
                f"write overhead: {operation}{notified}; median flags on / off",
                f"{ratio:.2f}x ({on * 1000:.1f} / {off * 1000:.1f} ms, {args.rounds} each)",
                f"≤ {GOAL_RATIO:.2f}",
                "" if args.quick else verdict(ratio <= GOAL_RATIO),
            )
        )
    errors = {name: errs for name, errs in result["errors"].items() if errs}
    if errors:
        summary = "; ".join(f"{name}: {ws.error_summary(e)}" for name, e in errors.items())
        out.append(Row("write overhead: exceptions in the server logs", summary, "none", "FAIL"))
    return out


def rows(argv: list[str] | None = None) -> list[Row]:
    args = _arguments(argv)
    return _rows(args, measure(args))


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    result = measure(args)
    table = Table("write_overhead: the four feature flags on / off, two servers interleaved")
    table.rows += _rows(args, result)
    for name in ("on", "off"):
        for operation in OPERATIONS:
            samples = result["times"][name][operation]
            table.add(
                f"  flags {name}: {operation} p50 / p90 / max",
                " / ".join(f"{ws.percentile(samples, q) * 1000:.1f}" for q in (50, 90, 100))
                + " ms",
            )
    table.notes += [
        ws.machine_note(),
        f"{WARMUP_ROUNDS} warm-up rounds, then {args.rounds}; notifications written by the "
        f"flags-on server: {result['notifications']:,}",
        "servers: uvicorn, DEBUG=false, pubsub layer, relay thread (events are published "
        "after the response, by the server's relay thread)",
        f"wall time {result['seconds']:.0f} s",
    ]
    sys.stdout.write(table.render())
    return 1 if table.failed else 0


if __name__ == "__main__":
    sys.exit(main())

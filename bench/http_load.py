"""Bench: requests/s and latency of REST reads under 50 concurrent clients, one server process.

    DATABASE_URL=postgres://... REDIS_URL=redis://... python -m bench.http_load [--quick]

`GET episodes/` (the first page, 25 of 100 episodes) and `GET episodes/{id}/` (which also
records the caller as a viewer), each for a fixed time after a warm-up, by a viewer's token.
The load comes from `wrk` when it is installed (Debian: `apt-get install wrk`), otherwise
from a Python asyncio client (httpx) in this process, which costs more CPU per request on
the same cores: the table says which.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field

from bench import _http
from bench import _ws_setup as ws
from bench._table import Row, Table

CONNECTIONS = 50
MAX_SECONDS = 120.0
EPISODES = 100
TIMEOUT = 30.0


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.http_load", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="3 s per endpoint")
    parser.add_argument("--seconds", type=float, default=0.0, help="per endpoint (default 15)")
    parser.add_argument("--warmup", type=float, default=0.0, help="per endpoint (default 3)")
    parser.add_argument("--connections", type=int, default=CONNECTIONS)
    parser.add_argument("--tool", choices=["auto", "wrk", "python"], default="auto")
    parser.add_argument("--server-env", action="append", default=[], help="NAME=VALUE")
    parser.add_argument("--database", default=ws.BENCH_DATABASE)
    parser.add_argument("--redis-db", type=int, default=ws.BENCH_REDIS_DB)
    args = parser.parse_args(argv)
    args.seconds = args.seconds or (3.0 if args.quick else 15.0)
    args.warmup = args.warmup or (1.0 if args.quick else 3.0)
    if not 0 < args.seconds <= MAX_SECONDS or not 0 < args.warmup <= MAX_SECONDS:
        parser.error(f"seconds and warmup must be between 0 and {MAX_SECONDS:g}")
    if not 1 <= args.connections <= 1_000:
        parser.error("connections must be between 1 and 1,000")
    if args.tool == "auto":
        args.tool = "wrk" if shutil.which("wrk") else "python"
    return args


@dataclass
class Load:
    requests: int = 0
    seconds: float = 0.0
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    bad: int = 0
    statuses: dict[int, int] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


_WRK_LATENCY = re.compile(r"^\s+(50|99)(?:\.0+)?%\s+([\d.]+)(us|ms|s)\s*$", re.M)
_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _wrk(url: str, token: str, connections: int, seconds: float) -> Load:
    command = [
        "wrk",
        "-t1",
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",
        "--latency",
        "--timeout",
        f"{TIMEOUT:g}s",
        "-H",
        f"Authorization: Token {token}",
        url,
    ]
    done = subprocess.run(  # noqa: S603 - wrk, found on the PATH, on a loopback URL
        command, check=True, capture_output=True, text=True, timeout=seconds + 60
    )
    text = done.stdout
    load = Load(seconds=max(1, round(seconds)))
    found = re.search(r"(\d+) requests in ([\d.]+)(ms|s|m)", text)
    if not found:
        raise RuntimeError(f"unexpected wrk output:\n{text}")
    load.requests = int(found.group(1))
    load.seconds = float(found.group(2)) * {"ms": 0.001, "s": 1.0, "m": 60.0}[found.group(3)]
    for quantile, value, unit in _WRK_LATENCY.findall(text):
        setattr(load, f"p{quantile}_ms", float(value) * _UNITS[unit])
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text
    )
    load.bad = (int(bad.group(1)) if bad else 0) + (
        sum(int(n) for n in errors.groups()) if errors else 0
    )
    return load


async def _python_load(url: str, token: str, connections: int, seconds: float) -> Load:
    import httpx

    latencies: list[float] = []
    statuses: dict[int, int] = {}
    deadline = time.monotonic() + seconds
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    async with httpx.AsyncClient(
        headers={"Authorization": f"Token {token}"}, limits=limits, timeout=TIMEOUT
    ) as client:

        async def worker() -> None:
            while time.monotonic() < deadline:
                start = time.perf_counter()
                response = await client.get(url)
                latencies.append(time.perf_counter() - start)
                statuses[response.status_code] = statuses.get(response.status_code, 0) + 1

        started = time.monotonic()
        await asyncio.gather(*(worker() for _ in range(connections)))
        elapsed = time.monotonic() - started
    return Load(
        requests=len(latencies),
        seconds=elapsed,
        p50_ms=ws.percentile(latencies, 50) * 1000,
        p99_ms=ws.percentile(latencies, 99) * 1000,
        bad=sum(n for status, n in statuses.items() if status != 200),
        statuses=statuses,
    )


def _run_load(tool: str, url: str, token: str, connections: int, seconds: float) -> Load:
    if tool == "wrk":
        return _wrk(url, token, connections, seconds)
    return asyncio.run(_python_load(url, token, connections, seconds))


def measure(args: argparse.Namespace) -> dict:
    urls = ws.bench_urls(args.database, args.redis_db)
    ws.prepare_services(*urls)
    ws.setup_django(*urls)
    seed = ws.seed(users=1, episodes=EPISODES)
    from django.contrib.sessions.models import Session

    viewer = Session.objects.get(session_key=seed.sessions[0]).get_decoded()["_auth_user_id"]
    token = _http.api_token(int(viewer))
    loads = {}
    started = time.monotonic()
    extra = dict(item.split("=", 1) for item in args.server_env)
    with _http.api_server(*urls, extra_env=extra) as server:
        base = f"{server.origin}{_http.API}"
        endpoints = {
            "GET episodes/": f"{base}/episodes/",
            "GET episodes/{id}/": f"{base}/episodes/{seed.episode_ids[EPISODES // 2]}/",
        }
        for name, url in endpoints.items():
            _run_load(args.tool, url, token, args.connections, args.warmup)
            cpu = server.cpu_seconds()
            load = _run_load(args.tool, url, token, args.connections, args.seconds)
            loads[name] = (load, (server.cpu_seconds() - cpu) / load.seconds)
    return {"loads": loads, "errors": dict(server.errors), "seconds": time.monotonic() - started}


def _rows(args: argparse.Namespace, result: dict) -> list[Row]:
    out = []
    for name, (load, cpu) in result["loads"].items():
        bad = f"; {load.bad:,} errors or non-2xx" if load.bad else ""
        out.append(
            Row(
                f"http: {name}, {args.connections} clients, one server process",
                f"{load.rate:,.0f} requests/s, p50 {load.p50_ms:.0f} / p99 {load.p99_ms:.0f} ms "
                f"(server CPU {cpu * 100:.0f}% of a core; {args.tool}){bad}",
                "no errors",
                "pass" if not load.bad else "FAIL",
            )
        )
    if result["errors"]:
        out.append(Row("http: exceptions in the server log", ws.error_summary(result["errors"])))
    return out


def rows(argv: list[str] | None = None) -> list[Row]:
    args = _arguments(argv)
    return _rows(args, measure(args))


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    result = measure(args)
    table = Table(
        f"http_load: REST reads, {args.connections} concurrent clients ({args.tool}), one "
        "uvicorn process (DEBUG=false)"
    )
    table.rows += _rows(args, result)
    table.notes += [
        ws.machine_note(),
        f"{args.warmup:g} s warm-up, then {args.seconds:g} s per endpoint",
        f"wall time {result['seconds']:.0f} s",
    ]
    sys.stdout.write(table.render())
    return 1 if table.failed else 0


if __name__ == "__main__":
    sys.exit(main())

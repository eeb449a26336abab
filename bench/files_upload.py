"""Bench: what one local upload (and its download) costs the server: memory, disk, time.

    python -m bench.files_upload [--size-mib 1024]

Two ways in: a real uvicorn process (ASGI, as the Dockerfile serves) reached over a socket,
and Django's WSGI handler in this process (the path a WSGI server such as gunicorn takes).
The body is produced by a generator on the client side. It works in a temporary folder of
its own (SQLite database, MEDIA_ROOT), removed at the end.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import tracemalloc
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

MiB = 1024 * 1024
CHUNK = MiB
ROOT = Path(__file__).resolve().parent.parent
START_TIMEOUT = 30.0
HTTP_TIMEOUT = 600.0


@dataclass(frozen=True)
class Result:
    path: str
    put_seconds: float
    complete_seconds: float
    peak_memory_mib: float
    memory_note: str
    spool_mib: float


def _body(total: int) -> Iterator[bytes]:
    block = bytes(range(256)) * (CHUNK // 256)
    for start in range(0, total, CHUNK):
        yield block[: min(CHUNK, total - start)]


def _expected_sha256(total: int) -> str:
    digest = hashlib.sha256()
    for chunk in _body(total):
        digest.update(chunk)
    return digest.hexdigest()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _status_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/{pid}/status")


class SpoolWatcher:
    """The largest deleted (anonymous temporary) file the process holds open while it runs:
    where Django's ASGI handler spools a request body before the view sees it."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.largest = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def __enter__(self) -> SpoolWatcher:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _watch(self) -> None:
        folder = Path(f"/proc/{self.pid}/fd")
        while not self._stop.wait(0.05):
            for fd in list(folder.iterdir()) if folder.exists() else []:
                try:
                    if os.readlink(fd).endswith("(deleted)"):
                        self.largest = max(self.largest, os.stat(fd).st_size)
                except OSError:
                    continue


def _setup(workdir: Path) -> dict[str, str]:
    """Environment of a fresh SQLite database and MEDIA_ROOT, migrated, with an editor."""
    env = {
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": f"sqlite:///{workdir / 'db.sqlite3'}",
        "MEDIA_ROOT": str(workdir / "media"),
        "AWS_STORAGE_BUCKET_NAME": "",
        "REDIS_URL": "",
        "CELERY_BROKER_URL": "",
        "DEBUG": "true",
        "LOG_LEVEL": "WARNING",
        "FILES_MAX_SIZE": str(64 * 1024**3),
        "TMPDIR": str(workdir / "tmp"),
    }
    (workdir / "tmp").mkdir()
    os.environ.update(env)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    return env


def _make_editor() -> tuple[str, int]:
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from rest_framework.authtoken.models import Token

    from episodes.models import Episode

    user = get_user_model().objects.create_user("bench-editor", password=None)
    user.groups.add(Group.objects.get(name="editors"))
    episode = Episode.objects.create(title="Bench", episode_number=1)
    return Token.objects.create(user=user).key, episode.pk


def _declare(base: str, token: str, episode_id: int, size: int) -> int:
    import httpx

    response = httpx.post(
        f"{base}/api/v1/files/",
        json={
            "episode": episode_id,
            "filename": "bench.mp4",
            "content_type": "video/mp4",
            "size": size,
        },
        headers={"Authorization": f"Token {token}"},
        timeout=HTTP_TIMEOUT,
    )
    response.raise_for_status()
    return response.json()["id"]


def bench_asgi(env: dict[str, str], token: str, episode_id: int, size: int) -> list[Result]:
    import httpx

    port = _free_port()
    server = subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [
            *(sys.executable, "-m", "uvicorn", "config.asgi:application"),
            *("--host", "127.0.0.1", "--port", str(port), "--no-access-log"),
        ],
        cwd=ROOT,
        env={**os.environ, **env},
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            try:
                urllib.request.urlopen(f"{base}/healthz", timeout=1).close()  # noqa: S310
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError("the server did not start") from None
                time.sleep(0.1)
        file_id = _declare(base, token, episode_id, size)
        baseline = _status_kib(server.pid, "VmRSS")
        headers = {"Authorization": f"Token {token}"}
        with SpoolWatcher(server.pid) as spool:
            started = time.perf_counter()
            sent = httpx.put(
                f"{base}/api/v1/files/{file_id}/upload/",
                content=_body(size),
                headers={**headers, "Content-Type": "video/mp4", "Content-Length": str(size)},
                timeout=HTTP_TIMEOUT,
            )
            put_seconds = time.perf_counter() - started
        sent.raise_for_status()
        started = time.perf_counter()
        httpx.post(
            f"{base}/api/v1/files/{file_id}/complete/", headers=headers, timeout=HTTP_TIMEOUT
        ).raise_for_status()
        complete_seconds = time.perf_counter() - started
        peak = _status_kib(server.pid, "VmHWM")
        download_baseline = _status_kib(server.pid, "VmRSS")
        started = time.perf_counter()
        received = 0
        with httpx.stream(
            "GET", f"{base}/api/v1/files/{file_id}/content/", headers=headers, timeout=HTTP_TIMEOUT
        ) as response:
            response.raise_for_status()
            for part in response.iter_bytes():
                received += len(part)
        download_seconds = time.perf_counter() - started
        download_peak = _status_kib(server.pid, "VmHWM")
        if received != size:
            raise RuntimeError(f"downloaded {received} of {size} bytes")
    finally:
        server.terminate()
        server.wait(timeout=10)
    return [
        Result(
            path="ASGI upload (uvicorn process)",
            put_seconds=put_seconds,
            complete_seconds=complete_seconds,
            peak_memory_mib=(peak - baseline) / 1024,
            memory_note=f"peak RSS - RSS before ({baseline / 1024:.0f} MiB)",
            spool_mib=spool.largest / MiB,
        ),
        Result(
            path="ASGI download (GET content/)",
            put_seconds=download_seconds,
            complete_seconds=0.0,
            peak_memory_mib=(download_peak - download_baseline) / 1024,
            memory_note="peak RSS (since start) - RSS before the download",
            spool_mib=0.0,
        ),
    ]


class _GeneratedInput:
    def __init__(self, total: int) -> None:
        self.chunks = _body(total)
        self.pending = b""

    def read(self, size: int = -1) -> bytes:
        while size < 0 or len(self.pending) < size:
            chunk = next(self.chunks, b"")
            if not chunk:
                break
            self.pending += chunk
        size = len(self.pending) if size < 0 else size
        out, self.pending = self.pending[:size], self.pending[size:]
        return out

    def readline(self, size: int = -1) -> bytes:
        raise NotImplementedError


def bench_wsgi(token: str, episode_id: int, size: int) -> Result:
    from django.core.handlers.wsgi import WSGIHandler
    from django.test.client import RequestFactory

    from files.models import FileAsset
    from files.services import file_create_upload

    episode = FileAsset._meta.get_field("episode").related_model.objects.get(pk=episode_id)
    file = file_create_upload(
        episode=episode, filename="wsgi.mp4", content_type="video/mp4", size=size, actor=None
    )
    handler = WSGIHandler()

    def call(method: str, path: str, body: object, **headers: str) -> int:
        environ = RequestFactory()._base_environ(
            PATH_INFO=path, REQUEST_METHOD=method, HTTP_AUTHORIZATION=f"Token {token}", **headers
        )
        environ["wsgi.input"] = body
        status: list[str] = []
        chunks = handler(environ, lambda s, h, exc_info=None: status.append(s))
        b"".join(chunks)
        getattr(chunks, "close", lambda: None)()
        return int(status[0].split()[0])

    tracemalloc.start()
    started = time.perf_counter()
    code = call(
        "PUT",
        f"/api/v1/files/{file.pk}/upload/",
        _GeneratedInput(size),
        CONTENT_TYPE="video/mp4",
        CONTENT_LENGTH=str(size),
    )
    put_seconds = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    if code != 200:
        raise RuntimeError(f"PUT answered {code}")
    started = time.perf_counter()
    code = call("POST", f"/api/v1/files/{file.pk}/complete/", _GeneratedInput(0))
    complete_seconds = time.perf_counter() - started
    if code != 200:
        raise RuntimeError(f"complete answered {code}")
    return Result(
        path="WSGI (Django handler, in process)",
        put_seconds=put_seconds,
        complete_seconds=complete_seconds,
        peak_memory_mib=peak / MiB,
        memory_note="tracemalloc peak (Python allocations) during the PUT",
        spool_mib=0.0,
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.files_upload", description=__doc__)
    parser.add_argument("--size-mib", type=int, default=1024)
    args = parser.parse_args(argv)
    size = args.size_mib * MiB
    if not 1 <= args.size_mib <= 8192:
        raise SystemExit("--size-mib must be between 1 and 8192")
    workdir = Path(tempfile.mkdtemp(prefix="showdesk-files-bench-"))
    try:
        env = _setup(workdir)
        token, episode_id = _make_editor()
        expected = _expected_sha256(size)
        results = [*bench_asgi(env, token, episode_id, size), bench_wsgi(token, episode_id, size)]
        from files.models import FileAsset

        checksums = set(FileAsset.objects.values_list("checksum_sha256", flat=True))
        if checksums != {expected}:
            raise SystemExit(f"checksum mismatch: {checksums} != {expected}")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    lines = [
        f"Local upload of {args.size_mib} MiB (checksums verified)",
        "",
        "| path | transfer s | MiB/s | complete s | server memory MiB | body spooled MiB |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for r in results:
        rate = args.size_mib / r.put_seconds
        lines.append(
            f"| {r.path} | {r.put_seconds:.2f} | {rate:.0f} | {r.complete_seconds:.3f} "
            f"| {r.peak_memory_mib:.1f} | {r.spool_mib:.0f} |"
        )
    lines += [
        "",
        *(f"- memory, {r.path}: {r.memory_note}" for r in results),
        "- body spooled: the request body Django's ASGI handler writes to a temporary file "
        "before the view runs (WSGI streams from the socket)",
        "- complete: without a broker (the embedded default) it includes the media_probe job, "
        "run in-process once the completion commits",
    ]
    sys.stdout.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()

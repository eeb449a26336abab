"""Passwords, tokens, tickets and session ids are never logged, and never go in a URL.

The logs are read as production writes them: the JSON formatter on the root logger in
process, and the whole output of a uvicorn process started as the Dockerfile starts it
(access log on), for the same flows: session login, token, ticket, socket.
"""

from __future__ import annotations

import io
import json
import logging
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client
from rest_framework.test import APIClient

from common.logging import REDACTED, structured_formatter
from config.asgi import application
from tests.factories import DEFAULT_PASSWORD, UserFactory
from tests.live_server import ROOT, server_env, set_server_password

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = DEFAULT_PASSWORD
TIMEOUT = 5


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    """Every line the production formatter writes, at DEBUG and above, while the test runs."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(structured_formatter(fmt="json"))
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


@pytest.fixture
def ana(transactional_db):
    return UserFactory(username="ana", roles=["editors"])


def assert_no_secret(output: str, secrets: list[str]) -> None:
    assert output, "nothing was logged: the test would prove nothing"
    for secret in secrets:
        assert secret not in output


def test_login_token_and_ticket_flows_log_no_secret(ana, json_log):
    session = APIClient()
    assert (
        session.post(
            "/api/v1/auth/login/", {"username": "ana", "password": PASSWORD}, format="json"
        ).status_code
        == 200
    )
    refused = APIClient().post(
        "/api/v1/auth/login/", {"username": "ana", "password": "hunter2-wrong"}, format="json"
    )
    assert refused.status_code == 403
    token = (
        APIClient()
        .post("/api/v1/auth/token/", {"username": "ana", "password": PASSWORD}, format="json")
        .json()["token"]
    )
    bearer = APIClient()
    bearer.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    ticket = bearer.post("/api/v1/realtime/ticket/").json()["ticket"]
    # A client that wrongly puts them in a URL: the URL is logged, the values are not.
    bearer.get(f"/api/v1/auth/me/?ticket={ticket}&token={token}&password={PASSWORD}")
    forged = APIClient()
    forged.credentials(HTTP_AUTHORIZATION="Token " + "f" * 40)
    assert forged.get("/api/v1/auth/me/").status_code == 401
    for _ in range(6):
        APIClient().post(
            "/api/v1/auth/token/", {"username": "ana", "password": "hunter2-wrong"}, format="json"
        )

    output = json_log.getvalue()
    secrets = [
        PASSWORD,
        "hunter2-wrong",
        token,
        ticket,
        "f" * 40,
        session.cookies["sessionid"].value,
    ]
    assert_no_secret(output, secrets)
    assert f"ticket={REDACTED}" in output
    assert '"login_throttled"' in output


async def test_a_ticket_socket_logs_no_ticket(ana, json_log):
    client = APIClient()
    client.force_authenticate(ana)
    ticket = (await database_sync_to_async(client.post)("/api/v1/realtime/ticket/")).json()[
        "ticket"
    ]
    for _ in range(2):  # the second time the ticket is spent: closed with 4401
        socket = WebsocketCommunicator(application, f"/ws/?ticket={ticket}")
        await socket.connect(timeout=TIMEOUT)
        await socket.receive_output(timeout=TIMEOUT)
        await socket.disconnect()
    assert ticket not in json_log.getvalue()


# --- never in a URL -------------------------------------------------------------------------


def test_the_api_takes_no_token_from_the_query_string(ana):
    token = (
        APIClient()
        .post("/api/v1/auth/token/", {"username": "ana", "password": PASSWORD}, format="json")
        .json()["token"]
    )
    for name in ("token", "auth_token", "access_token", "key"):
        assert APIClient().get(f"/api/v1/auth/me/?{name}={token}").status_code == 403


async def test_the_socket_takes_no_api_token_or_session_id_as_a_ticket(ana):
    token = await database_sync_to_async(
        lambda: (
            APIClient()
            .post("/api/v1/auth/token/", {"username": "ana", "password": PASSWORD}, format="json")
            .json()["token"]
        )
    )()
    client = Client()
    await database_sync_to_async(client.force_login)(ana)
    session_id = client.cookies["sessionid"].value
    for value in (token, session_id):
        socket = WebsocketCommunicator(application, f"/ws/?ticket={value}")
        await socket.connect(timeout=TIMEOUT)
        assert await socket.receive_output(timeout=TIMEOUT) == {
            "type": "websocket.close",
            "code": 4401,
        }


def test_no_url_the_api_hands_out_carries_a_credential(ana, settings, tmp_path):
    from episodes.models import Episode

    settings.MEDIA_ROOT = str(tmp_path)
    client = Client()
    client.force_login(ana)
    token = (
        APIClient()
        .post("/api/v1/auth/token/", {"username": "ana", "password": PASSWORD}, format="json")
        .json()["token"]
    )
    episode = Episode.objects.create(title="Pilot", episode_number=1, season=1)
    body = {"episode": episode.pk, "filename": "a.mp4", "content_type": "video/mp4", "size": 3}
    created = client.post("/api/v1/files/", body, content_type="application/json")
    assert created.status_code == 201, created.json()
    listed = client.get("/api/v1/files/")
    ticket = client.post("/api/v1/realtime/ticket/").json()
    text = created.content.decode() + listed.content.decode() + json.dumps(ticket)
    assert "/upload/" in created.json()["upload"]["url"]
    for secret in (token, client.cookies["sessionid"].value):
        assert secret not in text


# --- a server process, started as the Dockerfile starts it --------------------------------


@contextmanager
def dockerfile_server(log: Path) -> Iterator[str]:
    """uvicorn with the Dockerfile's options (access log on), its output in `log`."""
    with socket_port() as port:
        command = [
            sys.executable, "-m", "uvicorn", "config.asgi:application",
            "--host", "127.0.0.1", "--port", str(port),
            "--proxy-headers", "--ws-per-message-deflate", "false",
        ]  # fmt: skip
        env = server_env(LOG_LEVEL="INFO", LOG_FORMAT="json")
        with log.open("w") as out:
            process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=out)  # noqa: S603
        url = f"127.0.0.1:{port}"
        try:
            wait_ready(f"http://{url}/healthz", process)
            yield url
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)


@contextmanager
def socket_port() -> Iterator[int]:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    yield port


def wait_ready(url: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=1):  # noqa: S310 - loopback
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("the server did not answer /healthz in time")


def post_json(url: str, body: dict, token: str | None = None) -> dict:
    request = urllib.request.Request(  # noqa: S310 - loopback
        url, data=json.dumps(body).encode(), method="POST"
    )
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Token {token}")
    with urllib.request.urlopen(request, timeout=TIMEOUT) as response:  # noqa: S310
        return json.loads(response.read())


def test_a_server_process_logs_no_secret_of_a_token_and_ticket_flow(ana, tmp_path):
    from websockets.sync.client import connect

    set_server_password(ana, PASSWORD)
    log = tmp_path / "server.log"
    with dockerfile_server(log) as address:
        token = post_json(
            f"http://{address}/api/v1/auth/token/", {"username": "ana", "password": PASSWORD}
        )["token"]
        ticket = post_json(f"http://{address}/api/v1/realtime/ticket/", {}, token)["ticket"]
        with connect(f"ws://{address}/ws/?ticket={ticket}", open_timeout=TIMEOUT) as socket:
            assert json.loads(socket.recv(timeout=TIMEOUT))["type"] == "welcome"
        with pytest.raises(urllib.error.HTTPError):
            urllib.request.urlopen(
                f"http://{address}/api/v1/auth/me/?token={token}", timeout=TIMEOUT
            )
    output = log.read_text()
    assert_no_secret(output, [PASSWORD, token, ticket])
    access = [json.loads(line) for line in output.splitlines() if "/ws/?ticket=" in line]
    assert access, output  # the socket's access line was written, with the ticket redacted
    assert all(REDACTED in line["event"] for line in access)

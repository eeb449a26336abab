"""Oversize request bodies are refused at the ASGI edge, before Django spools them."""

from __future__ import annotations

import pytest

from common.body_limit import RequestBodyLimit, body_limit


async def _call(path: str, headers: list, chunks: list[bytes]) -> tuple[list, bool]:
    reached = False
    sent: list = []
    pending = [{"type": "http.request", "body": c, "more_body": True} for c in chunks]
    pending.append({"type": "http.request", "body": b"", "more_body": False})

    async def app(scope, receive, send):
        nonlocal reached
        reached = True
        while (await receive())["type"] == "http.request":
            pass

    async def receive():
        return pending.pop(0) if pending else {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "path": path, "headers": headers}
    await RequestBodyLimit(app)(scope, receive, send)
    return sent, reached


async def test_a_declared_oversize_body_is_413_before_the_app(settings):
    settings.REQUEST_BODY_MAX = 100
    sent, reached = await _call("/api/v1/episodes/", [(b"content-length", b"101")], [])
    assert not reached
    assert sent[0]["status"] == 413


async def test_a_body_within_the_limit_reaches_the_app(settings):
    settings.REQUEST_BODY_MAX = 100
    sent, reached = await _call("/api/v1/episodes/", [(b"content-length", b"10")], [b"x" * 10])
    assert reached and sent == []


def test_the_upload_path_may_send_up_to_the_file_limit(settings):
    settings.FILES_MAX_SIZE = 5000
    settings.REQUEST_BODY_MAX = 100
    assert body_limit("/api/v1/files/12/upload/") == 5000
    assert body_limit("/api/v1/files/12/") == 100


@pytest.mark.parametrize("path", ["/api/v1/episodes/", "/admin/login/"])
async def test_an_undeclared_body_is_cut_off_past_the_limit(settings, path):
    settings.REQUEST_BODY_MAX = 100
    seen: list = []

    async def app(scope, receive, send):
        while True:
            message = await receive()
            seen.append(message["type"])
            if message["type"] == "http.disconnect" or not message.get("more_body"):
                break

    pending = [{"type": "http.request", "body": b"x" * 60, "more_body": True}] * 3

    async def receive():
        return pending.pop(0)

    async def send(message):
        raise AssertionError("nothing is sent")

    await RequestBodyLimit(app)({"type": "http", "path": path, "headers": []}, receive, send)
    assert seen == ["http.request", "http.disconnect"]

"""Structured logs: one JSON object per line, bound to the request id, with secrets redacted."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
import structlog

from common.logging import REDACTED, redact_secrets, structured_formatter


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    """What the production (JSON) formatter writes, captured from the root logger."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(structured_formatter(fmt="json"))
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield stream
    finally:
        root.removeHandler(handler)


def lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


@pytest.mark.django_db
def test_request_log_lines_carry_the_request_id(anon_client, json_log):
    response = anon_client.get("/healthz")
    request_id = response["X-Request-ID"]
    finished = [line for line in lines(json_log) if line["event"] == "request_finished"]
    assert [line["request_id"] for line in finished] == [request_id]
    assert finished[0]["code"] == 200


@pytest.mark.django_db
def test_a_line_logged_by_a_view_carries_the_callers_request_id(anon_client, settings, json_log):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    anon_client.get("/readyz", HTTP_X_REQUEST_ID="trace-abc")
    failed = [line for line in lines(json_log) if line["event"] == "readiness_check_failed"]
    assert failed
    assert failed[0]["request_id"] == "trace-abc"
    assert failed[0]["check"] == "redis"
    assert failed[0]["level"] == "warning"


@pytest.mark.parametrize("key", ["password", "token", "ticket", "Authorization", "new_password"])
def test_a_secret_key_is_redacted(key):
    event = redact_secrets(None, "info", {"event": "login", key: "hunter2", "username": "ed"})
    assert event == {"event": "login", key: REDACTED, "username": "ed"}


def test_a_secret_nested_in_a_value_is_redacted():
    event = redact_secrets(None, "info", {"event": "x", "data": {"items": [{"api_token": "t"}]}})
    assert event["data"] == {"items": [{"api_token": REDACTED}]}


def test_a_secret_in_a_logged_url_is_redacted():
    event = redact_secrets(None, "info", {"event": "x", "request": "GET /ws/?ticket=abc&x=1"})
    assert event["request"] == f"GET /ws/?ticket={REDACTED}&x=1"


def test_a_rendered_line_never_holds_the_secret(json_log):
    structlog.get_logger("showdesk.test").warning("token_refused", token="s3cr3t-value")
    [line] = [line for line in lines(json_log) if line["event"] == "token_refused"]
    assert line["token"] == REDACTED
    assert "s3cr3t-value" not in json_log.getvalue()


def test_a_stdlib_exception_is_rendered_with_its_traceback(json_log):
    try:
        raise ValueError("boom")
    except ValueError:
        logging.getLogger("django.request").exception("Internal Server Error")
    [line] = [line for line in lines(json_log) if line["event"] == "Internal Server Error"]
    assert "ValueError: boom" in line["exception"]

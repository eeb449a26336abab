"""A stand-in for an OpenSearch server at the HTTP boundary, for unit tests of the requests.

It records what opensearch-py would send (method, path, params, body, timeout) and answers
with what a handler returns. It checks the shape of what Showdesk sends and how Showdesk
reads answers and errors; it says nothing about how a real OpenSearch would search (that is
`test_opensearch_server.py`, against a real server).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from opensearchpy import OpenSearch
from opensearchpy.connection import Connection

Answer = tuple[int, Any]


@dataclass
class Request:
    method: str
    path: str
    params: dict[str, Any]
    body: Any
    timeout: float | None


def _decode(body: Any) -> Any:
    if body is None:
        return None
    text = body.decode("utf-8") if isinstance(body, bytes) else body
    try:
        return json.loads(text)
    except ValueError:  # a bulk body: one JSON document a line
        return [json.loads(line) for line in text.splitlines() if line.strip()]


def ok(method: str, path: str, params: dict[str, Any], body: Any) -> Answer:
    return 200, {"acknowledged": True}


def bulk_answer(body: list[dict[str, Any]], status: int = 201) -> Answer:
    """Every action of a bulk body done (`status`); sources are skipped."""
    items, lines = [], iter(body)
    for action in lines:
        op_type, meta = next(iter(action.items()))
        if op_type != "delete":
            next(lines)
        items.append(
            {op_type: {"_index": meta.get("_index"), "_id": meta["_id"], "status": status}}
        )
    return 200, {"took": 1, "errors": status >= 300, "items": items}


def routes(table: dict[tuple[str, str], Answer | Callable[..., Answer]]) -> Callable[..., Answer]:
    """A handler answering from (method, path) → answer (or function of the body); else 200."""

    def handle(method: str, path: str, params: dict[str, Any], body: Any) -> Answer:
        answer = table.get((method, path))
        if answer is None:
            if method == "POST" and path == "/_bulk":
                return bulk_answer(body)
            return ok(method, path, params, body)
        return answer(body) if callable(answer) else answer

    return handle


@dataclass
class FakeOpenSearch:
    handler: Callable[[str, str, dict[str, Any], Any], Answer] = ok
    requests: list[Request] = field(default_factory=list)

    def client(self) -> OpenSearch:
        fake = self

        class FakeConnection(Connection):
            def perform_request(
                self, method, url, params=None, body=None, timeout=None, ignore=(), headers=None
            ):
                decoded = _decode(body)
                fake.requests.append(Request(method, url, dict(params or {}), decoded, timeout))
                status, data = fake.handler(method, url, dict(params or {}), decoded)
                raw = json.dumps(data)
                if not 200 <= status < 300 and status not in ignore:
                    self._raise_error(status, raw, "application/json")
                return status, {"content-type": "application/json"}, raw

        return OpenSearch(
            hosts=["http://opensearch.invalid:9200"],
            connection_class=FakeConnection,
            max_retries=0,
        )

    def paths(self, method: str | None = None) -> list[str]:
        return [r.path for r in self.requests if method is None or r.method == method]

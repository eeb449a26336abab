"""An ASGI guard that refuses oversize request bodies before Django spools them to disk.

Django's ASGI handler reads every body into a temporary file before any view or
authentication runs, so without a limit here anyone could fill the disk. The direct file
upload may send up to FILES_MAX_SIZE; every other request up to REQUEST_BODY_MAX.
"""

from __future__ import annotations

import re

import orjson
from django.conf import settings

_UPLOAD_PATH = re.compile(r"^/api/v1/files/\d+/upload/$")


def body_limit(path: str) -> int:
    if _UPLOAD_PATH.match(path):
        return settings.FILES_MAX_SIZE
    return settings.REQUEST_BODY_MAX


def _declared_length(scope: dict) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


class RequestBodyLimit:
    def __init__(self, application) -> None:
        self.application = application

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.application(scope, receive, send)
        limit = body_limit(scope.get("path", ""))
        declared = _declared_length(scope)
        if declared is not None and declared > limit:
            return await _refuse(send, limit)
        received = 0

        async def limited_receive():
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    # A body without a (truthful) length: stop reading; Django aborts.
                    return {"type": "http.disconnect"}
            return message

        return await self.application(scope, limited_receive, send)


async def _refuse(send, limit: int) -> None:
    body = orjson.dumps({"detail": f"The request body is over the limit of {limit} bytes."})
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})

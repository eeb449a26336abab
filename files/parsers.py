"""A parser that reads nothing: upload views stream the body themselves, chunk by chunk."""

from __future__ import annotations

from typing import Any

from rest_framework.exceptions import UnsupportedMediaType
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.parsers import BaseParser


class RawBodyParser(BaseParser):
    """Accepts any media type, so that DRF lets the request through; never parses.

    `request.data` would read the whole body into memory, so it is refused.
    """

    media_type = "*/*"

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None):
        raise UnsupportedMediaType(media_type or "", detail="This endpoint streams its body.")


class IgnoreAccept(BaseContentNegotiation):
    """For endpoints that answer with the bytes of a file, whatever the client accepts
    (a browser's `<video>` asks for `video/*`): errors still render as JSON."""

    def select_parser(self, request: Any, parsers: list) -> Any:
        return parsers[0] if parsers else None

    def select_renderer(self, request: Any, renderers: list, format_suffix: str | None = None):
        return renderers[0], renderers[0].media_type

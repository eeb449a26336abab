"""Request parsers: DRF's JSON parser, with too deeply nested JSON answered by a 400."""

from __future__ import annotations

from typing import Any

from rest_framework import parsers
from rest_framework.exceptions import ParseError

# Deep enough for any real document; shallow enough that code walking a parsed value
# recursively (copy.deepcopy, json.dumps, the database adapters) stays far from
# Python's recursion limit.
MAX_JSON_DEPTH = 100


def json_depth(value: Any) -> int:
    """How many arrays and objects deep `value` goes, walked without recursion."""
    deepest = 0
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in children)
    return deepest


class JSONParser(parsers.JSONParser):
    """Python's json module raises RecursionError (not ValueError) past its nesting limit,
    which DRF's parser lets through as a 500; a document that parses but nests deeper than
    MAX_JSON_DEPTH is refused too, before any other code walks it."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON parse error - the document is nested too deeply.") from None
        if json_depth(data) > MAX_JSON_DEPTH:
            raise ParseError(
                f"JSON parse error - the document is nested more than {MAX_JSON_DEPTH} levels deep."
            )
        return data

"""What a search text may hold once it reaches a backend."""

from __future__ import annotations

import re

# Longer is refused by the `search` filter with a 400 naming it.
MAX_QUERY_CHARS = 500
# PostgreSQL text cannot hold U+0000, and a lone surrogate cannot be encoded as UTF-8.
_UNSENDABLE = re.compile(r"[\x00\ud800-\udfff]")


def clean_query(text: str) -> str:
    """The text with what no backend can take replaced by spaces, capped, stripped."""
    return _UNSENDABLE.sub(" ", text)[:MAX_QUERY_CHARS].strip()

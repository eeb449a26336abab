"""Client file names made safe: a display name to show, and the last part of a storage key.

A client's name never becomes a path: it is normalised (NFKC, so fullwidth slashes become
slashes), stripped of control and format characters (NUL, the right-to-left override), cut
to its last path component, and bounded in length. The key part keeps ASCII only.
"""

from __future__ import annotations

import re
import unicodedata
import uuid

DISPLAY_MAX_CHARS = 255
KEY_NAME_MAX_CHARS = 100
EXTENSION_MAX_CHARS = 16
FALLBACK_NAME = "file"

# Control (Cc), format (Cf: bidi overrides, zero-width joiners), surrogate (Cs), private use
# (Co) and unassigned (Cn) characters never reach a name.
_DROPPED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn"})
# Characters that separate or are special in paths on some system the file may reach.
_SEPARATORS = re.compile(r"[/\\]")
_RESERVED = re.compile(r'[<>:"|?*]')
_SPACES = re.compile(r"\s+")
_UNSAFE_KEY_CHARS = re.compile(r"[^A-Za-z0-9._-]+")


def display_filename(raw: str) -> str:
    """The name shown to people: the last path component of `raw`, without anything that
    could pass for a path or disguise its extension."""
    text = unicodedata.normalize("NFKC", raw)
    text = "".join(ch for ch in text if unicodedata.category(ch) not in _DROPPED_CATEGORIES)
    text = _SEPARATORS.split(text)[-1]
    text = _RESERVED.sub("_", text)
    text = _SPACES.sub(" ", text).strip(" .")
    return _bounded(text or FALLBACK_NAME, DISPLAY_MAX_CHARS)


def key_filename(display: str) -> str:
    """The last part of a storage key: the display name in ASCII letters, digits, `.-_`."""
    ascii_text = unicodedata.normalize("NFKD", display).encode("ascii", "ignore").decode()
    text = _UNSAFE_KEY_CHARS.sub("_", ascii_text).strip("._-")
    text = re.sub(r"\.{2,}", ".", text)
    return _bounded(text or FALLBACK_NAME, KEY_NAME_MAX_CHARS)


def storage_key(episode_id: int, display: str) -> str:
    """`episodes/<episode id>/<uuid>/<safe name>`: made by the server, unique."""
    return f"episodes/{int(episode_id)}/{uuid.uuid4().hex}/{key_filename(display)}"


def _bounded(name: str, limit: int) -> str:
    """`name` cut to `limit` characters, keeping a short extension when it has one."""
    if len(name) <= limit:
        return name
    stem, dot, extension = name.rpartition(".")
    if dot and stem and 0 < len(extension) <= EXTENSION_MAX_CHARS:
        return stem[: limit - len(extension) - 1].rstrip(" .") + "." + extension
    return name[:limit].rstrip(" .")

"""A client's file name never becomes a path: every hostile name in one table.

Through the API, each name is accepted and made safe: the storage key stays
`episodes/<id>/<uuid>/<name>` with an ASCII name, and the display name has no path, no
control or bidi characters, and a bounded length.
"""

from __future__ import annotations

import re
import unicodedata

import pytest

from files import names
from tests.files.conftest import declare, stored_file

pytestmark = pytest.mark.django_db

HOSTILE_NAMES = {
    "parent": "../../etc/passwd",
    "parent-windows": "..\\..\\windows\\system32\\cmd.exe",
    "absolute": "/etc/shadow",
    "absolute-windows": "C:\\Windows\\win.ini",
    "dot": ".",
    "dots": "..",
    "dots-only": "....",
    "hidden": ".bashrc",
    "nul": "clip.mp4\x00.png",
    "nul-only": "\x00",
    "control": "a\x07b\x1b[31m.mp4",
    "newline": "evil\r\nContent-Type: text/html.mp4",
    "rtl-override": "movie\u202e4pm.exe",
    "zero-width": "ta\u200bke.mp4",
    "fullwidth-slash": "\uff0e\uff0e\uff0fsecret.mp4",
    "fullwidth-backslash": "..\uff3c..\uff3cboot.ini",
    "division-slash": "..\u2215..\u2215x.mp4",
    "nfkc-dots": "\u2025/\u2024\u2024/x.mp4",
    "over-long": "a" * 1000 + ".mp4",
    "over-long-extension": "b" * 300,
    "url-encoded": "..%2f..%2fetc%2fpasswd",
    "spaces": "   ",
    "reserved-chars": 'a<b>c:d"e|f?g*h.mp4',
    "trailing-dot": "clip.mp4.",
    "unicode": "épisode 01 — naïve.mp4",
    "emoji": "🎬 take.mp4",
    "lone-surrogate": "clip\ud800.mp4",
    "device": "CON",
    "tilde": "~/.ssh/id_rsa",
}
KEY = re.compile(r"^episodes/(\d+)/([0-9a-f]{32})/([A-Za-z0-9._-]{1,100})$")
BIDI_OR_CONTROL = {"Cc", "Cf", "Cs", "Co", "Cn"}


@pytest.mark.parametrize("raw", HOSTILE_NAMES.values(), ids=HOSTILE_NAMES.keys())
def test_the_storage_key_stays_in_the_episodes_folder(editor_client, episode, raw):
    response = declare(editor_client, episode, filename=raw)
    assert response.status_code == 201, response.json()
    key = stored_file(response.json()["id"]).storage_key
    match = KEY.match(key)
    assert match, key
    assert match[1] == str(episode.pk)
    assert ".." not in key
    assert not match[3].startswith(".")


@pytest.mark.parametrize("raw", HOSTILE_NAMES.values(), ids=HOSTILE_NAMES.keys())
def test_the_display_name_is_one_harmless_component(editor_client, episode, raw):
    shown = declare(editor_client, episode, filename=raw).json()["filename"]
    assert 1 <= len(shown) <= 255
    assert "/" not in shown
    assert "\\" not in shown
    assert shown not in {".", ".."}
    assert not shown.startswith((".", " "))
    assert not any(unicodedata.category(ch) in BIDI_OR_CONTROL for ch in shown)
    assert unicodedata.normalize("NFKC", shown) == shown


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\Windows\\win.ini", "win.ini"),
        ("movie\u202e4pm.exe", "movie4pm.exe"),
        ("\uff0e\uff0e\uff0fsecret.mp4", "secret.mp4"),
        ("clip.mp4\x00.png", "clip.mp4.png"),
        ("", "file"),
        (" . ", "file"),
        ("épisode 01 — naïve.mp4", "épisode 01 — naïve.mp4"),
    ],
)
def test_the_display_name_keeps_what_is_safe(raw, shown):
    assert names.display_filename(raw) == shown


def test_an_over_long_name_keeps_its_extension(editor_client, episode):
    body = declare(editor_client, episode, filename="a" * 1000 + ".mp4").json()
    assert body["filename"] == "a" * 251 + ".mp4"
    assert stored_file(body["id"]).storage_key.endswith("/" + "a" * 96 + ".mp4")


def test_the_key_name_spells_unicode_in_ascii(editor_client, episode):
    body = declare(editor_client, episode, filename="épisode 01.mp4").json()
    assert stored_file(body["id"]).storage_key.endswith("/episode_01.mp4")


def test_an_empty_name_is_a_400(editor_client, episode):
    response = declare(editor_client, episode, filename="")
    assert response.status_code == 400
    assert list(response.json()) == ["filename"]


def test_a_name_longer_than_1024_characters_is_a_400(editor_client, episode):
    response = declare(editor_client, episode, filename="a" * 1025)
    assert response.status_code == 400
    assert list(response.json()) == ["filename"]

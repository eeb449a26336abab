"""Upload declarations: hostile content types are a 400 naming the field, and a hostile file
name cannot reach the headers of the served file. (Hostile names in the storage key and the
display name: tests/files/test_names.py.)
"""

from __future__ import annotations

from email.message import Message

import pytest
from rest_framework.test import APIClient

from tests.security.world import World, build_world

pytestmark = pytest.mark.django_db

FILES = "/api/v1/files/"
HOSTILE_TYPES = {
    "parameters": "video/mp4; charset=utf-8",
    "header-injection": "video/mp4\r\nX-Injected: 1",
    "nul": "video/mp4\x00",
    "wildcard": "*/*",
    "family-wildcard": "video/*",
    "no-subtype": "video",
    "html": "text/html",
    "javascript": "application/javascript",
    "path": "../../video/mp4",
    "lookalike": "vid\u0435o/mp4",
    "fullwidth": "\uff56ideo/mp4",
    "over-long": "video/" + "x" * 300,
    "empty": "",
    "spaces-inside": "video / mp4",
}


@pytest.fixture
def world(settings, tmp_path) -> World:
    settings.MEDIA_ROOT = str(tmp_path)
    return build_world()


def editor(world: World) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {world.tokens['editor']}")
    return client


def declare(world: World, **fields) -> object:
    body = {"episode": world.named["draft"], "filename": "a.mp4", "content_type": "video/mp4"}
    return editor(world).post(FILES, {**body, "size": 3, **fields}, format="json")


@pytest.mark.parametrize("content_type", HOSTILE_TYPES.values(), ids=HOSTILE_TYPES.keys())
def test_a_hostile_content_type_is_a_400_naming_it(world, content_type):
    response = declare(world, content_type=content_type)
    assert response.status_code == 400
    assert list(response.json()) == ["content_type"]


def test_surrounding_space_and_case_are_normalised(world):
    response = declare(world, content_type="  Video/MP4 ")
    assert response.status_code == 201
    assert response.json()["content_type"] == "video/mp4"


@pytest.mark.parametrize(
    "filename",
    ['a"; filename="evil.html', "a\r\nSet-Cookie: x=1.mp4", "é\u202egnp.mp4", "../x.mp4"],
)
def test_a_hostile_name_stays_out_of_the_served_files_headers(world, filename):
    client = editor(world)
    created = declare(world, filename=filename, size=3)
    assert created.status_code == 201
    file_id = created.json()["id"]
    upload = client.generic("PUT", f"{FILES}{file_id}/upload/", b"abc", content_type="video/mp4")
    assert upload.status_code == 200
    assert client.post(f"{FILES}{file_id}/complete/").status_code == 200
    served = client.get(f"{FILES}{file_id}/content/")
    assert served.status_code == 200
    disposition = served["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert "\r" not in disposition and "\n" not in disposition
    # Parsed as a client parses it: one attachment, named as the API shows the file.
    header = Message()
    header["Content-Disposition"] = disposition
    assert header.get_content_disposition() == "attachment"
    assert header.get_filename() == created.json()["filename"]
    assert "Set-Cookie" not in served
    assert served["Content-Type"] == "video/mp4"
    assert served["Content-Security-Policy"].startswith("sandbox")

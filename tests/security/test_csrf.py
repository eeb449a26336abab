"""CSRF: every unsafe API operation refuses a session without the CSRF token, as the admin
does; a token-authenticated call needs none (no cookie is sent, nothing to forge).

The operations are read from the schema, so a new one is checked without a new line here.
"""

from __future__ import annotations

import pytest
from django.test import Client
from rest_framework.test import APIClient

from tests.security.endpoints import UNSAFE, api_operations
from tests.security.world import World, build_world

pytestmark = pytest.mark.django_db

# Operations that take no session: the credentials are the request.
SESSIONLESS = {("POST", "/api/v1/auth/token/")}
# Logging in makes a session: the CSRF check applies whoever asks (login CSRF).
ALWAYS_CHECKED = {("POST", "/api/v1/auth/login/")}
UNSAFE_OPERATIONS = [
    operation
    for operation in api_operations()
    if operation[0] in UNSAFE and operation not in SESSIONLESS
]
OPERATION_IDS = [f"{method} {path}" for method, path in UNSAFE_OPERATIONS]
_KINDS = {"episodes": "draft", "compositions": "composition", "files": "pending_file"}
_KINDS.update({"jobs": "failed_job", "notifications": "notification:admin"})


@pytest.fixture
def world(settings, tmp_path) -> World:
    settings.MEDIA_ROOT = str(tmp_path)
    return build_world()


def url_of(path: str, world: World) -> str:
    """The path with its `{id}` filled with a row of the kind it names (that admin may use)."""
    if "{id}" not in path:
        return path
    collection = path.split("/")[3]
    return path.replace("{id}", str(world.named[_KINDS[collection]]))


def session_client(world: World) -> Client:
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.users["admin"])
    client.get("/api/v1/auth/me/")  # sets the csrftoken cookie
    return client


def call(client: Client, method: str, url: str, **headers: str):
    content_type = "application/octet-stream" if url.endswith("/upload/") else "application/json"
    return client.generic(method, url, b"{}", content_type=content_type, **headers)


@pytest.mark.parametrize(("method", "path"), UNSAFE_OPERATIONS, ids=OPERATION_IDS)
def test_a_session_needs_the_csrf_token_and_a_token_needs_none(world, method, path):
    url = url_of(path, world)
    client = session_client(world)
    refused = call(client, method, url)
    assert refused.status_code == 403
    assert refused.json()["detail"].startswith("CSRF Failed")

    passed = call(client, method, url, HTTP_X_CSRFTOKEN=client.cookies["csrftoken"].value)
    assert passed.status_code != 403, passed.content

    bearer = APIClient(enforce_csrf_checks=True)
    bearer.credentials(HTTP_AUTHORIZATION=f"Token {world.tokens['admin']}")
    by_token = call(bearer, method, url)
    if (method, path) in ALWAYS_CHECKED:
        assert by_token.status_code == 403
    else:
        assert by_token.status_code != 403, by_token.content


def test_the_csrf_token_of_another_session_is_refused(world):
    ours, theirs = session_client(world), session_client(world)
    forged = theirs.cookies["csrftoken"].value
    response = ours.post(
        "/api/v1/episodes/", {"title": "x"}, content_type="application/json",
        HTTP_X_CSRFTOKEN=forged + "x",
    )  # fmt: skip
    assert response.status_code == 403


@pytest.mark.parametrize(
    "url", ["/admin/episodes/episode/add/", "/admin/logout/"], ids=["add", "logout"]
)
def test_the_admin_refuses_a_post_without_the_csrf_token(world, url):
    client = Client(enforce_csrf_checks=True)
    world.users["admin"].is_staff = True
    world.users["admin"].save(update_fields=["is_staff"])
    client.force_login(world.users["admin"])
    assert client.post(url, {"title": "x"}).status_code == 403

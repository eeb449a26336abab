"""Who may call which episode and composition endpoint: one table, every role against it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from rest_framework.test import APIClient

from episodes.models import Composition, Episode
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

MISSING_ID = 987654


@dataclass(frozen=True)
class Case:
    method: str
    path: str
    kind: str  # "read": any role; "write": editors and admins; "follow": any role
    ok: int
    body: Callable[[Episode, Composition], dict[str, Any]] = field(default=lambda e, c: {})

    @property
    def detail(self) -> bool:
        return "{episode}" in self.path or "{composition}" in self.path

    def url(self, episode_id: int, composition_id: int) -> str:
        return self.path.format(episode=episode_id, composition=composition_id)

    def call(
        self,
        client: APIClient,
        episode: Episode,
        composition: Composition,
        *,
        missing: bool = False,
    ):
        url = self.url(MISSING_ID, MISSING_ID) if missing else self.url(episode.pk, composition.pk)
        if self.method == "GET":
            return client.get(url)
        return getattr(client, self.method.lower())(
            url, self.body(episode, composition), format="json"
        )


def _episode_body(e: Episode, c: Composition) -> dict[str, Any]:
    return {"title": "Second", "episode_number": 2, "season": 1}


CASES = [
    Case("GET", "/api/v1/episodes/", "read", 200),
    Case("POST", "/api/v1/episodes/", "write", 201, _episode_body),
    Case("GET", "/api/v1/episodes/{episode}/", "read", 200),
    Case("PUT", "/api/v1/episodes/{episode}/", "write", 200, _episode_body),
    Case("PATCH", "/api/v1/episodes/{episode}/", "write", 200, lambda e, c: {"title": "New"}),
    Case("DELETE", "/api/v1/episodes/{episode}/", "write", 204),
    Case("POST", "/api/v1/episodes/{episode}/publish/", "write", 200),
    Case("POST", "/api/v1/episodes/{episode}/archive/", "write", 200),
    Case("PUT", "/api/v1/episodes/{episode}/subscription/", "follow", 200),
    Case("DELETE", "/api/v1/episodes/{episode}/subscription/", "follow", 204),
    Case("GET", "/api/v1/compositions/", "read", 200),
    Case(
        "POST",
        "/api/v1/compositions/",
        "write",
        201,
        lambda e, c: {"episode": e.pk, "name": "Close", "layout": {}},
    ),
    Case("GET", "/api/v1/compositions/{composition}/", "read", 200),
    Case(
        "PUT",
        "/api/v1/compositions/{composition}/",
        "write",
        200,
        lambda e, c: {"episode": e.pk, "name": "Renamed", "layout": {"a": 1}},
    ),
    Case("PATCH", "/api/v1/compositions/{composition}/", "write", 200, lambda e, c: {"name": "X"}),
    Case("DELETE", "/api/v1/compositions/{composition}/", "write", 204),
]


def _ids(cases: list[Case]) -> list[str]:
    return [f"{case.method} {case.path}" for case in cases]


def _only(*kinds: str) -> list[Case]:
    return [case for case in CASES if case.kind in kinds]


DETAIL_CASES = [case for case in CASES if case.detail]
MEMBER_DETAIL_CASES = [case for case in DETAIL_CASES if case.kind != "write"]
BAD_AUTHORIZATION = [
    "Token",
    "Token two words",
    "Bearer not-a-real-token",
]


@pytest.fixture
def make_user(request):
    def make(role: str):
        if role == "superuser":
            return request.getfixturevalue("superuser")
        return UserFactory(username=f"u-{role}", roles=[role])

    return make


@pytest.mark.parametrize("case", CASES, ids=_ids(CASES))
def test_anonymous_session_client_is_refused_with_403(case, episode, composition):
    response = case.call(APIClient(), episode, composition)
    assert response.status_code == 403


@pytest.mark.parametrize("case", CASES, ids=_ids(CASES))
def test_bad_token_is_refused_with_401_and_a_challenge(case, episode, composition):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    response = case.call(client, episode, composition)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


@pytest.mark.parametrize("authorization", BAD_AUTHORIZATION)
@pytest.mark.parametrize("method", ["get", "post"])
def test_malformed_authorization_header_is_401(authorization, method, db):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=authorization)
    response = getattr(client, method)("/api/v1/episodes/", {}, format="json")
    assert response.status_code == 401


def test_token_of_an_inactive_user_is_refused_with_401(editor, token_client_for, episode):
    client = token_client_for(editor)
    editor.is_active = False
    editor.save()
    assert client.get("/api/v1/episodes/").status_code == 401


@pytest.mark.parametrize("case", CASES, ids=_ids(CASES))
def test_outsider_session_is_refused_everything(
    case, api_client_for, outsider, episode, composition
):
    response = case.call(api_client_for(outsider), episode, composition)
    assert response.status_code == 403


@pytest.mark.parametrize("case", CASES, ids=_ids(CASES))
def test_outsider_token_is_refused_everything(
    case, token_client_for, outsider, episode, composition
):
    response = case.call(token_client_for(outsider), episode, composition)
    assert response.status_code == 403


@pytest.mark.parametrize("case", DETAIL_CASES, ids=_ids(DETAIL_CASES))
def test_outsider_cannot_tell_an_existing_id_from_a_missing_one(
    case, api_client_for, outsider, episode, composition
):
    client = api_client_for(outsider)
    existing = case.call(client, episode, composition)
    missing = case.call(client, episode, composition, missing=True)
    assert (existing.status_code, existing.json()) == (missing.status_code, missing.json())


@pytest.mark.parametrize("case", DETAIL_CASES, ids=_ids(DETAIL_CASES))
def test_anonymous_cannot_tell_an_existing_id_from_a_missing_one(case, episode, composition):
    existing = case.call(APIClient(), episode, composition)
    missing = case.call(APIClient(), episode, composition, missing=True)
    assert (existing.status_code, existing.json()) == (missing.status_code, missing.json())


@pytest.mark.parametrize("case", _only("read", "follow"), ids=_ids(_only("read", "follow")))
def test_viewer_reads_and_follows(case, api_client_for, viewer, episode, composition):
    response = case.call(api_client_for(viewer), episode, composition)
    assert response.status_code == case.ok


@pytest.mark.parametrize("case", _only("write"), ids=_ids(_only("write")))
def test_viewer_is_refused_every_write(case, api_client_for, viewer, episode, composition):
    response = case.call(api_client_for(viewer), episode, composition)
    assert response.status_code == 403


@pytest.mark.parametrize("case", _only("write"), ids=_ids(_only("write")))
def test_viewer_write_to_a_missing_id_is_403_too(
    case, api_client_for, viewer, episode, composition
):
    response = case.call(api_client_for(viewer), episode, composition, missing=True)
    assert response.status_code == 403


def test_refused_writes_leave_the_rows_alone(api_client_for, viewer, episode, composition):
    client = api_client_for(viewer)
    client.patch(f"/api/v1/episodes/{episode.pk}/", {"title": "Hijacked"}, format="json")
    client.post(f"/api/v1/episodes/{episode.pk}/publish/")
    client.delete(f"/api/v1/compositions/{composition.pk}/")
    episode.refresh_from_db()
    assert (episode.title, episode.status) == ("Pilot", "draft")
    assert Composition.objects.filter(pk=composition.pk).exists()


@pytest.mark.parametrize("role", ["editors", "admins", "superuser"])
@pytest.mark.parametrize("case", CASES, ids=_ids(CASES))
def test_editing_roles_may_do_everything(
    case, role, make_user, api_client_for, episode, composition
):
    response = case.call(api_client_for(make_user(role)), episode, composition)
    assert response.status_code == case.ok, response.content


@pytest.mark.parametrize("case", CASES, ids=_ids(CASES))
def test_a_valid_token_is_as_good_as_a_session(
    case, editor, token_client_for, episode, composition
):
    response = case.call(token_client_for(editor), episode, composition)
    assert response.status_code == case.ok, response.content


@pytest.mark.parametrize("case", MEMBER_DETAIL_CASES, ids=_ids(MEMBER_DETAIL_CASES))
def test_member_reading_or_following_a_missing_id_gets_404(
    case, viewer, api_client_for, episode, composition
):
    response = case.call(api_client_for(viewer), episode, composition, missing=True)
    assert response.status_code == 404

"""Who may call which files endpoint: one table, every kind of caller against it.

Viewers read (list, detail, content); editors and admins also upload, complete and delete;
a user without a role, or nobody, gets nothing, not even whether a file exists.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from rest_framework.test import APIClient

from files.models import FileAsset
from tests.files.conftest import FILES

pytestmark = pytest.mark.django_db

DATA = b"0123456789"
MISSING_ID = 987654


@dataclass(frozen=True)
class Case:
    method: str
    path: str
    kind: str  # "read": any role; "write": editors and admins
    ok: int

    def call(self, client: APIClient, file: FileAsset, *, missing: bool = False):
        path = self.path.format(file=MISSING_ID if missing else file.pk, episode=file.episode_id)
        if self.method == "PUT":
            return client.generic("PUT", path, DATA, content_type="video/mp4")
        if self.method == "POST" and "{file}" not in self.path:
            body = {"episode": file.episode_id, "filename": "b.mp4", "content_type": "video/mp4"}
            return client.post(path, {**body, "size": 1}, format="json")
        return getattr(client, self.method.lower())(path)


CASES = [
    Case("GET", FILES, "read", 200),
    Case("GET", FILES + "{file}/", "read", 200),
    Case("GET", FILES + "{file}/content/", "read", 200),
    Case("POST", FILES, "write", 201),
    Case("PUT", FILES + "{file}/upload/", "write", 200),
    Case("POST", FILES + "{file}/complete/", "write", 200),
    Case("DELETE", FILES + "{file}/", "write", 204),
]
IDS = [f"{case.method} {case.path}" for case in CASES]
DETAIL = [case for case in CASES if "{file}" in case.path]
DETAIL_IDS = [f"{case.method} {case.path}" for case in DETAIL]
READS = [case for case in CASES if case.kind == "read"]
WRITES = [case for case in CASES if case.kind == "write"]


@pytest.fixture
def file(episode, local_storage: Path) -> FileAsset:
    """A pending file whose bytes are in storage: it can be sent, completed and deleted
    (`_ready_for` marks it uploaded for the content case)."""
    key = f"episodes/{episode.pk}/{'0' * 32}/a.mp4"
    (local_storage / key).parent.mkdir(parents=True)
    (local_storage / key).write_bytes(DATA)
    built = FileAsset(
        episode=episode, filename="a.mp4", storage_key=key, content_type="video/mp4", size=10
    )
    return FileAsset.objects.bulk_create([built])[0]


def _ready_for(case: Case, file: FileAsset) -> FileAsset:
    if case.path.endswith("content/"):
        FileAsset.objects.filter(pk=file.pk).update(status=FileAsset.Status.UPLOADED)
    return file


@pytest.mark.parametrize("case", READS, ids=[f"{c.method} {c.path}" for c in READS])
@pytest.mark.parametrize("role", ["viewer", "editor", "admin"])
def test_every_role_reads(case, role, request, token_client_for, file):
    client = token_client_for(request.getfixturevalue(role))
    assert case.call(client, _ready_for(case, file)).status_code == case.ok


@pytest.mark.parametrize("case", WRITES, ids=[f"{c.method} {c.path}" for c in WRITES])
@pytest.mark.parametrize("role", ["editor", "admin"])
def test_editors_and_admins_write(case, role, request, token_client_for, file):
    client = token_client_for(request.getfixturevalue(role))
    assert case.call(client, file).status_code == case.ok


@pytest.mark.parametrize("case", WRITES, ids=[f"{c.method} {c.path}" for c in WRITES])
def test_a_viewer_is_refused_every_write(case, token_client_for, viewer, file):
    response = case.call(token_client_for(viewer), file)
    assert response.status_code == 403


def test_a_refused_write_changes_nothing(token_client_for, viewer, file, local_storage):
    client = token_client_for(viewer)
    for case in WRITES:
        case.call(client, file)
    assert FileAsset.objects.filter(pk=file.pk, status="pending").exists()
    assert FileAsset.objects.count() == 1
    assert (local_storage / file.storage_key).read_bytes() == DATA


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_an_outsider_is_refused_everything(case, token_client_for, outsider, file):
    response = case.call(token_client_for(outsider), _ready_for(case, file))
    assert response.status_code == 403


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_an_anonymous_session_is_refused_with_403(case, file):
    assert case.call(APIClient(), _ready_for(case, file)).status_code == 403


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_a_bad_token_is_refused_with_401(case, file):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    assert case.call(client, _ready_for(case, file)).status_code == 401


def test_an_anonymous_caller_cannot_read_the_bytes(file):
    FileAsset.objects.filter(pk=file.pk).update(status=FileAsset.Status.UPLOADED)
    response = APIClient().get(f"{FILES}{file.pk}/content/")
    assert response.status_code == 403
    assert DATA not in response.content


@pytest.mark.parametrize("case", DETAIL, ids=DETAIL_IDS)
def test_an_outsider_cannot_tell_an_existing_file_from_a_missing_one(
    case, token_client_for, outsider, file
):
    client = token_client_for(outsider)
    existing = case.call(client, _ready_for(case, file))
    missing = case.call(client, file, missing=True)
    assert (existing.status_code, existing.json()) == (missing.status_code, missing.json())


@pytest.mark.parametrize("case", [c for c in DETAIL if c.kind == "read"], ids=["detail", "content"])
def test_a_missing_file_is_a_404_for_a_reader(case, token_client_for, viewer, file):
    assert case.call(token_client_for(viewer), file, missing=True).status_code == 404

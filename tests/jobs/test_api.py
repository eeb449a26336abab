"""The jobs API: list with filters, ordering and pages; queue a job; retry; redrive."""

from __future__ import annotations

import pytest

from jobs.models import Job
from realtime.models import Activity
from tests.factories import EpisodeFactory
from tests.jobs.media import png_bytes, stored_file

pytestmark = pytest.mark.django_db

JOBS = "/api/v1/jobs/"
CONTRACT_FIELDS = {
    "id",
    "type",
    "status",
    "episode",
    "file",
    "params",
    "progress",
    "attempts",
    "max_attempts",
    "result",
    "error",
    "created_at",
    "started_at",
    "finished_at",
}


@pytest.fixture
def episode():
    return EpisodeFactory(title="Pilot")


def _job(episode, type: str = "search_index", status: str = "queued", **fields) -> Job:
    return Job.objects.create(type=type, episode=episode, status=status, **fields)


def _ids(response) -> list[int]:
    return [row["id"] for row in response.json()["results"]]


def test_a_job_has_the_contracts_fields(api_client_for, viewer, episode):
    job = _job(episode, status="completed", progress=100, attempts=1, result={"ok": True})
    body = api_client_for(viewer).get(f"{JOBS}{job.pk}/").json()
    assert set(body) == CONTRACT_FIELDS
    assert (body["status"], body["episode"], body["result"]) == (
        "completed",
        episode.pk,
        {"ok": True},
    )


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("status=dead", ["dead"]),
        ("type=thumbnail", ["thumbnail"]),
        ("episode={other}", ["other"]),
    ],
)
def test_jobs_are_filtered_by_status_type_and_episode(
    api_client_for, viewer, episode, query, expected
):
    other = EpisodeFactory()
    made = {
        "dead": _job(episode, status="dead"),
        "thumbnail": _job(episode, type="thumbnail"),
        "other": _job(other),
    }
    response = api_client_for(viewer).get(f"{JOBS}?{query.format(other=other.pk)}")
    assert response.status_code == 200
    assert _ids(response) == [made[name].pk for name in expected]


def test_jobs_are_newest_first_and_ordered_on_request(api_client_for, viewer, episode):
    first, second = _job(episode, type="thumbnail"), _job(episode, type="export_episode")
    client = api_client_for(viewer)
    assert _ids(client.get(JOBS)) == [second.pk, first.pk]
    assert _ids(client.get(f"{JOBS}?ordering=type")) == [second.pk, first.pk]
    assert _ids(client.get(f"{JOBS}?ordering=-type")) == [first.pk, second.pk]


def test_jobs_come_in_pages(api_client_for, viewer, episode):
    jobs = [_job(episode) for _ in range(3)]
    body = api_client_for(viewer).get(f"{JOBS}?page_size=2&page=2").json()
    assert body["count"] == 3
    assert [row["id"] for row in body["results"]] == [jobs[0].pk]


@pytest.mark.parametrize("query", ["ordering=error", "status=sleeping", "episode=1.5", "page=0"])
def test_a_bad_query_is_a_400(api_client_for, viewer, query):
    assert api_client_for(viewer).get(f"{JOBS}?{query}").status_code == 400


@pytest.mark.parametrize("role", ["editor", "admin"])
def test_editors_and_admins_queue_jobs(api_client_for, role, request, episode):
    user = request.getfixturevalue(role)
    response = api_client_for(user).post(
        JOBS, {"type": "search_index", "episode": episode.pk}, format="json"
    )
    assert response.status_code == 201
    body = response.json()
    assert (body["status"], body["type"], body["episode"], body["attempts"]) == (
        "queued",
        "search_index",
        episode.pk,
        0,
    )
    job = Job.objects.get(pk=body["id"])
    assert (job.created_by, job.max_attempts) == (user, 3)
    assert Activity.objects.get(action="queued_search_index").user == user


def test_a_job_on_a_file_is_on_the_files_episode(api_client_for, editor, episode):
    image = stored_file(episode, "still.png", "image/png", png_bytes())
    response = api_client_for(editor).post(
        JOBS, {"type": "thumbnail", "file": image.pk, "params": {"size": 64}}, format="json"
    )
    assert response.status_code == 201
    assert (response.json()["episode"], response.json()["params"]) == (episode.pk, {"size": 64})


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({"type": "reticulate", "episode": "{episode}"}, {"type"}),
        ({"type": "search_index"}, {"non_field_errors"}),
        ({"type": "media_probe", "episode": "{episode}"}, {"non_field_errors"}),
        ({"type": "search_index", "episode": "{episode}", "params": {"x": 1}}, {"params"}),
        ({"type": "search_index", "episode": "{episode}", "params": [1]}, {"params"}),
        ({"type": "thumbnail", "file": "{image}", "params": {"size": 10_000}}, {"params"}),
        ({"type": "thumbnail", "file": "{image}", "episode": "{other}"}, {"file"}),
        ({"type": "search_index", "episode": 987654}, {"episode"}),
    ],
)
def test_a_job_that_cannot_run_is_refused_with_a_400(api_client_for, editor, episode, body, errors):
    other = EpisodeFactory()
    image = stored_file(episode, "still.png", "image/png", png_bytes())
    ids = {"{episode}": episode.pk, "{image}": image.pk, "{other}": other.pk}
    body = {
        key: ids.get(value, value) if isinstance(value, str) else value
        for key, value in body.items()
    }
    response = api_client_for(editor).post(JOBS, body, format="json")
    assert response.status_code == 400
    assert set(response.json()) == errors
    assert not Job.objects.exists()


def test_a_params_error_says_what_is_wrong(api_client_for, editor, episode):
    image = stored_file(episode, "still.png", "image/png", png_bytes())
    response = api_client_for(editor).post(
        JOBS, {"type": "thumbnail", "file": image.pk, "params": {"size": 1}}, format="json"
    )
    assert response.json() == {
        "params": ["params.size must be a whole number of pixels from 16 to 2048."]
    }


@pytest.mark.parametrize(("role", "status"), [("viewer", 403), ("outsider", 403)])
def test_viewers_cannot_queue_jobs(api_client_for, request, episode, role, status):
    user = request.getfixturevalue(role)
    response = api_client_for(user).post(
        JOBS, {"type": "search_index", "episode": episode.pk}, format="json"
    )
    assert response.status_code == status


def test_anonymous_callers_see_no_jobs(anon_client, episode):
    _job(episode)
    assert anon_client.get(JOBS).status_code == 403
    assert anon_client.get(JOBS, HTTP_AUTHORIZATION="Token nope").status_code == 401


def test_a_user_without_a_role_sees_no_jobs(api_client_for, outsider, episode):
    _job(episode)
    assert api_client_for(outsider).get(JOBS).status_code == 403


@pytest.mark.parametrize("status", ["failed", "dead"])
def test_an_editor_retries_a_failed_or_dead_job(api_client_for, editor, episode, status):
    job = _job(episode, status=status, attempts=3, error="boom")
    response = api_client_for(editor).post(f"{JOBS}{job.pk}/retry/")
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["attempts"], response.json()["error"]) == (
        "queued",
        0,
        "",
    )


@pytest.mark.parametrize("status", ["queued", "running", "retrying", "completed"])
def test_a_job_in_another_state_cannot_be_retried(api_client_for, editor, episode, status):
    job = _job(episode, status=status)
    response = api_client_for(editor).post(f"{JOBS}{job.pk}/retry/")
    assert response.status_code == 409
    assert response.json()["status"] == status
    assert response.json()["allowed_from"] == ["dead", "failed"]


def test_a_viewer_cannot_retry(api_client_for, viewer, episode):
    job = _job(episode, status="failed")
    assert api_client_for(viewer).post(f"{JOBS}{job.pk}/retry/").status_code == 403


def test_an_admin_redrives_a_dead_job(api_client_for, admin, episode):
    job = _job(episode, status="dead", attempts=3, error="gone")
    response = api_client_for(admin).post(f"{JOBS}{job.pk}/redrive/")
    assert response.status_code == 200
    assert response.json()["status"] == "queued"
    activity = Activity.objects.get(action="queued_search_index")
    assert (activity.user, activity.metadata["previous"]) == (admin, "dead")


@pytest.mark.parametrize("role", ["editor", "viewer"])
def test_only_admins_redrive(api_client_for, request, episode, role):
    job = _job(episode, status="dead")
    user = request.getfixturevalue(role)
    assert api_client_for(user).post(f"{JOBS}{job.pk}/redrive/").status_code == 403
    job.refresh_from_db()
    assert job.status == "dead"


def test_a_job_that_is_not_dead_cannot_be_redriven(api_client_for, admin, episode):
    job = _job(episode, status="failed")
    response = api_client_for(admin).post(f"{JOBS}{job.pk}/redrive/")
    assert response.status_code == 409
    assert response.json()["allowed_from"] == ["dead"]


def test_a_missing_job_is_a_404(api_client_for, admin):
    client = api_client_for(admin)
    assert client.get(f"{JOBS}987654/").status_code == 404
    assert client.post(f"{JOBS}987654/retry/").status_code == 404

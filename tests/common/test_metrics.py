"""/metrics: Prometheus text with request counts and latency by route pattern and status."""

from __future__ import annotations

import pytest
from prometheus_client.parser import text_string_to_metric_families

from common.middleware import route_label
from tests.factories import EpisodeFactory

pytestmark = pytest.mark.django_db

DETAIL_ROUTE = "api/v1/episodes/<pk>/"


def scrape(client) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of the exposition, by name and sorted labels."""
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.content.decode())
        for sample in family.samples
    }


def labels(route: str, status: str, method: str = "GET") -> tuple[tuple[str, str], ...]:
    return tuple(sorted({"method": method, "route": route, "status": status}.items()))


def test_requests_are_counted_by_route_pattern_and_status(api_client_for, viewer, anon_client):
    episode = EpisodeFactory()
    client = api_client_for(viewer)
    ok, forbidden = labels(DETAIL_ROUTE, "200"), labels(DETAIL_ROUTE, "403")
    before = scrape(anon_client)

    client.get(f"/api/v1/episodes/{episode.pk}/")
    client.get(f"/api/v1/episodes/{episode.pk}/")
    anon_client.get(f"/api/v1/episodes/{episode.pk}/")

    after = scrape(anon_client)
    total = "showdesk_http_requests_total"
    assert after[(total, ok)] - before.get((total, ok), 0) == 2
    assert after[(total, forbidden)] - before.get((total, forbidden), 0) == 1


def test_latency_histogram_observes_each_request(api_client_for, viewer, anon_client):
    episode = EpisodeFactory()
    ok = labels(DETAIL_ROUTE, "200")
    count = "showdesk_http_request_duration_seconds_count"
    before = scrape(anon_client)

    api_client_for(viewer).get(f"/api/v1/episodes/{episode.pk}/")

    after = scrape(anon_client)
    assert after[(count, ok)] - before.get((count, ok), 0) == 1
    inf_bucket = tuple(sorted({**dict(ok), "le": "+Inf"}.items()))
    assert (
        after[("showdesk_http_request_duration_seconds_bucket", inf_bucket)] == after[(count, ok)]
    )


def test_no_route_label_holds_a_raw_id(api_client_for, viewer, anon_client):
    episode = EpisodeFactory()
    api_client_for(viewer).get(f"/api/v1/episodes/{episode.pk}/")
    routes = {dict(key[1]).get("route") for key in scrape(anon_client)} - {None}
    assert DETAIL_ROUTE in routes
    assert not any(str(episode.pk) in route.split("/") for route in routes)


def test_unknown_paths_share_one_label(anon_client):
    anon_client.get("/no-such-page-1")
    anon_client.get("/no-such-page-2")
    routes = {dict(key[1]).get("route") for key in scrape(anon_client)}
    assert "unmatched" in routes
    assert not any(route and "no-such-page" in route for route in routes)


def test_unknown_methods_share_one_label(anon_client):
    anon_client.generic("BREW", "/healthz")
    methods = {dict(key[1]).get("method") for key in scrape(anon_client)}
    assert "other" in methods
    assert "BREW" not in methods


@pytest.mark.parametrize(
    ("pattern", "label"),
    [
        (r"api/v1/episodes/(?P<pk>[^/.]+)/$", "api/v1/episodes/<pk>/"),
        (r"api/v1/episodes/(?P<pk>[^/.]+)/publish/$", "api/v1/episodes/<pk>/publish/"),
        (r"api/v1/episodes\.(?P<format>[a-z0-9]+)/?$", "api/v1/episodes.<format>/"),
        ("api/v1/presence/<str:resource_type>/<int:id>/", "api/v1/presence/<resource_type>/<id>/"),
        (r"admin/(?P<app_label>auth|episodes)/$", "admin/<app_label>/"),
        ("healthz", "healthz"),
    ],
)
def test_route_label_of_a_pattern(pattern, label):
    assert route_label(pattern) == label


@pytest.mark.django_db
def test_multi_process_exposition_keeps_the_jobs_gauges(monkeypatch, tmp_path):
    from common.metrics import exposition

    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    body, _ = exposition()
    assert b"showdesk_jobs" in body

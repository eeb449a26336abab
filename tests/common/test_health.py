"""/healthz (the process answers) and /readyz (the database and Redis answer, 503 otherwise)."""

from __future__ import annotations

import pytest

from common import health

CLOSED_REDIS_PORT = "redis://127.0.0.1:1/0"


def test_healthz_is_ok_without_touching_the_database(anon_client):
    # No `db` fixture: pytest-django fails any query, so this also proves /healthz makes none.
    response = anon_client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_readyz_checks_the_database_and_redis_where_configured(anon_client, settings):
    response = anon_client.get("/readyz")
    expected = {"database": "ok", **({"redis": "ok"} if settings.REDIS_URL else {})}
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": expected, "failed": []}


@pytest.mark.django_db
def test_readyz_is_503_naming_redis_when_redis_is_unreachable(anon_client, settings):
    settings.REDIS_URL = CLOSED_REDIS_PORT
    response = anon_client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["failed"] == ["redis"]
    assert body["checks"] == {"database": "ok", "redis": "unavailable"}


@pytest.mark.django_db
def test_readyz_is_503_naming_the_database_when_it_fails(anon_client, monkeypatch):
    def database_down() -> None:
        raise OSError("connection refused")

    monkeypatch.setattr(health, "check_database", database_down)
    response = anon_client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["failed"] == ["database"]
    assert response.json()["checks"]["database"] == "unavailable"


@pytest.mark.django_db
def test_readyz_does_not_reveal_the_error(anon_client, monkeypatch):
    def database_down() -> None:
        raise OSError("password authentication failed for user showdesk at db.internal")

    monkeypatch.setattr(health, "check_database", database_down)
    assert b"db.internal" not in anon_client.get("/readyz").content


def test_probes_are_never_cached(anon_client):
    assert "no-cache" in anon_client.get("/healthz")["Cache-Control"]

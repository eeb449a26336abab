"""The OpenAPI 3 schema at /api/schema/ (public, valid, warning-free) and the docs page."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from openapi_spec_validator import validate

pytestmark = pytest.mark.django_db


def test_schema_is_a_valid_openapi_3_document_readable_without_login(anon_client):
    response = anon_client.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    schema = response.json()
    validate(schema)
    assert schema["openapi"].startswith("3.")
    assert {"/api/v1/auth/token/", "/api/v1/episodes/{id}/"} <= set(schema["paths"])


def test_schema_documents_the_token_endpoints_errors(anon_client):
    schema = anon_client.get("/api/schema/", {"format": "json"}).json()
    responses = schema["paths"]["/api/v1/auth/token/"]["post"]["responses"]
    # No 401 or 403: the endpoint takes no credentials but the ones it checks.
    assert set(responses) == {"200", "400", "413", "415", "429", "503"}
    assert "Retry-After" in responses["429"]["headers"]
    assert "Retry-After" in responses["503"]["headers"]


def test_schema_documents_the_errors_each_operation_can_answer(anon_client):
    paths = anon_client.get("/api/schema/", {"format": "json"}).json()["paths"]
    patch = set(paths["/api/v1/episodes/{id}/"]["patch"]["responses"])
    assert patch >= {"200", "400", "401", "403", "404", "413", "415", "503"}
    # A list answers 404 to a page past the end; reads take no body, so no 413 or 415.
    listing = set(paths["/api/v1/episodes/"]["get"]["responses"])
    assert listing == {"200", "400", "401", "403", "404", "503"}
    ticket = set(paths["/api/v1/realtime/ticket/"]["post"]["responses"])
    assert ticket == {"201", "401", "403", "503"}


def test_schema_generation_has_no_warnings(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    result = subprocess.run(  # noqa: S603 - our own interpreter and manage.py
        [
            sys.executable,
            "manage.py",
            "spectacular",
            "--validate",
            "--fail-on-warn",
            "--file",
            str(tmp_path / "schema.yaml"),
        ],
        cwd=Path(settings.BASE_DIR),
        env=env,
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "schema.yaml").read_text().startswith("openapi: 3.")


def test_docs_page_loads_its_assets_from_our_static_files(anon_client):
    response = anon_client.get("/api/docs/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    html = response.content.decode()
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    static = f"/{settings.STATIC_URL.strip('/')}/"
    assert assets
    assert all(asset.startswith(f"{static}drf_spectacular_sidecar/") for asset in assets), assets
    assert all(finders.find(asset.removeprefix(static)) for asset in assets)
    assert '"/api/schema/"' in html

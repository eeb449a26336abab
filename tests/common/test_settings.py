"""Production settings: `check --deploy` is clean, and a missing SECRET_KEY stops the start."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

# Whatever the developer's or CI's shell sets that the production env below decides instead.
SCRUBBED = {
    "DATABASE_URL",
    "REDIS_URL",
    "CELERY_BROKER_URL",
    "DEBUG",
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "CSRF_TRUSTED_ORIGINS",
    "DJANGO_SETTINGS_MODULE",
}


def run(args: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    base = {
        key: value
        for key, value in os.environ.items()
        if key not in SCRUBBED and not key.startswith("SECURE_")
    }
    return subprocess.run(  # noqa: S603 - our own interpreter and manage.py
        [sys.executable, *args],
        cwd=Path(settings.BASE_DIR),
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )


def test_check_deploy_passes_with_production_env():
    result = run(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="showdesk.example.com",
    )
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout
    assert "WARNINGS" not in result.stderr


@pytest.mark.parametrize(
    "args", [["manage.py", "check"], ["-c", "import config.asgi"]], ids=["check", "asgi"]
)
def test_production_refuses_to_start_without_a_secret_key(args):
    result = run(args, DEBUG="false", ALLOWED_HOSTS="showdesk.example.com")
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr

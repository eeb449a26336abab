"""Production settings: `check --deploy` is clean, and a missing SECRET_KEY stops the start."""

from __future__ import annotations

import json
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


# What a browser gets from a production process: run in a subprocess, where DEBUG=false is
# read at import as it would be in production.
PRODUCTION_PROBE = r"""
import json
from django.test import Client
from django.conf import settings

https = Client(HTTP_HOST="showdesk.example.com")
page = https.get("/api/v1/auth/me/", secure=True)
plain = Client(HTTP_HOST="showdesk.example.com").get("/api/v1/episodes/")
health = Client(HTTP_HOST="showdesk.example.com").get("/healthz")
print(json.dumps({
    "headers": {name: page.get(name) for name in (
        "Strict-Transport-Security", "X-Frame-Options", "X-Content-Type-Options",
        "Referrer-Policy", "Cross-Origin-Opener-Policy",
    )},
    "csrf_cookie": {k: page.cookies["csrftoken"][k] for k in ("secure", "samesite", "httponly")},
    "plain": [plain.status_code, plain.get("Location")],
    "health": health.status_code,
    "session": [settings.SESSION_COOKIE_SECURE, settings.SESSION_COOKIE_HTTPONLY,
                settings.SESSION_COOKIE_SAMESITE],
}))
"""


def production_probe() -> dict:
    result = run(
        ["manage.py", "shell", "-c", PRODUCTION_PROBE],
        DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="showdesk.example.com",
        LOG_LEVEL="ERROR",
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_production_responses_carry_the_security_headers():
    headers = production_probe()["headers"]
    assert headers == {
        "Strict-Transport-Security": "max-age=31536000; includeSubDomains; preload",
        "X-Frame-Options": "DENY",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
        "Cross-Origin-Opener-Policy": "same-origin",
    }


def test_production_cookies_are_secure_and_same_site():
    probe = production_probe()
    # The CSRF cookie is read by the client's script, so it is not HttpOnly; the session is.
    assert probe["csrf_cookie"] == {"secure": True, "samesite": "Lax", "httponly": ""}
    assert probe["session"] == [True, True, "Lax"]


def test_production_redirects_plain_http_to_https_but_not_the_health_checks():
    probe = production_probe()
    assert probe["plain"] == [301, "https://showdesk.example.com/api/v1/episodes/"]
    assert probe["health"] == 200

"""The desk's page as the server sends it (no browser needed): to anyone, with the CSRF cookie
its login form needs, and the vendored Vue it loads."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from desk.views import VUE_VERSION

DESK = Path(__file__).resolve().parents[2] / "desk"


@pytest.mark.django_db
def test_the_page_is_the_same_for_anyone_and_sets_the_csrf_cookie(anon_client):
    response = anon_client.get("/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert "csrftoken" in response.cookies
    page = response.content.decode()
    assert '<div id="desk"' in page
    assert re.search(r'"vue": "/static/desk/vendor/vue/vue\.esm-browser\.prod\.js"', page)
    assert '<script type="module" src="/static/desk/app.js">' in page


@pytest.mark.django_db
def test_the_page_answers_only_get(anon_client):
    assert anon_client.post("/").status_code == 405


def test_the_vendored_vue_is_the_version_named_with_its_licence():
    vendor = DESK / "static" / "desk" / "vendor" / "vue"
    banner = (vendor / "vue.esm-browser.prod.js").read_text()[:200]
    assert f"vue v{VUE_VERSION}" in banner
    assert "MIT License" in (vendor / "LICENSE").read_text()

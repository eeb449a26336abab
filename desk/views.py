"""The desk's one page. It holds no data: the client signs in and reads through the API."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_GET

# The vendored Vue build (desk/static/desk/vendor/vue/), named in the page and the README.
VUE_VERSION = "3.5.45"


@require_GET
@ensure_csrf_cookie
def index(request: HttpRequest) -> HttpResponse:
    """The same page for everyone: it shows the login form when `auth/me/` says so."""
    return render(request, "desk/index.html", {"vue_version": VUE_VERSION})

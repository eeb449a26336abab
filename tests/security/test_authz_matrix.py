"""Who may do what: every API operation, every other route and every admin page, for each
role, a second user of the same role, a user without a role, an anonymous caller and a forged
token. The streams are in test_authz_streams.py.

The tables are checked against what the code serves (the OpenAPI schema, the URL resolver,
the admin registry): an endpoint added without a row fails `test_*_has_a_row`.

Each API row names the status every caller gets; a cell runs in a savepoint of its own, so
that one caller's delete does not change what the next one finds.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.contrib import admin
from django.db import transaction
from django.test import Client
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from realtime.models import EpisodeMute, NotificationPreference
from tests.factories import DEFAULT_PASSWORD, UserFactory
from tests.security.endpoints import api_operations, routes, url_names
from tests.security.world import World, build_world

pytestmark = pytest.mark.django_db

# --- callers ---------------------------------------------------------------------------------

# A token of the right shape that names nobody.
FORGED = "0" * 40
# Callers who may see no row at all, and an id no row has.
NO_ACCESS = ("anon", "forged", "norole")
MISSING = 2**40
CALLERS = [
    "anon", "forged", "norole",
    "viewer", "viewer2", "editor", "editor2", "admin", "admin2",
]  # fmt: skip


def members(ok: int) -> dict[str, int]:
    """Every role may; without a role, 403; no credentials, 403; a bad token, 401."""
    return {"anon": 403, "forged": 401, "norole": 403, "viewer": ok, "editor": ok, "admin": ok}


def editors(ok: int) -> dict[str, int]:
    return {**members(ok), "viewer": 403}


def admins(ok: int) -> dict[str, int]:
    return {**members(ok), "viewer": 403, "editor": 403}


def signed_in(ok: int) -> dict[str, int]:
    """Anyone signed in, with a role or not."""
    return {**members(ok), "norole": ok}


def anyone(ok: int) -> dict[str, int]:
    return {caller: ok for caller in ("anon", "forged", "norole", "viewer", "editor", "admin")}


def own(ok: int, owner: str) -> dict[str, int]:
    """Only `owner` may; every other member gets 404, as for a row that does not exist."""
    expected = members(404)
    expected[owner] = ok
    expected.setdefault(f"{owner.rstrip('2')}2", 404)
    return expected


# --- the API table ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    expect: dict[str, int]
    # A named row of the world put in the path ({id}, or {resource_type}/{resource_id}).
    target: str | None = None
    body: Any = None
    content_type: str = "application/json"
    # Sent as the caller: the row needs the caller's own credentials in its body.
    body_for: Callable[[str], Any] | None = field(default=None, compare=False)


EPISODE = {"title": "New", "episode_number": 99, "season": 7}
COMPOSITION_PATCH = {"name": "Renamed"}
PREFERENCES = {"types": {}, "muted_episodes": []}


def _credentials(caller: str) -> dict[str, str]:
    username = "viewer" if caller in ("anon", "forged") else caller
    return {"username": username, "password": DEFAULT_PASSWORD}


V1 = "/api/v1"
API: dict[tuple[str, str], Row] = {
    # auth: signing in needs no credentials but the ones sent; a bad token is still refused.
    ("POST", f"{V1}/auth/login/"): Row({**anyone(200), "forged": 401}, body_for=_credentials),
    ("POST", f"{V1}/auth/logout/"): Row({**anyone(204), "forged": 401}),
    ("POST", f"{V1}/auth/token/"): Row(anyone(200), body_for=_credentials),
    ("GET", f"{V1}/auth/me/"): Row(signed_in(200)),
    # episodes
    ("GET", f"{V1}/episodes/"): Row(members(200)),
    ("POST", f"{V1}/episodes/"): Row(editors(201), body=EPISODE),
    ("GET", f"{V1}/episodes/{{id}}/"): Row(members(200), "draft"),
    ("PUT", f"{V1}/episodes/{{id}}/"): Row(editors(200), "draft", EPISODE),
    ("PATCH", f"{V1}/episodes/{{id}}/"): Row(editors(200), "draft", {"title": "Renamed"}),
    ("DELETE", f"{V1}/episodes/{{id}}/"): Row(editors(204), "draft"),
    ("POST", f"{V1}/episodes/{{id}}/publish/"): Row(editors(200), "draft"),
    ("POST", f"{V1}/episodes/{{id}}/archive/"): Row(editors(200), "published"),
    ("PUT", f"{V1}/episodes/{{id}}/subscription/"): Row(members(200), "published"),
    ("DELETE", f"{V1}/episodes/{{id}}/subscription/"): Row(members(204), "published"),
    ("PUT", f"{V1}/episodes/{{id}}/mute/"): Row(members(200), "published"),
    ("DELETE", f"{V1}/episodes/{{id}}/mute/"): Row(members(204), "published"),
    # compositions
    ("GET", f"{V1}/compositions/"): Row(members(200)),
    ("POST", f"{V1}/compositions/"): Row(
        editors(201), body_for=lambda _: {"episode": "draft", "name": "Cut 2", "layout": {}}
    ),
    ("GET", f"{V1}/compositions/{{id}}/"): Row(members(200), "composition"),
    ("PUT", f"{V1}/compositions/{{id}}/"): Row(
        editors(200), "composition", {"name": "Cut 3", "layout": {"a": 2}}
    ),
    ("PATCH", f"{V1}/compositions/{{id}}/"): Row(editors(200), "composition", COMPOSITION_PATCH),
    ("DELETE", f"{V1}/compositions/{{id}}/"): Row(editors(204), "composition"),
    # files
    ("GET", f"{V1}/files/"): Row(members(200)),
    ("POST", f"{V1}/files/"): Row(
        editors(201),
        body_for=lambda _: {
            "episode": "draft",
            "filename": "b.mp4",
            "content_type": "video/mp4",
            "size": 3,
        },
    ),
    ("GET", f"{V1}/files/{{id}}/"): Row(members(200), "uploaded_file"),
    ("DELETE", f"{V1}/files/{{id}}/"): Row(editors(204), "uploaded_file"),
    ("GET", f"{V1}/files/{{id}}/content/"): Row(members(200), "uploaded_file"),
    ("PUT", f"{V1}/files/{{id}}/upload/"): Row(
        editors(200), "pending_file", b"RIFF", content_type="audio/wav"
    ),
    # Nothing was uploaded: past the permission check, the file is still pending.
    ("POST", f"{V1}/files/{{id}}/complete/"): Row(editors(409), "pending_file"),
    # jobs
    ("GET", f"{V1}/jobs/"): Row(members(200)),
    ("POST", f"{V1}/jobs/"): Row(
        editors(201), body_for=lambda _: {"type": "search_index", "episode": "draft"}
    ),
    ("GET", f"{V1}/jobs/{{id}}/"): Row(members(200), "failed_job"),
    ("POST", f"{V1}/jobs/{{id}}/retry/"): Row(editors(200), "failed_job"),
    ("POST", f"{V1}/jobs/{{id}}/redrive/"): Row(admins(200), "dead_job"),
    # the live layer
    ("GET", f"{V1}/activity/"): Row(members(200)),
    ("GET", f"{V1}/events/?since=0"): Row(members(200)),
    ("POST", f"{V1}/realtime/ticket/"): Row(members(201)),
    ("GET", f"{V1}/presence/{{resource_type}}/{{resource_id}}/"): Row(members(200), "draft"),
    # notifications: one's own only; another's is answered as if it did not exist
    ("GET", f"{V1}/notifications/"): Row(members(200)),
    ("GET", f"{V1}/notifications/unread-count/"): Row(members(200)),
    ("POST", f"{V1}/notifications/read-all/"): Row(members(200)),
    ("POST", f"{V1}/notifications/{{id}}/read/"): Row(own(200, "viewer"), "notification:viewer"),
    ("GET", f"{V1}/notifications/preferences/"): Row(members(200)),
    ("PUT", f"{V1}/notifications/preferences/"): Row(members(200), body=PREFERENCES),
    ("PATCH", f"{V1}/notifications/preferences/"): Row(members(200), body={"types": {}}),
}
# Query strings a row needs, kept out of the operation's key.
_QUERY = re.compile(r"\?.*$")
ROWS = {(method, _QUERY.sub("", path)): (path, row) for (method, path), row in API.items()}


def client_for(caller: str, world: World) -> APIClient:
    client = APIClient()
    if caller == "forged":
        client.credentials(HTTP_AUTHORIZATION=f"Token {FORGED}")
    elif caller != "anon":
        client.credentials(HTTP_AUTHORIZATION=f"Token {world.tokens[caller]}")
    return client


def _resolve(value: Any, world: World) -> Any:
    """A body's names of world rows ("draft") replaced by their ids."""
    if isinstance(value, dict):
        return {key: _resolve(item, world) for key, item in value.items()}
    if isinstance(value, str) and value in world.named:
        return world.named[value]
    return value


def url_for(path: str, row: Row, world: World) -> str:
    if row.target is None:
        return path
    target = str(world.named[row.target])
    # The one presence row asks about an episode.
    return path.replace("{id}", target).replace(
        "{resource_type}/{resource_id}", f"episode/{target}"
    )


def call(caller: str, method: str, path: str, row: Row, world: World) -> int:
    body = row.body_for(caller) if row.body_for else row.body
    body = _resolve(body, world)
    data = _json(body) if row.content_type == "application/json" else body
    response = client_for(caller, world).generic(
        method, url_for(path, row, world), data, content_type=row.content_type
    )
    return response.status_code


def _json(data: Any) -> str:
    return "" if data is None else json.dumps(data)


def in_savepoint(action: Callable[[], int]) -> int:
    savepoint = transaction.savepoint()
    try:
        return action()
    finally:
        transaction.savepoint_rollback(savepoint)


@pytest.fixture
def world(settings, tmp_path) -> World:
    settings.MEDIA_ROOT = str(tmp_path)
    return build_world()


def expected_of(row: Row) -> dict[str, int]:
    """The row's answer for every caller: a second user answers as the first unless named."""
    return {
        caller: row.expect.get(caller, row.expect.get(caller.rstrip("2"))) for caller in CALLERS
    }


@pytest.mark.parametrize("operation", sorted(ROWS), ids=" ".join)
def test_api_operation(world, operation):
    method, _ = operation
    path, row = ROWS[operation]
    got = {
        caller: in_savepoint(lambda caller=caller: call(caller, method, path, row, world))
        for caller in CALLERS
    }
    assert got == expected_of(row)
    if row.target is not None:
        # Those who may not see the row get the same answer for one that does not exist.
        gone = World(world.users, world.tokens, world.ids, {**world.named, row.target: MISSING})
        for caller in NO_ACCESS:
            assert (
                in_savepoint(lambda caller=caller: call(caller, method, path, row, gone))
                == (got[caller])
            ), caller


def test_every_api_operation_has_a_row():
    assert set(ROWS) == set(api_operations())


def _template(route: str) -> str:
    """`api/v1/^episodes/(?P<pk>[^/.]+)/$` or `episodes/<int:pk>/` → `/api/v1/episodes/{id}/`."""
    route = route.replace("^", "").replace("$", "")
    route = re.sub(r"\(\?P<pk>[^)]*\)|<int:pk>", "{id}", route)
    route = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route)
    return "/" + route


def test_every_api_route_is_in_the_schema():
    """An endpoint left out of the schema would escape the table (and the fuzzer)."""
    documented = {path for _, path in api_operations()}
    served = {
        _template(route)
        for route, _ in routes("api/v1/")
        if "(?P<format>" not in route  # DRF's `.json` suffixes: the same views
    }
    assert served == documented


# --- things that may not be seen: the answer must not tell whether they exist ---------------


@pytest.mark.parametrize("caller", ["viewer2", "editor", "admin"])
def test_another_users_notification_is_answered_as_missing(world, caller):
    client = client_for(caller, world)
    theirs = client.post(f"{V1}/notifications/{world.named['notification:viewer']}/read/")
    missing = client.post(f"{V1}/notifications/{MISSING}/read/")
    assert (theirs.status_code, theirs.json()) == (missing.status_code, missing.json())
    listed = client.get(f"{V1}/notifications/").json()["results"]
    assert world.named["notification:viewer"] not in [item["id"] for item in listed]


def test_a_file_of_a_deleted_episode_is_gone(world):
    client = client_for("viewer", world)
    url = f"{V1}/files/{world.named['uploaded_file']}/content/"
    assert client.get(url).status_code == 200
    editor = client_for("editor", world)
    assert editor.delete(f"{V1}/episodes/{world.named['draft']}/").status_code == 204
    assert client.get(url).status_code == 404


# --- other routes ---------------------------------------------------------------------------

OTHER_ROUTES: dict[str, tuple[str, dict[str, int]]] = {
    "schema": ("/api/schema/", {**anyone(200), "forged": 401}),
    "docs": ("/api/docs/", {**anyone(200), "forged": 401}),
    "healthz": ("/healthz", anyone(200)),
    "readyz": ("/readyz", anyone(200)),
    # Prometheus scrapes it without credentials: keep it off the public network (README).
    "metrics": ("/metrics", anyone(200)),
    "desk": ("/", anyone(200)),
}


@pytest.mark.parametrize("name", sorted(OTHER_ROUTES))
def test_other_route(world, name):
    url, expect = OTHER_ROUTES[name]
    got = {caller: client_for(caller, world).get(url).status_code for caller in expect}
    assert got == expect


def test_every_other_route_has_a_row():
    assert url_names(but=("api/v1/", "admin/")) == set(OTHER_ROUTES)


# --- the admin ------------------------------------------------------------------------------

# What each (staff) role may do per model: v view (list, change page, history), a add,
# d delete. Changes follow view: a read-only change page is still a 200.
ROLE_RIGHTS = {"viewer": "v", "editor": "vad", "admin": "vad"}
ADMIN_RIGHTS: dict[str, dict[str, str]] = {
    "episodes.Episode": {**ROLE_RIGHTS, "superuser": "vad"},
    "episodes.Composition": {**ROLE_RIGHTS, "superuser": "vad"},
    "episodes.EpisodeSubscription": {**ROLE_RIGHTS, "superuser": "vad"},
    # Files are made by uploads and jobs by the API: nobody adds them here.
    "files.FileAsset": {"viewer": "v", "editor": "vd", "admin": "vd", "superuser": "vd"},
    "jobs.Job": {"viewer": "v", "editor": "vd", "admin": "vd", "superuser": "vd"},
    # The realtime records are read-only for everyone.
    "realtime.Activity": {"viewer": "v", "editor": "v", "admin": "v", "superuser": "v"},
    "realtime.Event": {"viewer": "v", "editor": "v", "admin": "v", "superuser": "v"},
    "realtime.Notification": {"viewer": "v", "editor": "v", "admin": "v", "superuser": "vad"},
    # A user's own settings, and the accounts: superusers only.
    "realtime.NotificationPreference": {"superuser": "vad"},
    "realtime.EpisodeMute": {"superuser": "vad"},
    "auth.User": {"superuser": "vad"},
    "auth.Group": {"superuser": "vad"},
    "authtoken.TokenProxy": {"superuser": "vad"},
}
ADMIN_CALLERS = ["anon", "nonstaff", "staff_norole", "viewer", "editor", "admin", "superuser"]
PAGES = {"changelist": "v", "add": "a", "change": "v", "history": "v", "delete": "d"}
# The admin's own pages, not a model's.
ADMIN_SITE_PAGES = {
    "index", "login", "logout", "password_change", "password_change_done", "jsi18n",
    "app_list", "autocomplete", "view_on_site", "auth_user_password_change",
}  # fmt: skip


def admin_expected(label: str, page: str) -> dict[str, int]:
    rights = ADMIN_RIGHTS[label]
    expected = {"anon": 302, "nonstaff": 302, "staff_norole": 403}
    for caller in ("viewer", "editor", "admin", "superuser"):
        expected[caller] = 200 if PAGES[page] in rights.get(caller, "") else 403
    return expected


@pytest.fixture
def admin_callers(world) -> dict[str, Client]:
    staff = {
        "nonstaff": UserFactory(username="nonstaff", roles=["editors"]),
        "staff_norole": UserFactory(username="staff_norole", is_staff=True),
        "viewer": UserFactory(username="staff_viewer", roles=["viewers"], is_staff=True),
        "editor": UserFactory(username="staff_editor", roles=["editors"], is_staff=True),
        "admin": UserFactory(username="staff_admin", roles=["admins"], is_staff=True),
        "superuser": UserFactory(username="root", is_staff=True, is_superuser=True),
    }
    clients = {"anon": Client()}
    for name, user in staff.items():
        clients[name] = Client()
        clients[name].force_login(user)
    return clients


def _an_object_of(model: type, world: World) -> Any:
    if model is NotificationPreference:
        return NotificationPreference.objects.get_or_create(
            user=world.users["viewer"], type="episode_published", defaults={"enabled": False}
        )[0]
    if model is EpisodeMute:
        return EpisodeMute.objects.get_or_create(
            user=world.users["viewer"], episode_id=world.named["draft"]
        )[0]
    if model._meta.label == "authtoken.TokenProxy":
        return Token.objects.get(user=world.users["viewer"])
    return model.objects.order_by("pk").first()


def admin_url(model: type, page: str, world: World) -> str:
    base = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
    if page == "changelist":
        return base
    if page == "add":
        return f"{base}add/"
    obj = _an_object_of(model, world)
    assert obj is not None, f"no {model._meta.label} in the world"
    pk = obj.user_id if model._meta.label == "authtoken.TokenProxy" else obj.pk
    return f"{base}{pk}/{page}/"


ADMIN_PAGES = [(model._meta.label, page) for model in admin.site._registry for page in PAGES]


@pytest.mark.parametrize("label", sorted(ADMIN_RIGHTS))
def test_admin_pages(world, admin_callers, label):
    model = next(model for model in admin.site._registry if model._meta.label == label)
    got, expected = {}, {}
    for page in PAGES:
        url = admin_url(model, page, world)
        got[page] = {
            caller: client.get(url).status_code for caller, client in admin_callers.items()
        }
        expected[page] = admin_expected(label, page)
    assert got == expected


def test_every_admin_model_has_a_row():
    assert {model._meta.label for model in admin.site._registry} == set(ADMIN_RIGHTS)


def test_every_admin_route_is_a_model_page_or_a_site_page():
    model_pages = {
        f"{model._meta.app_label}_{model._meta.model_name}_{page}"
        for model in admin.site._registry
        for page in PAGES
    }
    # Unnamed admin routes only redirect (`<id>/` to its change page, the catch-all to login).
    named = {name for _, name in routes("admin/") if name}
    assert named == model_pages | ADMIN_SITE_PAGES

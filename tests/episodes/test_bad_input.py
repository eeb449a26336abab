"""The 400 sweep: every malformed body or query of the episode endpoints is a 400 naming the
field (415 for a body that is not JSON), never a 500."""

from __future__ import annotations

import json
from typing import Any

import pytest

from episodes.models import Composition, Episode

pytestmark = pytest.mark.django_db

EPISODES = "/api/v1/episodes/"
COMPOSITIONS = "/api/v1/compositions/"
MISSING = object()
HUGE = 2**70


@pytest.fixture
def client(fast_client_for, editor):
    return fast_client_for(editor)


def _assert_400_naming(response, field: str) -> None:
    assert response.status_code == 400, response.content
    body = response.json()
    assert field in body, body
    assert isinstance(body[field], list)
    assert all(isinstance(message, str) and message for message in body[field])


def _with(base: dict[str, Any], field: str, value: Any) -> dict[str, Any]:
    body = dict(base)
    if value is MISSING:
        body.pop(field, None)
    else:
        body[field] = value
    return body


def _case_id(value: Any) -> str:
    if value is MISSING:
        return "missing"
    text = json.dumps(value)
    return text if len(text) <= 30 else f"{text[:12]}...({len(text)} chars)"


# --- Episodes: fields -------------------------------------------------------------------------

EPISODE_BODY = {
    "title": "Fine",
    "episode_number": 1,
    "season": 1,
    "description": "",
    "air_date": None,
}

BAD_TITLES = [None, "", "x" * 201, {"a": 1}, [1], ["t"], True, "bad\x00byte"]
BAD_NUMBERS = [
    None,
    "abc",
    "",
    "1.5",
    1.5,
    "1e3",
    0,
    -1,
    HUGE,
    -HUGE,
    str(HUGE),
    [1],
    {"n": 1},
    True,
    "9" * 5000,
]
BAD_EPISODE_NUMBERS = [*BAD_NUMBERS, 100_001]
BAD_SEASONS = [*BAD_NUMBERS, 1001]
BAD_DESCRIPTIONS = [None, "x" * 20_001, {"a": 1}, [1], True, "bad\x00byte"]
BAD_AIR_DATES = [
    "2026-13-45",
    "2026-02-30",
    "yesterday",
    "",
    "26-1-1",
    "2026-01-01T10:00:00",
    "0000-01-01",
    "99999-01-01",
    20260101,
    [2026, 1, 1],
    {"year": 2026},
    True,
]
EPISODE_FIELD_CASES = [
    *(("title", value) for value in BAD_TITLES),
    *(("episode_number", value) for value in BAD_EPISODE_NUMBERS),
    *(("season", value) for value in BAD_SEASONS),
    *(("description", value) for value in BAD_DESCRIPTIONS),
    *(("air_date", value) for value in BAD_AIR_DATES),
]
EPISODE_FIELD_IDS = [f"{field}={_case_id(value)}" for field, value in EPISODE_FIELD_CASES]


@pytest.mark.parametrize(("field", "value"), EPISODE_FIELD_CASES, ids=EPISODE_FIELD_IDS)
def test_episode_create_with_a_bad_field_is_400_naming_it(client, field, value):
    response = client.post(EPISODES, _with(EPISODE_BODY, field, value), format="json")
    _assert_400_naming(response, field)
    assert not Episode.objects.exists()


@pytest.mark.parametrize(("field", "value"), EPISODE_FIELD_CASES, ids=EPISODE_FIELD_IDS)
def test_episode_put_with_a_bad_field_is_400_naming_it(client, episode, field, value):
    response = client.put(
        f"{EPISODES}{episode.pk}/", _with(EPISODE_BODY, field, value), format="json"
    )
    _assert_400_naming(response, field)


@pytest.mark.parametrize(("field", "value"), EPISODE_FIELD_CASES, ids=EPISODE_FIELD_IDS)
def test_episode_patch_with_a_bad_field_is_400_naming_it(client, episode, field, value):
    before = Episode.objects.values().get(pk=episode.pk)
    response = client.patch(f"{EPISODES}{episode.pk}/", {field: value}, format="json")
    _assert_400_naming(response, field)
    assert Episode.objects.values().get(pk=episode.pk) == before


@pytest.mark.parametrize("field", ["title", "episode_number"])
def test_episode_create_without_a_required_field_is_400_naming_it(client, field):
    response = client.post(EPISODES, _with(EPISODE_BODY, field, MISSING), format="json")
    _assert_400_naming(response, field)


@pytest.mark.parametrize("field", ["title", "episode_number", "season"])
def test_episode_put_without_a_required_field_is_400_naming_it(client, episode, field):
    response = client.put(
        f"{EPISODES}{episode.pk}/", _with(EPISODE_BODY, field, MISSING), format="json"
    )
    _assert_400_naming(response, field)


def test_episode_create_with_an_empty_object_names_every_required_field(client):
    response = client.post(EPISODES, {}, format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"title", "episode_number"}


@pytest.mark.parametrize(
    ("field", "value"),
    [("title", "x" * 200), ("description", "x" * 20_000), ("episode_number", 100_000)],
)
def test_episode_values_at_the_limit_are_accepted(client, field, value):
    response = client.post(EPISODES, _with(EPISODE_BODY, field, value), format="json")
    assert response.status_code == 201, response.content


@pytest.mark.parametrize("value", ["\ud800", "a\udfffb"])
@pytest.mark.parametrize("field", ["title", "description"])
def test_episode_text_with_a_lone_surrogate_is_400(client, field, value):
    raw = json.dumps(_with(EPISODE_BODY, field, value))
    _assert_400_naming(client.post(EPISODES, raw, content_type="application/json"), field)
    assert Episode.objects.count() == 0


# --- Compositions: fields ---------------------------------------------------------------------

BAD_NAMES = [None, "", "x" * 201, {"a": 1}, [1], True, "bad\x00byte"]
BAD_LAYOUTS = [
    None,
    [],
    [{"a": 1}],
    "a string",
    '{"a": 1}',
    1,
    True,
    {"big": "x" * (64 * 1024)},
]
BAD_EPISODE_REFS = [None, "abc", "", -1, 0, 1.5, HUGE, str(HUGE), [1], {"id": 1}, True, 987654]
LAYOUT_IDS = [
    "null",
    "empty-list",
    "list",
    "string",
    "json-in-a-string",
    "int",
    "bool",
    "over-64KiB",
]


@pytest.fixture
def composition_body(episode) -> dict[str, Any]:
    return {"episode": episode.pk, "name": "Cut", "layout": {"tracks": []}}


@pytest.mark.parametrize("value", [*BAD_EPISODE_REFS, MISSING], ids=_case_id)
def test_composition_create_with_a_bad_episode_is_400_naming_it(client, composition_body, value):
    response = client.post(COMPOSITIONS, _with(composition_body, "episode", value), format="json")
    _assert_400_naming(response, "episode")
    assert not Composition.objects.exists()


@pytest.mark.parametrize("method", ["post", "put", "patch"])
@pytest.mark.parametrize("value", BAD_NAMES, ids=_case_id)
def test_composition_with_a_bad_name_is_400_naming_it(
    client, composition, composition_body, method, value
):
    url = COMPOSITIONS if method == "post" else f"{COMPOSITIONS}{composition.pk}/"
    response = getattr(client, method)(url, _with(composition_body, "name", value), format="json")
    _assert_400_naming(response, "name")


@pytest.mark.parametrize("method", ["post", "put", "patch"])
@pytest.mark.parametrize("value", BAD_LAYOUTS, ids=LAYOUT_IDS)
def test_composition_with_a_bad_layout_is_400_naming_it(
    client, composition, composition_body, method, value
):
    url = COMPOSITIONS if method == "post" else f"{COMPOSITIONS}{composition.pk}/"
    response = getattr(client, method)(url, _with(composition_body, "layout", value), format="json")
    _assert_400_naming(response, "layout")


@pytest.mark.parametrize("method", ["post", "put"])
def test_composition_without_a_name_is_400_naming_it(client, composition, composition_body, method):
    url = COMPOSITIONS if method == "post" else f"{COMPOSITIONS}{composition.pk}/"
    response = getattr(client, method)(url, _with(composition_body, "name", MISSING), format="json")
    _assert_400_naming(response, "name")


@pytest.mark.parametrize(
    "text",
    ["nul\u0000inside", "\ud800", "tail\udbff"],
    ids=["nul-character", "lone-high-surrogate", "trailing-surrogate"],
)
@pytest.mark.parametrize("where", ["value", "key"])
def test_layout_text_a_database_cannot_store_is_400(client, composition_body, text, where):
    layout = {"label": text} if where == "value" else {text: 1}
    raw = json.dumps(_with(composition_body, "layout", layout))
    _assert_400_naming(client.post(COMPOSITIONS, raw, content_type="application/json"), "layout")
    assert not Composition.objects.exists()


def _nested_layout_body(episode_id: int, depth: int) -> str:
    """A composition body nested `depth` levels deep in all (the body itself is level 1),
    built as text: building it as a Python value and dumping it would recurse."""
    deep = "[" * (depth - 2) + "]" * (depth - 2)
    return f'{{"episode": {episode_id}, "name": "Deep", "layout": {{"a": {deep}}}}}'


@pytest.mark.parametrize("depth", [101, 300, 600, 900, 950, 990, 1000, 5000])
def test_body_nested_deeper_than_100_levels_is_400(client, episode, depth):
    raw = _nested_layout_body(episode.pk, depth)
    response = client.post(COMPOSITIONS, raw, content_type="application/json")
    assert response.status_code == 400, response.content
    assert not Composition.objects.exists()


def test_body_nested_100_levels_is_accepted(client, episode):
    response = client.post(
        COMPOSITIONS, _nested_layout_body(episode.pk, 100), content_type="application/json"
    )
    assert response.status_code == 201, response.content


@pytest.mark.parametrize("number", ["1e400", "-1e400", "1E999"])
@pytest.mark.parametrize("field", ["layout", "episode_number"])
def test_number_too_big_for_a_float_is_400(client, episode, field, number):
    value = f'{{"x": {number}}}' if field == "layout" else number
    raw = f'{{"episode": {episode.pk}, "name": "Cut", "title": "T", "{field}": {value}}}'
    url = COMPOSITIONS if field == "layout" else EPISODES
    _assert_400_naming(client.post(url, raw, content_type="application/json"), field)


def test_layout_of_just_under_the_limit_is_accepted(client, composition_body):
    layout = {"big": "x" * (64 * 1024 - 20)}
    response = client.post(COMPOSITIONS, _with(composition_body, "layout", layout), format="json")
    assert response.status_code == 201, response.content


def test_layout_keeps_unicode_text(client, composition_body):
    layout = {"label": "Café ☕ 🎬"}
    response = client.post(COMPOSITIONS, _with(composition_body, "layout", layout), format="json")
    assert response.status_code == 201
    assert response.json()["layout"] == layout


# --- Whole bodies -----------------------------------------------------------------------------


def _targets(episode: Episode, composition: Composition) -> list[tuple[str, str]]:
    return [
        ("post", EPISODES),
        ("put", f"{EPISODES}{episode.pk}/"),
        ("patch", f"{EPISODES}{episode.pk}/"),
        ("post", COMPOSITIONS),
        ("put", f"{COMPOSITIONS}{composition.pk}/"),
        ("patch", f"{COMPOSITIONS}{composition.pk}/"),
    ]


TARGET_IDS = [
    "POST episodes",
    "PUT episode",
    "PATCH episode",
    "POST compositions",
    "PUT composition",
    "PATCH composition",
]
MALFORMED_JSON = [
    '{"title": ',
    "{'title': 'single quotes'}",
    '{"title": "x",}',
    "{title: 1}",
    '{"episode_number": NaN}',
    '{"episode_number": Infinity}',
    "\ufeff{}",
    "[" * 100_000,
    '{"layout": ' + "[" * 100_000,
    '{"a":' * 50_000,
]
MALFORMED_IDS = [
    "truncated",
    "single-quotes",
    "trailing-comma",
    "bare-key",
    "nan",
    "infinity",
    "bom",
    "100000-brackets",
    "layout-100000-brackets",
    "50000-objects",
]
NOT_AN_OBJECT = ["[]", '[{"title": "x"}]', '"a string"', "null", "1", "true"]


@pytest.mark.parametrize("target", range(6), ids=TARGET_IDS)
@pytest.mark.parametrize("raw", MALFORMED_JSON, ids=MALFORMED_IDS)
def test_malformed_json_is_400_with_a_detail(client, episode, composition, target, raw):
    method, url = _targets(episode, composition)[target]
    response = getattr(client, method)(url, raw, content_type="application/json")
    assert response.status_code == 400
    assert "JSON parse error" in response.json()["detail"]


@pytest.mark.parametrize("target", range(6), ids=TARGET_IDS)
def test_body_that_is_not_utf8_is_400(client, episode, composition, target):
    method, url = _targets(episode, composition)[target]
    response = getattr(client, method)(
        url, b'{"title": "\xff\xfe"}', content_type="application/json"
    )
    assert response.status_code == 400
    assert "detail" in response.json()


@pytest.mark.parametrize("target", range(6), ids=TARGET_IDS)
@pytest.mark.parametrize("raw", NOT_AN_OBJECT)
def test_body_that_is_not_an_object_is_400(client, episode, composition, target, raw):
    method, url = _targets(episode, composition)[target]
    response = getattr(client, method)(url, raw, content_type="application/json")
    _assert_400_naming(response, "non_field_errors")


@pytest.mark.parametrize("target", range(6), ids=TARGET_IDS)
@pytest.mark.parametrize(
    ("content_type", "raw"),
    [
        ("text/plain", '{"title": "x"}'),
        ("application/x-www-form-urlencoded", "title=x&episode_number=1"),
        ("multipart/form-data; boundary=BoUnDaRy", "--BoUnDaRy--\r\n"),
        ("application/xml", "<episode/>"),
        ("application/jsonx", "{}"),
    ],
    ids=["text", "urlencoded", "multipart", "xml", "lookalike"],
)
def test_body_that_is_not_json_is_415(client, episode, composition, target, content_type, raw):
    method, url = _targets(episode, composition)[target]
    response = getattr(client, method)(url, raw, content_type=content_type)
    assert response.status_code == 415
    assert "Unsupported media type" in response.json()["detail"]


@pytest.mark.parametrize("target", range(6), ids=TARGET_IDS)
def test_body_over_the_upload_limit_is_413_in_json(client, episode, composition, settings, target):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    method, url = _targets(episode, composition)[target]
    raw = json.dumps({"title": "x" * 2000, "episode_number": 1})
    response = getattr(client, method)(url, raw, content_type="application/json")
    assert response.status_code == 413
    assert response.json()["detail"] == "The request body is too large."


def test_form_post_through_the_test_client_multipart_is_415(client):
    response = client.post(EPISODES, {"title": "x", "episode_number": 1}, format="multipart")
    assert response.status_code == 415


def test_json_with_a_charset_is_accepted(client):
    raw = json.dumps({"title": "Café", "episode_number": 1})
    response = client.post(EPISODES, raw, content_type="application/json; charset=utf-8")
    assert response.status_code == 201
    assert response.json()["title"] == "Café"


def test_unknown_fields_are_ignored(client):
    response = client.post(
        EPISODES, {"title": "x", "episode_number": 1, "id": 999, "hack": True}, format="json"
    )
    assert response.status_code == 201
    assert response.json()["id"] != 999


# --- Query parameters -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value", ["abc", "-1", "0", "1e3", "1.5", "1,2", "0x10", "1001", str(HUGE), "9" * 5000]
)
def test_bad_season_filter_is_400_naming_season(client, episode, value):
    _assert_400_naming(client.get(EPISODES, {"season": value}), "season")


@pytest.mark.parametrize("value", ["deleted", "DRAFT", "draft,published", "\x00"])
def test_bad_status_filter_is_400_naming_status(client, episode, value):
    _assert_400_naming(client.get(EPISODES, {"status": value}), "status")


@pytest.mark.parametrize("value", ["x" * 501, "nul\x00byte"], ids=["too-long", "nul"])
def test_bad_search_is_400_naming_search(client, episode, value):
    _assert_400_naming(client.get(EPISODES, {"search": value}), "search")


@pytest.mark.parametrize("value", ["%", "_", "\\", "'; DROP TABLE x; --", "%%%"])
def test_search_with_sql_like_wildcards_matches_them_literally(client, episode, value):
    response = client.get(EPISODES, {"search": value})
    assert response.status_code == 200
    assert response.json()["count"] == 0


@pytest.mark.parametrize(
    "value",
    ["abc", "-1", "0", "1e3", "1.5", "99999999999999999999999", str(2**63), "9" * 5000],
)
def test_bad_composition_episode_filter_is_400_naming_episode(client, composition, value):
    _assert_400_naming(client.get(COMPOSITIONS, {"episode": value}), "episode")


@pytest.mark.parametrize(
    "ordering", ["\x00", "-", ",", "title,,season", "-" * 500, "+title", "title;drop"]
)
def test_malformed_ordering_is_400_naming_ordering(client, episode, ordering):
    _assert_400_naming(client.get(EPISODES, {"ordering": ordering}), "ordering")


def test_repeated_filter_parameters_use_the_last_and_never_fail(client, episode):
    response = client.get(f"{EPISODES}?season=abc&season=1")
    assert response.status_code == 200
    assert response.json()["count"] == 1

"""Random and malformed frames thrown at one consumer (in process): each gets one answer of a
kind the contract allows, the same socket still answers a heartbeat after every one, and
nothing is logged as an error. Bounded and derandomized, so a run is fast and repeatable.

The frame-rate limit is lifted here (thousands of frames on one socket); the limit itself is
attacked over a real socket in test_ws_live.py.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from realtime import limits
from tests.hostile.probe import Probe, open_probe

pytestmark = pytest.mark.django_db(transaction=True)

FUZZ = settings(
    max_examples=300,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
FIELDS = {
    "subscribe": ["stream"],
    "unsubscribe": ["stream"],
    "resume": ["last_event_id"],
    "presence": ["stream", "state"],
    "heartbeat": [],
}
FRAME_TYPES = sorted(limits.FRAME_TYPES)

# Text as a hostile client may send it: any code point, lone surrogates included (they
# cannot cross a real socket as UTF-8, but reach a consumer that is called directly).
SURROGATES = st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF)
junk_text = st.lists(
    st.one_of(
        st.characters(exclude_categories=()), SURROGATES, st.sampled_from("\x00\u202e\ufeff")
    ),
    max_size=40,
).map("".join)
huge_ints = st.integers(min_value=-(2**80), max_value=2**80)
scalars = st.one_of(
    st.none(), st.booleans(), huge_ints, st.floats(allow_nan=False, allow_infinity=False), junk_text
)
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(junk_text, inner, max_size=4)
    ),
    max_leaves=12,
)
stream_names = st.one_of(
    junk_text,
    st.builds(
        "{}:{}".format,
        st.sampled_from(["episode", "composition", "job", "user", "role", "broadcast", ""]),
        st.one_of(huge_ints.map(str), junk_text, st.sampled_from(["0", "-1", "01", "1e3"])),
    ),
    st.sampled_from(["episodes", "activity", "broadcast", "episode:", ":", "a" * 65]),
)


def encode(value: object, ascii_only: bool) -> str:
    """JSON text; with `ascii_only` a lone surrogate becomes a `\\ud800` escape, else it stays."""
    return json.dumps(value, ensure_ascii=ascii_only)


@pytest.fixture
def no_rate_limit(monkeypatch) -> None:
    monkeypatch.setattr(limits, "BURST", 1e9)
    monkeypatch.setattr(limits, "RATE_PER_SECOND", 1e9)


@pytest.fixture
def error_logs(caplog):
    caplog.set_level(logging.ERROR)
    yield caplog
    assert [record.getMessage() for record in caplog.records] == []


@pytest.fixture
async def probe(ana, episode, no_rate_limit, error_logs) -> AsyncIterator[Probe]:
    opened = await open_probe(ana)
    try:
        yield opened
    finally:
        await opened.communicator.disconnect()


@FUZZ
@given(data=st.binary(max_size=2048))
async def test_binary_frames_are_bad_requests(probe, data):
    await probe.bad_request(data=data)


@FUZZ
@given(text=junk_text)
async def test_random_text_is_answered_once(probe, text):
    reply = await probe.answer(text=text)
    # Random text that happens to be a valid frame is answered as one.
    if reply["type"] == "error":
        assert reply["code"] in {"bad_request", "not_found", "forbidden"}


@FUZZ
@given(value=json_values, ascii_only=st.booleans())
async def test_json_that_is_not_a_frame_is_a_bad_request(probe, value, ascii_only):
    if isinstance(value, dict) and isinstance(value.get("type"), str):
        value["type"] += "?"
    await probe.bad_request(text=encode(value, ascii_only))


@FUZZ
@given(
    depth=st.integers(min_value=1, max_value=3000),
    opener=st.sampled_from(["[", '{"a":']),
    where=st.sampled_from(["top", "stream", "last_event_id"]),
)
async def test_deeply_nested_json_is_a_bad_request(probe, depth, opener, where):
    closer = "]" if opener == "[" else "}"
    nested = opener * depth + "0" + closer * depth
    if where == "top":
        await probe.bad_request(text=nested)
        return
    kind = "subscribe" if where == "stream" else "resume"
    await probe.bad_request(text=f'{{"type": "{kind}", "{where}": {nested}}}')


@FUZZ
@given(
    kind=st.sampled_from(FRAME_TYPES),
    fields=st.dictionaries(
        st.one_of(st.sampled_from(["stream", "last_event_id", "state", "type"]), junk_text),
        json_values,
        max_size=3,
    ),
    ascii_only=st.booleans(),
)
async def test_any_values_in_any_frame_type_get_one_answer(probe, kind, fields, ascii_only):
    await probe.answer(text=encode({"type": kind, **fields}, ascii_only))


@FUZZ
@given(
    number=st.one_of(
        huge_ints.map(str),
        st.integers(min_value=1, max_value=600).map(lambda n: "9" * n),
        st.integers(min_value=1, max_value=600).map(lambda n: "-" + "9" * n),
        st.sampled_from(["1e308", "1e400", "-1e400", "-0", "0.0", "1E+2", "4.5e-324", "2e18"]),
    ),
    where=st.sampled_from(["stream", "last_event_id"]),
)
async def test_huge_numbers_get_one_answer(probe, number, where):
    kind = "subscribe" if where == "stream" else "resume"
    reply = await probe.answer(text=f'{{"type": "{kind}", "{where}": {number}}}')
    if where == "stream":
        assert (reply["type"], reply["code"]) == ("error", "bad_request")
    elif reply["type"] == "error":
        assert reply["code"] == "bad_request"


@FUZZ
@given(stream=stream_names, kind=st.sampled_from(["subscribe", "unsubscribe"]))
async def test_unicode_junk_in_stream_names_gets_one_answer(probe, stream, kind):
    reply = await probe.answer(text=encode({"type": kind, "stream": stream}, ascii_only=True))
    if reply["type"] == "error":
        assert reply["code"] in {"bad_request", "not_found", "forbidden"}


@FUZZ
@given(stream=stream_names)
async def test_escaped_lone_surrogates_in_stream_names_are_bad_requests(probe, stream):
    await probe.bad_request(text=f'{{"type": "subscribe", "stream": "{stream}\\ud800"}}')


WRONG_VALUES = [
    None,
    True,
    False,
    0,
    -1,
    1.5,
    2**63,
    2**64,
    10**30,
    "",
    "x",
    "1",
    [],
    ["episodes"],
    {},
    {"stream": "episodes"},
    [[[[]]]],
]


def test_the_fuzz_knows_every_frame_type():
    assert set(FIELDS) == limits.FRAME_TYPES


async def test_every_field_of_every_frame_type_refuses_every_wrong_type(probe):
    for kind, names in FIELDS.items():
        for name in names:
            for value in WRONG_VALUES:
                if name == "last_event_id" and type(value) is int and 0 <= value < 2**62:
                    continue
                if name == "stream" and isinstance(value, str):
                    continue
                await probe.bad_request(text=json.dumps({"type": kind, name: value}))
    for value in WRONG_VALUES:
        await probe.bad_request(text=json.dumps({"type": value}))


async def test_frames_missing_their_fields_are_bad_requests(probe):
    for kind, names in FIELDS.items():
        if names:
            await probe.bad_request(text=json.dumps({"type": kind}))


async def test_a_long_frame_with_a_lone_surrogate_is_a_bad_request(probe):
    # Long enough that the size check has to count its UTF-8 bytes.
    for length in (20_000, limits.MAX_FRAME_BYTES - 10):
        await probe.bad_request(text="\ud800" + "x" * length)
        await probe.bad_request(text='{"type": "heartbeat", "pad": "\udfff' + "x" * length + '"}')

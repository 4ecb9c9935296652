"""Fuzzing extraction: nothing an upstream would be sent escapes inspection.

How extraction guarantees it: it walks every key and value of the body and makes each one a
``Segment``, except for a closed list of exceptions, each of which this test's oracle checks
independently of the walk, leaf by leaf, over the body each upstream would be sent:

- a value the API defines for its field, at the schema's own positions (every key on its path
  is an API field name, none free-form like ``metadata``): an enumeration (``role``,
  ``tool_choice``, ``type`` …) or a ``model`` an upstream lists or the configuration names;
- an object key that is an API field name, at the schema's own positions;
- a non-text payload, flagged ``CONTENT_…`` for the policy instead: a ``data:`` URL of a
  non-text type, an opaque blob, or a string under the binary fields of an image, audio or file
  content part at the schema's positions;
- token ids, decoded into a ``tokens`` segment or flagged ``CONTENT_TOKENS``;
- empty strings, and numbers too short (or not integral) to be identifiers.

Each segment must also point at the value it holds (its ``loc``), so a transform rewrites the
inspected text and nothing else, and segment paths are unique.
"""

from __future__ import annotations

from typing import Any

from hypothesis import assume, example, given, settings
from hypothesis import strategies as st
from test_fuzz_parsing import MODELS, SETTINGS, anything, bodies, endpoints, mostly, python_value

from proxy.errors import ProxyError
from proxy.extraction import (
    _AUDIO_PART_TYPES,
    _BINARY_FIELDS,
    _ENUMERATIONS,
    _FILE_PART_TYPES,
    _FREE_FORM_KEYS,
    _IMAGE_PART_TYPES,
    _KNOWN_KEYS,
    _KNOWN_TYPES,
    _PART_LISTS,
    _TOKEN_FIELDS,
    extract,
)
from proxy.parsing import check_limits
from proxy.transform import map_model, with_usage
from proxy.values import Limits, Location, Route, Segment

LOCAL_MODEL = "qwen2.5-7b-instruct"
KNOWN_MODELS = SETTINGS.configured_models() | set(MODELS)
PAYLOAD_FLAGS = {"CONTENT_IMAGE", "CONTENT_AUDIO", "CONTENT_FILE"}
_BLOB_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=_-")


def _flag_of_part(part_type: Any) -> str | None:
    if part_type in _IMAGE_PART_TYPES:
        return "CONTENT_IMAGE"
    if part_type in _AUDIO_PART_TYPES:
        return "CONTENT_AUDIO"
    if part_type in _FILE_PART_TYPES:
        return "CONTENT_FILE"
    return None


def leaves(body: Any) -> list[tuple[Location, str, Any]]:
    """Every key (``key``) and scalar value (``value``) of a body, with its location."""
    out: list[tuple[Location, str, Any]] = []
    stack: list[tuple[Location, Any]] = [((), body)]
    while stack:
        loc, node = stack.pop()
        if isinstance(node, dict):
            for k, v in node.items():
                out.append(((*loc, k), "key", k))
                stack.append(((*loc, k), v))
        elif isinstance(node, list):
            stack.extend(((*loc, i), v) for i, v in enumerate(node))
        else:
            out.append((loc, "value", node))
    return out


def at(body: Any, loc: Location) -> Any:
    for step in loc:
        body = body[step]
    return body


def schema_position(loc: Location) -> bool:
    """Every key on the way is an API field name, and none opens a free-form subtree."""
    names = [step for step in loc if isinstance(step, str)]
    return all(n in _KNOWN_KEYS for n in names) and not any(n in _FREE_FORM_KEYS for n in names)


def defined_value(loc: Location, value: str) -> bool:
    """A value the API defines for the field it sits in (the nearest key on its path)."""
    names = [step for step in loc if isinstance(step, str)]
    if not names or not schema_position(loc):
        return False
    key = names[-1]
    if key == "type":
        return value in _KNOWN_TYPES
    if key == "model":
        return value in KNOWN_MODELS
    return value in _ENUMERATIONS.get(key, frozenset())


def binary_payload(body: Any, loc: Location, flags: set[str]) -> bool:
    """A string under only binary fields of a flagged image, audio or file content part."""
    for i in range(len(loc) - 1, 1, -1):
        if not (isinstance(loc[i], str) and loc[i] in _BINARY_FIELDS):
            return False
        part_loc = loc[:i]
        part = at(body, part_loc)
        if (isinstance(part_loc[-1], int) and part_loc[-2] in _PART_LISTS
                and schema_position(part_loc) and isinstance(part, dict)):
            flag = _flag_of_part(part.get("type"))
            if flag is not None:
                return flag in flags
    return False


def flagged_string(value: str, flags: set[str]) -> bool:
    """A data: URL or an opaque blob, which extraction flags rather than inspects."""
    if value.startswith("data:"):
        return bool(flags & PAYLOAD_FLAGS)
    if len(value) >= 2048 and set(value) <= _BLOB_CHARS:
        return "CONTENT_FILE" in flags
    return False


def token_ids(loc: Location, tokens: set[Location], flags: set[str]) -> bool:
    """A number of a token-id list, decoded into a segment or flagged."""
    names = [step for step in loc if isinstance(step, str)]
    if not names or names[-1] not in _TOKEN_FIELDS or not isinstance(loc[-1], int):
        return False
    return "CONTENT_TOKENS" in flags or loc[:-1] in tokens or loc[:-2] in tokens


def identifier_length(value: Any) -> bool:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    if isinstance(value, float) and (not value.is_integer() or abs(value) >= 1e21):
        return False
    return len(str(abs(int(value)))) >= 6


def assert_nothing_escapes(forwarded: dict[str, Any], segments: list[Segment],
                           flags: set[str]) -> None:
    """Every key, string and identifier-length number of ``forwarded`` was inspected, or is
    one of the documented exceptions."""
    texts = {(s.loc, s.is_key): s.text for s in segments}
    tokens = {s.loc for s in segments if s.kind == "tokens"}
    for loc, kind, value in leaves(forwarded):
        if kind == "key":
            if texts.get((loc, True)) == value or value == "":
                continue
            assert (value in _KNOWN_KEYS and schema_position(loc[:-1])
                    or flagged_string(value, flags)), (
                f"key {value!r} at {loc} was not inspected")
        elif isinstance(value, str):
            if texts.get((loc, False)) == value or value == "":
                continue
            assert (defined_value(loc, value) or flagged_string(value, flags)
                    or binary_payload(forwarded, loc, flags)), (
                f"string {value!r} at {loc} was not inspected ({sorted(flags)})")
        elif identifier_length(value):
            if texts.get((loc, False)) == str(int(value)):
                continue
            assert token_ids(loc, tokens, flags), (
                f"number {value!r} at {loc} was not inspected")


def assert_segments_point_at_their_values(body: dict[str, Any], segments: list[Segment]
                                          ) -> None:
    paths = [s.path for s in segments]
    assert len(paths) == len(set(paths)), "two segments share a path"
    for s in segments:
        if s.is_key:
            assert s.loc and s.loc[-1] == s.text and s.text in at(body, s.loc[:-1])
            continue
        value = at(body, s.loc)
        if s.kind == "number":
            assert identifier_length(value) and str(int(value)) == s.text
        elif s.kind == "tokens":
            assert isinstance(value, list) and all(isinstance(i, int) for i in value)
        else:
            assert value == s.text


@st.composite
def request_bodies(draw: st.DrawFn) -> dict[str, Any]:
    """A body the parser's limits let through: shaped for an endpoint, any field wrong."""
    endpoint = draw(endpoints)
    tree = draw(mostly(bodies(endpoint), anything))
    try:
        body = python_value(tree)
    except ValueError:  # a 5,000-digit literal: no Python value to walk
        body = None
    assume(isinstance(body, dict))
    try:
        check_limits(body, endpoint, Limits(max_depth=256))
    except ProxyError:
        assume(False)
    return body


@settings(max_examples=300, deadline=None)
@given(body=request_bodies())
# Found by this test: binary fields were skipped wherever an object had an image, audio or file
# "type" — under an unknown field or a schema field that holds no parts — not only in parts.
@example(body={"model": "gpt-4o-mini", "messages": [], "$defs": None,
               "": {"type": "image_url", "image_url": {"url": "https://example.com/a.png"}}})
@example(body={"model": "gpt-4o-mini", "messages": [],
               "$defs": {"type": "input_image", "image_url": "0"}})
@example(body={"model": "m", "messages": [{"role": "user", "content": "x"}],
               "metadata": {"type": "image", "data": "taro.yamada@example.co.jp"}})
# In a part, a binary field holding a list, or an object with fields of the client's own, is
# not a payload: its strings, numbers and keys are forwarded as they are.
@example(body={"model": "m", "messages": [{"role": "user", "content": [
    {"type": "image_url", "image_url": ["Taro Yamada", 4111111111111111]}]}]})
@example(body={"model": "m", "messages": [{"role": "user", "content": [
    {"type": "image_url", "image_url": {"url": "https://example.com/a.png",
                                        "Taro Yamada": {"role": "Hanako"}}}]}]})
def test_every_value_each_upstream_would_be_sent_was_inspected_or_flagged(
    body: dict[str, Any],
) -> None:
    segments, flags = extract(body, known_models=KNOWN_MODELS)
    assert_segments_point_at_their_values(body, segments)
    assert_nothing_escapes(body, segments, flags)
    for route in (Route.CLOUD, Route.LOCAL):
        forwarded = with_usage(map_model(body, route, SETTINGS, LOCAL_MODEL))
        assert_nothing_escapes(forwarded, segments, flags)

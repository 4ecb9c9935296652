"""Fuzzing the running proxy: random malformed bodies over a real socket to the real app.

Whatever a client sends to an inspected endpoint, the answer is a 2xx, or a 4xx whose body is
an OpenAI-style error (JSON, never a traceback); never a 5xx; and the next ordinary request is
served. The bodies are ``test_fuzz_parsing``'s documents; the stack is the conftest's, with a
local embedding model configured so that a sensitive embeddings input is answered, not refused
with the (intended) 503 that says none is configured.
"""

from __future__ import annotations

import json
from typing import Any

import aiohttp
import pytest
from conftest import LOCAL_MODELS, Stack, StackFactory
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st
from test_fuzz_parsing import Nested, documents, endpoints, mostly, write

from proxy.values import ENDPOINT_PATHS, Endpoint

CONTENT_TYPES = (None, "application/json", "application/json; charset=utf-16", "text/plain")
CLEAN = json.dumps({"model": "gpt-4o-mini",
                    "messages": [{"role": "user", "content": "Hello"}]}).encode()


@pytest.fixture
def fuzz_stack(make_stack: StackFactory) -> Stack:
    return make_stack(local_embedding_model=LOCAL_MODELS[0])


def post(stack: Stack, path: str, raw: bytes, content_type: str | None = None
         ) -> tuple[int, str, bytes]:
    async def go() -> tuple[int, str, bytes]:
        headers = {"Content-Type": content_type} if content_type else {}
        async with aiohttp.ClientSession() as session, session.post(
            stack.base_url + path, data=raw, headers=headers
        ) as resp:
            return resp.status, resp.content_type, await resp.read()

    return stack.loop.run(go())


def assert_answered(status: int, content_type: str, body: bytes) -> None:
    assert 200 <= status < 500, (status, body[:300])
    if status >= 400:
        assert content_type == "application/json", body[:300]
        error = json.loads(body)["error"]
        assert isinstance(error["message"], str) and error["message"]
        assert isinstance(error["type"], str) and error["type"]


def fits_the_fake_upstream(raw: bytes) -> bool:
    """The recording upstream answers ``n`` choices and ``dimensions``-long vectors: a huge
    integer there would test the fake, not Sekisho."""
    try:
        body: Any = json.loads(raw)
    except (ValueError, RecursionError):
        return True
    return not isinstance(body, dict) or all(
        not isinstance(body.get(name), int) or body[name] <= 16 for name in ("n", "dimensions"))


@st.composite
def requests(draw: st.DrawFn) -> tuple[Endpoint, bytes, str | None]:
    """A document of one endpoint's shape, mostly sent to that endpoint."""
    shape = draw(endpoints)
    return (draw(mostly(st.just(shape), endpoints)), draw(documents(shape)),
            draw(st.sampled_from(CONTENT_TYPES)))


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(request=requests())
# Found by test_fuzz_parsing: a lone surrogate in a UTF-16 body was accepted, and forwarding it
# (as UTF-8) failed with a 500.
@example(request=(Endpoint.COMPLETIONS, '{"model": "gpt-4o-mini", "prompt": "\\ud800"}'
                  .encode("utf-16"), "application/json"))
def test_random_bodies_get_a_2xx_or_an_openai_style_4xx_and_the_proxy_keeps_serving(
    fuzz_stack: Stack, request: tuple[Endpoint, bytes, str | None],
) -> None:
    # One stack for all examples on purpose: each must leave the proxy able to serve the next.
    endpoint, raw, content_type = request
    assume(fits_the_fake_upstream(raw))
    assert_answered(*post(fuzz_stack, ENDPOINT_PATHS[endpoint], raw, content_type))
    assert post(fuzz_stack, "/chat/completions", CLEAN)[0] == 200


@pytest.mark.parametrize("depth", [255, 256, 600])
@pytest.mark.parametrize("objects", [False, True], ids=["arrays", "objects"])
def test_nesting_at_the_deepest_configurable_limit_is_served_or_refused_with_a_400(
    make_stack: StackFactory, depth: int, objects: bool,
) -> None:
    stack = make_stack(max_json_depth=256)
    raw = write({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "x"}],
                 "a": Nested(depth, "x", objects)}, ascii_only=True).encode()
    status, content_type, body = post(stack, "/chat/completions", raw)
    assert_answered(status, content_type, body)
    # The body is one level, "a" one more per array or object.
    assert status == (200 if depth + 1 <= 256 else 400)
    assert post(stack, "/chat/completions", CLEAN)[0] == 200

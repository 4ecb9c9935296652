"""The security boundary over HTTP: who may reach what, and what any client may send.

Every test runs the real application on loopback in front of recording upstreams; the
assertions are on status codes, OpenAI-style error bodies, and what the upstreams received.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from conftest import ROOT, Stack
from test_policy_e2e import keys_file

from proxy.config import Settings, exposure_problem


def request(stack: Stack, method: str, path: str, *, data: bytes | None = None,
            headers: dict[str, str] | None = None, url: str | None = None
            ) -> tuple[int, Any, Any]:
    async def go() -> tuple[int, Any, Any]:
        async with aiohttp.ClientSession() as session:
            payload = io.BytesIO(data) if data is not None else None
            async with session.request(method, url or stack.root_url + path, data=payload,
                                       headers=headers or {}) as resp:
                text = await resp.text()
                try:
                    body: Any = json.loads(text)
                except ValueError:
                    body = text
                return resp.status, resp.headers.copy(), body

    return stack.loop.run(go())


def chat_body(content: Any = "Hello", **extra: Any) -> bytes:
    return json.dumps({"model": "gpt-4o-mini",
                       "messages": [{"role": "user", "content": content}], **extra}).encode()


JSON = {"Content-Type": "application/json"}


# --- access --------------------------------------------------------------------------------


def test_metrics_need_the_admin_key_on_the_api_port_and_are_open_on_their_listener(
    make_stack: Any,
) -> None:
    stack = make_stack(admin_key="admin-secret")
    status, _, body = request(stack, "GET", "/metrics")
    assert status == 401 and body["error"]["code"] == "invalid_api_key"
    status, _, text = request(stack, "GET", "/metrics",
                              headers={"Authorization": "Bearer admin-secret"})
    assert status == 200 and "sekisho_routing_decisions_total" in text
    status, _, text = request(stack, "GET", "", url=stack.metrics_url)
    assert status == 200 and "sekisho_routing_decisions_total" in text
    assert stack.metrics_address.startswith("127.0.0.1:")


def test_every_v1_route_needs_a_known_key_when_a_keys_file_is_configured(
    make_stack: Any, tmp_path: Path,
) -> None:
    keys = keys_file(tmp_path / "keys.yaml", {"team": (["team-key"], None)})
    stack = make_stack(keys_file=keys)
    for method, path in (("GET", "/v1/models"), ("POST", "/v1/chat/completions"),
                         ("GET", "/v1/files"), ("GET", "/v1/chat/completions")):
        status, _, body = request(stack, method, path, data=chat_body(),
                                  headers={**JSON, "Authorization": "Bearer wrong"})
        assert status == 401, path
        assert body["error"]["code"] == "invalid_api_key"
    status, _, body = request(stack, "GET", "/v1/models",
                              headers={"Authorization": "Bearer team-key"})
    assert status == 200 and body["object"] == "list"
    assert stack.posts(stack.cloud) == [] and stack.posts(stack.local) == []


def test_listening_beyond_loopback_without_keys_needs_an_explicit_flag(tmp_path: Path) -> None:
    assert exposure_problem(Settings(host="127.0.0.1")) is None
    assert exposure_problem(Settings(host="::1")) is None
    assert exposure_problem(Settings(host="0.0.0.0", allow_unauthenticated=True)) is None
    assert exposure_problem(Settings(host="0.0.0.0", keys_file=tmp_path / "k.yaml")) is None
    problem = exposure_problem(Settings(host="0.0.0.0"))
    assert problem is not None and "--allow-unauthenticated" in problem
    result = subprocess.run([sys.executable, "-m", "proxy", "serve", "--host", "0.0.0.0"],
                            cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "refusing to listen on 0.0.0.0 without client authentication" in result.stderr


# --- what any client may send --------------------------------------------------------------


def test_wrong_methods_on_known_paths_are_405_with_allow(stack: Stack) -> None:
    status, headers, body = request(stack, "GET", "/v1/chat/completions")
    assert (status, headers["Allow"]) == (405, "POST")
    assert body["error"]["code"] == "method_not_allowed"
    status, headers, _ = request(stack, "POST", "/v1/models", data=b"{}")
    assert (status, headers["Allow"]) == (405, "GET, HEAD")
    status, headers, _ = request(stack, "POST", "/healthz", data=b"{}")
    assert status == 405 and "GET" in headers["Allow"]
    assert request(stack, "GET", "/v1/nothing-here")[0] == 404


@pytest.mark.parametrize(
    ("data", "status", "code"),
    [
        pytest.param(b'{"model": "m", "messages": [{"role": "user", "content": "x"}],'
                     b' "temperature": 1e400}', 400, "invalid_json", id="infinity"),
        pytest.param(b'{"model": "m", "messages": [{"role": "user", "content": "x"}],'
                     b' "temperature": -1e999}', 400, "invalid_json", id="minus-infinity"),
        pytest.param(b'{"model": "m", "messages": [{"role": "user", "content": "x"}], "a": '
                     + b"[" * 600 + b"]" * 600 + b"}", 400, "too_deep", id="600-nested-arrays"),
        pytest.param(b'{"model": "m", "messages": [{"role": "user", "content": "x"}], "a": '
                     + b'{"a":' * 600 + b"1" + b"}" * 600 + b"}", 400, "too_deep",
                     id="600-nested-objects"),
        pytest.param(b'{"model": "m", "messages": [{"role": "user", "content": "x"}], "a": '
                     + b"[" * 5000 + b"]" * 5000 + b"}", 400, "invalid_json",
                     id="5000-nested-arrays"),
        pytest.param(json.dumps({"model": "m", "messages": [
            {"role": "user", "content": "x"}] * 5000}).encode(), 400, "too_many_messages",
            id="too-many-messages"),
        pytest.param(chat_body([{"type": "text", "text": "x"}] * 5000), 400,
                     "too_many_parts", id="too-many-parts"),
        pytest.param(chat_body("x" * 2_000_001), 413, "text_too_long", id="text-too-long"),
    ],
)
def test_bodies_beyond_the_limits_get_a_clear_4xx(
    stack: Stack, data: bytes, status: int, code: str
) -> None:
    got, _, body = request(stack, "POST", "/v1/chat/completions", data=data, headers=JSON)
    assert (got, body["error"]["code"]) == (status, code)
    assert stack.posts(stack.cloud) == [] and stack.posts(stack.local) == []
    # ... and the proxy keeps serving.
    assert request(stack, "POST", "/v1/chat/completions", data=chat_body(), headers=JSON)[0] == 200

"""Upstream answers relayed faithfully, and Sekisho's own errors saying whether a retry helps.

Counted with the official SDKs' own retry logic (the Python SDK here, the Node SDK through
``tests/node/retries.mjs``): an upstream 429 asking for two seconds is retried after two
seconds, a quota error marked ``x-should-retry: false`` is not retried at all, and Sekisho's
configuration errors are not retried while its "on-prem is down" is retried when it says.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import openai
import pytest
from conftest import ROOT, Stack

NODE_DIR = ROOT / "tests" / "node"
EMAIL = "sora.ito@example-shop.jp"


def attempts(stack: Stack) -> int:
    """Requests Sekisho answered on inspected endpoints (every SDK attempt is one)."""
    from prometheus_client import generate_latest

    from proxy.app import METRICS

    text = generate_latest(stack.app[METRICS].registry).decode()
    return int(sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
                   if line.startswith("sekisho_routing_decisions_total{")))


def chat(client: Any, content: str = "What is TCP?", **extra: Any) -> Any:
    return client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": content}], **extra)


RATE_LIMIT = {"retry-after": "2", "x-ratelimit-limit-requests": "500",
              "x-ratelimit-remaining-requests": "0", "x-ratelimit-reset-requests": "2s"}


def test_an_upstream_429_is_relayed_with_its_headers_and_retried_when_it_says(
    make_stack: Any,
) -> None:
    stack = make_stack(cloud_fallback_to_local=False)
    stack.cloud.fail_status, stack.cloud.fail_code = 429, "rate_limit_exceeded"
    stack.cloud.fail_headers = RATE_LIMIT
    started = time.monotonic()
    with pytest.raises(openai.RateLimitError) as info:
        chat(stack.openai(max_retries=1))
    elapsed = time.monotonic() - started
    assert len(stack.posts(stack.cloud)) == 2 and elapsed >= 2.0
    assert info.value.body["code"] == "rate_limit_exceeded"  # type: ignore[index]
    headers = info.value.response.headers
    for name, value in RATE_LIMIT.items():
        assert headers[name] == value


def test_a_quota_error_that_will_not_clear_is_not_retried(make_stack: Any) -> None:
    stack = make_stack(cloud_fallback_to_local=False)
    stack.cloud.fail_status, stack.cloud.fail_code = 429, "insufficient_quota"
    stack.cloud.fail_headers = {"x-should-retry": "false"}
    with pytest.raises(openai.RateLimitError) as info:
        chat(stack.openai(max_retries=3))
    assert len(stack.posts(stack.cloud)) == 1
    assert info.value.body["code"] == "insufficient_quota"  # type: ignore[index]


def test_a_streamed_answer_carries_the_rate_limit_headers(stack: Stack) -> None:
    stack.cloud.reply_headers = {"x-ratelimit-remaining-tokens": "1234",
                                 "x-ratelimit-reset-tokens": "6ms", "set-cookie": "a=b",
                                 "openai-organization": "org-proxy"}
    with stack.openai().chat.completions.with_streaming_response.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}],
            stream=True) as response:
        headers = response.headers
        list(response.iter_lines())
    assert headers["x-ratelimit-remaining-tokens"] == "1234"
    assert headers["x-ratelimit-reset-tokens"] == "6ms"
    assert "set-cookie" not in headers and "openai-organization" not in headers


def test_sekisho_s_own_errors_say_whether_to_retry(make_stack: Any) -> None:
    stack = make_stack()
    client = stack.openai(max_retries=2)
    # A configuration state: no local embedding model. Retrying cannot help.
    with pytest.raises(openai.APIStatusError) as info:
        client.embeddings.create(model="text-embedding-3-small", input=f"Mail {EMAIL}")
    assert info.value.status_code == 503
    assert info.value.response.headers["x-should-retry"] == "false"
    assert attempts(stack) == 1
    # The on-prem upstream is down: worth trying again after the time Sekisho names.
    stack.stop_local()
    started = time.monotonic()
    with pytest.raises(openai.APIStatusError) as info:
        chat(stack.openai(max_retries=1), f"Mail {EMAIL}")
    assert info.value.status_code == 503
    assert info.value.response.headers["retry-after"] == "2"
    assert attempts(stack) == 3 and time.monotonic() - started >= 2.0
    assert stack.posts(stack.cloud) == []


def test_a_block_is_not_retried(make_stack: Any, tmp_path: Path) -> None:
    policy = tmp_path / "p.yaml"
    policy.write_text("default: {route: cloud}\nrules:\n  - name: no-email\n"
                      "    when: {entities: [EMAIL_ADDRESS]}\n    route: block\n")
    stack = make_stack(policy=policy)
    with pytest.raises(openai.PermissionDeniedError) as info:
        chat(stack.openai(max_retries=2), f"Mail {EMAIL}")
    assert info.value.response.headers["x-should-retry"] == "false"
    assert attempts(stack) == 1


def test_the_node_sdk_obeys_the_same_hints(make_stack: Any) -> None:
    node = shutil.which("node")
    if node is None or not (NODE_DIR / "node_modules" / "openai").is_dir():
        pytest.skip("node or the openai npm package is missing (.ci/run installs both:"
                    " npm ci --prefix tests/node)")
    stack = make_stack(cloud_fallback_to_local=False)
    stack.cloud.fail_status, stack.cloud.fail_code = 429, "rate_limit_exceeded"
    stack.cloud.fail_headers = RATE_LIMIT

    def run(scenario: str) -> dict[str, Any]:
        result = subprocess.run([node, str(NODE_DIR / "retries.mjs"), stack.base_url, scenario,
                                 "1"], capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)

    outcome = run("chat")
    assert outcome["status"] == 429 and outcome["code"] == "rate_limit_exceeded"
    assert len(stack.posts(stack.cloud)) == 2 and outcome["seconds"] >= 2.0
    stack.cloud.fail_code, stack.cloud.fail_headers = "insufficient_quota", {
        "x-should-retry": "false"}
    outcome = run("chat")
    assert outcome["code"] == "insufficient_quota" and len(stack.posts(stack.cloud)) == 3
    before = attempts(stack)
    outcome = run("embeddings")  # no local embedding model: marked not worth retrying
    assert outcome["status"] == 503 and attempts(stack) == before + 1

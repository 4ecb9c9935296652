"""Per-tenant limits: requests and estimated tokens per minute and requests in flight, over
HTTP with the official SDK (429, ``Retry-After``, what the upstreams received), and the token
buckets against a clock."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path
from typing import Any

import openai
import pytest
from conftest import Stack, StackFactory

from proxy.limits import MemoryLimiter, RateLimited, estimate_tokens
from proxy.policy.store import hash_key
from proxy.values import RateLimits

HELLO = [{"role": "user", "content": "hello"}]


def keys(path: Path, tenants: dict[str, str]) -> Path:
    """A keys file: tenant name → the YAML of its ``limits`` mapping ("" for none)."""
    lines = ["tenants:"]
    for name, limits in tenants.items():
        lines += [f"  {name}:", f"    keys: [{hash_key(name + '-key')}]"]
        if limits:
            lines.append(f"    limits: {limits}")
    path.write_text("\n".join(lines) + "\n")
    return path


def client(stack: Stack, tenant: str) -> Any:
    return stack.openai(api_key=f"{tenant}-key")


def test_a_tenant_over_its_request_rate_gets_429_and_others_are_not_affected(
    make_stack: StackFactory, tmp_path: Path,
) -> None:
    stack = make_stack(keys_file=keys(tmp_path / "keys.yaml", {
        "busy": "{requests_per_minute: 2}", "calm": ""}), tenant_requests_per_minute=100)
    busy = client(stack, "busy")
    for _ in range(2):
        busy.chat.completions.create(model="gpt-4o-mini", messages=HELLO)
    with pytest.raises(openai.RateLimitError) as refused:
        busy.chat.completions.create(model="gpt-4o-mini", messages=HELLO)
    headers = refused.value.response.headers
    # One request of a 2-per-minute budget refills in 30 s.
    assert 25 <= int(headers["retry-after"]) <= 30
    assert 25_000 <= int(headers["retry-after-ms"]) <= 30_000
    error = refused.value.body
    assert error["code"] == "rate_limit_exceeded" and error["type"] == "requests"
    assert len(stack.posts(stack.cloud)) == 2
    calm = client(stack, "calm")  # the default of 100 a minute
    for _ in range(3):
        calm.chat.completions.create(model="gpt-4o-mini", messages=HELLO)
    assert len(stack.posts(stack.cloud)) == 5
    assert stack.metric('sekisho_rate_limited_total{limit="requests",tenant="busy"}') == 1


def test_estimated_tokens_are_charged_before_inspection(
    make_stack: StackFactory, tmp_path: Path,
) -> None:
    stack = make_stack(keys_file=keys(tmp_path / "keys.yaml", {
        "team": "{tokens_per_minute: 1000}"}))
    team = client(stack, "team")
    # A request that alone exceeds the per-minute budget can never pass: no retry.
    with pytest.raises(openai.RateLimitError) as never:
        team.chat.completions.create(model="gpt-4o-mini", messages=HELLO, max_tokens=2000)
    assert never.value.response.headers["x-should-retry"] == "false"
    assert "retry-after" not in never.value.response.headers
    assert never.value.body["type"] == "tokens"
    team.chat.completions.create(model="gpt-4o-mini", messages=HELLO, max_tokens=600)
    # 600 + the body's estimate spent; another 600 does not fit until the bucket refills.
    with pytest.raises(openai.RateLimitError) as later:
        team.chat.completions.create(model="gpt-4o-mini", messages=HELLO, max_tokens=600)
    assert 1 <= int(later.value.response.headers["retry-after"]) <= 40
    assert len(stack.posts(stack.cloud)) == 1
    assert stack.metric('sekisho_rate_limited_total{limit="tokens",tenant="team"}') == 2


def test_requests_in_flight_are_bounded_per_tenant_a_stream_counting_until_it_ends(
    make_stack: StackFactory, tmp_path: Path,
) -> None:
    stack = make_stack(keys_file=keys(tmp_path / "keys.yaml", {"one": "", "other": ""}),
                       tenant_max_concurrent=1)
    gate = threading.Event()
    stack.cloud.stream_gate = gate
    one = client(stack, "one")
    stream = one.chat.completions.create(model="gpt-4o-mini", messages=HELLO, stream=True)
    first = next(iter(stream))
    assert first is not None
    try:
        with pytest.raises(openai.RateLimitError) as refused:
            client(stack, "one").chat.completions.create(model="gpt-4o-mini", messages=HELLO)
        assert refused.value.response.headers["retry-after"] == "1"
        # Another tenant has its own slot.
        stack.cloud.stream_gate = None
        client(stack, "other").chat.completions.create(model="gpt-4o-mini", messages=HELLO)
    finally:
        gate.set()
    assert "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
    client(stack, "one").chat.completions.create(model="gpt-4o-mini", messages=HELLO)
    assert stack.metric('sekisho_rate_limited_total{limit="concurrency",tenant="one"}') == 1


def test_a_reloaded_keys_file_changes_a_tenants_limits(
    make_stack: StackFactory, tmp_path: Path,
) -> None:
    path = keys(tmp_path / "keys.yaml", {"team": "{requests_per_minute: 1}"})
    stack = make_stack(keys_file=path, policy_poll_s=0.05)
    team = client(stack, "team")
    team.chat.completions.create(model="gpt-4o-mini", messages=HELLO)
    with pytest.raises(openai.RateLimitError):
        team.chat.completions.create(model="gpt-4o-mini", messages=HELLO)
    keys(path, {"team": "{requests_per_minute: 0}"})  # 0: unlimited for this tenant
    deadline = time.monotonic() + 5
    while True:
        try:
            team.chat.completions.create(model="gpt-4o-mini", messages=HELLO)
            break
        except openai.RateLimitError:
            assert time.monotonic() < deadline
            time.sleep(0.05)


# --- the buckets ------------------------------------------------------------------------------

class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def test_the_request_bucket_bursts_to_its_minute_then_refills_continuously() -> None:
    clock = Clock()
    limiter = MemoryLimiter(clock)
    limits = RateLimits(requests_per_minute=60)

    async def admit() -> float | None:
        try:
            hold = await limiter.admit("t", limits)
        except RateLimited as err:
            return float(err.headers["retry-after-ms"]) / 1000
        await limiter.release(hold)
        return None

    assert all(run(admit()) is None for _ in range(60))
    assert run(admit()) == pytest.approx(1.0)
    clock.now += 0.5
    assert run(admit()) == pytest.approx(0.5)
    clock.now += 0.5
    assert run(admit()) is None
    clock.now += 3600  # a long pause refills to the minute's allowance, not beyond
    assert sum(run(admit()) is None for _ in range(100)) == 60


def test_a_refused_request_takes_nothing_and_a_release_frees_the_slot() -> None:
    clock = Clock()
    limiter = MemoryLimiter(clock)
    limits = RateLimits(tokens_per_minute=100, max_concurrent=1)

    async def scenario() -> None:
        await limiter.spend("t", 80, limits)
        with pytest.raises(RateLimited):
            await limiter.spend("t", 30, limits)
        await limiter.spend("t", 20, limits)  # the refused 30 took nothing
        hold = await limiter.admit("t", limits)
        with pytest.raises(RateLimited):
            await limiter.admit("t", limits)
        await limiter.release(hold)
        await limiter.admit("t", limits)

    run(scenario())


def test_the_token_estimate_counts_the_body_and_the_output_asked_for() -> None:
    assert estimate_tokens(400, {}) == 100
    assert estimate_tokens(401, {"max_tokens": 50}) == 151
    assert estimate_tokens(0, {"max_completion_tokens": 10, "max_tokens": 20}) == 20
    assert estimate_tokens(0, {"max_output_tokens": True, "max_tokens": "9"}) == 0

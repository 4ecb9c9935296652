"""Upstream resilience: retries where nothing was delivered, circuit breakers, pools, and
streams that end badly or lose their client — over real sockets, with the openai SDK.
"""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import aiohttp
import openai
import pytest
from conftest import Stack

from proxy.resilience import BreakerSettings, CircuitBreaker, State

EMAIL = "mei.kato@example-shop.jp"
CLEAN = "Explain how DNS caching works."


def metric(stack: Stack, prefix: str) -> float:
    from prometheus_client import generate_latest

    from proxy.app import METRICS

    text = generate_latest(stack.app[METRICS].registry).decode()
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
               if line.startswith(prefix))


def ask(stack: Stack, content: str = CLEAN, **extra: Any) -> Any:
    return stack.openai().chat.completions.with_raw_response.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": content}], **extra)


def wait_for(condition: Any, seconds: float = 5.0) -> None:
    """Until ``condition()`` holds (a request is recorded just after its answer ends)."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.02)


def readyz(stack: Stack) -> dict[str, Any]:
    async def go() -> dict[str, Any]:
        async with aiohttp.ClientSession() as session:
            async with session.get(stack.root_url + "/readyz") as resp:
                result: dict[str, Any] = await resp.json()
                return result

    return stack.loop.run(go())


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_breaker_opens_on_failures_and_a_trial_closes_or_reopens_it() -> None:
    clock, changes = Clock(), []
    breaker = CircuitBreaker(BreakerSettings(window_s=30, min_failures=3, failure_rate=0.5,
                                             open_s=10), changes.append, clock)
    for ok in (True, False, True, False):
        breaker.record(ok)
    assert breaker.state is State.CLOSED  # 2 failures: not enough
    breaker.record(False)
    assert breaker.state is State.OPEN and not breaker.allows()
    assert breaker.retry_after() == 10
    clock.now += 10
    assert breaker.state is State.HALF_OPEN
    assert breaker.allows() and not breaker.allows()  # one trial at a time
    breaker.record(False)
    assert breaker.state is State.OPEN
    breaker.probe(True)  # a health probe that succeeds: try again at once
    assert breaker.state is State.HALF_OPEN and breaker.allows()
    breaker.record(True)
    assert breaker.state is State.CLOSED and breaker.allows()
    assert changes == [State.OPEN, State.HALF_OPEN, State.OPEN, State.HALF_OPEN, State.CLOSED]
    # Old outcomes leave the window.
    for _ in range(2):
        breaker.record(False)
    clock.now += 31
    breaker.record(False)
    assert breaker.state is State.CLOSED


def test_refused_connections_are_retried_then_the_clean_request_falls_back(
    make_stack: Any,
) -> None:
    stack = make_stack(upstream_retries=2, breaker_min_failures=50)
    stack.stop_cloud()
    raw = ask(stack)
    assert raw.headers["x-sekisho-route"] == "local"
    assert metric(stack, 'sekisho_upstream_retries_total{upstream="cloud"}') == 2
    assert metric(stack, 'sekisho_upstream_errors_total{kind="connect",upstream="cloud"}') == 3


def test_a_request_that_may_have_arrived_is_never_sent_again(make_stack: Any) -> None:
    stack = make_stack(upstream_timeout_s=0.5, cloud_fallback_to_local=False)
    stack.cloud.delay = 2.0
    with pytest.raises(openai.APIStatusError) as info:
        ask(stack)
    assert info.value.status_code == 504
    assert len(stack.posts(stack.cloud)) == 1
    assert metric(stack, "sekisho_upstream_retries_total{") == 0


def test_an_open_cloud_breaker_sends_clean_requests_straight_to_local(make_stack: Any) -> None:
    stack = make_stack(upstream_retries=0, breaker_min_failures=3, breaker_open_s=60)
    stack.stop_cloud()
    for _ in range(3):
        assert ask(stack).headers["x-sekisho-route"] == "local"
    assert readyz(stack)["upstreams"]["cloud"]["circuit"] == "open"
    errors = metric(stack, 'sekisho_upstream_errors_total{kind="connect",upstream="cloud"}')
    started = time.monotonic()
    raw = ask(stack)
    assert raw.headers["x-sekisho-route"] == "local"
    assert raw.headers["x-sekisho-action"] == "fallback"
    # The open cloud was not even tried.
    assert metric(stack, 'sekisho_upstream_errors_total{kind="connect",upstream="cloud"}') == (
        errors)
    assert time.monotonic() - started < 1.0
    assert metric(stack, 'sekisho_circuit_state{upstream="cloud"}') == 2
    assert metric(stack, 'sekisho_circuit_transitions_total{state="open",upstream="cloud"}') == 1
    # A sensitive request never goes near the cloud whatever its breaker says.
    assert ask(stack, f"Mail {EMAIL}").headers["x-sekisho-route"] == "local"


def test_an_open_local_breaker_refuses_sensitive_requests_at_once(make_stack: Any) -> None:
    stack = make_stack(upstream_retries=0, breaker_min_failures=2, breaker_open_s=60)
    stack.stop_local()
    for _ in range(2):
        with pytest.raises(openai.APIStatusError):
            ask(stack, f"Mail {EMAIL}")
    with pytest.raises(openai.APIStatusError) as info:
        ask(stack, f"Mail {EMAIL}")
    assert info.value.status_code == 503
    assert info.value.body["code"] == "local_unavailable"  # type: ignore[index]
    assert int(info.value.response.headers["retry-after"]) >= 1
    assert stack.posts(stack.cloud) == []
    # Clean requests still go to the cloud.
    assert ask(stack).headers["x-sekisho-route"] == "cloud"


def test_a_recovered_upstream_closes_its_breaker_through_a_trial(make_stack: Any) -> None:
    stack = make_stack(upstream_retries=0, breaker_min_failures=2, breaker_open_s=0.3)
    port = stack.cloud.port
    stack.stop_cloud()
    for _ in range(2):
        ask(stack)
    assert readyz(stack)["upstreams"]["cloud"]["circuit"] == "open"
    stack.loop.run(stack.cloud.start(port=port))
    time.sleep(0.4)
    assert readyz(stack)["upstreams"]["cloud"]["circuit"] == "half_open"
    assert ask(stack).headers["x-sekisho-route"] == "cloud"  # the trial
    assert readyz(stack)["upstreams"]["cloud"]["circuit"] == "closed"


def test_a_full_pool_makes_requests_wait_their_turn_and_counts_it(make_stack: Any) -> None:
    stack = make_stack(upstream_pool_size=1)
    gate = threading.Event()
    stack.cloud.stream_gate = gate
    client = stack.openai()
    first = client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": CLEAN}], stream=True)
    next(iter(first))  # the only pooled connection is busy until the stream ends
    result: list[Any] = []
    waiter = threading.Thread(target=lambda: result.append(ask(stack)))
    waiter.start()
    deadline = time.monotonic() + 5
    while metric(stack, 'sekisho_upstream_pool_waits_total{upstream="cloud"}') < 1:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    gate.set()
    list(first)
    waiter.join(10)
    assert result and result[0].headers["x-sekisho-route"] == "cloud"


def test_an_upstream_that_dies_mid_stream_is_an_error_the_sdk_raises(stack: Stack) -> None:
    stack.cloud.reply_text = "one two three four five six"
    stack.cloud.stream_abort_after = 3
    received = ""
    with pytest.raises(openai.APIError) as info:
        for chunk in stack.openai().chat.completions.create(
                model="gpt-4o-mini", messages=[{"role": "user", "content": CLEAN}],
                stream=True):
            received += chunk.choices[0].delta.content or "" if chunk.choices else ""
    assert received.startswith("one")
    assert "ended before it was complete" in info.value.message
    wait_for(lambda: metric(stack, 'sekisho_upstream_errors_total{kind="stream_interrupted"')
             == 1)


def test_a_stream_of_garbage_is_an_error_not_an_empty_answer(stack: Stack) -> None:
    stack.cloud.stream_body = b"<html>upstream proxy error</html>"
    with pytest.raises(openai.APIError) as info:
        list(stack.openai().chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": CLEAN}], stream=True))
    assert "without any events" in info.value.message


def test_a_client_that_goes_away_cancels_the_upstream_request(stack: Stack) -> None:
    stack.cloud.reply_text = " ".join(f"word{i}" for i in range(40))
    stack.cloud.pieces_fn = lambda text: text.split(" ")
    stack.cloud.stream_pause = 0.05

    async def read_one_chunk_and_leave() -> None:
        async with aiohttp.ClientSession() as session:
            async with session.post(stack.base_url + "/chat/completions", json={
                    "model": "gpt-4o-mini", "stream": True,
                    "messages": [{"role": "user", "content": CLEAN}]}) as resp:
                await resp.content.readany()
                resp.close()
        await asyncio.sleep(0.5)

    stack.loop.run(read_one_chunk_and_leave())
    wait_for(lambda: stack.cloud.stream_disconnects >= 1)
    wait_for(lambda: metric(stack, 'sekisho_client_disconnects_total{endpoint="chat"}') == 1)
    assert metric(stack, 'sekisho_upstream_errors_total{kind="stream_interrupted"') == 0
    # ... and the proxy keeps serving.
    assert ask(stack).headers["x-sekisho-route"] == "cloud"

"""The metrics a compliance officer and an operator read, checked against real traffic."""

from __future__ import annotations

import time
from typing import Any

import pytest
from conftest import LOCAL_MODELS, Stack
from prometheus_client.parser import text_string_to_metric_families

from proxy.app import METRICS
from proxy.config import DEFAULT_PRICES


def samples(stack: Stack) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    from prometheus_client import generate_latest

    text = generate_latest(stack.app[METRICS].registry).decode()
    out: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def value(stack: Stack, name: str, **labels: str) -> float:
    return samples(stack).get((name, tuple(sorted(labels.items()))), 0.0)


def settled(stack: Stack) -> None:
    """Wait until the proxy has accounted for every request.

    A streamed answer reaches the client before the proxy records it, and the proxy lowers the
    in-flight gauge only after recording.
    """
    deadline = time.monotonic() + 5
    while value(stack, "sekisho_in_flight_requests") and time.monotonic() < deadline:
        time.sleep(0.01)
    assert value(stack, "sekisho_in_flight_requests") == 0


def test_tokens_and_cloud_cost_from_usage(stack: Stack) -> None:
    completion = stack.openai().chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "Explain DNS briefly."}]
    )
    assert completion.usage is not None
    prompt, produced = completion.usage.prompt_tokens, completion.usage.completion_tokens
    assert value(stack, "sekisho_tokens_total", upstream="cloud", model="gpt-4o-mini",
                 kind="prompt") == prompt
    assert value(stack, "sekisho_tokens_total", upstream="cloud", model="gpt-4o-mini",
                 kind="completion") == produced
    price = DEFAULT_PRICES["gpt-4o-mini"]
    expected = (prompt * price.prompt + produced * price.completion) / 1_000_000
    assert value(stack, "sekisho_cloud_cost_usd_total", model="gpt-4o-mini") == pytest.approx(
        expected)


def test_streamed_usage_local_tokens_and_cost_avoided(stack: Stack) -> None:
    chunks = list(stack.openai().chat.completions.create(
        model="gpt-4o-mini", stream=True, stream_options={"include_usage": True},
        messages=[{"role": "user", "content": "Write to hiroshi.kato@example-corp.jp"}],
    ))
    usage = chunks[-1].usage
    assert usage is not None
    settled(stack)
    assert value(stack, "sekisho_tokens_total", upstream="local", model=LOCAL_MODELS[0],
                 kind="completion") == usage.completion_tokens
    assert value(stack, "sekisho_cloud_cost_avoided_usd_total", model="gpt-4o-mini") > 0
    assert value(stack, "sekisho_upstream_ttft_seconds_count", upstream="local") == 1
    assert value(stack, "sekisho_pii_entities_total", entity_type="EMAIL_ADDRESS",
                 language="en", action="forward") == 1


def test_unknown_models_collapse_to_other(stack: Stack) -> None:
    stack.openai().chat.completions.create(
        model="client-invented-model-123", messages=[{"role": "user", "content": "hi"}])
    text = str(samples(stack))
    assert "client-invented-model-123" not in text
    assert value(stack, "sekisho_tokens_total", upstream="cloud", model="other",
                 kind="prompt") > 0


def test_detection_time_per_language_and_overhead(stack: Stack) -> None:
    stack.openai().chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "今日の会議の議題は何ですか"}])
    assert value(stack, "sekisho_detection_duration_seconds_count", language="ja") == 1
    assert value(stack, "sekisho_detection_duration_seconds_count", language="all") == 1
    assert value(stack, "sekisho_overhead_seconds_count") == 1
    assert value(stack, "sekisho_upstream_duration_seconds_count", upstream="cloud") == 1


def test_upstream_health_probes(make_stack: Any) -> None:
    stack = make_stack(health_interval_s=0.1)
    assert value(stack, "sekisho_upstream_up", upstream="cloud") == 1
    assert value(stack, "sekisho_upstream_up", upstream="local") == 1
    stack.stop_local()
    deadline = time.monotonic() + 5
    while value(stack, "sekisho_upstream_up", upstream="local") != 0:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert value(stack, "sekisho_upstream_up", upstream="cloud") == 1


def test_streams_are_counted_even_when_the_client_does_not_ask_for_usage(stack: Stack) -> None:
    chunks = list(stack.openai().chat.completions.create(
        model="gpt-4o-mini", stream=True,
        messages=[{"role": "user", "content": "Explain DNS briefly."}],
    ))
    settled(stack)
    # The client gets the stream it asked for: no usage-only chunk at the end ...
    assert chunks and all(chunk.choices for chunk in chunks)
    # ... while the proxy asked the upstream for usage and counted it.
    (post,) = stack.posts(stack.cloud)
    assert post.body["stream_options"] == {"include_usage": True}
    assert value(stack, "sekisho_tokens_total", upstream="cloud", model="gpt-4o-mini",
                 kind="completion") > 0
    assert value(stack, "sekisho_cloud_cost_usd_total", model="gpt-4o-mini") > 0


def test_time_waiting_for_a_failed_upstream_is_not_proxy_overhead(make_stack: Any) -> None:
    stack = make_stack(upstream_timeout_s=0.5)
    stack.cloud.delay = 2.0
    stack.openai().chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "Explain DNS briefly."}])
    assert value(stack, "sekisho_fallbacks_total", **{"from": "cloud", "to": "local"}) == 1
    assert value(stack, "sekisho_upstream_errors_total", upstream="cloud", kind="timeout") == 1
    assert value(stack, "sekisho_upstream_duration_seconds_count", upstream="cloud") == 1
    assert value(stack, "sekisho_upstream_duration_seconds_sum", upstream="cloud") >= 0.5
    # The half second spent on the cloud is the upstream's, not Sekisho's.
    assert value(stack, "sekisho_overhead_seconds_sum") < 0.5

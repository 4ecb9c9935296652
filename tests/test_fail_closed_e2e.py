"""Fail closed: whatever goes wrong, content that was not cleared never reaches the cloud."""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path
from typing import Any

import openai
import pytest
from conftest import Stack

from proxy.detection.detector import Detector
from proxy.detection.recognizers.base import Hit, PatternRecognizer

EMAIL = "keiko.watanabe@example-bank.jp"
CLEAN = "Explain the difference between TCP and UDP."


def ask(stack: Stack, text: str) -> Any:
    return stack.openai().chat.completions.with_raw_response.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": text}]
    )


def metric_line(stack: Stack, prefix: str) -> list[str]:
    from prometheus_client import generate_latest

    from proxy.app import METRICS

    text = generate_latest(stack.app[METRICS].registry).decode()
    return [line for line in text.splitlines() if line.startswith(prefix)]


def test_sensitive_request_with_local_down_gets_503_and_nothing_goes_to_the_cloud(
    stack: Stack,
) -> None:
    stack.stop_local()
    with pytest.raises(openai.APIStatusError) as info:
        ask(stack, f"Write to {EMAIL}")
    assert info.value.status_code == 503
    assert info.value.response.headers["x-sekisho-route"] == "block"
    assert info.value.response.headers["x-sekisho-rule"] == "contact-details"
    assert stack.posts(stack.cloud) == []
    assert metric_line(stack, 'sekisho_fail_closed_total{reason="local_unavailable"}') == [
        'sekisho_fail_closed_total{reason="local_unavailable"} 1.0'
    ]


def test_detection_deadline_passed_routes_even_clean_text_local(make_stack: Any) -> None:
    stack = make_stack(detection_deadline_ms=0, detection_deadline_ms_per_1000_chars=0)
    raw = ask(stack, CLEAN)
    assert raw.headers["x-sekisho-route"] == "local"
    assert raw.headers["x-sekisho-rule"] == "fail_closed"
    assert stack.posts(stack.cloud) == []
    assert sorted(metric_line(stack, "sekisho_fail_closed_total{")) == [
        'sekisho_fail_closed_total{reason="detection_budget"} 0.0',
        'sekisho_fail_closed_total{reason="detection_error"} 0.0',
        'sekisho_fail_closed_total{reason="detection_overloaded"} 0.0',
        'sekisho_fail_closed_total{reason="detection_timeout"} 1.0',
        'sekisho_fail_closed_total{reason="detection_too_long"} 0.0',
        'sekisho_fail_closed_total{reason="local_unavailable"} 0.0',
        'sekisho_fail_closed_total{reason="uninspectable"} 0.0',
    ]


def test_a_text_too_long_to_inspect_in_time_fails_closed_with_its_own_reason(
        make_stack: Any) -> None:
    # 154,000 characters (half a second of detection) ask for 0.1 s + 154 x 1 s; the cap gives
    # them 0.15 s. A short request asks for less than the cap.
    stack = make_stack(detection_deadline_ms=100, detection_deadline_ms_per_1000_chars=1000,
                       detection_deadline_max_ms=150)
    long_clean = " ".join([CLEAN] * 3500)
    raw = ask(stack, long_clean)
    assert raw.headers["x-sekisho-route"] == "local"
    assert raw.headers["x-sekisho-rule"] == "fail_closed"
    assert stack.posts(stack.cloud) == []
    assert metric_line(stack, 'sekisho_fail_closed_total{reason="detection_too_long"}') == [
        'sekisho_fail_closed_total{reason="detection_too_long"} 1.0']
    # A short request under the same settings is inspected and goes where its content says.
    assert ask(stack, CLEAN).headers["x-sekisho-route"] == "cloud"


def test_the_deadline_grows_with_the_text_up_to_its_cap() -> None:
    from proxy.config import Settings

    settings = Settings(detection_deadline_ms=5000, detection_deadline_ms_per_1000_chars=20,
                        detection_deadline_max_ms=30000)
    assert settings.detection_deadline_s(1000) == (5.02, False)
    assert settings.detection_deadline_s(400_000) == (13.0, False)
    assert settings.detection_deadline_s(2_000_000) == (30.0, True)
    # A cap below the base deadline never shortens it.
    assert Settings(detection_deadline_max_ms=0).detection_deadline_s(10) == (5.0, True)


def test_detection_deadline_with_local_down_is_503(make_stack: Any) -> None:
    stack = make_stack(detection_deadline_ms=0, detection_deadline_ms_per_1000_chars=0)
    stack.stop_local()
    with pytest.raises(openai.APIStatusError) as info:
        ask(stack, CLEAN)
    assert info.value.status_code == 503
    assert stack.posts(stack.cloud) == []


class ExplodingRecognizer(PatternRecognizer):
    """A recognizer (as a deployment might register) that fails on every text."""

    ENTITIES = ("PERSON",)
    CONTEXT = ()

    def find(self, text: str) -> list[Hit]:
        raise RuntimeError("recognizer crashed")


def test_a_recognizer_that_raises_keeps_the_request_off_the_cloud(make_stack: Any) -> None:
    broken = Detector(cache_size=0)
    broken.load()
    broken.add_recognizer("exploding", ExplodingRecognizer())
    stack = make_stack(detector_override=broken)
    raw = ask(stack, CLEAN)
    assert raw.headers["x-sekisho-route"] == "local"
    assert raw.headers["x-sekisho-rule"] == "fail_closed"
    assert stack.posts(stack.cloud) == []


def test_clean_request_falls_back_to_local_when_the_cloud_is_down(stack: Stack) -> None:
    stack.stop_cloud()
    raw = ask(stack, CLEAN)
    assert raw.headers["x-sekisho-route"] == "local"
    assert raw.parse().choices[0].message.content == "reply from local"
    assert metric_line(stack, "sekisho_fallbacks_total{") == [
        'sekisho_fallbacks_total{from="cloud",to="local"} 1.0'
    ]


def test_clean_request_falls_back_on_cloud_5xx_and_timeouts(make_stack: Any) -> None:
    stack = make_stack(upstream_timeout_s=0.5)
    stack.cloud.fail_status = 500
    assert ask(stack, CLEAN).headers["x-sekisho-route"] == "local"
    stack.cloud.fail_status = None
    stack.cloud.delay = 2.0
    assert ask(stack, CLEAN).headers["x-sekisho-route"] == "local"


def test_without_fallback_a_cloud_outage_is_a_502(make_stack: Any) -> None:
    stack = make_stack(cloud_fallback_to_local=False)
    stack.stop_cloud()
    with pytest.raises(openai.APIStatusError) as info:
        ask(stack, CLEAN)
    assert info.value.status_code == 502
    assert info.value.response.headers["x-sekisho-route"] == "block"
    assert stack.posts(stack.local) == []


def test_local_errors_are_never_retried_on_the_cloud(make_stack: Any) -> None:
    stack = make_stack(upstream_timeout_s=0.5)
    stack.local.fail_status = 500
    with pytest.raises(openai.APIStatusError) as info:
        ask(stack, f"Write to {EMAIL}")
    # The upstream's own answer, relayed as it came (so the client's SDK decides on retrying).
    assert info.value.status_code == 500
    assert "injected failure from upstream local" in info.value.message
    stack.local.fail_status = None
    stack.local.delay = 2.0
    with pytest.raises(openai.APIStatusError) as info:
        ask(stack, f"Write to {EMAIL}")
    assert info.value.status_code == 504
    assert stack.posts(stack.cloud) == []


def test_no_content_in_logs_or_audit_lines(
    make_stack: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    audit = tmp_path / "audit.jsonl"
    stack = make_stack(audit_log=str(audit))
    secret_values = [EMAIL, "4111 1111 1111 1111", "山田花子"]
    caplog.set_level(logging.DEBUG)
    ask(stack, f"Write to {EMAIL}")
    ask(stack, "Charge 4111 1111 1111 1111 please")
    ask(stack, "山田花子さんに連絡")
    # Client-chosen fields are client text too: a model name nobody configured is "other".
    pasted = "Taro Yamada 090-1234-5678"
    stack.openai().chat.completions.create(
        model=pasted, messages=[{"role": "user", "content": "hello"}]
    )
    stack.stop_local()
    with pytest.raises(openai.APIStatusError):
        ask(stack, f"Again to {EMAIL}")
    lines = audit.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 5
    records = [json.loads(line) for line in lines]
    assert [r["route"] for r in records] == ["local", "local", "local", "local", "block"]
    assert records[0]["entities"] == {"EMAIL_ADDRESS": 1}
    assert records[3]["requested_model"] == "other"
    # aiohttp's HTTP parser refuses an oversized request line or header before Sekisho sees
    # the request, and its own logger would quote the start of it: a key, a query string.
    bearer, query = "sk-proj-" + "K7q2" * 8, "email=" + EMAIL
    raw_requests = [
        f"GET /v1/models?{query}{'A' * 9000} HTTP/1.1\r\nHost: x\r\n\r\n",
        f"GET /v1/models HTTP/1.1\r\nAuthorization: Bearer {bearer}{'B' * 9000}\r\n\r\n",
    ]

    async def send_raw() -> None:
        for raw in raw_requests:
            reader, writer = await asyncio.open_connection("127.0.0.1", stack.port)
            writer.write(raw.encode())
            await writer.drain()
            assert (await reader.read(20)).startswith(b"HTTP/1.")
            writer.close()

    stack.loop.run(send_raw())
    assert "aiohttp.server" in caplog.text  # it did log: type only
    for value in [*secret_values, pasted, bearer, query]:
        assert value not in audit.read_text(encoding="utf-8")
        assert value not in caplog.text


def test_both_upstreams_down_is_a_502_that_does_not_blame_the_content(stack: Stack) -> None:
    stack.stop_cloud()
    stack.stop_local()
    with pytest.raises(openai.APIStatusError) as info:
        ask(stack, CLEAN)
    assert info.value.status_code == 502
    assert "fallback" in info.value.message


def test_a_client_gone_mid_request_is_no_error_and_the_proxy_keeps_serving(
    stack: Stack, caplog: pytest.LogCaptureFixture
) -> None:
    # A load generator stopping, a closed tab: the body never arrives whole. Nobody is left to
    # answer; the proxy notes it at INFO (path only), reaches no upstream and serves the next.
    caplog.set_level(logging.INFO)
    body = json.dumps({"model": "gpt-4o-mini",
                       "messages": [{"role": "user", "content": f"Write to {EMAIL}"}]})

    async def hang_up() -> None:
        _, writer = await asyncio.open_connection("127.0.0.1", stack.port)
        writer.write(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n"
                     b"Content-Type: application/json\r\n"
                     + f"Content-Length: {len(body) + 100}\r\n\r\n".encode()
                     + body[:40].encode())
        await writer.drain()
        await asyncio.sleep(0.2)
        writer.close()
        await asyncio.sleep(0.3)

    stack.loop.run(hang_up())
    assert "client went away during POST /v1/chat/completions" in caplog.text
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not [r for r in stack.cloud.requests + stack.local.requests if r.method == "POST"]
    assert ask(stack, CLEAN).headers["x-sekisho-route"] == "cloud"

"""The detection runner: the deadline is handed into the work, a full queue sheds at once, and
every failure is a detection failure — and over HTTP, shed requests get 503 with Retry-After
while nothing of theirs reaches any upstream.

The analyzer here wraps the session's real detector with a gate, so a test can hold an analysis
in flight for as long as it needs.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import openai
import pytest

from proxy.detection.detector import Detector
from proxy.detection.runner import (
    DetectionError,
    DetectionTimeout,
    Overloaded,
    Runner,
)
from proxy.values import Finding, Segment


class Gated:
    """The real detector behind a gate; records the deadline each analysis was given."""

    def __init__(self, detector: Detector, *, fail: bool = False) -> None:
        self.detector = detector
        self.fail = fail
        self.gate = threading.Event()
        self.entered = threading.Semaphore(0)
        self.deadlines: list[float | None] = []

    @property
    def loaded(self) -> bool:
        return True

    def load(self) -> None:
        pass

    def analyze(self, segments: Sequence[Segment], timings: dict[str, float] | None = None,
                deadline: float | None = None, scope: str = "") -> list[Finding]:
        self.deadlines.append(deadline)
        self.entered.release()
        self.gate.wait(30)
        if self.fail:
            raise RuntimeError("the detector crashed")
        return self.detector.analyze(segments, timings, deadline, scope)


SEGMENTS = [Segment("messages[0].content", "Write to hana.ito@example.jp")]


async def test_findings_come_back_with_the_deadline_handed_in(detector: Detector) -> None:
    gated = Gated(detector)
    gated.gate.set()
    runner = Runner(gated, threads=1, max_pending=4)
    before = time.monotonic()
    analysis = await runner.analyze(SEGMENTS, timeout=5.0)
    runner.close()
    assert {f.entity_type for f in analysis.findings} == {"EMAIL_ADDRESS"}
    (deadline,) = gated.deadlines
    assert deadline is not None and before + 5.0 <= deadline <= time.monotonic() + 5.0


async def test_a_late_analysis_times_out_and_a_crash_is_a_detection_error(
    detector: Detector,
) -> None:
    gated = Gated(detector)
    runner = Runner(gated, threads=1, max_pending=4)
    with pytest.raises(DetectionTimeout):
        await runner.analyze(SEGMENTS, timeout=0.2)
    with pytest.raises(DetectionTimeout):
        await runner.analyze(SEGMENTS, timeout=0)
    gated.gate.set()
    crashing = Gated(detector, fail=True)
    crashing.gate.set()
    failing = Runner(crashing, threads=1, max_pending=4)
    with pytest.raises(DetectionError):
        await failing.analyze(SEGMENTS, timeout=5.0)
    runner.close()
    failing.close()


async def test_a_full_queue_refuses_at_once_and_frees_up_again(detector: Detector) -> None:
    gated = Gated(detector)
    runner = Runner(gated, threads=1, max_pending=2)
    first = asyncio.ensure_future(runner.analyze(SEGMENTS, timeout=10.0))
    second = asyncio.ensure_future(runner.analyze(SEGMENTS, timeout=10.0))
    await asyncio.sleep(0.1)
    started = time.monotonic()
    with pytest.raises(Overloaded):
        await runner.analyze(SEGMENTS, timeout=10.0)
    assert time.monotonic() - started < 0.1
    gated.gate.set()
    await asyncio.gather(first, second)
    assert runner.pending == 0
    assert (await runner.analyze(SEGMENTS, timeout=10.0)).findings
    runner.close()


def test_shed_requests_get_503_with_retry_after_and_reach_no_upstream(
    make_stack: Any, detector: Detector,
) -> None:
    gated = Gated(detector)
    stack = make_stack(detector_override=gated, detection_max_pending=1)
    client = stack.openai()

    def ask(text: str) -> Any:
        return client.chat.completions.with_raw_response.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": text}])

    with ThreadPoolExecutor(1) as pool:
        held = pool.submit(ask, "What is a monad?")
        assert gated.entered.acquire(timeout=10)
        with pytest.raises(openai.APIStatusError) as info:
            ask("Explain TCP slow start.")
        gated.gate.set()
        assert held.result(30).headers["x-sekisho-route"] == "cloud"
    assert info.value.status_code == 503
    assert info.value.response.headers["retry-after"] == "1"
    assert info.value.body["code"] == "overloaded"  # type: ignore[index]
    assert info.value.response.headers["x-sekisho-route"] == "block"
    texts = stack.cloud.texts_received() + stack.local.texts_received()
    assert "Explain TCP slow start." not in " ".join(texts)

    from prometheus_client import generate_latest

    from proxy.app import METRICS

    metrics = generate_latest(stack.app[METRICS].registry).decode()
    assert 'sekisho_fail_closed_total{reason="detection_overloaded"} 1.0' in metrics


def test_the_result_cache_is_kept_per_tenant(detector: Detector) -> None:
    """A hit answers sooner than a miss: shared across tenants, the cache would tell one
    tenant whether another recently sent a text."""
    fresh = Detector(cache_size=64)
    fresh.engine = detector.engine  # the loaded models, a cache of its own
    text = [Segment("messages[0].content", "Schedule a call with Hana Ito on Friday.")]
    fresh.analyze(text, scope="tenant-a")
    misses = fresh.cache.misses
    fresh.analyze(text, scope="tenant-a")
    assert fresh.cache.misses == misses  # a hit within the tenant
    fresh.analyze(text, scope="tenant-b")
    assert fresh.cache.misses > misses  # another tenant does not hit it

"""Requests waiting for a detection worker are read together, and one's failure fails no other.

Real worker processes (``DetectorPool`` with one worker, so requests must queue), real texts:
what a batch finds for each request is what the in-process detector finds for it alone; a
request whose text makes a recognizer overspend its budget fails on its own (and so stays off
the cloud) while the requests read in the same call get their findings.
"""

from __future__ import annotations

import gc
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from proxy.detection.budget import DeadlinePassed, OverBudget
from proxy.detection.detector import Detector
from proxy.detection.runner import DetectorPool
from proxy.values import Finding, Segment

pytestmark = pytest.mark.slow

TEXTS = [
    "Please call Priya Raghunathan on +44 7700 900461 about the refund.",
    "山田花子さんの携帯は090-4417-2683です。折り返してください。",
    "Summarise the history of the transistor in three bullet points.",
    "Send the invoice to maria.gonzalez@example.org by Friday.",
    "契約者：小鳥遊 真央 様\n住所：東京都台東区浅草2-3-1",
    "Explain the difference between TCP and UDP for a new engineer.",
]
# Digits and separators the phone matcher reads slowly: far over a small budget on its own.
COSTLY = "Numbers: " + "1-2/3 " * 600


def spans(findings: list[Finding]) -> set[tuple[str, int, int]]:
    return {(f.entity_type, f.start, f.end) for f in findings}


@pytest.fixture(scope="module")
def pool() -> Any:
    pool = DetectorPool(1, cache_size=0, recognizer_budget_ms=300)
    pool.load()
    yield pool
    pool.close()


def test_waiting_requests_are_read_together_with_the_findings_of_each(
        pool: DetectorPool, detector: Detector) -> None:
    before_calls, before_read = pool.worker_calls, pool.requests_read
    with ThreadPoolExecutor(len(TEXTS)) as threads:
        found = list(threads.map(lambda t: pool.analyze([Segment("t", t)]), TEXTS * 3))
    for text, findings in zip(TEXTS * 3, found, strict=True):
        assert spans(findings) == spans(detector.analyze([Segment("t", text)])), text
    calls, read = pool.worker_calls - before_calls, pool.requests_read - before_read
    assert read == len(TEXTS) * 3
    assert calls < read  # some worker calls read several requests


def test_a_request_over_budget_fails_alone(pool: DetectorPool, detector: Detector) -> None:
    with pytest.raises(OverBudget):
        pool.analyze([Segment("t", COSTLY)])  # alone: over its budget
    # A long text keeps the worker busy while the costly one and the others queue behind it,
    # so they are sent together; the call fails and each is read again on its own.
    busy = " ".join(TEXTS[2:3] * 150)
    before = pool.requests_read
    with ThreadPoolExecutor(len(TEXTS) + 2) as threads:
        first = threads.submit(pool.analyze, [Segment("t", busy)])
        while pool.requests_read == before:
            pass  # until the worker has taken the long text
        futures = [threads.submit(pool.analyze, [Segment("t", t)]) for t in [COSTLY, *TEXTS]]
        outcomes = [f.exception() or f.result() for f in futures]
        assert isinstance(first.result(), list)
    assert isinstance(outcomes[0], OverBudget)
    for text, outcome in zip(TEXTS, outcomes[1:], strict=True):
        assert isinstance(outcome, list), (text, outcome)
        assert spans(outcome) == spans(detector.analyze([Segment("t", text)]))
    # Read once together, then each again alone.
    assert pool.requests_read - before > len(TEXTS) + 2


def test_a_request_past_its_deadline_fails_alone(pool: DetectorPool) -> None:
    busy = " ".join(TEXTS[2:3] * 150)
    before = pool.requests_read
    with ThreadPoolExecutor(3) as threads:
        first = threads.submit(pool.analyze, [Segment("t", busy)])
        while pool.requests_read == before:
            pass
        hurried = threads.submit(pool.analyze, [Segment("t", TEXTS[0])],
                                 deadline=time.monotonic() + 0.001)
        patient = threads.submit(pool.analyze, [Segment("t", TEXTS[1])])
        assert isinstance(hurried.exception(), DeadlinePassed)
        assert isinstance(first.result(), list) and patient.result()


def test_a_worker_s_loaded_models_are_left_out_of_garbage_collection(pool: DetectorPool) -> None:
    # A full collection walking the models took 160-240 ms, a stall of every request in the
    # worker; frozen after load, they are never walked.
    executor = pool._executor
    assert executor is not None
    assert executor.submit(gc.get_freeze_count).result(timeout=60) > 50_000

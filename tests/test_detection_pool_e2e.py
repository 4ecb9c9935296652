"""Detection in worker processes: same routing, real concurrency, and a dead worker fails closed."""

from __future__ import annotations

import os
import signal
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import aiohttp
import pytest
from conftest import Stack

from proxy.app import RUNNER
from proxy.detection.runner import DetectorPool

pytestmark = pytest.mark.slow

EMAIL = "yuki.sato@example-maker.jp"


def wait_ready(stack: Stack) -> None:
    async def status() -> int:
        async with aiohttp.ClientSession() as session:
            async with session.get(stack.root_url + "/readyz") as resp:
                return resp.status

    deadline = time.monotonic() + 120
    while stack.loop.run(status()) != 200:
        assert time.monotonic() < deadline, "detection workers did not start"
        time.sleep(0.2)


def route(stack: Stack, text: str) -> tuple[str, str]:
    raw = stack.openai().chat.completions.with_raw_response.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": text}])
    return raw.headers["x-sekisho-route"], raw.headers["x-sekisho-rule"]


@pytest.fixture
def pooled(make_stack: Any) -> Stack:
    stack = make_stack(pooled=True, detection_workers=2, detection_deadline_ms=60000)
    wait_ready(stack)
    return stack


def test_pool_routes_like_the_in_process_detector(pooled: Stack) -> None:
    pool = pooled.app[RUNNER].analyzer
    assert isinstance(pool, DetectorPool)
    pids = pool.worker_pids()
    assert len(pids) == 2 and os.getpid() not in pids
    assert route(pooled, "Summarise the history of the transistor.") == ("cloud", "default")
    assert route(pooled, f"Write to {EMAIL}") == ("local", "contact-details")
    assert route(pooled, "山田花子さんに連絡してください") == ("local", "people")
    with ThreadPoolExecutor(6) as threads:
        routes = list(threads.map(
            lambda i: route(pooled, f"Question {i}: mail {EMAIL} or explain HTTP/{i}"), range(6)))
    assert all(r == ("local", "contact-details") for r in routes)
    assert EMAIL not in pooled.cloud.texts_received()


def test_a_dead_worker_fails_closed_and_the_pool_recovers(pooled: Stack) -> None:
    pool = pooled.app[RUNNER].analyzer
    assert isinstance(pool, DetectorPool)
    os.kill(pool.worker_pids()[0], signal.SIGKILL)
    time.sleep(0.5)
    assert route(pooled, "What is a hash table?") == ("local", "fail_closed")
    assert pooled.posts(pooled.cloud) == []
    deadline = time.monotonic() + 60
    while route(pooled, "What is a binary tree?") != ("cloud", "default"):
        assert time.monotonic() < deadline
        time.sleep(0.2)


def test_a_long_prompt_is_read_by_both_workers_at_once(pooled: Stack) -> None:
    pool = pooled.app[RUNNER].analyzer
    assert isinstance(pool, DetectorPool)
    batches: list[int] = []
    run = pool._run

    def counting(executor: Any, work: list[Any], deadline: Any) -> Any:
        batches.append(len(work))
        return run(executor, work, deadline)

    pool._run = counting  # type: ignore[method-assign]
    paragraph = ("The quarterly maintenance window moves to Saturday night. Services restart"
                 " in dependency order and the status page is updated every half hour.")
    clean = "\n\n".join(f"{i}. {paragraph}" for i in range(200))
    assert route(pooled, clean) == ("cloud", "default")
    # A value in the second half: the piece that holds it finds it.
    half = clean.index("\n\n100. ") + 2
    sensitive = clean[:half] + f"Mail {EMAIL} about it.\n\n" + clean[half:]
    assert route(pooled, sensitive) == ("local", "contact-details")
    assert batches == [2, 2]
    assert EMAIL not in pooled.cloud.texts_received()

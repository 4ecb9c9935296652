"""Shared fixtures: the detector (loaded once), and a running stack per test.

A stack is the real Sekisho application on a loopback port in front of two real recording
upstream servers ("cloud" and "local"). All three run on one event loop in a background thread,
so tests can use the official openai SDK's *synchronous* client (as most applications do) as
well as ``AsyncOpenAI`` from async tests, without the client blocking the servers' loop.
"""

from __future__ import annotations

import asyncio
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pytest
from aiohttp import web
from upstream import RecordingUpstream

from proxy.app import create_app
from proxy.config import Settings
from proxy.detection.detector import Detector
from proxy.serving import listen

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_POLICY = ROOT / "policies" / "default.yaml"
T = TypeVar("T")

CLOUD_MODELS = ["gpt-4o-mini", "gpt-4o", "text-embedding-3-small"]
LOCAL_MODELS = ["qwen2.5-7b-instruct"]


class LoopThread:
    """An asyncio loop in a daemon thread; ``run`` executes a coroutine there and waits."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coro: Awaitable[T], timeout: float = 60) -> T:
        future: Future[T] = asyncio.run_coroutine_threadsafe(coro, self.loop)  # type: ignore[arg-type]
        return future.result(timeout)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()


@dataclass
class Stack:
    loop: LoopThread
    cloud: RecordingUpstream
    local: RecordingUpstream
    settings: Settings
    app: web.Application
    runner: web.AppRunner
    port: int
    clients: list[Any] = field(default_factory=list)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def root_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def metrics_address(self) -> str:
        """``host:port`` of the metrics listener (no authentication; loopback)."""
        from proxy.app import METRICS_LISTENER

        return f"127.0.0.1:{self.app[METRICS_LISTENER]['port']}"

    @property
    def metrics_url(self) -> str:
        return f"http://{self.metrics_address}/metrics"

    def metric(self, name: str) -> float:
        """One series' value on the metrics listener (``name`` with its labels), 0 if absent."""
        with urllib.request.urlopen(self.metrics_url, timeout=5) as resp:
            for line in resp.read().decode().splitlines():
                if line.startswith(name + " "):
                    return float(line.split()[1])
        return 0.0

    def openai(self, **kwargs: Any) -> Any:
        import openai

        kwargs.setdefault("api_key", "sk-client-key-never-forwarded")
        kwargs.setdefault("max_retries", 0)
        client = openai.OpenAI(base_url=self.base_url, **kwargs)
        self.clients.append(client)
        return client

    def async_openai(self, **kwargs: Any) -> Any:
        import openai

        return openai.AsyncOpenAI(base_url=self.base_url,
                                  api_key="sk-client-key-never-forwarded", max_retries=0,
                                  **kwargs)

    def posts(self, upstream: RecordingUpstream) -> list[Any]:
        """The POST requests an upstream received (model discovery GETs left out)."""
        return [r for r in upstream.requests if r.method == "POST"]

    def stop_local(self) -> None:
        self.loop.run(self.local.stop())

    def stop_cloud(self) -> None:
        self.loop.run(self.cloud.stop())


def wait_ready(url: str, proc: subprocess.Popen[Any], seconds: float = 60) -> None:
    """Until ``url`` (a ``sekisho serve``'s ``/readyz``) answers 200; fails if the process
    exits or the time runs out."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        try:
            with urllib.request.urlopen(url, timeout=1) as resp:
                if resp.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError):
            pass
        time.sleep(0.2)
    pytest.fail("sekisho serve did not become ready")


@pytest.fixture(scope="session")
def detector() -> Detector:
    d = Detector(cache_size=4096)
    d.load()
    return d


@pytest.fixture(scope="session")
def loop_thread() -> Iterator[LoopThread]:
    lt = LoopThread()
    yield lt
    lt.close()


StackFactory = Callable[..., Stack]


@pytest.fixture
def make_stack(detector: Detector, loop_thread: LoopThread) -> Iterator[StackFactory]:
    stacks: list[Stack] = []

    def factory(
        *, detector_override: Detector | None = None, pooled: bool = False, **overrides: Any
    ) -> Stack:
        """A stack; ``pooled`` lets the app build its own detection process pool instead of
        sharing the session's in-process detector."""
        async def start() -> Stack:
            cloud = RecordingUpstream("cloud", models=list(CLOUD_MODELS))
            local = RecordingUpstream("local", models=list(LOCAL_MODELS))
            await cloud.start()
            await local.start()
            values: dict[str, Any] = {
                "host": "127.0.0.1",
                "port": 0,
                "policy": DEFAULT_POLICY,
                "cloud_url": cloud.base_url,
                "local_url": local.base_url,
                "cloud_api_key": "sk-proxy-cloud-key",
                "local_api_key": "proxy-local-key",
                "connect_timeout_s": 2.0,
                "upstream_timeout_s": 10.0,
                "metrics_port": 0,
            }
            values.update(overrides)
            settings = Settings.model_validate(values)
            app = create_app(
                settings, detector=None if pooled else (detector_override or detector)
            )
            # The listener `sekisho serve` runs: its connection bounds apply to every test.
            runner = await listen(app, settings)
            port = runner.addresses[0][1]
            return Stack(loop_thread, cloud, local, settings, app, runner, port)

        stack = loop_thread.run(start())
        stacks.append(stack)
        return stack

    yield factory

    async def stop(stack: Stack) -> None:
        await stack.runner.cleanup()
        await stack.cloud.stop()
        await stack.local.stop()

    for stack in stacks:
        for client in stack.clients:
            client.close()
        loop_thread.run(stop(stack))


@pytest.fixture
def stack(make_stack: StackFactory) -> Stack:
    return make_stack()

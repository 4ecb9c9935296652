"""HTTP benchmark: requests per second and latency through a real ``sekisho serve``.

    .venv/bin/python bench/load.py [--requests 2000] [--concurrency 32] [--fresh] [--stream]
                                   [--detection-workers 2] [--duration-limit 300]

Starts two recording OpenAI-compatible upstreams on loopback (answering at once), then
``sekisho serve`` in its own process in front of them, waits until it is ready, sends a warm-up
and then ``--requests`` chat requests from ``--concurrency`` concurrent clients, and prints
req/s, latency percentiles, statuses and routes. The prompts are the labelled corpus's own
(sensitive and clean, English and Japanese, in corpus order); with ``--fresh`` each request's
text is made unique, so every request pays for detection instead of hitting the cache.

Loopback only; bounded by count and by ``--duration-limit`` seconds. The proxy runs whatever
``proxy`` package the interpreter finds (``PYTHONPATH`` picks another checkout), so two versions
can be compared back to back. A benchmark, not a test: its figures go in the README.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from upstream import RecordingUpstream  # noqa: E402


def prompts(corpus: Path) -> list[str]:
    """The first user-visible text of every corpus chat request."""
    out: list[str] = []
    for path in sorted(corpus.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            request = json.loads(line)["request"]
            for message in request.get("messages", []):
                if isinstance(message.get("content"), str) and message["content"].strip():
                    out.append(message["content"])
                    break
    return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def wait_ready(url: str, process: subprocess.Popen[bytes], limit: float) -> None:
    deadline = time.monotonic() + limit
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise SystemExit(f"sekisho serve exited with {process.returncode}")
            try:
                async with session.get(url + "/readyz") as resp:
                    if resp.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.2)
    raise SystemExit("sekisho serve did not become ready in time")


async def drive(url: str, texts: list[str], *, requests: int, concurrency: int, fresh: bool,
                stream: bool, limit: float) -> tuple[list[float], Counter[str], float]:
    latencies: list[float] = []
    outcomes: Counter[str] = Counter()
    counter = iter(range(requests))
    stop_at = time.monotonic() + limit
    connector = aiohttp.TCPConnector(limit=concurrency)

    async with aiohttp.ClientSession(connector=connector) as session:
        async def one(i: int) -> None:
            text = texts[i % len(texts)]
            if fresh:
                text = f"{text}\n(request {i})"
            body = {"model": "gpt-4o-mini", "stream": stream,
                    "messages": [{"role": "user", "content": text}]}
            started = time.perf_counter()
            async with session.post(url + "/v1/chat/completions", json=body,
                                    headers={"Authorization": "Bearer bench"}) as resp:
                await resp.read()
                outcomes[f"{resp.status} {resp.headers.get('x-sekisho-route', '?')}"] += 1
            latencies.append(time.perf_counter() - started)

        async def client() -> None:
            for i in counter:
                if time.monotonic() > stop_at:
                    return
                await one(i)

        started = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return latencies, outcomes, elapsed


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def main_async(args: argparse.Namespace) -> int:
    texts = prompts(ROOT / "tests" / "detection" / "corpus")
    cloud = RecordingUpstream("cloud", models=["gpt-4o-mini"])
    local = RecordingUpstream("local", models=["qwen2.5-7b-instruct"])
    await cloud.start()
    await local.start()
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "bench.yaml"
        config.write_text(json.dumps({
            "host": "127.0.0.1", "port": port, "policy": str(ROOT / "policies" / "default.yaml"),
            "cloud_url": cloud.base_url, "local_url": local.base_url,
            "detection_workers": args.detection_workers, "detection_deadline_ms": 30000,
            "log_level": "WARNING", "policy_poll_s": 0,
        }), encoding="utf-8")
        process = subprocess.Popen(
            [sys.executable, "-m", "proxy", "serve", "--config", str(config)],
            cwd=tmp, env=os.environ.copy(), stdout=subprocess.DEVNULL)
        url = f"http://127.0.0.1:{port}"
        try:
            await wait_ready(url, process, 180)
            await drive(url, texts, requests=min(200, args.requests), concurrency=args.concurrency,
                        fresh=args.fresh, stream=args.stream, limit=args.duration_limit)
            cloud.clear()
            local.clear()
            latencies, outcomes, elapsed = await drive(
                url, texts, requests=args.requests, concurrency=args.concurrency,
                fresh=args.fresh, stream=args.stream, limit=args.duration_limit)
        finally:
            process.terminate()
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
            await cloud.stop()
            await local.stop()
    done = len(latencies)
    print(f"requests {done} in {elapsed:.1f} s, concurrency {args.concurrency},"
          f" {'fresh' if args.fresh else 'repeated'} prompts,"
          f" {'stream' if args.stream else 'json'}, detection_workers {args.detection_workers}")
    print(f"throughput {done / elapsed:.1f} req/s")
    print(f"latency ms p50 {percentile(latencies, 0.5) * 1000:.1f}"
          f"  p90 {percentile(latencies, 0.9) * 1000:.1f}"
          f"  p99 {percentile(latencies, 0.99) * 1000:.1f}"
          f"  mean {statistics.fmean(latencies) * 1000:.1f}")
    print("outcomes " + ", ".join(f"{k}: {v}" for k, v in sorted(outcomes.items())))
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--fresh", action="store_true", help="a unique text per request")
    parser.add_argument("--stream", action="store_true")
    parser.add_argument("--detection-workers", type=int, default=2)
    parser.add_argument("--duration-limit", type=float, default=300.0)
    return asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    sys.exit(main())


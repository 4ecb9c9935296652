"""A bounded load test under faults: ``soak`` drives a real ``sekisho serve`` with a mix of clean
and sensitive prompts while its policy file is rewritten and its local upstream flaps.

Used at a small scale by ``tests/test_load_e2e.py`` (part of ``make test``) and at full scale
by ``bench/soak.py``. It starts two recording upstreams on loopback and Sekisho in its own
process in front of them (so its memory and file descriptors can be read from ``/proc``), then:

- a warm-up at full concurrency, after which the serving process's RSS and open descriptors
  (and its detection processes' RSS) are taken as the baseline;
- the load: ``requests`` chat requests from ``concurrency`` clients, English and Japanese, a
  third of them carrying a unique synthetic sensitive value (e-mail, card number, My Number,
  phone), every fourth streamed, each text unique so none is a cache hit;
- meanwhile the policy file is rewritten every ``reload_every_s`` (a new version each time) and
  the local upstream is stopped and restarted on the same port every ``flap_every_s``;
- at the end, once idle: RSS and descriptors again (pooled upstream connections left out),
  every sensitive value looked for in everything the cloud received (raw, folded and decoded
  forms), and the statuses.

Loopback only; stops by itself (``limit_s`` bounds the load phase).
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from leakcheck import cloud_text, luhn, my_number, readable_values
from upstream import RecordingUpstream

ROOT = Path(__file__).resolve().parent.parent
POLICY = ROOT / "policies" / "default.yaml"
INTENDED = {(503, "local_unavailable"), (503, "overloaded"), (503, "upstream_circuit_open"),
            (503, "too_many_connections"), (429, "rate_limit_exceeded")}
"""The refusals a client may get under this load: everything else but a 200 is a failure."""

CLEAN = [
    "Summarise the release notes of our build system in three bullet points.",
    "次回の全社会議のアジェンダ案を箇条書きで作ってください。",
    "Explain the difference between a mutex and a semaphore with an example.",
    "この文章をもっと丁寧な表現に書き換えてください：明日までに資料を送ってください。",
    "Write a haiku about the first snow over the factory roofs.",
    "Pythonでリストを重複なしでソートする方法を教えてください。",
]


@dataclass
class Report:
    requests: int = 0
    seconds: float = 0.0
    outcomes: Counter[tuple[int, str]] = field(default_factory=Counter)
    """(status, error code or route) → count."""
    leaked: list[str] = field(default_factory=list)
    sensitive_sent: int = 0
    reloads: int = 0
    reloads_applied: int = 0
    """Successful reloads Sekisho counted (``sekisho_policy_reloads_total``)."""
    flaps: int = 0
    rss_warm_mib: float = 0.0
    rss_end_mib: float = 0.0
    detection_rss_warm_mib: float = 0.0
    detection_rss_end_mib: float = 0.0
    fds_warm: int = 0
    fds_end: int = 0

    @property
    def unintended(self) -> dict[str, int]:
        return {f"{s} {c}": n for (s, c), n in self.outcomes.items()
                if s != 200 and (s, c) not in INTENDED}

    def as_dict(self) -> dict[str, Any]:
        return {
            "requests": self.requests, "seconds": round(self.seconds, 1),
            "req_per_s": round(self.requests / self.seconds, 1) if self.seconds else 0,
            "outcomes": {f"{s} {c}": n for (s, c), n in sorted(self.outcomes.items())},
            "sensitive_sent": self.sensitive_sent, "leaked": len(self.leaked),
            "policy_reloads": [self.reloads, self.reloads_applied], "local_flaps": self.flaps,
            "rss_mib": [round(self.rss_warm_mib, 1), round(self.rss_end_mib, 1)],
            "detection_rss_mib": [round(self.detection_rss_warm_mib, 1),
                                  round(self.detection_rss_end_mib, 1)],
            "fds": [self.fds_warm, self.fds_end],
        }


def _rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _children(pid: int) -> list[int]:
    """Child processes of ``pid`` (whichever of its threads started them)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(stat.parent.name))
        except (OSError, IndexError, ValueError):
            continue
    return found


def _fds(pid: int, upstream_ports: set[int]) -> int:
    """Open descriptors of ``pid`` other than its pooled connections to the upstreams (which the
    pools keep, up to their size, for their keep-alive time)."""
    remote_port: dict[str, int] = {}
    for table in ("tcp", "tcp6"):
        path = Path(f"/proc/{pid}/net/{table}")
        for line in path.read_text().splitlines()[1:] if path.exists() else ():
            fields = line.split()
            remote_port[fields[9]] = int(fields[2].rsplit(":", 1)[1], 16)
    count = 0
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        inode = target[len("socket:["):-1] if target.startswith("socket:[") else None
        if inode is None or remote_port.get(inode) not in upstream_ports:
            count += 1
    return count


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Prompts:
    """Unique prompts; the sensitive ones each carry a fresh synthetic value, kept for the
    leak check."""

    def __init__(self, seed: int = 20261202) -> None:
        self.rng = random.Random(seed)
        self.values: list[str] = []

    def digits(self, n: int) -> str:
        return "".join(self.rng.choice("0123456789") for _ in range(n))

    def make(self, i: int) -> str:
        if i % 3:
            return f"{CLEAN[i % len(CLEAN)]} (request {i})"
        kind = (i // 3) % 4
        if kind == 0:
            value = f"k.tanabe{self.digits(5)}@example-corp.co.jp"
            text = f"Please reply to {value} about the delayed invoice (request {i})."
        elif kind == 1:
            value = luhn("4" + self.digits(14))
            text = f"The customer's card number is {value}; check the last payment ({i})."
        elif kind == 2:
            value = my_number(self.digits(11))
            text = f"申請者のマイナンバーは{value}です。書類を確認してください（{i}）。"
        else:
            value = f"090-{self.digits(4)}-{self.digits(4)}"
            text = f"お客様の携帯番号 {value} に折り返し連絡してください（{i}）。"
        self.values.append(value)
        return text


async def soak(*, requests: int, concurrency: int, warmup: int, detection_workers: int,
               reload_every_s: float, flap_every_s: float, limit_s: float,
               extra_settings: dict[str, Any] | None = None) -> Report:
    report = Report()
    cloud = RecordingUpstream("cloud", models=["gpt-4o-mini"])
    local = RecordingUpstream("local", models=["qwen2.5-7b-instruct"])
    await cloud.start()
    await local.start()
    workdir = Path(tempfile.mkdtemp(prefix="sekisho-soak-"))
    policy = workdir / "policy.yaml"
    shutil.copy(POLICY, policy)
    port, metrics_port = _free_port(), _free_port()
    config = workdir / "sekisho.yaml"
    config.write_text(json.dumps({
        "host": "127.0.0.1", "port": port, "policy": str(policy), "policy_poll_s": 0.2,
        "cloud_url": cloud.base_url, "local_url": local.base_url, "metrics_port": metrics_port,
        "detection_workers": detection_workers, "detection_deadline_ms": 30000,
        "health_interval_s": 1.0, "log_level": "WARNING", **(extra_settings or {}),
    }))
    process = subprocess.Popen([sys.executable, "-m", "proxy", "serve", "--config", str(config)],
                               cwd=ROOT, stdout=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    prompts = Prompts()
    try:
        await _wait_ready(url, process)
        await _drive(url, prompts, range(warmup), concurrency, report=None, limit_s=limit_s)
        await asyncio.sleep(0.5)
        report.rss_warm_mib = _rss_mib(process.pid)
        report.detection_rss_warm_mib = sum(_rss_mib(c) for c in _children(process.pid))
        upstream_ports = {cloud.port, local.port}
        report.fds_warm = _fds(process.pid, upstream_ports)
        cloud.clear()
        prompts.values.clear()
        stop = asyncio.Event()
        chaos = [asyncio.create_task(_reload(policy, reload_every_s, stop, report)),
                 asyncio.create_task(_flap(local, flap_every_s, stop, report))]
        started = time.monotonic()
        try:
            await _drive(url, prompts, range(warmup, warmup + requests), concurrency,
                         report=report, limit_s=limit_s)
        finally:
            report.seconds = time.monotonic() - started
            stop.set()
            await asyncio.gather(*chaos)
        await asyncio.sleep(1.0)  # idle: connections the load opened are closed by now
        report.rss_end_mib = _rss_mib(process.pid)
        report.detection_rss_end_mib = sum(_rss_mib(c) for c in _children(process.pid))
        report.fds_end = _fds(process.pid, upstream_ports)
        report.reloads_applied = await _reloads_applied(metrics_port)
        report.sensitive_sent = len(prompts.values)
        report.leaked = readable_values(prompts.values, cloud_text(cloud))
    finally:
        process.terminate()
        try:
            process.wait(60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
        await cloud.stop()
        await local.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    return report


async def _reloads_applied(metrics_port: int) -> int:
    async with aiohttp.ClientSession() as session, session.get(
            f"http://127.0.0.1:{metrics_port}/metrics") as resp:
        text = await resp.text()
    for line in text.splitlines():
        if line.startswith('sekisho_policy_reloads_total{result="success"}'):
            return int(float(line.split()[1]))
    return 0


async def _wait_ready(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 180
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"sekisho serve exited with {process.returncode}")
            try:
                async with session.get(url + "/readyz") as resp:
                    if resp.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.2)
    raise RuntimeError("sekisho serve did not become ready in time")


async def _drive(url: str, prompts: Prompts, indices: range, concurrency: int, *,
                 report: Report | None, limit_s: float) -> None:
    todo = iter(indices)
    stop_at = time.monotonic() + limit_s
    connector = aiohttp.TCPConnector(limit=concurrency)
    timeout = aiohttp.ClientTimeout(total=120)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        async def client() -> None:
            for i in todo:
                if time.monotonic() > stop_at:
                    return
                body = {"model": "gpt-4o-mini", "stream": i % 4 == 0,
                        "messages": [{"role": "user", "content": prompts.make(i)}]}
                async with session.post(url + "/v1/chat/completions", json=body) as resp:
                    raw = await resp.read()
                    if report is None:
                        continue
                    report.requests += 1
                    if resp.status == 200:
                        key = resp.headers.get("x-sekisho-route", "?")
                    else:
                        try:
                            key = str(json.loads(raw)["error"]["code"])
                        except (ValueError, KeyError, TypeError):
                            key = "not an OpenAI error"
                    report.outcomes[(resp.status, key)] += 1

        await asyncio.gather(*(client() for _ in range(concurrency)))


async def _reload(policy: Path, every: float, stop: asyncio.Event, report: Report) -> None:
    original = policy.read_text(encoding="utf-8")
    while not stop.is_set():
        try:
            await asyncio.wait_for(stop.wait(), every)
        except TimeoutError:
            report.reloads += 1
            # A comment changes the content hash: a new policy version, the same rules.
            policy.write_text(f"{original}\n# soak reload {report.reloads}\n", encoding="utf-8")


async def _flap(local: RecordingUpstream, every: float, stop: asyncio.Event,
                report: Report) -> None:
    port = local.port
    while not stop.is_set():
        try:
            await asyncio.wait_for(stop.wait(), every)
        except TimeoutError:
            report.flaps += 1
            await local.stop()
            await asyncio.sleep(every / 2)
            await local.start(port=port)

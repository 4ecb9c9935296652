"""HTTP benchmark: what Sekisho costs over a bare pass-through, measured with wrk.

    make bench-setup                       # once: Debian's wrk (the load generator)
    .venv/bin/python bench/http_bench.py [--duration 5] [--concurrency 1,16,64] [--json PATH]
                                   [--cases fresh-en,fresh-ja,...] [--detection-workers 2]

Starts, each in its own process on loopback: an instant OpenAI-compatible upstream (JSON
answers, or SSE with ``max_tokens`` chunks), a minimal aiohttp pass-through in front of it (the
floor: what any Python proxy costs), ``sekisho serve`` with the default policy in front of it as
both the cloud and the on-prem upstream, and Sekisho with inspection off (the same app with an
analyzer that finds nothing: what the proxy costs without detection). Then, in this order:

1. start-up time to ``/readyz`` 200, and the first fresh requests after it against the
   hundredth (warm start);
2. wrk with a Lua script that sends a different prompt on every request (sentences of the
   labelled corpus drawn at random, so no cache can answer), for each case and concurrency:
   req/s and latency p50/p95/p99, the routes Sekisho answered with, and the ratio to the
   pass-through of the same case in the same run (these shared machines are noisy: compare
   within a run);
3. streaming: time to first byte at c=1 against the pass-through, and the serving process's
   relay CPU per chunk (its CPU over a run of 201-chunk answers minus a run of 1-chunk answers);
4. long prompts, one at a time: wall time to forward 10 KB, 100 KB and 400 KB prompts, and the
   route each got (a prompt not inspected in time fails closed);
5. RSS of every process after start-up and under load, and the load average.

A table on stdout and JSON on disk. Bounded: every wrk run lasts ``--duration`` seconds and
every wait has a limit; loopback only. The proxy run is whatever ``proxy`` package the
interpreter finds (``PYTHONPATH`` picks another checkout). A benchmark, not a test: its figures
go in the README.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "detection" / "corpus"
UPSTREAM_MODEL = "gpt-4o-mini"
LOCAL_MODEL = "local-model"
STREAM_CHUNKS = 200


# --- the processes ----------------------------------------------------------------------------


def _instant_upstream(port: int) -> None:
    """An OpenAI-compatible upstream that answers at once: chat completions as JSON, or as SSE
    with one chunk per ``max_tokens`` (at least one), and a model list."""
    models = json.dumps({"object": "list", "data": [
        {"id": m, "object": "model", "owned_by": "bench"} for m in (UPSTREAM_MODEL, LOCAL_MODEL)
    ]}).encode()
    answer = json.dumps({
        "id": "chatcmpl-bench", "object": "chat.completion", "created": 0, "model": UPSTREAM_MODEL,
        "choices": [{"index": 0, "finish_reason": "stop",
                     "message": {"role": "assistant", "content": "Noted."}}],
        "usage": {"prompt_tokens": 10, "completion_tokens": 2, "total_tokens": 12},
    }).encode()
    chunk = b"data: " + json.dumps({
        "id": "chatcmpl-bench", "object": "chat.completion.chunk", "created": 0,
        "model": UPSTREAM_MODEL,
        "choices": [{"index": 0, "delta": {"content": "ok "}, "finish_reason": None}],
    }).encode() + b"\n\n"

    async def handle(request: web.BaseRequest) -> web.StreamResponse:
        if request.method == "GET" and request.path.endswith("/models"):
            return web.Response(body=models, content_type="application/json")
        body = json.loads(await request.read())
        if not body.get("stream"):
            return web.Response(body=answer, content_type="application/json")
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        for _ in range(max(1, int(body.get("max_tokens") or 1))):
            await response.write(chunk)
        await response.write(b"data: [DONE]\n\n")
        await response.write_eof()
        return response

    async def main() -> None:
        server = web.Server(handle)
        runner = web.ServerRunner(server, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port, backlog=1024).start()
        await asyncio.Event().wait()

    asyncio.run(main())


def _passthrough(port: int, upstream: str) -> None:
    """The floor: an aiohttp server that forwards each request's body to the upstream and
    relays the answer chunk by chunk, doing nothing else."""

    async def main() -> None:
        session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=256))

        async def handle(request: web.BaseRequest) -> web.StreamResponse:
            body = await request.read()
            async with session.request(request.method, upstream + request.path, data=body,
                                       headers={"Content-Type": "application/json"}) as up:
                response = web.StreamResponse(status=up.status, headers={
                    "Content-Type": up.headers.get("Content-Type", "application/json")})
                await response.prepare(request)
                async for piece in up.content.iter_any():
                    await response.write(piece)
                await response.write_eof()
                return response

        runner = web.ServerRunner(web.Server(handle), access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port, backlog=1024).start()
        await asyncio.Event().wait()

    asyncio.run(main())


class _NothingFound:
    """An analyzer that finds nothing at once: Sekisho with inspection off (benchmark only)."""

    loaded = True

    def load(self) -> None:
        return None

    def analyze(self, segments: Any, timings: Any = None, deadline: Any = None,
                scope: str = "") -> list[Any]:
        return []


def _sekisho_off(config: Path) -> None:
    from proxy.app import create_app
    from proxy.config import load_settings
    from proxy.serving import serve

    settings = load_settings(config)
    asyncio.run(serve(create_app(settings, detector=_NothingFound()), settings,
                      reuse_port=False))


# --- the prompts ------------------------------------------------------------------------------


@dataclass
class Pools:
    """Corpus texts by language: clean sentences, and sensitive prompts whole."""

    clean: dict[str, list[str]]
    sensitive: dict[str, list[str]]


def load_pools(corpus: Path = CORPUS) -> Pools:
    # Imported here: the upstream and pass-through processes need none of detection's imports.
    from proxy.tools.benchmark import corpus_messages

    clean: dict[str, list[str]] = {}
    sensitive: dict[str, list[str]] = {}
    for language in ("en", "ja"):
        messages, clean[language] = corpus_messages(corpus, language)
        sensitive[language] = [t for t in messages if len(t) < 900]
    return Pools(clean, sensitive)


def fresh_text(pools: Pools, language: str, size: int, rng: random.Random,
               sensitive: bool = False) -> str:
    """About ``size`` characters of corpus sentences drawn at random (a sensitive prompt
    first when asked)."""
    parts = [rng.choice(pools.sensitive[language])] if sensitive else []
    length = sum(len(p) + 1 for p in parts)
    while length < size:
        piece = rng.choice(pools.clean[language])
        parts.append(piece)
        length += len(piece) + 1
    return "\n".join(parts)


# --- wrk ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    name: str
    language: str = "en"
    size: int = 1000
    mode: str = "fresh"  # fresh | sensitive | cached | chat
    turns: int = 1
    stream_chunks: int = 0
    max_concurrency: int = 64


CASES: dict[str, Case] = {c.name: c for c in (
    Case("fresh-en"),
    Case("fresh-ja", language="ja"),
    Case("sensitive-en", mode="sensitive"),
    Case("sensitive-ja", language="ja", mode="sensitive"),
    Case("cached-en", mode="cached"),
    Case("chat-1", mode="chat", size=300, turns=1),
    Case("chat-20", mode="chat", size=300, turns=20),
    Case("10kb-en", size=10_000),
    Case("100kb-en", size=100_000, max_concurrency=16),
    Case("stream", mode="cached", stream_chunks=STREAM_CHUNKS),
)}


def _lua_string(text: str) -> str:
    """A JSON string's inside (escaped), as a Lua string literal."""
    inside = json.dumps(text, ensure_ascii=False)[1:-1]
    return "[==[" + inside + "]==]"


def lua_script(case: Case, pools: Pools) -> str:
    """The wrk script of a case: every request a body built in Lua from corpus sentences."""
    clean = pools.clean[case.language]
    lines = [
        "local clean = {" + ",".join(_lua_string(s) for s in clean) + "}",
        "local lengths = {" + ",".join(str(len(s) + 1) for s in clean) + "}",
        "local sensitive = {" + ",".join(_lua_string(s) for s in pools.sensitive[case.language])
        + "}",
        f"local size = {case.size}",
        f'local mode = "{case.mode}"',
        f"local turns = {case.turns}",
        f"local chunks = {case.stream_chunks}",
    ]
    if case.mode == "cached":
        rng = random.Random(7)
        fixed = [fresh_text(pools, case.language, case.size, rng) for _ in range(32)]
        lines.append("local fixed = {" + ",".join(_lua_string(t) for t in fixed) + "}")
    else:
        lines.append("local fixed = {}")
    lines.append(_LUA_BODY)
    return "\n".join(lines)


_LUA_BODY = r"""
local threads = {}
local counter = 0
local history = ""
local headers = {["Content-Type"] = "application/json", ["Authorization"] = "Bearer bench"}

function setup(thread)
  thread:set("id", #threads + 1)
  table.insert(threads, thread)
end

local function text(n)
  local out, len = {}, 0
  while len < n do
    local i = math.random(#clean)
    out[#out + 1] = clean[i]
    len = len + lengths[i]
  end
  return table.concat(out, "\\n")
end

local function message(role, content)
  return '{"role":"' .. role .. '","content":"' .. content .. '"}'
end

function init(args)
  math.randomseed(os.time() * 1000 + id * 7919 + math.floor(os.clock() * 1000000))
  routes = {}
  statuses = {}
  if mode == "chat" and turns > 1 then
    local past = {}
    for t = 1, turns - 1 do
      past[#past + 1] = message("user", text(size))
      past[#past + 1] = message("assistant", "Noted.")
    end
    history = table.concat(past, ",") .. ","
  end
end

function request()
  local content
  if mode == "cached" then
    counter = counter % #fixed + 1
    content = fixed[counter]
  elseif mode == "sensitive" then
    content = sensitive[math.random(#sensitive)] .. "\\n" .. text(size)
  else
    content = text(size)
  end
  local messages = history .. message("user", content)
  local extra = ""
  if chunks > 0 then extra = ',"stream":true,"max_tokens":' .. chunks end
  local body = '{"model":"gpt-4o-mini"' .. extra .. ',"messages":[' .. messages .. ']}'
  return wrk.format("POST", "/v1/chat/completions", headers, body)
end

function response(status, hdrs, body)
  local route = hdrs["x-sekisho-route"] or hdrs["X-Sekisho-Route"] or "-"
  routes[route] = (routes[route] or 0) + 1
  statuses[tostring(status)] = (statuses[tostring(status)] or 0) + 1
end

local function merge(into, from)
  for k, v in pairs(from) do into[k] = (into[k] or 0) + v end
end

local function encode(t)
  local parts = {}
  for k, v in pairs(t) do parts[#parts + 1] = '"' .. k .. '":' .. v end
  return "{" .. table.concat(parts, ",") .. "}"
end

function done(summary, latency, requests)
  local all_routes, all_statuses = {}, {}
  for _, t in ipairs(threads) do
    merge(all_routes, t:get("routes"))
    merge(all_statuses, t:get("statuses"))
  end
  local e = summary.errors
  io.write(string.format(
    'WRK-JSON {"requests":%d,"duration_us":%d,"p50_us":%d,"p95_us":%d,"p99_us":%d,' ..
    '"errors":%d,"routes":%s,"statuses":%s}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), e.connect + e.read + e.write + e.timeout,
    encode(all_routes), encode(all_statuses)))
end
"""


def run_wrk(url: str, script: Path, concurrency: int, duration: float) -> dict[str, Any]:
    threads = 1 if concurrency == 1 else 2
    out = subprocess.run(
        ["wrk", f"-t{threads}", f"-c{concurrency}", f"-d{max(1, round(duration))}s",
         "--timeout", "30s", "-s", str(script), url],
        capture_output=True, text=True, timeout=duration + 90, check=False)
    for line in out.stdout.splitlines():
        if line.startswith("WRK-JSON "):
            result: dict[str, Any] = json.loads(line[len("WRK-JSON "):])
            result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
            return result
    raise SystemExit(f"wrk gave no result (exit {out.returncode}): {out.stderr.strip()[:400]}")


# --- process facts --------------------------------------------------------------------------


_TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICK


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def children(pid: int) -> list[int]:
    out: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text().split()
        out.extend(int(p) for p in text)
    return out


def detection_workers(pid: int) -> list[int]:
    """The serving process's detection workers (spawned interpreters; not the resource
    tracker)."""
    workers = []
    for child in children(pid):
        try:
            cmdline = Path(f"/proc/{child}/cmdline").read_bytes()
        except OSError:
            continue
        if b"resource_tracker" not in cmdline:
            workers.append(child)
    return workers


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_ready(url: str, process: subprocess.Popen[bytes], limit: float,
               path: str = "/readyz") -> float:
    """Seconds until ``url + path`` answers 200."""
    started = time.monotonic()
    while time.monotonic() - started < limit:
        if process.poll() is not None:
            raise SystemExit(f"{process.args} exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", int(url.rsplit(":", 1)[1])), 1) as s:
                s.sendall(f"GET {path} HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n"
                          .encode())
                if s.recv(64).startswith(b"HTTP/1.1 200"):
                    return time.monotonic() - started
        except OSError:
            pass
        time.sleep(0.05)
    raise SystemExit(f"{url} did not become ready in {limit:.0f} s")


# --- the measurements that wrk cannot make ----------------------------------------------------


def _chat(content: str, *, stream: bool = False, chunks: int = 0) -> dict[str, Any]:
    body: dict[str, Any] = {"model": UPSTREAM_MODEL,
                            "messages": [{"role": "user", "content": content}]}
    if stream:
        body.update(stream=True, max_tokens=chunks)
    return body


async def timed_requests(url: str, bodies: list[dict[str, Any]], *, first_byte: bool = False
                         ) -> list[tuple[float, str, str]]:
    """One request after another: (seconds to the whole answer, or to its first body byte;
    route; action)."""
    out: list[tuple[float, str, str]] = []
    timeout = aiohttp.ClientTimeout(total=120)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        for body in bodies:
            started = time.perf_counter()
            async with session.post(url + "/v1/chat/completions", json=body,
                                    headers={"Authorization": "Bearer bench"}) as resp:
                if first_byte:
                    await resp.content.readany()
                    elapsed = time.perf_counter() - started
                    await resp.read()
                else:
                    await resp.read()
                    elapsed = time.perf_counter() - started
                out.append((elapsed, resp.headers.get("x-sekisho-route", "-"),
                            resp.headers.get("x-sekisho-action", "-")))
    return out


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 2)


# --- the run ------------------------------------------------------------------------------------


def _spawn(args: list[str], cwd: str, name: str) -> subprocess.Popen[bytes]:
    """A process with its output in ``cwd/name.log`` (a pipe nobody reads would fill up and
    stop it: aiohttp logs every connection wrk drops at the end of a run)."""
    with open(Path(cwd) / f"{name}.log", "wb") as log:
        return subprocess.Popen(args, cwd=cwd, stdout=log, stderr=subprocess.STDOUT)


def _check_alive(processes: dict[str, subprocess.Popen[bytes]], cwd: str) -> None:
    for name, process in processes.items():
        if process.poll() is not None:
            tail = (Path(cwd) / f"{name}.log").read_text(errors="replace")[-1500:]
            raise SystemExit(f"{name} exited with {process.returncode}:\n{tail}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(10)


def _config(path: Path, port: int, upstream: str, workers: int) -> Path:
    path.write_text(json.dumps({
        "host": "127.0.0.1", "port": port, "policy": str(ROOT / "policies" / "default.yaml"),
        "cloud_url": upstream + "/v1", "local_url": upstream + "/v1", "local_model": LOCAL_MODEL,
        "detection_workers": workers, "log_level": "WARNING", "policy_poll_s": 0,
        "metrics_port": None,
    }), encoding="utf-8")
    return path


def run(args: argparse.Namespace) -> dict[str, Any]:
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: run `make bench-setup` (Debian's wrk) first")
    pools = load_pools()
    rng = random.Random(11)
    concurrencies = tuple(int(c) for c in args.concurrency.split(","))
    cases = [CASES[name] for name in args.cases.split(",")]
    report: dict[str, Any] = {
        "started": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
        "load_average_before": os.getloadavg()[0], "duration_s": args.duration,
        "detection_workers": args.detection_workers, "cells": [], "processes": {},
    }
    me = [sys.executable, str(Path(__file__).resolve())]
    with tempfile.TemporaryDirectory() as tmp:
        ports = {name: free_port() for name in ("upstream", "passthrough", "sekisho", "off")}
        urls = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
        processes: dict[str, subprocess.Popen[bytes]] = {}
        try:
            processes["upstream"] = _spawn(me + ["--role", "upstream", "--port",
                                                 str(ports["upstream"])], tmp, "upstream")
            processes["passthrough"] = _spawn(me + ["--role", "passthrough", "--port",
                                                    str(ports["passthrough"]), "--upstream",
                                                    urls["upstream"]], tmp, "passthrough")
            wait_ready(urls["upstream"], processes["upstream"], 30, "/v1/models")
            wait_ready(urls["passthrough"], processes["passthrough"], 30, "/v1/models")
            config = _config(Path(tmp) / "sekisho.yaml", ports["sekisho"], urls["upstream"],
                             args.detection_workers)
            processes["sekisho"] = _spawn([sys.executable, "-m", "proxy", "serve", "--config",
                                           str(config)], tmp, "sekisho")
            report["startup_to_ready_s"] = round(wait_ready(urls["sekisho"],
                                                            processes["sekisho"], 300), 2)
            report["warm_start"] = asyncio.run(_warm_start(urls["sekisho"], pools, rng))
            sekisho = processes["sekisho"].pid
            report["processes"]["after_start"] = _rss(sekisho)
            off_config = _config(Path(tmp) / "off.yaml", ports["off"], urls["upstream"], 0)
            processes["off"] = _spawn(me + ["--role", "sekisho-off", "--config",
                                            str(off_config)], tmp, "off")
            wait_ready(urls["off"], processes["off"], 60)

            def cell(case: Case, target: str, concurrency: int) -> dict[str, Any]:
                result = run_wrk(urls[target], _script(tmp, case, pools), concurrency,
                                 args.duration)
                _check_alive(processes, tmp)
                result.update(case=case.name, target=target, concurrency=concurrency)
                report["cells"].append(result)
                print(_row(result, report["cells"]), flush=True)
                return result

            print(_HEADER, flush=True)
            base = CASES["fresh-en"]
            for concurrency in concurrencies:
                for target in ("upstream", "passthrough", "off"):
                    cell(base, target, concurrency)
            for case in cases:
                if case.mode == "cached":
                    # Fill the cache first, so the measured run is the repeated prompts' cost.
                    run_wrk(urls["sekisho"], _script(tmp, case, pools), 2, 1.0)
                for concurrency in concurrencies:
                    if concurrency > case.max_concurrency:
                        continue
                    cell(case, "passthrough", concurrency)
                    cell(case, "sekisho", concurrency)
            report["processes"]["under_load"] = _rss(sekisho)
            report["stream"] = _stream(urls, tmp, pools, sekisho, args.duration)
            report["long"] = asyncio.run(_long(urls["sekisho"], pools, rng, args.long))
        finally:
            for process in processes.values():
                _stop(process)
            for name in processes:
                log = Path(tmp) / f"{name}.log"
                lines = log.read_text(errors="replace").splitlines()
                report["processes"].setdefault("log_lines", {})[name] = len(lines)
                if args.show_logs and lines:
                    print(f"--- {name}.log (last 5 of {len(lines)} lines)")
                    print("\n".join(lines[-5:]))
    report["load_average_after"] = os.getloadavg()[0]
    return report


def _script(tmp: str, case: Case, pools: Pools) -> Path:
    script = Path(tmp) / f"{case.name}.lua"
    if not script.exists():
        script.write_text(lua_script(case, pools), encoding="utf-8")
    return script


def _rss(pid: int) -> dict[str, float]:
    out = {"serving": round(rss_mb(pid), 1)}
    for i, worker in enumerate(detection_workers(pid)):
        out[f"detection-{i + 1}"] = round(rss_mb(worker), 1)
    return out


async def _warm_start(url: str, pools: Pools, rng: random.Random) -> dict[str, Any]:
    """The first fresh English and Japanese requests after ready, against the hundredth."""
    first = await timed_requests(url, [_chat(fresh_text(pools, "en", 1000, rng)),
                                       _chat(fresh_text(pools, "ja", 1000, rng))])
    later = await timed_requests(url, [_chat(fresh_text(pools, lang, 1000, rng))
                                       for _ in range(50) for lang in ("en", "ja")])
    en = statistics.median(t for t, _, _ in later[0::2])
    ja = statistics.median(t for t, _, _ in later[1::2])
    return {"first_en_ms": _ms(first[0][0]), "first_ja_ms": _ms(first[1][0]),
            "median_of_next_100_en_ms": _ms(en), "median_of_next_100_ja_ms": _ms(ja)}


def _stream(urls: dict[str, str], tmp: str, pools: Pools, sekisho: int, duration: float
            ) -> dict[str, Any]:
    """Time to first byte at c=1 (Sekisho and pass-through) and relay CPU per chunk."""
    text = fresh_text(pools, "en", 1000, random.Random(3))
    bodies = [_chat(text, stream=True, chunks=STREAM_CHUNKS)] * 200
    ttfb = {}
    for target in ("passthrough", "sekisho"):
        asyncio.run(timed_requests(urls[target], bodies[:10], first_byte=True))
        times = asyncio.run(timed_requests(urls[target], bodies, first_byte=True))
        ttfb[target] = statistics.median(t for t, _, _ in times)
    per_request = {}
    for chunks in (1, STREAM_CHUNKS + 1):
        case = Case(f"stream-{chunks}", mode="cached", stream_chunks=chunks)
        script = _script(tmp, case, pools)
        run_wrk(urls["sekisho"], script, 2, 1.0)
        before = cpu_seconds(sekisho)
        result = run_wrk(urls["sekisho"], script, 16, duration)
        per_request[chunks] = (cpu_seconds(sekisho) - before) / max(result["requests"], 1)
    relay = (per_request[STREAM_CHUNKS + 1] - per_request[1]) / STREAM_CHUNKS
    return {"ttfb_passthrough_ms": _ms(ttfb["passthrough"]),
            "ttfb_sekisho_ms": _ms(ttfb["sekisho"]),
            "ttfb_added_ms": _ms(ttfb["sekisho"] - ttfb["passthrough"]),
            "relay_cpu_ms_per_chunk": round(relay * 1000, 4)}


LONG = "en:10000,ja:10000,en:100000,ja:100000,ja:400000"


async def _long(url: str, pools: Pools, rng: random.Random, sizes: str
                ) -> list[dict[str, Any]]:
    """Wall time to forward one long fresh prompt at a time (median of three), and its route."""
    out = []
    for language, chars in (item.split(":") for item in sizes.split(",") if item):
        size = int(chars)
        runs = await timed_requests(url, [_chat(fresh_text(pools, language, size, rng))
                                          for _ in range(3)])
        out.append({"language": language, "chars": size,
                    "wall_ms": _ms(statistics.median(t for t, _, _ in runs)),
                    "routes": sorted({f"{route}/{action}" for _, route, action in runs})})
        print(f"long {language} {size:>7} chars: {out[-1]['wall_ms']:>8.1f} ms"
              f"  {', '.join(out[-1]['routes'])}", flush=True)
    return out


_HEADER = (f"{'case':<13} {'target':<12} {'c':>3} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8}"
           f" {'p99 ms':>8} {'x pass':>7} {'+p50 ms':>8}  routes")


def _row(result: dict[str, Any], cells: list[dict[str, Any]]) -> str:
    floor = next((c for c in cells if c["case"] == result["case"] and c["target"] == "passthrough"
                  and c["concurrency"] == result["concurrency"]), None)
    ratio = added = ""
    if floor is not None and floor["rps"] and result["target"] not in ("passthrough", "upstream"):
        result["ratio_to_passthrough"] = round(result["rps"] / floor["rps"], 3)
        result["added_p50_ms"] = round((result["p50_us"] - floor["p50_us"]) / 1000, 2)
        ratio = f"{result['ratio_to_passthrough']:.2f}"
        added = f"{result['added_p50_ms']:+.1f}"
    routes = ", ".join(f"{k} {v}" for k, v in sorted(result["routes"].items()) if k != "-")
    bad = {k: v for k, v in result["statuses"].items() if not k.startswith("2")}
    if bad or result["errors"]:
        routes += f"  [non-2xx {bad}, socket errors {result['errors']}]"
    return (f"{result['case']:<13} {result['target']:<12} {result['concurrency']:>3}"
            f" {result['rps']:>8.1f} {result['p50_us'] / 1000:>8.1f}"
            f" {result['p95_us'] / 1000:>8.1f} {result['p99_us'] / 1000:>8.1f}"
            f" {ratio:>7} {added:>8}  {routes}")


def _summary(report: dict[str, Any]) -> str:
    lines = [f"started {report['started']}, load average {report['load_average_before']:.2f}"
             f" -> {report['load_average_after']:.2f}, {report['duration_s']} s per run,"
             f" detection workers {report['detection_workers']}",
             f"start-up to ready {report['startup_to_ready_s']} s; warm start: "
             + ", ".join(f"{k} {v}" for k, v in report["warm_start"].items()),
             "streaming: " + ", ".join(f"{k} {v}" for k, v in report["stream"].items()),
             "RSS MB after start-up: " + ", ".join(
                 f"{k} {v}" for k, v in report["processes"]["after_start"].items()),
             "RSS MB under load: " + ", ".join(
                 f"{k} {v}" for k, v in report["processes"]["under_load"].items())]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--role", choices=("bench", "upstream", "passthrough", "sekisho-off"),
                        default="bench", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--upstream", help=argparse.SUPPRESS)
    parser.add_argument("--config", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per wrk run")
    parser.add_argument("--concurrency", default="1,16,64")
    parser.add_argument("--cases", default=",".join(CASES))
    parser.add_argument("--long", default=LONG, help="long prompts, language:characters,...")
    parser.add_argument("--detection-workers", type=int, default=2)
    parser.add_argument("--show-logs", action="store_true",
                        help="print the end of each process's log")
    parser.add_argument("--json", type=Path, default=ROOT / "build" / "bench-http.json")
    args = parser.parse_args()
    if args.role == "upstream":
        _instant_upstream(args.port)
        return 0
    if args.role == "passthrough":
        _passthrough(args.port, args.upstream)
        return 0
    if args.role == "sekisho-off":
        _sekisho_off(args.config)
        return 0
    report = run(args)
    print(_summary(report))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=1), encoding="utf-8")
    print(f"JSON: {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

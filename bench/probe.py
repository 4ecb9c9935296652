"""Run a probe of labelled requests end to end and count leaks and over-routing.

    .venv/bin/python bench/probe.py PROBE.jsonl [MORE.jsonl …] [--policy FILE] [--show]

Each line of a probe file is one request: ``{"id", "request", "endpoint"?, "sensitive",
"values"?|"entities"?}`` — the adversarial probes list the original ``values`` that must never
reach the cloud, the holdout's format lists gold ``entities`` (their ``text`` is the value).

Every request goes over a real loopback socket into the real Sekisho application (the default
policy unless ``--policy``) in front of two recording upstreams, exactly as ``sekisho serve``
would handle it. Then:

* a sensitive request **leaked** when the cloud upstream received it at all (the shipped
  policies never send personal data to the cloud, so any cloud request is a leak; with a
  redacting policy pass ``--redacting`` and only a value seen by the cloud counts);
* a clean request was **over-routed** when it went anywhere but the cloud;
* independently, a value is **visible** when the cloud received it raw, NFKC-folded, without
  separators, or in one of the encodings Sekisho decodes (JSON escapes, percent-encoding, HTML
  entities, base64): the figure that matters for redacting policies.

Figures go to stdout; ``--show`` lists each leaked and over-routed item (ids and classes only,
never values), for fixing after the blind figures have been recorded.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import html
import json
import re
import sys
import unicodedata
import urllib.parse
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from upstream import RecordingUpstream  # noqa: E402

from proxy.app import create_app  # noqa: E402
from proxy.config import Settings  # noqa: E402
from proxy.detection.detector import Detector  # noqa: E402

PATHS = {"chat": "/v1/chat/completions", "completions": "/v1/completions",
         "embeddings": "/v1/embeddings", "responses": "/v1/responses"}


@dataclass
class Result:
    id: str
    cls: str
    sensitive: bool
    status: int
    route: str
    rule: str
    cloud_posts: int
    visible: list[str]


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


def _squeeze(text: str) -> str:
    return re.sub(r"[\s\-‐‑–—ー－・.()（）/_]", "", _fold(text))


def _decoded_forms(text: str) -> list[str]:
    """The received text as a reader would decode it: the forms a model reads effortlessly."""
    forms = [text]
    try:
        forms.append(json.loads(f'"{text}"') if "\\u" in text else text)
    except ValueError:
        forms.append(re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), text))
    forms.append(urllib.parse.unquote(text))
    forms.append(html.unescape(text))
    for token in re.findall(r"[A-Za-z0-9+/_-]{16,}={0,2}", text):
        try:
            raw = base64.b64decode(token + "=" * (-len(token) % 4), altchars=b"-_"
                                   if ("-" in token or "_" in token) else None)
            forms.append(raw.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            continue
    return forms


def visible_values(values: list[str], received: str) -> list[str]:
    """Which ``values`` the cloud could read in ``received`` (returned masked by index)."""
    forms = _decoded_forms(received)
    folded = [_fold(f) for f in forms]
    squeezed = [_squeeze(f) for f in forms]
    seen = []
    for i, value in enumerate(values):
        v_fold, v_squeeze = _fold(value), _squeeze(value)
        if any(value in f for f in forms) or any(v_fold in f for f in folded) or (
            len(v_squeeze) >= 6 and any(v_squeeze in f for f in squeezed)
        ):
            seen.append(f"value[{i}]")
    return seen


def load(paths: list[Path]) -> list[dict[str, Any]]:
    items = []
    for path in paths:
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                item = json.loads(line)
                if "values" not in item:
                    item["values"] = [e["text"] for e in item.get("entities", [])]
                item.setdefault("class", item.get("domain", path.stem))
                items.append(item)
    return items


async def run(items: list[dict[str, Any]], policy: Path) -> list[Result]:
    cloud = RecordingUpstream("cloud", models=["gpt-4o-mini", "gpt-4o", "text-embedding-3-small"])
    local = RecordingUpstream("local", models=["qwen2.5-7b-instruct"])
    await cloud.start()
    await local.start()
    detector = Detector(cache_size=0)
    await asyncio.get_running_loop().run_in_executor(None, detector.load)
    settings = Settings.model_validate({
        "host": "127.0.0.1", "port": 0, "policy": policy, "cloud_url": cloud.base_url,
        "local_url": local.base_url, "cloud_api_key": "sk-probe-cloud",
        "local_api_key": "probe-local", "local_embedding_model": "bge-m3",
        "detection_deadline_ms": 30000,
        # No metrics listener: the probe reads no metrics, and two probes can then run at once.
        "metrics_port": None,
    })
    app = create_app(settings, detector=detector)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    results: list[Result] = []
    try:
        async with aiohttp.ClientSession() as session:
            for item in items:
                cloud.clear()
                local.clear()
                endpoint = item.get("endpoint", "chat")
                async with session.post(
                    f"http://127.0.0.1:{port}{PATHS[endpoint]}",
                    data=json.dumps(item["request"], ensure_ascii=False).encode("utf-8"),
                    headers={"Content-Type": "application/json",
                             "Authorization": "Bearer probe"},
                ) as resp:
                    await resp.read()
                    route = resp.headers.get("x-sekisho-route", "?")
                    rule = resp.headers.get("x-sekisho-rule", "?")
                    status = resp.status
                posts = [r for r in cloud.requests if r.method == "POST"]
                received = "\n".join(r.raw.decode("utf-8", "replace") for r in posts)
                results.append(Result(
                    item["id"], item["class"], bool(item["sensitive"]), status, route, rule,
                    len(posts), visible_values(item["values"], received) if posts else [],
                ))
    finally:
        await runner.cleanup()
        await cloud.stop()
        await local.stop()
    return results


def report(results: list[Result], *, redacting: bool, show: bool) -> str:
    sensitive = [r for r in results if r.sensitive]
    clean = [r for r in results if not r.sensitive]
    leaked = [r for r in sensitive if (r.visible if redacting else r.cloud_posts)]
    visible = [r for r in sensitive if r.visible]
    over = [r for r in clean if r.route != "cloud"]
    lines = [
        f"probe: {len(results)} requests ({len(sensitive)} sensitive, {len(clean)} clean)",
        f"leaked:      {len(leaked)} of {len(sensitive)} sensitive"
        f" ({len(leaked) / max(len(sensitive), 1):.1%})",
        f"visible:     {len(visible)} of {len(sensitive)} sensitive requests had a value the"
        " cloud could read",
        f"over-routed: {len(over)} of {len(clean)} clean"
        f" ({len(over) / max(len(clean), 1):.1%})",
        f"statuses:    {dict(sorted(Counter(r.status for r in results).items()))}",
    ]
    by_class = Counter(r.cls for r in leaked)
    if by_class:
        lines.append("leaks by class: " + ", ".join(f"{c} {n}" for c, n in by_class.most_common()))
    if show:
        lines += ["", "leaked:"] + [f"  {r.id:<14} {r.cls:<22} {r.route}/{r.rule}"
                                     f" {' '.join(r.visible)}" for r in leaked]
        lines += ["", "over-routed:"] + [f"  {r.id:<14} {r.cls:<22} {r.route}/{r.rule}"
                                          f" status {r.status}" for r in over]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("probes", nargs="+", type=Path)
    parser.add_argument("--policy", type=Path, default=ROOT / "policies" / "default.yaml")
    parser.add_argument("--redacting", action="store_true",
                        help="count a leak only when a value is visible to the cloud")
    parser.add_argument("--show", action="store_true", help="list leaked and over-routed ids")
    args = parser.parse_args()
    results = asyncio.run(run(load(args.probes), args.policy))
    print(report(results, redacting=args.redacting, show=args.show))
    return 0


if __name__ == "__main__":
    sys.exit(main())

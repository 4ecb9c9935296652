"""The adversarial probes, end to end: kept as regression sets, gated at zero leaks.

``tests/detection/adversarial/probe-*.jsonl`` are blind probes written by someone who had not
read the detector (the first: 209 requests — personal data and credentials in JSON escapes,
percent-encoding, entities, base64, invisible characters, Japanese conventions, data: URLs,
JSON numbers, identifier fields, labels, token ids, cut across texts, other scripts, vendor
keys — and clean controls in the same shapes). Their blind figures are in the README. Every
request goes over HTTP into the proxy, as a client sends it (some bodies deliberately break
the OpenAI spec, so raw JSON rather than the SDK), and the decisive assertion is on the cloud
upstream: it received none of the sensitive requests, and no value in any readable form.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from conftest import Stack
from leakcheck import assert_cloud_never_saw

PROBES = sorted((Path(__file__).parent / "detection" / "adversarial").glob("*.jsonl"))
PATHS = {"chat": "/chat/completions", "completions": "/completions",
         "embeddings": "/embeddings", "responses": "/responses"}
# The clean controls may be over-routed no more than the product's target allows.
MAX_OVER_ROUTING = 0.05


def _items() -> list[dict[str, Any]]:
    return [json.loads(line) for path in PROBES
            for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


async def _send(stack: Stack, item: dict[str, Any]) -> tuple[int, str]:
    url = stack.base_url + PATHS[item.get("endpoint", "chat")]
    async with aiohttp.ClientSession() as session, session.post(
        url, data=json.dumps(item["request"], ensure_ascii=False).encode(),
        headers={"Content-Type": "application/json", "Authorization": "Bearer probe"},
    ) as resp:
        await resp.read()
        return resp.status, resp.headers.get("x-sekisho-route", "")


def test_no_adversarial_request_reaches_the_cloud(make_stack: Any) -> None:
    stack = make_stack(local_embedding_model="bge-m3")
    items = _items()
    assert len(items) >= 200
    leaked: list[str] = []
    over_routed: list[str] = []
    for item in items:
        stack.cloud.clear()
        status, route = stack.loop.run(_send(stack, item))
        assert status < 500, (item["id"], status)
        posted = stack.posts(stack.cloud)
        if item["sensitive"]:
            if posted:
                leaked.append(f"{item['id']} ({item['class']})")
            assert_cloud_never_saw(stack.cloud, *item["values"])
        elif route != "cloud":
            over_routed.append(f"{item['id']} ({item['class']})")
    assert leaked == []
    clean = sum(not i["sensitive"] for i in items)
    assert len(over_routed) <= MAX_OVER_ROUTING * clean, over_routed


@pytest.mark.parametrize("path", PROBES, ids=[p.name for p in PROBES])
def test_probe_files_are_well_formed(path: Path) -> None:
    for line in path.read_text(encoding="utf-8").splitlines():
        item = json.loads(line)
        assert set(item) >= {"id", "class", "request", "sensitive", "values"}
        assert item["sensitive"] == bool(item["values"])

"""Transforms applied to the forwarded copy of a request, and scanning of what comes back.

Runs after ``decide``: the client's body is never modified in place, the upstream gets a copy.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from proxy.config import Settings
from proxy.policy.model import Route


def map_model(
    body: dict[str, Any], route: Route, settings: Settings, local_model: str | None
) -> dict[str, Any]:
    """A copy of ``body`` with ``model`` as the upstream for ``route`` knows it.

    Aliases map a client-facing name per route; on the local route any model the client asked
    for becomes the configured (or discovered) local model, so an application written for
    ``gpt-4o-mini`` keeps working when its request is kept on-prem.
    """
    forwarded = copy.deepcopy(body)
    requested = body.get("model")
    alias = settings.model_aliases.get(requested) if isinstance(requested, str) else None
    if route is Route.CLOUD:
        if alias is not None and alias.cloud:
            forwarded["model"] = alias.cloud
    elif route is Route.LOCAL:
        if alias is not None and alias.local:
            forwarded["model"] = alias.local
        elif local_model is not None:
            forwarded["model"] = local_model
    return forwarded


@dataclass
class SseScanner:
    """Reads an SSE byte stream as it is relayed, for ids and usage; never alters it."""

    _buffer: bytes = b""
    events: int = 0
    response_ids: list[str] = field(default_factory=list)
    usage: dict[str, Any] | None = None

    def feed(self, chunk: bytes) -> None:
        self._buffer += chunk.replace(b"\r\n", b"\n")
        while b"\n\n" in self._buffer:
            raw, self._buffer = self._buffer.split(b"\n\n", 1)
            for payload in _data_lines(raw):
                self._event(payload)

    def _event(self, payload: str) -> None:
        self.events += 1
        if payload.strip() == "[DONE]":
            return
        try:
            obj = json.loads(payload)
        except ValueError:
            return
        if not isinstance(obj, dict):
            return
        response = obj.get("response")
        if isinstance(response, dict):
            note_response(response, self.response_ids)
            if isinstance(response.get("usage"), dict):
                self.usage = response["usage"]
        elif isinstance(obj.get("usage"), dict):
            self.usage = obj["usage"]


def _data_lines(raw: bytes) -> Iterator[str]:
    data = [
        line[5:].lstrip(b" ") for line in raw.split(b"\n") if line.startswith(b"data:")
    ]
    if data:
        yield b"\n".join(data).decode("utf-8", "replace")


def note_response(obj: dict[str, Any], ids: list[str]) -> None:
    rid = obj.get("id")
    if isinstance(rid, str) and rid not in ids:
        ids.append(rid)

"""Transforms applied to the forwarded copy of a request, and scanning of what comes back.

Runs after ``decide``: the client's body is never modified in place, the upstream gets a copy.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from proxy import tokens
from proxy.config import Settings
from proxy.exchange import Location, Segment
from proxy.policy.model import Route

if TYPE_CHECKING:
    from proxy.detection.detector import Finding


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


def placeholder(entity_type: str) -> str:
    return f"<{entity_type}>"


def redact_text(text: str, spans: list[tuple[int, int, str]]) -> str:
    """Replace each span with its type's placeholder; overlapping spans become one."""
    merged: list[tuple[int, int, str]] = []
    for start, end, kind in sorted(spans, key=lambda s: (s[0], -s[1])):
        if merged and start < merged[-1][1]:
            prev_start, prev_end, prev_kind = merged[-1]
            merged[-1] = (prev_start, max(prev_end, end), prev_kind)
        else:
            merged.append((start, end, kind))
    out: list[str] = []
    pos = 0
    for start, end, kind in merged:
        out.append(text[pos:start])
        out.append(placeholder(kind))
        pos = end
    out.append(text[pos:])
    return "".join(out)


def _parent(body: Any, loc: Location) -> Any:
    node = body
    for step in loc[:-1]:
        node = node[step]
    return node


def covered_types(findings: list[Finding], types: frozenset[str]) -> frozenset[str]:
    """Entity types whose every finding lies inside a span redacted for ``types``."""
    redacted = [(f.path, f.start, f.end) for f in findings if f.entity_type in types]
    covered: dict[str, bool] = {}
    for f in findings:
        inside = any(p == f.path and s <= f.start and f.end <= e for p, s, e in redacted)
        covered[f.entity_type] = covered.get(f.entity_type, True) and inside
    return frozenset(t for t, ok in covered.items() if ok)


def redact(
    body: dict[str, Any],
    segments: list[Segment],
    findings: list[Finding],
    types: frozenset[str],
    *,
    token_model: str | None = None,
) -> tuple[dict[str, Any], int]:
    """A copy of ``body`` with every finding of ``types`` replaced by ``<TYPE>``.

    Returns the copy and the number of spans replaced. Values are rewritten first, object keys
    after, deepest first, so renaming a key never invalidates the location of another string.
    A number becomes its redacted text; token ids become the ids of their redacted text
    (``token_model``'s tokenizer, the one they were read with). Two keys redacted alike stay
    distinct (``<EMAIL_ADDRESS>``, ``<EMAIL_ADDRESS>#2``): no entry is ever dropped.
    """
    spans_by_path: dict[str, list[tuple[int, int, str]]] = {}
    count = 0
    for f in findings:
        if f.entity_type in types and f.end > f.start:
            spans_by_path.setdefault(f.path, []).append((f.start, f.end, f.entity_type))
            count += 1
    forwarded = copy.deepcopy(body)
    if not spans_by_path:
        return forwarded, 0
    keys: list[tuple[Segment, str]] = []
    for seg in segments:
        spans = spans_by_path.get(seg.path)
        if not spans or not seg.loc:
            continue
        new_text = redact_text(seg.text, spans)
        if seg.is_key:
            keys.append((seg, new_text))
        elif seg.kind == "tokens":
            ids = tokens.encode(new_text, token_model)
            if ids is None:
                raise ValueError("token ids cannot be redacted without their tokenizer")
            _parent(forwarded, seg.loc)[seg.loc[-1]] = ids
        else:
            _parent(forwarded, seg.loc)[seg.loc[-1]] = new_text
    for seg, new_key in sorted(keys, key=lambda k: -len(k[0].loc)):
        parent = _parent(forwarded, seg.loc)
        distinct, n = new_key, 2
        while distinct in parent and distinct != seg.text:
            distinct, n = f"{new_key}#{n}", n + 1
        renamed = {(distinct if k == seg.text else k): v for k, v in parent.items()}
        parent.clear()
        parent.update(renamed)
    return forwarded, count


@dataclass
class SseScanner:
    """Reads an SSE byte stream as it is relayed, for ids and usage.

    ``feed`` returns what to relay. Normally that is the chunk itself, untouched. With
    ``hide_usage`` (the proxy asked the upstream for usage the client did not ask for) it is
    the complete events received so far minus the usage-only chunk (``"choices": []`` with a
    ``usage`` object), so the client sees the stream it asked for and the proxy still counts
    tokens and cost.
    """

    hide_usage: bool = False
    _buffer: bytes = b""
    events: int = 0
    response_ids: list[str] = field(default_factory=list)
    usage: dict[str, Any] | None = None

    def feed(self, chunk: bytes) -> bytes:
        self._buffer += chunk.replace(b"\r\n", b"\n")
        relay: list[bytes] = []
        while b"\n\n" in self._buffer:
            raw, self._buffer = self._buffer.split(b"\n\n", 1)
            usage_only = False
            for payload in _data_lines(raw):
                usage_only = self._event(payload)
            if not (self.hide_usage and usage_only):
                relay.append(raw + b"\n\n")
        return b"".join(relay) if self.hide_usage else chunk

    def _event(self, payload: str) -> bool:
        """Scan one event; True when it carries nothing but usage."""
        self.events += 1
        if payload.strip() == "[DONE]":
            return False
        try:
            obj = json.loads(payload)
        except ValueError:
            return False
        if not isinstance(obj, dict):
            return False
        response = obj.get("response")
        if isinstance(response, dict):
            note_response(response, self.response_ids)
            if isinstance(response.get("usage"), dict):
                self.usage = response["usage"]
        elif isinstance(obj.get("usage"), dict):
            self.usage = obj["usage"]
            return obj.get("choices") == []
        return False


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

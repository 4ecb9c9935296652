"""The request transforms: the body one upstream attempt sends, built from the original.

``body_for`` is the whole of it: for the cloud, the findings of the types the decision redacts
become placeholders; for either upstream the model name becomes the one that upstream knows;
a stream whose client did not ask for usage asks for it (``with_usage``: token and cost metrics
need it; the response stage hides it again). Each attempt starts from the original body, never
from another attempt's copy, so a redacted body never goes local and a fallback never sends
placeholders. The client's body is never modified in place.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

from proxy import tokens
from proxy.config import Settings
from proxy.inspection import Inspection
from proxy.values import Endpoint, Finding, Location, Route, Segment


def body_for(
    route: Route, inspection: Inspection, settings: Settings, local_model: str | None
) -> tuple[dict[str, Any], int]:
    """The body ``route``'s upstream is sent, and the number of spans redacted in it."""
    body = inspection.prepared.body
    decision = inspection.decision
    redacted = 0
    if route is Route.CLOUD and decision.redact_types:
        model = body.get("model")
        body, redacted = redact(
            body, inspection.segments, inspection.findings, decision.redact_types,
            token_model=settings.cloud_model(model if isinstance(model, str) else None),
        )
    return map_model(body, route, settings, local_model), redacted


def lacks_usage(endpoint: Endpoint, body: dict[str, Any]) -> bool:
    """A chat or completions stream whose client did not ask for usage."""
    if body.get("stream") is not True or endpoint not in (Endpoint.CHAT, Endpoint.COMPLETIONS):
        return False
    options = body.get("stream_options")
    return not (isinstance(options, dict) and options.get("include_usage") is True)


def with_usage(body: dict[str, Any]) -> dict[str, Any]:
    """``body`` asking the stream for its usage chunk."""
    options = body.get("stream_options")
    return {**body, "stream_options": {**(options if isinstance(options, dict) else {}),
                                       "include_usage": True}}


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


def covered_types(findings: Sequence[Finding], types: frozenset[str]) -> frozenset[str]:
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

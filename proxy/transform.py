"""The request transforms: the body one upstream attempt sends, built from the original.

``body_for`` is the whole of it: for the cloud, the values of the types the decision redacts
become ``<TYPE>`` and those it pseudonymizes become placeholders put back in the answer
(``pseudonyms``) — each value wherever it occurs in the request (``occurrences``), not only
where it was detected; for either upstream the model name becomes the one that upstream knows;
a stream whose client did not ask for usage asks for it (``with_usage``: token and cost
metrics need it; the response stage hides it again). Each attempt starts from the original
body, never from another attempt's copy, so a rewritten body never goes local and a fallback
never sends placeholders. The client's body is never modified in place.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from proxy import occurrences, tokens
from proxy.config import Settings
from proxy.inspection import Inspection
from proxy.pseudonyms import Pseudonyms
from proxy.values import Endpoint, Finding, Location, Route, Segment


@dataclass
class Rewrite:
    """A forwarded body and what was replaced in it (types and counts, never values)."""

    body: dict[str, Any]
    redacted: int = 0
    """Spans replaced by ``<TYPE>``."""
    pseudonymized: int = 0
    """Spans replaced by placeholders."""
    covered: dict[str, frozenset[str]] = field(default_factory=dict)
    """``redact`` / ``pseudonymize`` → the entity types every finding of which was replaced
    that way."""
    pseudonyms: Pseudonyms | None = None
    """The mapping to restore the answer with (None when nothing was pseudonymized)."""


def body_for(
    route: Route, inspection: Inspection, settings: Settings, local_model: str | None
) -> Rewrite:
    """The body ``route``'s upstream is sent, and what was replaced in it."""
    body = inspection.prepared.body
    decision = inspection.decision
    rewrite = Rewrite(body)
    if route is Route.CLOUD and (decision.redact_types or decision.pseudonymize_types):
        model = body.get("model")
        pseudonyms = None
        if decision.pseudonymize_types:
            follow_up = (inspection.prepared.endpoint is Endpoint.RESPONSES
                         and isinstance(body.get("previous_response_id"), str))
            pseudonyms = Pseudonyms.for_request(
                settings.placeholder_format, [s.text for s in inspection.segments],
                follow_up=follow_up)
        rewrite = replace(
            body, inspection.segments, inspection.findings, decision.redact_types,
            decision.pseudonymize_types, pseudonyms=pseudonyms,
            token_model=settings.cloud_model(model if isinstance(model, str) else None),
        )
    rewrite.body = map_model(rewrite.body, route, settings, local_model)
    return rewrite


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


def asks_logprobs(endpoint: Endpoint, body: dict[str, Any]) -> bool:
    """Whether the answer would carry token log-probabilities."""
    if endpoint is Endpoint.CHAT:
        return body.get("logprobs") is True or bool(body.get("top_logprobs"))
    if endpoint is Endpoint.COMPLETIONS:
        return body.get("logprobs") not in (None, 0, False)
    if endpoint is Endpoint.RESPONSES:
        include = body.get("include")
        return bool(body.get("top_logprobs")) or (
            isinstance(include, list) and "message.output_text.logprobs" in include)
    return False


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


def _parent(body: Any, loc: Location) -> Any:
    node = body
    for step in loc[:-1]:
        node = node[step]
    return node


def redact(
    body: dict[str, Any],
    segments: list[Segment],
    findings: list[Finding],
    types: frozenset[str],
    *,
    token_model: str | None = None,
) -> tuple[dict[str, Any], int]:
    """A copy of ``body`` with every value of ``types`` replaced by ``<TYPE>``, and the number
    of spans replaced (``replace`` without pseudonyms)."""
    rewrite = replace(body, segments, findings, types, frozenset(), token_model=token_model)
    return rewrite.body, rewrite.redacted


@dataclass
class _Value:
    entity_type: str
    surface: str
    pseudonymize: bool


def replace(
    body: dict[str, Any],
    segments: Sequence[Segment],
    findings: Sequence[Finding],
    redact_types: frozenset[str],
    pseudonymize_types: frozenset[str],
    *,
    pseudonyms: Pseudonyms | None = None,
    token_model: str | None = None,
) -> Rewrite:
    """A copy of ``body`` with each value found of the given types replaced wherever it
    occurs: by a placeholder from ``pseudonyms`` for ``pseudonymize_types`` (a type in both
    sets is pseudonymized), by ``<TYPE>`` for the others.

    Values are rewritten first, object keys after, deepest first, so renaming a key never
    invalidates the location of another string. A number becomes its rewritten text; token ids
    become the ids of their rewritten text (``token_model``'s tokenizer, the one they were read
    with). Two keys rewritten alike stay distinct (``<EMAIL_ADDRESS>``,
    ``<EMAIL_ADDRESS>#2``): no entry is ever dropped. Placeholders are numbered in the order
    their values first occur in the request.
    """
    by_path = {s.path: s for s in segments}
    values: dict[str, _Value] = {}
    spans: dict[str, list[tuple[int, int, str]]] = {}
    for f in findings:
        pseud = f.entity_type in pseudonymize_types and pseudonyms is not None
        segment = by_path.get(f.path)
        if (not pseud and f.entity_type not in redact_types or f.end <= f.start
                or segment is None):
            continue
        surface = segment.text[f.start:f.end]
        key = occurrences.value_key(surface) or f"\0{f.path}:{f.start}"
        known = values.get(key)
        if known is None:
            values[key] = _Value(f.entity_type, surface, pseud)
        elif pseud and not known.pseudonymize:
            values[key] = _Value(f.entity_type, known.surface, True)
        spans.setdefault(f.path, []).append((f.start, f.end, key))
    forwarded = copy.deepcopy(body)
    rewrite = Rewrite(forwarded, pseudonyms=pseudonyms)
    if not values:
        rewrite.pseudonyms = None
        return rewrite
    searchable = [k for k in values if not k.startswith("\0")]
    for segment in segments:
        for start, end, key in occurrences.find(segment.text, searchable):
            spans.setdefault(segment.path, []).append((start, end, key))
    replaced: list[tuple[str, int, int, bool]] = []  # path, start, end, pseudonymized
    keys: list[tuple[Segment, str]] = []
    for segment in segments:
        merged = _merge(spans.get(segment.path, []))
        if not merged or not segment.loc:
            continue
        parts: list[str] = []
        pos = 0
        for start, end, key in merged:
            value = values[key]
            text = segment.text[start:end]
            if occurrences.value_key(text) != key and not key.startswith("\0"):
                # Overlapping values merged into a longer span: that span is a value of its
                # own, so what is restored is exactly what was there.
                key = occurrences.value_key(text) or f"\0{segment.path}:{start}"
                value = values.setdefault(key, _Value(value.entity_type, text,
                                                      value.pseudonymize))
            parts.append(segment.text[pos:start])
            if value.pseudonymize:
                assert pseudonyms is not None
                parts.append(pseudonyms.placeholder(value.entity_type, key, value.surface))
                rewrite.pseudonymized += 1
            else:
                parts.append(placeholder(value.entity_type))
                rewrite.redacted += 1
            replaced.append((segment.path, start, end, value.pseudonymize))
            pos = end
        parts.append(segment.text[pos:])
        new_text = "".join(parts)
        if segment.is_key:
            keys.append((segment, new_text))
        elif segment.kind == "tokens":
            ids = tokens.encode(new_text, token_model)
            if ids is None:
                raise ValueError("token ids cannot be rewritten without their tokenizer")
            _parent(forwarded, segment.loc)[segment.loc[-1]] = ids
        else:
            _parent(forwarded, segment.loc)[segment.loc[-1]] = new_text
    for segment, new_key in sorted(keys, key=lambda k: -len(k[0].loc)):
        parent = _parent(forwarded, segment.loc)
        distinct, n = new_key, 2
        while distinct in parent and distinct != segment.text:
            distinct, n = f"{new_key}#{n}", n + 1
        renamed = {(distinct if k == segment.text else k): v for k, v in parent.items()}
        parent.clear()
        parent.update(renamed)
    rewrite.covered = _covered(findings, replaced)
    if pseudonyms is not None and not pseudonyms:
        rewrite.pseudonyms = None
    return rewrite


def _merge(spans: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """Overlapping spans become one, keeping the outer (first, longest) span's value."""
    merged: list[tuple[int, int, str]] = []
    for start, end, key in sorted(set(spans), key=lambda s: (s[0], -s[1])):
        if merged and start < merged[-1][1]:
            first_start, first_end, first_key = merged[-1]
            merged[-1] = (first_start, max(first_end, end), first_key)
        else:
            merged.append((start, end, key))
    return merged


def _covered(
    findings: Sequence[Finding], replaced: list[tuple[str, int, int, bool]]
) -> dict[str, frozenset[str]]:
    """Per way of replacing, the entity types whose every finding lies in a span replaced so."""
    ways: dict[str, set[str]] = {"redact": set(), "pseudonymize": set()}
    outside: set[str] = set()
    for f in findings:
        if not f.path:
            continue
        how = next((p for path, s, e, p in replaced
                    if path == f.path and s <= f.start and f.end <= e), None)
        if how is None:
            outside.add(f.entity_type)
        else:
            ways["pseudonymize" if how else "redact"].add(f.entity_type)
    return {way: frozenset(types - outside) for way, types in ways.items()}

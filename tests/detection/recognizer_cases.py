"""Helpers shared by the recognizer table tests: expected spans and standalone detection."""

from __future__ import annotations

from proxy.detection.normalize import normalize
from proxy.detection.recognizers import RegexRecognizer

Span = tuple[str, int, int]


def expect(text: str, *found: tuple[str, str]) -> list[Span]:
    """Spans of the given substrings, each searched after the previous one."""
    spans: list[Span] = []
    pos = 0
    for entity, value in found:
        start = text.index(value, pos)
        spans.append((entity, start, start + len(value)))
        pos = start + len(value)
    return sorted(spans)


def detect(recognizer: RegexRecognizer, text: str) -> list[Span]:
    """Run one recognizer on the normalised text; spans mapped back to ``text``."""
    norm = normalize(text)
    results = recognizer.analyze(norm.text, list(recognizer.supported_entities), None)
    return sorted((r.entity_type, *norm.to_original(r.start, r.end)) for r in results)

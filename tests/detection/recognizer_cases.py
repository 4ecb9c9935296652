"""Helpers shared by the recognizer table tests: expected spans and standalone detection."""

from __future__ import annotations

from proxy.detection.normalize import normalize
from proxy.detection.recognizers.base import Recognizer, scan

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


def detect(recognizer: Recognizer, text: str) -> list[Span]:
    """Run one recognizer on the normalised text; spans mapped back to ``text``."""
    norm = normalize(text)
    hits = scan(recognizer, norm.text)
    return sorted((h.entity, *norm.to_original(h.start, h.end)) for h in hits)

"""What one request's detection reads, and how what it finds lands on the request's values.

A ``Subject`` is one unit of analysis: a segment's text with its kind and label, or all of a
request's joins (see ``joins``) as one text. Results are ``Detected`` spans in the subject's
own text; ``findings_of`` turns them into ``Finding``s on the request's segments.
"""

from __future__ import annotations

import bisect
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from proxy.detection.joins import Join, joins, spans_of
from proxy.detection.normalize import Normalized, apply_edits, identity
from proxy.values import Finding, Segment


def text_key(text: str) -> bytes:
    """Cache key of a text: a digest, so caches never hold raw text."""
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()


@dataclass(frozen=True, slots=True)
class Detected:
    """One entity found in a subject's text (original coordinates), never its value."""

    entity_type: str
    score: float
    start: int
    end: int
    recognizer: str
    language: str


@dataclass(frozen=True, slots=True)
class Subject:
    """One unit of analysis: a segment's text with what it is (``Segment.kind``) and the label
    it is read with, or a join of pieces of several (kind ``join``, see ``joins``)."""

    text: str
    label: str | None = None
    kind: str = "text"

    @property
    def key(self) -> bytes:
        return text_key(f"{self.kind}\0{self.label or ''}\0{self.text}")


def subject_of(segment: Segment) -> Subject:
    return Subject(segment.text, segment.label, segment.kind)


def start_view(subject: Subject) -> Normalized:
    """The text detection starts from: the label in front (mapped to no original character,
    so nothing is ever found or redacted in it), and a participant name with its underscores
    and hyphens read as spaces and its words capitalised (``yamada_taro`` → ``Yamada Taro``)."""
    view = identity(subject.text)
    if subject.kind == "participant":
        text = subject.text
        edits = [(i, i + 1, " ", None) for i, ch in enumerate(text) if ch in "_-"]
        edits += [(i, i + 1, ch.upper(), None) for i, ch in enumerate(text)
                  if ch.islower() and (i == 0 or text[i - 1] in "_- ")]
        view = apply_edits(view, edits)
    if subject.label:
        view = apply_edits(view, [(0, 0, f"{subject.label}: ", None)])
    return view


def values_of(segments: Sequence[Segment], findings: Sequence[Finding]) -> list[str]:
    """The original text of each finding (empty for extraction flags), in order."""
    texts = {s.path: s.text for s in segments}
    return [texts.get(f.path, "")[f.start:f.end] for f in findings]


def contexts_of(
    segments: Sequence[Segment], findings: Sequence[Finding], margin: int
) -> list[tuple[str, str]]:
    """Up to ``margin`` characters of each finding's text before and after it, in order."""
    texts = {s.path: s.text for s in segments}
    return [(texts.get(f.path, "")[max(f.start - margin, 0):f.start],
             texts.get(f.path, "")[f.end:f.end + margin]) for f in findings]


# Between the joins of one request, read as one text: wider than any recognizer's context
# window, so one join's words never count as context for the next.
_JOIN_GAP = "\n" + " " * 80 + "\n"


def join_subject(found_joins: Sequence[Join]) -> Subject | None:
    """All of a request's joins as one text to analyse (one pass, not one per join)."""
    if not found_joins:
        return None
    return Subject(_JOIN_GAP.join(j.text for j in found_joins), None, "join")


def findings_of(
    segments: Sequence[Segment], hits: dict[Subject, tuple[Detected, ...]],
    found_joins: Sequence[Join] = (),
) -> list[Finding]:
    """Findings per segment, and those of the joins that cross their pieces (one finding per
    piece; see ``joins``)."""
    out = [
        Finding(h.entity_type, h.score, s.path, h.start, h.end, h.recognizer, h.language)
        for s in segments
        for h in hits[subject_of(s)]
    ]
    bundle = join_subject(found_joins)
    if bundle is None:
        return out
    offsets: list[int] = []
    pos = 0
    for join in found_joins:
        offsets.append(pos)
        pos += len(join.text) + len(_JOIN_GAP)
    seen = {(f.entity_type, f.path, f.start, f.end) for f in out}
    for h in hits.get(bundle, ()):
        if h.entity_type.startswith("CONTENT_"):
            continue
        k = bisect.bisect_right(offsets, h.start) - 1
        join, base = found_joins[k], offsets[k]
        if h.end > base + len(join.text):
            continue  # across the gap between two joins
        for path, start, end in spans_of(join, h.entity_type, h.start - base, h.end - base,
                                         h.score):
            key = (h.entity_type, path, start, end)
            # A piece already inside a finding of its type says nothing new.
            if key in seen or any(f.path == path and f.entity_type == h.entity_type
                                  and f.start <= start and end <= f.end for f in out):
                continue
            seen.add(key)
            out.append(Finding(h.entity_type, h.score, path, start, end,
                               f"{h.recognizer}+join", h.language))
    return out


def request_subjects(segments: Sequence[Segment]) -> tuple[list[Subject], list[Join]]:
    """What one request's analysis reads: every segment, and every join of their pieces."""
    found = joins(segments)
    bundle = join_subject(found)
    return [subject_of(s) for s in segments] + ([bundle] if bundle else []), found

"""A long text cut for parallel workers (``chunks``): cuts only where nothing can straddle them,
and the pieces together find what the whole text does."""

from __future__ import annotations

import base64
import json
import random
from pathlib import Path

from proxy.detection.chunks import MIN_CHARS, merge, plan
from proxy.detection.detector import Detector
from proxy.detection.subjects import Detected

CORPUS = Path(__file__).resolve().parent / "corpus"


def _messages(language: str) -> list[str]:
    out = []
    for line in (CORPUS / f"{language}.jsonl").read_text(encoding="utf-8").splitlines():
        if line.strip():
            item = json.loads(line)
            out += [m["content"] for m in item["request"].get("messages", [])
                    if isinstance(m.get("content"), str) and len(m["content"]) > 30]
    return out


def _document(language: str, size: int, seed: int) -> str:
    """Corpus messages, sensitive and clean, as the paragraphs of one long prompt."""
    rng = random.Random(seed)
    pool = _messages(language)
    parts: list[str] = []
    while sum(len(p) + 2 for p in parts) < size:
        parts.append(rng.choice(pool))
    return "\n\n".join(parts)


def test_short_texts_and_one_worker_read_the_whole() -> None:
    text = _document("en", MIN_CHARS // 2, 1)
    assert [(p.start, p.end) for p in plan(text, 4)] == [(0, len(text))]
    text = _document("en", MIN_CHARS * 3, 1)
    assert [(p.start, p.end) for p in plan(text, 1)] == [(0, len(text))]


def test_pieces_split_the_text_at_line_starts_with_context_around() -> None:
    text = _document("ja", 60_000, 2)
    pieces = plan(text, 3)
    assert len(pieces) == 3
    assert pieces[0].own_start == 0 and pieces[-1].own_end == len(text)
    for a, b in zip(pieces, pieces[1:], strict=False):
        assert a.own_end == b.own_start and text[b.own_start - 1] == "\n"
        assert b.start < b.own_start and a.end > a.own_end  # each reads some of the other


def test_no_cut_inside_a_table_a_base64_block_or_a_line() -> None:
    rows = "\n".join(f"{i},Tanaka Ichiro {i},090-1234-{i:04d}." for i in range(2000))
    assert len(plan("name,phone,note\n" + rows, 4)) == 1
    blob = base64.encodebytes(bytes(range(256)) * 200).decode()  # 76-character lines
    assert len(plan(blob, 4)) == 1
    assert len(plan("word " * 10_000, 4)) == 1


def _covered(found: tuple[Detected, ...]) -> set[tuple[str, int]]:
    """(type, character) for every character of every sure finding."""
    return {(h.entity_type, i) for h in found if h.score >= 0.5 for i in range(h.start, h.end)}


def test_the_pieces_find_what_the_whole_text_does(detector: Detector) -> None:
    # Compared character by character: English NER reads a piece's sentences a little
    # differently from the whole's and may find one name as part of a longer span
    # ("Takeshi Ono、Mari"); what matters is that no character of a finding goes unfound.
    for language, seed in (("en", 3), ("ja", 4)):
        text = _document(language, 50_000, seed)
        pieces = plan(text, 4)
        assert len(pieces) == 4
        whole = detector.analyze_texts([text])[text]
        parts = detector.analyze_texts([text[p.start:p.end] for p in pieces])
        merged = merge(pieces, [parts[text[p.start:p.end]] for p in pieces])
        assert _covered(whole) and _covered(whole) <= _covered(merged), language
        # Nothing found twice: the regions do not overlap.
        assert len({(h.entity_type, h.start, h.end) for h in merged}) == len(merged)

"""A worker's spaCy vocabularies stop growing at their cap, and what is found stays the same.

spaCy keeps every string it meets; fresh traffic (ids, numbers, names) would grow a detection
worker without end. Past ``Engine.vocab_cap`` each call runs in a memory zone.
"""

from __future__ import annotations

import random

from proxy.detection.detector import Detector
from proxy.detection.engine import VOCAB_GROWTH
from proxy.values import Segment


def _fresh(rnd: random.Random, i: int) -> list[str]:
    ids = " ".join(f"zq{rnd.randrange(10**12)}" for _ in range(20))
    kanji = "".join(chr(0x4E00 + rnd.randrange(2000)) for _ in range(12))
    return [f"Ticket {i}: {ids}. Please call Mary Whitfield on 0413 882 617.",
            f"件名：{kanji}の件、田中 一郎様より"]


def test_vocabularies_stop_growing_at_their_cap(detector: Detector) -> None:
    engine = detector.engine
    assert all(cap >= VOCAB_GROWTH for cap in engine.vocab_cap.values())
    saved = dict(engine.vocab_cap)
    rnd = random.Random(7)
    try:
        # As if the traffic had already taught each vocabulary its cap's worth of words.
        sizes = engine.vocabulary_sizes()
        engine.vocab_cap = dict(sizes)
        for i in range(30):
            segments = [Segment(f"m{k}", text) for k, text in enumerate(_fresh(rnd, i))]
            found = {segments[int(f.path[1])].text[f.start:f.end]
                     for f in detector.analyze(segments) if f.score >= 0.4}
            assert {"Mary Whitfield", "0413 882 617", "田中 一郎"} <= found
        assert engine.vocabulary_sizes() == sizes
    finally:
        engine.vocab_cap = saved

"""Warm start: once an engine is loaded, its first request does no loading of its own.

Counted, not timed: the Python calls an analysis makes (``sys.setprofile``) are the same on a
busy machine and a quiet one. Without the warm-up, the first English text after ``load`` made
125 times the calls of the same text analysed again (2.97 million against 23,700: spaCy's
pipeline, the lexicons and phonenumbers' metadata were loaded then), the first Japanese one 17
times; with it, 2.4 and 1.1 times (what is left is the per-word caches a new text fills), and
no module is imported by the first request.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from types import FrameType
from typing import Any

from proxy.detection.detector import Detector
from proxy.detection.warmup import TEXTS
from proxy.values import Segment

# Not in the warm-up texts: other names, numbers, regions and scripts.
FIRST = (
    "Forward Priya Raman's note (priya.raman@corp.example.com, +44 20 7946 0321) to the team;"
    " her employee badge 7734-2210 expired, new IBAN DE89 3704 0044 0532 0130 00.",
    "鈴木一郎さん（大阪府大阪市北区梅田3-1-1、電話 06-6345-1234）の保険証番号は 12345678 です。",
)


def _calls(run: Callable[[], Any]) -> int:
    count = 0

    def profile(frame: FrameType, event: str, arg: Any) -> None:
        nonlocal count
        if event in ("call", "c_call"):
            count += 1

    sys.setprofile(profile)
    try:
        run()
    finally:
        sys.setprofile(None)
    return count


def test_the_warm_up_texts_are_not_the_probe_texts() -> None:
    assert not set(FIRST) & set(TEXTS)


def test_the_first_request_after_load_does_no_loading() -> None:
    fresh = Detector(cache_size=0)
    fresh.load()
    for text in FIRST:
        modules = set(sys.modules)
        segments = [Segment("t", text)]
        first = _calls(lambda: fresh.analyze(segments))  # noqa: B023 - called at once
        assert set(sys.modules) == modules, "the first request imported modules"
        again = _calls(lambda: fresh.analyze(segments))  # noqa: B023 - called at once
        assert first < 4 * again, (first, again)

"""Every pattern ``quickre`` built finds what the plain pattern finds.

``quickre.compile`` puts a look-ahead for the characters a match can begin with in front of a
pattern. Compared here on every text of the corpora and the probes, read from every position
(``finditer``, and ``match`` from each line's start, as the arbiter reads lines), and on random
texts of the characters the patterns begin with, so a set that left one out would show.
"""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

import pytest

import proxy.detection.engine  # noqa: F401 - builds every detection module's patterns
from proxy.detection import quickre
from proxy.extraction import extract

ROOT = Path(__file__).resolve().parents[2]


def _texts() -> list[str]:
    texts: list[str] = []
    files = sorted((ROOT / "tests" / "detection").glob("*/*.jsonl"))
    files += sorted((ROOT / "bench" / "probes").glob("*.jsonl"))
    for path in files:
        # Every other probe request: the probes are many, and alike in shape.
        step = 2 if path.parent.name == "probes" else 1
        for line in path.read_text(encoding="utf-8").splitlines()[::step]:
            if line.strip():
                segments, _ = extract(json.loads(line)["request"])
                texts.extend(s.text for s in segments)
    rng = random.Random(3)
    alphabet = "aAeEiIsStTnN 0123456789\n:：(（「・-様さん氏例の名年月日"
    texts.extend("".join(rng.choice(alphabet) for _ in range(rng.randint(1, 60)))
                 for _ in range(500))
    return list(dict.fromkeys(texts))


TEXTS = _texts()


def _reads(pattern: re.Pattern[str], text: str) -> list[object]:
    out: list[object] = [m.span() for m in pattern.finditer(text)]
    for start in [0] + [m.end() for m in re.finditer("\n", text)]:
        m = pattern.match(text, start)
        out.append(m.span() if m else None)
    return out


def test_most_detection_patterns_are_quick() -> None:
    assert len(quickre.BUILT) >= 200


@pytest.mark.parametrize("index", range(len(quickre.BUILT)))
def test_a_quick_pattern_reads_as_the_plain_one(index: int) -> None:
    plain, quick = quickre.BUILT[index]
    for text in TEXTS:
        assert _reads(quick, text) == _reads(plain, text), (plain.pattern[:80], text[:80])


@pytest.mark.parametrize(("pattern", "flags", "quick"), [
    (r"\bfoo|bar", re.IGNORECASE, True),
    (r"(?<!x)仮名|ダミー", 0, True),
    (r"a*", 0, False),          # can match the empty string
    (r"[^a]b|c", 0, False),     # a negated class can begin anything
    (r"(?i)\d+\s*(?:yen|円)", 0, True),
])
def test_what_is_made_quick(pattern: str, flags: int, quick: bool) -> None:
    compiled = quickre.compile(pattern, flags)
    assert (compiled.pattern != pattern) is quick
    for text in ("foo bar", "xx仮名 y仮名", "aab", "12 yen, 3円", "(?i)", ""):
        assert [m.span() for m in compiled.finditer(text)] == [
            m.span() for m in re.compile(pattern, flags).finditer(text)]

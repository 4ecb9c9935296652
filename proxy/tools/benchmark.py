"""``sekisho bench``: detection latency on the labelled corpus's texts.

Prints CPU time per ``Detector.analyze`` call (p50/p99; the detector runs in one thread, so the
calling thread's CPU time is the cost) for English and Japanese texts of about 100, 1,000 and
10,000 characters, built by joining the corpus's own prompts, and for a 20-turn conversation
with and without the per-text cache. A benchmark, not a test: its figures go in the README.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from proxy.detection.detector import Detector
from proxy.detection.engine import languages_of
from proxy.extraction import extract
from proxy.values import Segment

SIZES = (100, 1_000, 10_000)


def corpus_texts(corpus: Path) -> dict[str, list[str]]:
    """Every inspectable string of every corpus request, by language (ja if any Japanese)."""
    texts: dict[str, list[str]] = {"en": [], "ja": []}
    for path in sorted(corpus.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            item = json.loads(line)
            segments, _ = extract(item["request"])
            for s in segments:
                if len(s.text) >= 20:
                    texts["ja" if "ja" in languages_of(s.text) else "en"].append(s.text)
    return texts


def _text_of(pool: list[str], size: int, offset: int) -> str:
    out: list[str] = []
    length = 0
    i = offset
    while length < size:
        piece = pool[i % len(pool)]
        out.append(piece)
        length += len(piece) + 1
        i += 1
    return "\n".join(out)[:size]


def _cpu(detector: Detector, segments: list[Segment]) -> float:
    started = time.thread_time()
    detector.analyze(segments)
    return time.thread_time() - started


def _percentiles(values: list[float]) -> tuple[float, float]:
    ordered = sorted(values)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return statistics.median(ordered) * 1000, p99 * 1000


def measure(detector: Detector, cached: Detector, pools: dict[str, list[str]],
            runs: int) -> Iterator[dict[str, Any]]:
    for language in ("en", "ja"):
        pool = pools[language]
        if not pool:
            continue
        for size in SIZES:
            n = max(5, runs // (10 if size >= 10_000 else 1))
            samples = [
                _cpu(detector, [Segment("t", _text_of(pool, size, i * 7))]) for i in range(n)
            ]
            p50, p99 = _percentiles(samples)
            yield {"case": f"{language} {size} chars", "runs": n, "p50_ms": p50, "p99_ms": p99}
    for language in ("en", "ja"):
        pool = pools[language]
        if not pool:
            continue
        turns = [_text_of(pool, 300, 11 * i) for i in range(20)]
        for name, target in (("without cache", detector), ("with cache", cached)):
            per_turn = []
            for turn in range(1, 21):
                history = [Segment(f"messages[{i}].content", t) for i, t in
                           enumerate(turns[:turn])]
                per_turn.append(_cpu(target, history))
            p50, p99 = _percentiles(per_turn)
            yield {"case": f"{language} 20-turn chat {name}", "runs": 20, "p50_ms": p50,
                   "p99_ms": p99, "total_ms": sum(per_turn) * 1000}


def run(args: argparse.Namespace) -> int:
    pools = corpus_texts(Path(args.corpus))
    if not pools["en"] and not pools["ja"]:
        print(f"error: no corpus texts under {args.corpus}")
        return 2
    detector = Detector(ja_engine=args.ja_engine, en_ner=args.en_ner, cache_size=0)
    detector.load()
    cached = Detector(ja_engine=args.ja_engine, en_ner=args.en_ner, cache_size=4096)
    cached.load()
    # Warm up: first calls pay for lazy initialisation inside spaCy and Presidio.
    for language in ("en", "ja"):
        if pools[language]:
            detector.analyze([Segment("w", _text_of(pools[language], 1000, 3))])
    rows = list(measure(detector, cached, pools, args.runs))
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    print(f"detection CPU time per request (ja_engine={args.ja_engine}, en_ner={args.en_ner}, "
          f"corpus {args.corpus})")
    print(f"{'case':<34} {'runs':>5} {'p50 ms':>9} {'p99 ms':>9}")
    for row in rows:
        extra = f"   total {row['total_ms']:.1f} ms" if "total_ms" in row else ""
        print(f"{row['case']:<34} {row['runs']:>5} {row['p50_ms']:>9.2f} {row['p99_ms']:>9.2f}"
              f"{extra}")
    return 0

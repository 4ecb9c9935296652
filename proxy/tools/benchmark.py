"""``sekisho bench``: detection latency on the labelled corpus's texts.

Prints CPU time per ``Detector.analyze`` call (p50/p99; the detector runs in one thread, so the
calling thread's CPU time is the cost) for English and Japanese texts of about 100, 1,000 and
10,000 characters, built by joining the corpus's own prompts, and for a 20-turn conversation
with and without the per-text cache; then what pseudonymizing a request and restoring its
streamed answer cost. A benchmark, not a test: its figures go in the README.
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
from proxy.pseudonyms import PlaceholderFormat, Pseudonyms, Restorer
from proxy.relay import relay_for
from proxy.restore import Restoration
from proxy.transform import replace
from proxy.values import Endpoint, Segment

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


def corpus_messages(corpus: Path, language: str) -> tuple[list[str], list[str]]:
    """The corpus's sensitive messages that hold a labelled value whole (not a system prompt
    beside them), and the lines of at least 12 characters of its clean messages: the pieces
    the HTTP benchmark and the mixed-prompt test build prompts from."""
    sensitive: list[str] = []
    clean: list[str] = []
    for line in (corpus / f"{language}.jsonl").read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        item = json.loads(line)
        texts = [m["content"] for m in item["request"].get("messages", [])
                 if isinstance(m.get("content"), str)]
        if item["sensitive"]:
            sensitive.extend(t for t in texts if any(e["text"] in t for e in item["entities"]))
        else:
            clean.extend(s.strip() for t in texts for s in t.splitlines() if len(s.strip()) >= 12)
    return sensitive, clean


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


def _pseudonymization(detector: Detector, pools: dict[str, list[str]], runs: int
                      ) -> Iterator[dict[str, Any]]:
    """What pseudonymizing a request and restoring its streamed answer cost.

    The request: a 1,000-character corpus text with every value the detector finds in it
    pseudonymized (plus their other occurrences). The answer: that pseudonymized text echoed
    back as a chat stream of 4-character chunks, through the relay with and without
    restoration; the difference per chunk is restoration's cost."""
    fmt = PlaceholderFormat()
    for language in ("en", "ja"):
        pool = pools[language]
        if not pool:
            continue
        texts = [_text_of(pool, 1000, i * 13) for i in range(max(runs, 5))]
        timings: list[float] = []
        values = 0
        answers: list[tuple[str, Pseudonyms]] = []
        for text in texts:
            segments = [Segment("messages[0].content", text, loc=("messages", 0, "content"))]
            findings = detector.analyze(segments)
            types = frozenset(f.entity_type for f in findings if f.path)
            body = {"messages": [{"role": "user", "content": text}]}
            started = time.thread_time()
            pseudonyms = Pseudonyms.for_request(fmt, [text])
            rewrite = replace(body, segments, findings, frozenset(), types, pseudonyms=pseudonyms)
            timings.append(time.thread_time() - started)
            values += sum(pseudonyms.issued.values())
            answers.append((rewrite.body["messages"][0]["content"], pseudonyms))
        p50, p99 = _percentiles(timings)
        yield {"case": f"{language} pseudonymize 1000 chars", "runs": len(texts), "p50_ms": p50,
               "p99_ms": p99, "note": f"{values / len(texts):.1f} values per request"}
        for restoring in (False, True):
            per_chunk: list[float] = []
            for answer, pseudonyms in answers:
                chunks = [_sse_chunk(answer[i:i + 4]) for i in range(0, len(answer), 4)]
                extra = ([Restoration(Endpoint.CHAT, Restorer(pseudonyms), stream=True)]
                         if restoring else [])
                relay = relay_for(Endpoint.CHAT, stream=True, hide_usage=True, extra=extra)
                started = time.thread_time()
                for chunk in chunks:
                    relay.feed(chunk)
                relay.finish()
                per_chunk.append((time.thread_time() - started) / len(chunks))
            p50, p99 = _percentiles(per_chunk)
            name = "with restoration" if restoring else "relay only"
            yield {"case": f"{language} stream per chunk, {name}", "runs": len(answers),
                   "p50_ms": p50, "p99_ms": p99}


def _sse_chunk(text: str) -> bytes:
    payload = {"id": "c", "object": "chat.completion.chunk", "model": "m",
               "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": None}]}
    return b"data: " + json.dumps(payload, ensure_ascii=False).encode() + b"\n\n"


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
    rows += list(_pseudonymization(detector, pools, args.runs))
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    print(f"detection CPU time per request (ja_engine={args.ja_engine}, en_ner={args.en_ner}, "
          f"corpus {args.corpus})")
    print(f"{'case':<40} {'runs':>5} {'p50 ms':>9} {'p99 ms':>9}")
    for row in rows:
        extra = f"   total {row['total_ms']:.1f} ms" if "total_ms" in row else ""
        extra += f"   {row['note']}" if "note" in row else ""
        print(f"{row['case']:<40} {row['runs']:>5} {row['p50_ms']:>9.3f} {row['p99_ms']:>9.3f}"
              f"{extra}")
    return 0

"""The ``Detector``: every segment of a request in, ``Finding``s out.

One ``Engine`` (``engine``) and the per-subject result cache (``cache``): a request's subjects
are its segments and the joins of their pieces (``subjects``); those the cache does not hold
are analysed, all together, and what was found lands on the request's segments. The detector
raises on failure (and ``DeadlinePassed`` when the deadline passes mid-way); the runner turns
either into a detection failure that keeps the request off the cloud.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from proxy.detection.arbiter import figures_across
from proxy.detection.budget import DEFAULT_RECOGNIZER_BUDGET_MS
from proxy.detection.cache import ResultCache
from proxy.detection.engine import Engine
from proxy.detection.recognizers.base import Recognizer
from proxy.detection.subjects import Detected, Subject, findings_of, request_subjects
from proxy.values import Finding, Segment


class Analyzer(Protocol):
    """What inspection needs from detection: ``analyze`` a request's segments.

    Blocking, CPU-bound, raises on failure; ``deadline`` is a ``time.monotonic()`` instant after
    which the work stops; ``scope`` (the tenant) partitions the result cache. Implemented by
    the in-process ``Detector`` and by the runner's pool.
    """

    @property
    def loaded(self) -> bool: ...

    def load(self) -> None: ...

    def analyze(
        self, segments: Sequence[Segment], timings: dict[str, float] | None = None,
        deadline: float | None = None, scope: str = "",
    ) -> list[Finding]: ...


class Detector:
    """The engine and its cache, in this process. Build once. ``recognizer_budget_ms``: the
    CPU time each recognizer may spend on one request (``budget``)."""

    def __init__(
        self, *, ja_engine: str = "sudachi", en_ner: str = "cascade", cache_size: int = 4096,
        min_score: float = 0.3, recognizer_budget_ms: int = DEFAULT_RECOGNIZER_BUDGET_MS,
    ) -> None:
        self.engine = Engine(ja_engine=ja_engine, en_ner=en_ner, min_score=min_score)
        self.recognizer_budget_ms = recognizer_budget_ms
        self.ja_engine = ja_engine
        self.en_ner = en_ner
        self.cache = ResultCache(cache_size)

    def load(self) -> None:
        self.engine.load()

    @property
    def loaded(self) -> bool:
        return self.engine.loaded

    @property
    def cache_misses(self) -> int:
        return self.cache.misses

    def add_recognizer(self, name: str, recognizer: Recognizer) -> None:
        """Run an extra recognizer (custom deployments, tests); clears the cache."""
        assert self.loaded, "load() first"
        self.engine.add(name, recognizer)
        self.cache.clear()

    def analyze(
        self, segments: Sequence[Segment], timings: dict[str, float] | None = None,
        deadline: float | None = None, scope: str = "",
    ) -> list[Finding]:
        """Analyse all segments of one request together. Raises on any failure.

        ``timings``, when given, receives the seconds spent per language analysed.
        """
        assert self.loaded, "load() first"
        subjects, found = request_subjects(segments)
        known, todo = self.cache.split(subjects, scope)
        if todo:
            fresh = self.engine.analyze_subjects(todo, timings, deadline,
                                                 self.recognizer_budget_ms)
            self.cache.store(fresh, scope)
            known.update(fresh)
        return findings_of(segments, figures_across(known), found)

    def analyze_texts(
        self, texts: Sequence[str], timings: dict[str, float] | None = None
    ) -> dict[str, tuple[Detected, ...]]:
        """What is found in each plain text (no label), for tools and tests."""
        found = self.engine.analyze_subjects([Subject(t) for t in texts], timings,
                                             budget_ms=self.recognizer_budget_ms)
        return {subject.text: hits for subject, hits in found.items()}

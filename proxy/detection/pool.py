"""``DetectorPool``: detection in worker processes, so two cores serve concurrent requests.

spaCy and Presidio are Python: in one process the GIL lets only one request's analysis run at a
time. Each worker process here loads its own ``Detector`` (models included) once, at start-up;
a request's uncached texts go to one worker in one batch. The result cache stays in the proxy
process, so a conversation that resends its history skips the round trip entirely whichever
worker served the earlier turns.

A worker that dies (out of memory, a crash in native code) breaks the pool: the request in
flight fails — and is therefore kept off the cloud — and the pool is rebuilt for the next one.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from proxy.detection.detector import (
    Detector,
    Finding,
    Hit,
    ResultCache,
    Subject,
    findings_of,
    request_subjects,
)
from proxy.exchange import Segment

log = logging.getLogger("sekisho.detection")

_worker_detector: Detector | None = None


def _init_worker(ja_engine: str, en_ner: str) -> None:
    global _worker_detector
    detector = Detector(ja_engine=ja_engine, en_ner=en_ner, cache_size=0)
    detector.load()
    _worker_detector = detector


def _work(subjects: list[Subject]) -> tuple[dict[Subject, tuple[Hit, ...]], dict[str, float]]:
    assert _worker_detector is not None
    timings: dict[str, float] = {}
    return _worker_detector.analyze_subjects(subjects, timings), timings


def _ready() -> int:
    """This worker's pid once its models are loaded; slow enough that idle workers share the
    readiness checks instead of one fast worker answering them all."""
    assert _worker_detector is not None
    time.sleep(0.05)
    return os.getpid()


class DetectorPool:
    def __init__(self, workers: int, *, ja_engine: str = "sudachi", en_ner: str = "cascade",
                 cache_size: int = 4096) -> None:
        self.workers = workers
        self.ja_engine = ja_engine
        self.en_ner = en_ner
        self.cache_size = cache_size
        self.cache = ResultCache(cache_size)
        self._lock = threading.Lock()
        self._executor: ProcessPoolExecutor | None = None
        self._loaded = False

    @property
    def loaded(self) -> bool:
        return self._loaded

    def _new_executor(self) -> ProcessPoolExecutor:
        # spawn, not fork: the proxy process has threads (event loop, executors) by now.
        return ProcessPoolExecutor(
            max_workers=self.workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_init_worker,
            initargs=(self.ja_engine, self.en_ner),
        )

    def load(self) -> None:
        """Start every worker and wait until each has loaded its models.

        A request sent to a worker still loading would wait for it and could pass its detection
        deadline (and fail closed), so readiness waits for every worker to answer.
        """
        self._executor = self._new_executor()
        ready: set[int] = set()
        while len(ready) < self.workers:
            futures = [self._executor.submit(_ready) for _ in range(self.workers)]
            ready |= {future.result() for future in futures}
        self._loaded = True

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None

    def analyze(
        self, segments: Sequence[Segment], timings: dict[str, float] | None = None
    ) -> list[Finding]:
        executor = self._executor
        assert executor is not None, "load() first"
        subjects, found = request_subjects(segments)
        known, todo = self.cache.split(subjects)
        if todo:
            try:
                fresh, spent = executor.submit(_work, todo).result()
            except BrokenProcessPool:
                log.error("a detection worker died; rebuilding the pool")
                with self._lock:
                    if self._executor is executor:
                        self._executor = self._new_executor()
                raise
            if timings is not None:
                for language, seconds in spent.items():
                    timings[language] = timings.get(language, 0.0) + seconds
            self.cache.store(fresh)
            known.update(fresh)
        return findings_of(segments, known, found)

    def worker_pids(self) -> list[int]:
        executor = self._executor
        processes = getattr(executor, "_processes", None) or {}
        return sorted(processes)

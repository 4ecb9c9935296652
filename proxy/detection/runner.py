"""The detection runner: a request's analysis off the event loop, under its deadline, with a
bounded queue that sheds load early.

Detection is CPU-bound. With ``workers`` > 0 it runs in worker processes (``spawn``; each loads
its own engine once, at start-up), so two cores serve concurrent requests; with 0 it runs in
one thread of the serving process (spaCy pipelines are not documented as safe for concurrent
use, and under the GIL a second thread adds contention, not throughput). The per-subject result
cache stays in the serving process either way, so a conversation that resends its history skips
the round trip whichever worker served the earlier turns.

The runner owns the deadline: it is an instant (``time.monotonic()``) handed into the work, so a
worker stops between two steps once it has passed instead of finishing an analysis nobody waits
for, and the await is bounded by it too. It owns the queue: at most ``max_pending`` analyses
run or wait at once; one more is refused at once (``Overloaded``: the proxy answers 503 with
``Retry-After``) rather than queued until every request fails closed at its deadline.

A worker that dies (out of memory, a crash in native code) breaks the pool: the request in
flight fails — and is therefore kept off the cloud — and the pool is rebuilt for the next one.

Requests that wait for a worker are read together (``DetectorPool``): when a worker frees up,
it takes every request queued by then (up to ``_BATCH_CHARS`` characters) in one call, so the
English model reads all their sentences in one pass and its fixed cost per call is paid once
(measured: 14.1 ms of CPU per fresh 1 KB English text one at a time, 11.3 ms eight at a time).
A request alone is sent at once, as before. A batch that fails — a recognizer over its budget,
the latest deadline passed, an error — is split and each request read again on its own, so one
request's failure never fails the others; each request's wait is bounded by its own deadline.

Each failure says why in its ``reason``: ``timeout`` (``DetectionTimeout``), ``budget`` (one
recognizer spent more CPU time on the request than ``recognizer_budget_ms`` allows:
``DetectionOverBudget``, see ``budget``) or ``error`` (any other ``DetectionError``).
"""

from __future__ import annotations

import asyncio
import gc
import logging
import multiprocessing
import os
import threading
import time
from collections.abc import Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from functools import partial
from typing import ClassVar

from proxy.detection.arbiter import figures_across
from proxy.detection.budget import DEFAULT_RECOGNIZER_BUDGET_MS, OverBudget
from proxy.detection.cache import ResultCache
from proxy.detection.chunks import Piece, merge, plan
from proxy.detection.detector import Analyzer, Detector
from proxy.detection.engine import DeadlinePassed, Engine
from proxy.detection.subjects import Detected, Subject, findings_of, request_subjects
from proxy.lifetime import watch_parent
from proxy.values import Finding, Segment

log = logging.getLogger("sekisho.detection")


class DetectionTimeout(Exception):
    """The deadline passed before the analysis was done."""

    reason: ClassVar[str] = "timeout"


class DetectionError(Exception):
    """The analysis failed (a recognizer raised, a worker died)."""

    reason: ClassVar[str] = "error"


class DetectionOverBudget(DetectionError):
    """A recognizer spent more CPU time on the request than its budget: the analysis stopped
    there (the message names the recognizer, never the text)."""

    reason: ClassVar[str] = "budget"


class Overloaded(Exception):
    """Too many analyses are running or waiting: this one was refused at once."""


@dataclass
class Analysis:
    findings: list[Finding]
    timings: dict[str, float] = field(default_factory=dict)


# --- worker processes -------------------------------------------------------------------------

_worker_engine: Engine | None = None


def _init_worker(ja_engine: str, en_ner: str, parent: int) -> None:
    global _worker_engine
    # A serving process killed outright must not leave its detection processes behind.
    watch_parent(parent, lambda: os._exit(0))
    engine = Engine(ja_engine=ja_engine, en_ner=en_ner)
    engine.load()
    _worker_engine = engine
    # The loaded models, lexicons and gazetteer are never freed, yet the cyclic collector
    # walks them on every full collection: 160-240 ms a time in a loaded worker (a full
    # collection comes whenever a quarter as many new objects as old ones have survived, as
    # the caches fill), a stall of every request the worker holds. Frozen, they are left out
    # of every collection (0.0 ms); what requests allocate is still collected.
    gc.collect()
    gc.freeze()


def _work(subjects: list[Subject], deadline: float | None, budget_ms: int
          ) -> tuple[dict[Subject, tuple[Detected, ...]], dict[str, float]]:
    assert _worker_engine is not None
    timings: dict[str, float] = {}
    return _worker_engine.analyze_subjects(subjects, timings, deadline, budget_ms), timings


# What one worker call reads at most when it takes several waiting requests together (a longer
# request goes alone). Larger batches pay the model's fixed cost less often but make a request
# wait for a longer call: at c=16 on fresh 1 KB prompts (bench/http_bench.py, 2026-12-03),
# English 99 req/s (p99 181 ms) unbatched, 112 (p99 243) at 8,000 characters, 125 (p99 316)
# at 20,000.
_BATCH_CHARS = 8_000


@dataclass(eq=False)
class _Job:
    """One request's subjects, waiting for a worker (``DetectorPool._dispatch``)."""

    subjects: list[Subject]
    deadline: float | None
    future: Future[tuple[dict[Subject, tuple[Detected, ...]], dict[str, float]]] = field(
        default_factory=Future)
    alone: bool = False  # read again on its own after its batch failed


def _ready() -> int:
    """This worker's pid once its models are loaded; slow enough that idle workers share the
    readiness checks instead of one fast worker answering them all."""
    assert _worker_engine is not None
    time.sleep(0.05)
    return os.getpid()


class DetectorPool:
    """The engine in worker processes; the cache here. An ``Analyzer`` like ``Detector``."""

    def __init__(self, workers: int, *, ja_engine: str = "sudachi", en_ner: str = "cascade",
                 cache_size: int = 4096,
                 recognizer_budget_ms: int = DEFAULT_RECOGNIZER_BUDGET_MS) -> None:
        self.workers = workers
        self.ja_engine = ja_engine
        self.en_ner = en_ner
        self.recognizer_budget_ms = recognizer_budget_ms
        self.cache = ResultCache(cache_size)
        self._lock = threading.Lock()
        self._executor: ProcessPoolExecutor | None = None
        self._loaded = False
        self._queue: list[_Job] = []
        self._busy = 0  # worker calls in flight for queued requests
        # Worker calls made for queued requests, and the requests they read (a request read
        # again alone counts twice): their ratio is the mean batch size.
        self.worker_calls = 0
        self.requests_read = 0

    @property
    def loaded(self) -> bool:
        return self._loaded

    def _new_executor(self) -> ProcessPoolExecutor:
        # spawn, not fork: the proxy process has threads (event loop, executors) by now.
        return ProcessPoolExecutor(
            max_workers=self.workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_init_worker,
            initargs=(self.ja_engine, self.en_ner, os.getpid()),
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
        """Stop the workers now. A job still running (one whose request already failed closed
        at its deadline) is abandoned: ``shutdown`` alone would let the interpreter's exit wait
        for it, which a long or crafted text makes minutes. The processes are the executor's
        own (``_processes``; concurrent.futures has no public way to stop a running job)."""
        executor, self._executor = self._executor, None
        with self._lock:
            waiting, self._queue = self._queue, []
        for job in waiting:
            job.future.set_exception(DetectionError("the detector pool was closed"))
        if executor is None:
            return
        processes = list((getattr(executor, "_processes", None) or {}).values())
        for process in processes:
            process.terminate()
        executor.shutdown(wait=False, cancel_futures=True)
        for process in processes:
            process.join(5)

    def analyze(
        self, segments: Sequence[Segment], timings: dict[str, float] | None = None,
        deadline: float | None = None, scope: str = "",
    ) -> list[Finding]:
        executor = self._executor
        assert executor is not None, "load() first"
        subjects, found = request_subjects(segments)
        known, todo = self.cache.split(subjects, scope)
        if todo:
            # A long text is cut into pieces the workers read at once (``chunks``); the rest
            # of the request's subjects go to one worker together.
            whole: list[Subject] = []
            split: list[tuple[Subject, list[Piece]]] = []
            for subject in todo:
                pieces = ([] if subject.kind == "join" else
                          plan(subject.text, self.workers))
                if len(pieces) > 1:
                    split.append((subject, pieces))
                else:
                    whole.append(subject)
            batches = [whole] if whole else []
            batches += [[Subject(subject.text[p.start:p.end], subject.label, subject.kind)]
                        for subject, pieces in split for p in pieces]
            # A long text's pieces go to every worker at once; the rest waits its turn and may
            # be read together with other requests' subjects.
            results = (self._run(executor, batches, deadline) if split
                       else [self._queued(whole, deadline)])
            fresh: dict[Subject, tuple[Detected, ...]] = {}
            parts = iter(results[1:] if whole else results)
            if whole:
                fresh.update(results[0][0])
            for subject, pieces in split:
                found_in = [next(parts) for _ in pieces]
                fresh[subject] = merge(pieces, [next(iter(r.values())) for r, _ in found_in])
            if timings is not None:
                for _, spent in results:
                    for language, seconds in spent.items():
                        timings[language] = timings.get(language, 0.0) + seconds
            self.cache.store(fresh, scope)
            known.update(fresh)
        return findings_of(segments, figures_across(known), found)

    def _run(self, executor: ProcessPoolExecutor, batches: list[list[Subject]],
             deadline: float | None
             ) -> list[tuple[dict[Subject, tuple[Detected, ...]], dict[str, float]]]:
        """Each batch analysed by a worker, all at once; their results in order."""
        futures: list[Future[tuple[dict[Subject, tuple[Detected, ...]], dict[str, float]]]] = []
        try:
            # A broken pool refuses at submit; one that breaks later, at result.
            for batch in batches:
                futures.append(executor.submit(_work, batch, deadline,
                                               self.recognizer_budget_ms))
            results = []
            for future in futures:
                remaining = None if deadline is None else max(deadline - time.monotonic(), 0.0)
                results.append(future.result(timeout=remaining))
            return results
        except BrokenProcessPool:
            self._rebuild(executor)
            raise
        except TimeoutError:
            for future in futures:
                future.cancel()  # still queued: it never runs; running: it stops at its check
            raise DeadlinePassed from None
        except BaseException:
            for future in futures:
                future.cancel()
            raise

    def _rebuild(self, broken: ProcessPoolExecutor) -> None:
        """A worker of ``broken`` died: a new pool for the next requests (once, however many
        requests saw it break)."""
        log.error("a detection worker died; rebuilding the pool")
        with self._lock:
            if self._executor is broken:
                self._executor = self._new_executor()

    def _queued(self, subjects: list[Subject], deadline: float | None
                ) -> tuple[dict[Subject, tuple[Detected, ...]], dict[str, float]]:
        """``subjects`` analysed by the next free worker, maybe with other requests'."""
        job = _Job(subjects, deadline)
        with self._lock:
            self._queue.append(job)
        self._dispatch()
        remaining = None if deadline is None else max(deadline - time.monotonic(), 0.0)
        try:
            return job.future.result(timeout=remaining)
        except TimeoutError:
            with self._lock:
                if job in self._queue:
                    self._queue.remove(job)  # never sent: no worker reads it
            raise DeadlinePassed from None

    def _dispatch(self) -> None:
        """Send waiting requests to free workers: each call takes the first request and those
        queued after it, up to ``_BATCH_CHARS``; a request read again alone goes on its own."""
        while True:
            with self._lock:
                executor = self._executor
                if executor is None or self._busy >= self.workers or not self._queue:
                    return
                batch = [self._queue.pop(0)]
                size = sum(len(s.text) for s in batch[0].subjects)
                while (not batch[0].alone and self._queue and not self._queue[0].alone
                       and size + sum(len(s.text) for s in self._queue[0].subjects)
                       <= _BATCH_CHARS):
                    job = self._queue.pop(0)
                    size += sum(len(s.text) for s in job.subjects)
                    batch.append(job)
                self._busy += 1
                self.worker_calls += 1
                self.requests_read += len(batch)
            subjects = list(dict.fromkeys(s for job in batch for s in job.subjects))
            deadlines = [job.deadline for job in batch]
            deadline = None if None in deadlines else max(d for d in deadlines if d is not None)
            try:
                future = executor.submit(_work, subjects, deadline, self.recognizer_budget_ms)
            except BrokenProcessPool as exc:
                self._finished(executor, batch, None, error=exc)
                continue
            future.add_done_callback(partial(self._finished, executor, batch, error=None))

    def _finished(self, executor: ProcessPoolExecutor, batch: list[_Job],
                  done: Future[tuple[dict[Subject, tuple[Detected, ...]], dict[str, float]]]
                  | None, *, error: BaseException | None) -> None:
        """Hand a worker call's results to its requests; on failure, split the batch."""
        if done is not None:
            error = done.exception()
        with self._lock:
            self._busy -= 1
        if error is None and done is not None:
            found, timings = done.result()
            share = {language: seconds / len(batch) for language, seconds in timings.items()}
            for job in batch:
                job.future.set_result(({s: found[s] for s in job.subjects}, share))
        elif isinstance(error, BrokenProcessPool):
            self._rebuild(executor)
            for job in batch:
                job.future.set_exception(error)
        elif len(batch) > 1:
            # One request's text may be what failed the call: each is read again on its own.
            with self._lock:
                self._queue[:0] = [_Job(job.subjects, job.deadline, job.future, alone=True)
                                   for job in batch]
        else:
            batch[0].future.set_exception(error or DetectionError("no result"))
        self._dispatch()

    def worker_pids(self) -> list[int]:
        executor = self._executor
        processes = getattr(executor, "_processes", None) or {}
        return sorted(processes)


# --- the runner -------------------------------------------------------------------------------


class Runner:
    """Runs ``analyzer.analyze`` for the pipeline: off the loop, under a deadline, bounded."""

    def __init__(self, analyzer: Analyzer, *, threads: int, max_pending: int) -> None:
        self.analyzer = analyzer
        self.max_pending = max_pending
        self.pending = 0
        self._executor: Executor = ThreadPoolExecutor(max_workers=threads,
                                                      thread_name_prefix="sekisho-detect")

    @classmethod
    def build(cls, *, workers: int, ja_engine: str, en_ner: str, cache_size: int,
              max_pending: int, detector: Analyzer | None = None,
              recognizer_budget_ms: int = DEFAULT_RECOGNIZER_BUDGET_MS) -> Runner:
        """The analyzer for the settings (a pre-loaded ``detector`` wins: tests, tools)."""
        analyzer: Analyzer
        if detector is not None:
            analyzer = detector
        elif workers > 0:
            analyzer = DetectorPool(workers, ja_engine=ja_engine, en_ner=en_ner,
                                    cache_size=cache_size,
                                    recognizer_budget_ms=recognizer_budget_ms)
        else:
            analyzer = Detector(ja_engine=ja_engine, en_ner=en_ner, cache_size=cache_size,
                                recognizer_budget_ms=recognizer_budget_ms)
        # With worker processes, one waiting thread per request that may be pending, so that
        # requests queue in the pool and a free worker reads them together; in-process, one
        # thread (see module docstring).
        threads = max_pending if isinstance(analyzer, DetectorPool) else 1
        return cls(analyzer, threads=max(threads, 1), max_pending=max_pending)

    @property
    def loaded(self) -> bool:
        return self.analyzer.loaded

    async def load(self) -> None:
        await asyncio.get_running_loop().run_in_executor(self._executor, self.analyzer.load)

    async def analyze(self, segments: Sequence[Segment], timeout: float, scope: str = ""
                      ) -> Analysis:
        """The findings of one request. Raises ``DetectionTimeout`` once ``timeout`` seconds
        have passed, ``DetectionOverBudget`` when a recognizer has spent its budget,
        ``DetectionError`` on any other failure, ``Overloaded`` when full."""
        if timeout <= 0:
            raise DetectionTimeout
        if self.pending >= self.max_pending:
            raise Overloaded
        deadline = time.monotonic() + timeout
        timings: dict[str, float] = {}
        self.pending += 1
        try:
            loop = asyncio.get_running_loop()
            work = loop.run_in_executor(self._executor, self.analyzer.analyze, segments,
                                        timings, deadline, scope)
            findings = await asyncio.wait_for(work, timeout=timeout)
        except (TimeoutError, DeadlinePassed):
            raise DetectionTimeout from None
        except OverBudget as exc:
            raise DetectionOverBudget(str(exc)) from None
        except Exception as exc:  # noqa: BLE001 - any failure of the detector fails closed
            raise DetectionError(type(exc).__name__) from exc
        finally:
            self.pending -= 1
        return Analysis(findings, timings)

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
        if isinstance(self.analyzer, DetectorPool):
            self.analyzer.close()

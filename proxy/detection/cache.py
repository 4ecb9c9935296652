"""The per-subject result cache: a chat that resends its history pays only for the new text.

Keyed by a digest of each subject (kind, label and text), so the cache never holds raw text,
and by a scope — the tenant — so that one tenant cannot learn from the time a request takes
(a hit answers sooner than a miss) whether another tenant recently sent a given text.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable

from proxy.detection.subjects import Detected, Subject


class ResultCache:
    """Bounded LRU of analysis results per subject, keyed by a digest (never the raw text)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._entries: OrderedDict[tuple[str, bytes], tuple[Detected, ...]] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def split(
        self, subjects: Iterable[Subject], scope: str = ""
    ) -> tuple[dict[Subject, tuple[Detected, ...]], list[Subject]]:
        """The cached results among ``subjects`` in ``scope``, and the subjects still to
        analyse."""
        known: dict[Subject, tuple[Detected, ...]] = {}
        todo: list[Subject] = []
        with self._lock:
            for subject in dict.fromkeys(subjects):
                key = (scope, subject.key)
                cached = self._entries.get(key)
                if cached is None:
                    todo.append(subject)
                else:
                    self._entries.move_to_end(key)
                    known[subject] = cached
            self.hits += len(known)
            self.misses += len(todo)
        return known, todo

    def store(self, fresh: dict[Subject, tuple[Detected, ...]], scope: str = "") -> None:
        if not self.size:
            return
        with self._lock:
            for subject, hits in fresh.items():
                self._entries[(scope, subject.key)] = hits
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

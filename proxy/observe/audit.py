"""One JSON line per request: what was decided and how long it took — never any content.

Fields are built only from the ``Decision``, counts of entity types, model names, timings and
status codes. No prompt, response, or detected value is ever passed to this module.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import IO, Any


class AuditLog:
    def __init__(self, target: str | None) -> None:
        self._lock = threading.Lock()
        self._stream: IO[str] | None
        self._owned = False
        if target is None:
            self._stream = None
        elif target == "-":
            self._stream = sys.stdout
        else:
            path = Path(target)
            path.parent.mkdir(parents=True, exist_ok=True)
            self._stream = path.open("a", encoding="utf-8", buffering=1)
            self._owned = True

    def write(self, record: dict[str, Any]) -> None:
        if self._stream is None:
            return
        line = json.dumps(record, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
        with self._lock:
            self._stream.write(line + "\n")
            self._stream.flush()

    def close(self) -> None:
        if self._owned and self._stream is not None:
            self._stream.close()
        self._stream = None


def entity_counts(entity_types: list[str]) -> dict[str, int]:
    return dict(sorted(Counter(entity_types).items()))


def now_iso() -> str:
    now = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now % 1 * 1000):03d}Z"

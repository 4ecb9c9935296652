"""One JSON line per request: what was decided and how long it took — never any content.

Fields are built only from the ``Decision``, counts of entity types, model names, timings and
status codes. No prompt, response, or detected value is ever passed to this module.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import sys
import threading
import time
import unicodedata
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


# Hyphens and every dash people type between digit groups (ー, －, ‐, –, —, ―, −).
_SEPARATORS = frozenset("-ー\u2010\u2011\u2012\u2013\u2014\u2015\u2212\uff70")


def keyed_hash(key: str, value: str) -> str:
    """HMAC-SHA256 of a value's canonical form (NFKC, case-folded, no spaces or dashes), so the
    same My Number typed in full-width or with hyphens hashes alike. Without the key the hash
    reveals nothing; it exists only when the operator configures one."""
    folded = unicodedata.normalize("NFKC", value).casefold()
    canonical = "".join(ch for ch in folded if not ch.isspace() and ch not in _SEPARATORS)
    return hmac.new(key.encode(), canonical.encode(), hashlib.sha256).hexdigest()[:16]


def entity_counts(entity_types: list[str]) -> dict[str, int]:
    return dict(sorted(Counter(entity_types).items()))


def now_iso() -> str:
    now = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now % 1 * 1000):03d}Z"

"""Upstream resilience: a circuit breaker per upstream, and the backoff between retries.

**Breaker.** Each upstream's recent outcomes (its requests and its health probes) over a
sliding window decide its state. *Closed*: requests go. *Open*: when at least
``min_failures`` of the last outcomes within ``window_s`` failed and they are at least
``failure_rate`` of them (refused or timed-out connections, 5xx and 429 answers, failed
probes), the upstream is skipped for ``open_s`` — a clean request falls back to local at once
instead of waiting on a dead cloud, a request that may only go to an open upstream is refused
with 503 and ``Retry-After``. *Half-open*: after ``open_s``, or as soon as a health probe
succeeds, one request is let through as a trial; its outcome closes or reopens the breaker.
The breaker only ever removes targets from a plan (``attempts.plan``), so it can never send
a request anywhere its decision did not allow.

**Retries** happen only where nothing was delivered (a refused connection, no connection in
time) and before any byte reached the client; ``backoff`` spaces them with full jitter.
"""

from __future__ import annotations

import random
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum


class State(StrEnum):
    CLOSED = "closed"
    HALF_OPEN = "half_open"
    OPEN = "open"


@dataclass(frozen=True, slots=True)
class BreakerSettings:
    window_s: float = 30.0
    min_failures: int = 5
    failure_rate: float = 0.5
    open_s: float = 10.0


class CircuitBreaker:
    """One upstream's breaker. ``on_change(state)`` is called on every transition."""

    def __init__(self, settings: BreakerSettings,
                 on_change: Callable[[State], None] | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.settings = settings
        self._on_change = on_change
        self._clock = clock
        self._outcomes: deque[tuple[float, bool]] = deque()
        self._state = State.CLOSED
        self._opened_at = 0.0
        self._trial = False

    @property
    def state(self) -> State:
        if self._state is State.OPEN and self._clock() - self._opened_at >= self.settings.open_s:
            self._set(State.HALF_OPEN)
        return self._state

    def retry_after(self) -> float:
        """Seconds until an open breaker lets a trial through (0 unless open)."""
        if self.state is not State.OPEN:
            return 0.0
        return max(self.settings.open_s - (self._clock() - self._opened_at), 0.0)

    def allows(self) -> bool:
        """Whether a request may go now (in half-open, the one trial at a time)."""
        state = self.state
        if state is State.CLOSED:
            return True
        if state is State.HALF_OPEN and not self._trial:
            self._trial = True
            return True
        return False

    def available(self) -> bool:
        """Whether the upstream may be planned for at all (without taking the trial)."""
        state = self.state
        return state is State.CLOSED or state is State.HALF_OPEN and not self._trial

    def record(self, ok: bool) -> None:
        """The outcome of a request (or probe) that reached a decision about the upstream."""
        now = self._clock()
        state = self.state
        if state is State.HALF_OPEN:
            self._trial = False
            if ok:
                self._outcomes.clear()
                self._set(State.CLOSED)
            else:
                self._open(now)
            return
        if state is State.OPEN:
            return
        self._outcomes.append((now, ok))
        while self._outcomes and now - self._outcomes[0][0] > self.settings.window_s:
            self._outcomes.popleft()
        failures = sum(1 for _, good in self._outcomes if not good)
        if (failures >= self.settings.min_failures
                and failures / len(self._outcomes) >= self.settings.failure_rate):
            self._open(now)

    def probe(self, ok: bool) -> None:
        """A health probe's outcome: a success lets an open breaker try again at once."""
        if ok and self.state is State.OPEN:
            self._set(State.HALF_OPEN)
        elif self.state is State.CLOSED:
            self.record(ok)

    def _open(self, now: float) -> None:
        self._opened_at = now
        self._trial = False
        self._set(State.OPEN)

    def _set(self, state: State) -> None:
        if state is not self._state:
            self._state = state
            if self._on_change is not None:
                self._on_change(state)


def backoff(attempt: int, *, base: float = 0.05, cap: float = 1.0) -> float:
    """Seconds before retry ``attempt`` (1, 2, …): full jitter over an exponential ceiling."""
    return random.uniform(0, min(cap, base * 2 ** attempt))

"""What one request's detection may cost: its deadline, and each recognizer's budget.

Every pattern is meant to be linear in the text it reads (``tests/test_detection_cost.py`` holds
the crafted inputs that were not), but linear is not cheap: libphonenumber spends up to 2 ms a
character on long runs of digits and separators, and the next slow input may be one nobody has
crafted yet. The budget bounds what no review can: each recognizer's CPU time on one request is
added up over the request's texts, languages and views, and once a recognizer has spent more
than its allowance the analysis stops with ``OverBudget``. That is a detection failure, so the
request stays off the cloud; skipping the recognizer instead would let through what it would
have found.

CPU time of the analysing thread (``time.thread_time``), not wall time, so a loaded machine
does not turn a clean request into a failure; the request's deadline (a ``time.monotonic()``
instant) bounds the wall time, and ``DeadlinePassed`` stops the analysis once it has passed.
The budget of the analysis in progress lives in a context variable: Presidio calls its
recognizers itself, and the wrappers that charge them (``stock.MeteredRecognizer``) find it
there; outside an analysis (tools, tests calling a recognizer) nothing is charged. A
recognizer that works through many pieces of one text calls ``check_budget`` between two, so
neither bound waits for the end of a long text.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from contextvars import ContextVar

# Above what any recognizer spends on 100 KB of realistic text (the costliest measured: phone
# numbers, about 0.6 s for a 100 KB contact list), below the detection deadline (5 s by
# default), so a recognizer that runs away is named before the deadline cuts the analysis.
DEFAULT_RECOGNIZER_BUDGET_MS = 2000


class DeadlinePassed(Exception):
    """The request's detection deadline passed before its analysis was done."""


def check_deadline(deadline: float | None) -> None:
    """Raise ``DeadlinePassed`` if ``deadline`` (a ``time.monotonic()`` instant) has passed."""
    if deadline is not None and time.monotonic() > deadline:
        raise DeadlinePassed


class OverBudget(Exception):
    """A recognizer spent more CPU time on one request than its budget allows."""

    def __init__(self, recognizer: str, spent: float, allowed: float) -> None:
        super().__init__(recognizer, spent, allowed)
        self.recognizer = recognizer

    def __str__(self) -> str:
        recognizer, spent, allowed = self.args
        return f"{recognizer} spent {spent:.3f} s of CPU time, over its budget of {allowed:.3f} s"


class Budget:
    """The CPU seconds each recognizer may spend on one request, what each has spent, and the
    request's deadline."""

    def __init__(self, seconds: float, deadline: float | None = None) -> None:
        self.seconds = seconds
        self.deadline = deadline
        self.spent: dict[str, float] = {}
        self._running: tuple[str, float] | None = None

    @contextmanager
    def charge(self, recognizer: str) -> Iterator[None]:
        """Charge the block's CPU time to ``recognizer``; once it is done, raise ``OverBudget``
        if the recognizer has now spent more than the budget, ``DeadlinePassed`` if the
        deadline has passed."""
        started = time.thread_time()
        self._running = (recognizer, started)
        try:
            yield
        finally:
            self._running = None
            self.spent[recognizer] = (self.spent.get(recognizer, 0.0)
                                      + time.thread_time() - started)
        self._enforce(recognizer, self.spent[recognizer])
        check_deadline(self.deadline)

    def check(self) -> None:
        """Raise ``DeadlinePassed`` now if the deadline has passed, ``OverBudget`` if the
        recognizer running has passed the budget."""
        check_deadline(self.deadline)
        if self._running is not None:
            recognizer, started = self._running
            self._enforce(recognizer,
                          self.spent.get(recognizer, 0.0) + time.thread_time() - started)

    def _enforce(self, recognizer: str, spent: float) -> None:
        if spent > self.seconds:
            raise OverBudget(recognizer, spent, self.seconds)


_ACTIVE: ContextVar[Budget | None] = ContextVar("sekisho_detection_budget", default=None)


@contextmanager
def applied(budget: Budget) -> Iterator[Budget]:
    """Make ``budget`` the one recognizers are charged to, for the block (one analysis)."""
    token = _ACTIVE.set(budget)
    try:
        yield budget
    finally:
        _ACTIVE.reset(token)


def charged(recognizer: str) -> AbstractContextManager[None]:
    """``Budget.charge`` of the analysis in progress; nothing outside an analysis."""
    budget = _ACTIVE.get()
    return budget.charge(recognizer) if budget is not None else nullcontext()


def check_budget() -> None:
    """``Budget.check`` of the analysis in progress, if any: for a recognizer that works
    through many pieces of one text, between two pieces."""
    budget = _ACTIVE.get()
    if budget is not None:
        budget.check()

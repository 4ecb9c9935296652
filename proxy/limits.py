"""Per-tenant limits: requests and estimated tokens per minute, requests in flight.

A tenant over a limit gets 429 with ``Retry-After`` (and ``retry-after-ms``, which the openai
SDKs read first): the time until the budget has refilled enough for this request. The budgets
are token buckets holding one minute's allowance, refilled continuously, so a tenant may burst
up to its per-minute figure and then proceeds at the average rate.

Tokens are *estimated before* the request is sent, as Azure OpenAI's quota does: the request
body's bytes / 4 (about right for English; Japanese, at three UTF-8 bytes a character and near
one token a character, is counted a little under) plus the output tokens the request asks for
(``max_tokens``, ``max_completion_tokens``, ``max_output_tokens``). A request whose estimate
alone exceeds the tenant's per-minute budget can never pass: it gets 429 with
``x-should-retry: false``.

The order is the cheap one: concurrency and request rate are checked before the body is parsed
or inspected, tokens right after parsing, so a tenant over its limits costs no detection time.

``Limiter`` is what the pipeline uses; ``MemoryLimiter`` keeps the buckets in this process, so
with ``--workers N`` each worker enforces the limits on the requests it serves (a tenant may
reach up to N times them). A shared state backend (Redis) implements the same protocol.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from proxy.errors import ProxyError
from proxy.values import RateLimits

_OUTPUT_FIELDS = ("max_tokens", "max_completion_tokens", "max_output_tokens")


class RateLimited(ProxyError):
    status = 429
    type = "requests"
    code = "rate_limit_exceeded"

    def __init__(self, message: str, *, limit: str, retry_after: float | None) -> None:
        headers = ({"x-should-retry": "false"} if retry_after is None else
                   {"Retry-After": str(max(1, math.ceil(retry_after))),
                    "retry-after-ms": str(max(1, math.ceil(retry_after * 1000)))})
        super().__init__(message, headers=headers)
        self.limit = limit
        """Which limit: ``requests``, ``tokens`` or ``concurrency`` (a metric label)."""
        self.type = "tokens" if limit == "tokens" else "requests"


def estimate_tokens(body_bytes: int, body: dict[str, Any]) -> int:
    """Tokens a request may cost: its input estimated from its size, plus the output asked for."""
    output = 0
    for name in _OUTPUT_FIELDS:
        value = body.get(name)
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            output = max(output, value)
    return math.ceil(body_bytes / 4) + output


class Limiter(Protocol):
    async def admit(self, tenant: str, limits: RateLimits) -> None:
        """Take a slot and one request of the budget, or raise ``RateLimited``."""

    async def release(self, tenant: str) -> None:
        """Give back the slot ``admit`` took (the request is over)."""

    async def spend(self, tenant: str, tokens: int, limits: RateLimits) -> None:
        """Take ``tokens`` of the budget, or raise ``RateLimited`` (nothing taken)."""


@dataclass(slots=True)
class _Bucket:
    level: float
    stamp: float


class MemoryLimiter:
    """The buckets and counts of this process (see the module doc)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._buckets: dict[tuple[str, str], _Bucket] = {}
        self._in_flight: dict[str, int] = {}

    def _take(self, tenant: str, kind: str, per_minute: int, amount: float) -> float:
        """Take ``amount`` from the bucket; 0.0 if taken, else seconds until it could be."""
        now = self._clock()
        bucket = self._buckets.get((tenant, kind))
        if bucket is None:
            bucket = self._buckets[(tenant, kind)] = _Bucket(float(per_minute), now)
        rate = per_minute / 60.0
        # A lowered limit (the keys file reloaded) caps what was saved under the old one.
        bucket.level = min(float(per_minute), bucket.level + (now - bucket.stamp) * rate)
        bucket.stamp = now
        if bucket.level >= amount:
            bucket.level -= amount
            return 0.0
        return (amount - bucket.level) / rate

    async def admit(self, tenant: str, limits: RateLimits) -> None:
        running = self._in_flight.get(tenant, 0)
        if limits.max_concurrent and running >= limits.max_concurrent:
            raise RateLimited(
                f"Too many requests of this tenant in flight (limit {limits.max_concurrent}).",
                limit="concurrency", retry_after=1.0)
        if limits.requests_per_minute:
            wait = self._take(tenant, "requests", limits.requests_per_minute, 1.0)
            if wait:
                raise RateLimited(
                    f"Rate limit of {limits.requests_per_minute} requests per minute reached"
                    " for this tenant.", limit="requests", retry_after=wait)
        self._in_flight[tenant] = running + 1

    async def release(self, tenant: str) -> None:
        left = self._in_flight.get(tenant, 0) - 1
        if left > 0:
            self._in_flight[tenant] = left
        else:
            self._in_flight.pop(tenant, None)

    async def spend(self, tenant: str, tokens: int, limits: RateLimits) -> None:
        budget = limits.tokens_per_minute
        if not budget:
            return
        if tokens > budget:
            raise RateLimited(
                f"This request is estimated at {tokens} tokens, more than this tenant's"
                f" {budget} tokens per minute: shorten it or lower its max_tokens.",
                limit="tokens", retry_after=None)
        wait = self._take(tenant, "tokens", budget, float(tokens))
        if wait:
            raise RateLimited(
                f"Rate limit of {budget} tokens per minute reached for this tenant"
                f" (this request is estimated at {tokens}).", limit="tokens", retry_after=wait)

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

``Limiter`` is what the pipeline uses. ``MemoryLimiter`` keeps the buckets in this process, so
with ``--workers N`` each worker enforces the limits on the requests it serves (a tenant may
reach up to N times them). ``RedisLimiter`` keeps them in the shared state backend
(``state_backend: redis://…``), so every worker and replica draws on the same budget: each
check is one Lua script, atomic, on Redis's own clock; requests in flight are leases in a
sorted set that expire after ``lease_s`` (a replica that dies holding some gives them back).
When Redis does not answer, the limits fall back to this process's buckets (counted in
``sekisho_state_errors_total``): a tenant can then exceed its limits by the number of replicas
until Redis is back, but no request is refused for want of a counter.
"""

from __future__ import annotations

import math
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from proxy.errors import ProxyError
from proxy.state import RedisBackend, StateUnavailable
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


@dataclass(frozen=True, slots=True)
class Hold:
    """A request's slot among its tenant's requests in flight, from ``admit`` to ``release``."""

    tenant: str
    token: str = field(default_factory=lambda: uuid.uuid4().hex)
    shared: bool = False
    """Held in the shared backend (else in this process's counts)."""


class Limiter(Protocol):
    async def admit(self, tenant: str, limits: RateLimits) -> Hold:
        """Take a slot and one request of the budget, or raise ``RateLimited``."""

    async def release(self, hold: Hold) -> None:
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

    async def admit(self, tenant: str, limits: RateLimits) -> Hold:
        running = self._in_flight.get(tenant, 0)
        if limits.max_concurrent and running >= limits.max_concurrent:
            raise _over_concurrency(limits)
        if limits.requests_per_minute:
            wait = self._take(tenant, "requests", limits.requests_per_minute, 1.0)
            if wait:
                raise _over_requests(limits, wait)
        self._in_flight[tenant] = running + 1
        return Hold(tenant)

    async def release(self, hold: Hold) -> None:
        left = self._in_flight.get(hold.tenant, 0) - 1
        if left > 0:
            self._in_flight[hold.tenant] = left
        else:
            self._in_flight.pop(hold.tenant, None)

    async def spend(self, tenant: str, tokens: int, limits: RateLimits) -> None:
        budget = limits.tokens_per_minute
        if not budget:
            return
        if tokens > budget:
            raise _over_tokens(budget, tokens, None)
        wait = self._take(tenant, "tokens", budget, float(tokens))
        if wait:
            raise _over_tokens(budget, tokens, wait)


def _over_concurrency(limits: RateLimits) -> RateLimited:
    return RateLimited(
        f"Too many requests of this tenant in flight (limit {limits.max_concurrent}).",
        limit="concurrency", retry_after=1.0)


def _over_requests(limits: RateLimits, wait: float) -> RateLimited:
    return RateLimited(
        f"Rate limit of {limits.requests_per_minute} requests per minute reached for this"
        " tenant.", limit="requests", retry_after=wait)


def _over_tokens(budget: int, tokens: int, wait: float | None) -> RateLimited:
    if wait is None:
        return RateLimited(
            f"This request is estimated at {tokens} tokens, more than this tenant's {budget}"
            " tokens per minute: shorten it or lower its max_tokens.",
            limit="tokens", retry_after=None)
    return RateLimited(
        f"Rate limit of {budget} tokens per minute reached for this tenant (this request is"
        f" estimated at {tokens}).", limit="tokens", retry_after=wait)


# A token bucket of one minute's allowance, refilled continuously, on Redis's clock. KEYS[1]
# the bucket; ARGV per_minute, amount. Returns the seconds to wait, "0" when taken.
_BUCKET = """
local function take(key, per_minute, amount, now)
  local rate = per_minute / 60
  local saved = redis.call('HMGET', key, 'level', 'stamp')
  local level = tonumber(saved[1]) or per_minute
  local stamp = tonumber(saved[2]) or now
  level = math.min(per_minute, level + math.max(now - stamp, 0) * rate)
  local wait = 0
  if level >= amount then level = level - amount else wait = (amount - level) / rate end
  redis.call('HSET', key, 'level', tostring(level), 'stamp', tostring(now))
  redis.call('EXPIRE', key, 120)
  return wait
end
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
"""

_SPEND = _BUCKET + """
return tostring(take(KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), now))
"""

# KEYS[1] the tenant's leases (member → start), KEYS[2] its request bucket; ARGV max_concurrent,
# requests_per_minute, this request's token, lease_s. Returns "ok", "concurrency" or the wait.
_ADMIT = _BUCKET + """
local max_concurrent = tonumber(ARGV[1])
local per_minute = tonumber(ARGV[2])
local lease = tonumber(ARGV[4])
if max_concurrent > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - lease)
  if redis.call('ZCARD', KEYS[1]) >= max_concurrent then return 'concurrency' end
end
if per_minute > 0 then
  local wait = take(KEYS[2], per_minute, 1, now)
  if wait > 0 then return tostring(wait) end
end
if max_concurrent > 0 then
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  redis.call('EXPIRE', KEYS[1], math.ceil(lease))
end
return 'ok'
"""


class RedisLimiter:
    """The limits in the shared backend, with this process's buckets when it does not answer
    (see the module doc)."""

    def __init__(self, backend: RedisBackend, *, lease_s: float) -> None:
        self.backend = backend
        self.lease_s = lease_s
        self.fallback = MemoryLimiter()
        self._admit = backend.client.register_script(_ADMIT)
        self._spend = backend.client.register_script(_SPEND)

    @staticmethod
    def _key(tenant: str, kind: str) -> str:
        return f"sekisho:limit:{tenant}:{kind}"

    async def admit(self, tenant: str, limits: RateLimits) -> Hold:
        if not (limits.max_concurrent or limits.requests_per_minute):
            return Hold(tenant)
        hold = Hold(tenant, shared=True)
        keys = [self._key(tenant, "in_flight"), self._key(tenant, "requests")]
        args = [limits.max_concurrent, limits.requests_per_minute, hold.token, self.lease_s]
        try:
            answer = await self.backend.call("limits", lambda _r: self._admit(keys, args))
        except StateUnavailable:
            return await self.fallback.admit(tenant, limits)
        if answer == "ok":
            return hold
        if answer == "concurrency":
            raise _over_concurrency(limits)
        raise _over_requests(limits, float(answer))

    async def release(self, hold: Hold) -> None:
        if not hold.shared:
            await self.fallback.release(hold)
            return
        key = self._key(hold.tenant, "in_flight")
        try:
            await self.backend.call("limits", lambda r: r.zrem(key, hold.token))
        except StateUnavailable:
            return  # the lease expires by itself

    async def spend(self, tenant: str, tokens: int, limits: RateLimits) -> None:
        budget = limits.tokens_per_minute
        if not budget:
            return
        if tokens > budget:
            raise _over_tokens(budget, tokens, None)
        keys, args = [self._key(tenant, "tokens")], [budget, tokens]
        try:
            wait = float(await self.backend.call("limits", lambda _r: self._spend(keys, args)))
        except StateUnavailable:
            await self.fallback.spend(tenant, tokens, limits)
            return
        if wait:
            raise _over_tokens(budget, tokens, wait)

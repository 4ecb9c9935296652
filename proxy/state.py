"""Conversation ownership: which upstream holds each Responses API conversation.

A Responses request continues a conversation whose history lives on the upstream that created
it, and names it in several ways: ``previous_response_id``, ``conversation`` (an id, or an
object with one), and input items that refer to earlier output — ``{"type":
"item_reference", "id": "msg_…"}`` (the Vercel AI SDK's default with ``store: true``) or the
output items themselves sent back with their ids. The attempt plan (``attempts``) needs to know
which upstream that is. The pipeline remembers every reference of every Responses answer it
relays (``relay.References``), before the client can see it, so an immediate follow-up already
finds its owner.

``ConversationStore`` is the interface. ``MemoryConversations`` keeps the references of this
process (bounded: the oldest are forgotten). ``RedisConversations`` keeps them in Redis (or
Valkey), shared by every worker and replica, each with a TTL; keys are a digest of the
reference and values a route, so Redis holds neither prompt text nor the ids themselves.

Fail closed: when the store cannot answer (``StateUnavailable``), the pipeline routes the
request by its content alone — a sensitive follow-up still never goes to the cloud — and the
failure is counted (``sekisho_state_errors_total``).
"""

from __future__ import annotations

import hashlib
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Protocol, TypeVar

from proxy.values import Route

T = TypeVar("T")


def references_in(body: dict[str, Any]) -> list[str]:
    """Every conversation a Responses request body names (see the module doc)."""
    found: list[Any] = [body.get("previous_response_id")]
    conversation = body.get("conversation")
    found.append(conversation.get("id") if isinstance(conversation, dict) else conversation)
    items = body.get("input")
    if isinstance(items, list):
        found += [item.get("id") for item in items if isinstance(item, dict)]
    return list(dict.fromkeys(ref for ref in found if isinstance(ref, str) and ref))


class StateUnavailable(Exception):
    """The shared state backend did not answer (unreachable, timed out, or backing off)."""


class ConversationStore(Protocol):
    async def owners(self, references: Sequence[str]) -> list[Route | None]:
        """The upstream holding each reference, None where unknown; ``StateUnavailable``."""
        ...

    async def remember(self, reference: str, route: Route) -> None:
        """Record the owner of a reference; ``StateUnavailable`` if it could not be."""
        ...

    def status(self) -> dict[str, str]:
        """For ``/readyz``: the backend and whether it answers."""
        ...

    async def close(self) -> None: ...


class MemoryConversations:
    """The last ``size`` references of this process and their owners."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._owners: OrderedDict[str, Route] = OrderedDict()

    async def owners(self, references: Sequence[str]) -> list[Route | None]:
        return [self._owners.get(ref) for ref in references]

    async def remember(self, reference: str, route: Route) -> None:
        if self.size <= 0:
            return
        self._owners[reference] = route
        self._owners.move_to_end(reference)
        while len(self._owners) > self.size:
            self._owners.popitem(last=False)

    def status(self) -> dict[str, str]:
        return {"backend": "memory", "status": "ok"}

    async def close(self) -> None:
        self._owners.clear()


class RedisBackend:
    """One Redis connection pool with bounded calls: each call answers within ``timeout_s`` or
    raises ``StateUnavailable``; after a failure the backend is not asked again for
    ``backoff_s`` (every request would otherwise wait out the timeout while Redis is down).
    ``on_error(operation)`` counts each failure."""

    def __init__(self, url: str, *, timeout_s: float, backoff_s: float,
                 on_error: Callable[[str], None]) -> None:
        import redis.asyncio as aioredis

        self.url = url
        self.client: Any = aioredis.Redis.from_url(
            url, socket_timeout=timeout_s, socket_connect_timeout=timeout_s,
            health_check_interval=0, retry_on_timeout=False, decode_responses=True)
        self.backoff_s = backoff_s
        self.on_error = on_error
        self._down_until = 0.0
        self._failing = False
        """The last call failed (until one succeeds): what ``/readyz`` reports."""

    @property
    def reachable(self) -> bool:
        return time.monotonic() >= self._down_until

    async def call(self, operation: str, action: Callable[[Any], Awaitable[T]]) -> T:
        from redis.exceptions import RedisError

        if not self.reachable:
            self.on_error(operation)
            raise StateUnavailable(operation)
        try:
            answer = await action(self.client)
        except (RedisError, OSError, TimeoutError):
            self._down_until = time.monotonic() + self.backoff_s
            self._failing = True
            self.on_error(operation)
            raise StateUnavailable(operation) from None
        self._failing = False
        return answer

    def status(self) -> dict[str, str]:
        return {"backend": "redis", "status": "unreachable" if self._failing else "ok"}

    async def close(self) -> None:
        await self.client.aclose()


def _key(reference: str) -> str:
    return "sekisho:conversation:" + hashlib.sha256(reference.encode("utf-8")).hexdigest()[:40]


class RedisConversations:
    """References and their owners in Redis, each kept ``ttl_s`` after it was last seen."""

    def __init__(self, backend: RedisBackend, ttl_s: int) -> None:
        self.backend = backend
        self.ttl_s = ttl_s

    async def owners(self, references: Sequence[str]) -> list[Route | None]:
        if not references:
            return []
        keys = [_key(ref) for ref in references]
        values = await self.backend.call("lookup", lambda r: r.mget(keys))
        return [Route(v) if v in (Route.CLOUD.value, Route.LOCAL.value) else None
                for v in values]

    async def remember(self, reference: str, route: Route) -> None:
        key = _key(reference)
        await self.backend.call("remember", lambda r: r.set(key, route.value, ex=self.ttl_s))

    def status(self) -> dict[str, str]:
        return self.backend.status()

    async def close(self) -> None:
        """Nothing of its own: the backend is the application's (the limiter shares it)."""

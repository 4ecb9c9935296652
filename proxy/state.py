"""Conversation ownership: which upstream holds each Responses API conversation.

A Responses request with ``previous_response_id`` continues a conversation whose history lives
on the upstream that created it; the attempt plan (``attempts``) needs to know which one. The
pipeline remembers every response id it relays, before the client can see it, so an immediate
follow-up already finds its owner.

``ConversationStore`` is the interface; ``MemoryConversations`` keeps the ids of this process
(bounded: the oldest are forgotten). A store shared by several replicas implements the same two
methods. The interface is asynchronous for that reason, even though memory needs no I/O.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Protocol

from proxy.values import Route


class ConversationStore(Protocol):
    async def owner(self, response_id: str) -> Route | None:
        """The upstream that created ``response_id``, or None when unknown."""
        ...

    async def remember(self, response_id: str, route: Route) -> None: ...

    async def close(self) -> None: ...


class MemoryConversations:
    """The last ``size`` response ids of this process and their owners."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._owners: OrderedDict[str, Route] = OrderedDict()

    async def owner(self, response_id: str) -> Route | None:
        return self._owners.get(response_id)

    async def remember(self, response_id: str, route: Route) -> None:
        if self.size <= 0:
            return
        self._owners[response_id] = route
        self._owners.move_to_end(response_id)
        while len(self._owners) > self.size:
            self._owners.popitem(last=False)

    async def close(self) -> None:
        self._owners.clear()

"""The model catalog: which model names exist, and which model the local upstream serves.

Model names are client input. Only names the configuration knows or an upstream lists may
become metric labels or audit fields, and a ``model`` field naming one is not inspected as text
(``known``); every other name is written as ``other``. The local upstream's list is also where
the local model comes from when none is configured (``local_model``), cached for
``models_cache_s`` so a busy proxy does not ask for it on every request.

What an upstream lists reaches the catalog from three places: the health probe, ``/v1/models``
and the local-model lookup (``note``).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

from proxy.config import Settings
from proxy.upstream import UpstreamModelsUnavailable
from proxy.values import Endpoint

Models = list[dict[str, Any]]


class NoLocalEmbeddingModel(Exception):
    """An embeddings request must stay local and no local embedding model is configured."""


class Catalog:
    def __init__(self, settings: Settings, list_local: Callable[[], Awaitable[Models]]) -> None:
        """``list_local`` asks the local upstream for its models (``UpstreamModelsUnavailable``
        when it cannot)."""
        self.settings = settings
        self._list_local = list_local
        self._listed: set[str] = set()
        self._local: tuple[float, list[str]] | None = None

    def note(self, upstream: str, models: Models) -> list[str]:
        """Remember what ``upstream`` lists; the local list is the local-model cache."""
        ids = [m["id"] for m in models]
        self._listed.update(ids)
        if upstream == "local":
            self._local = (time.monotonic(), ids)
        return ids

    @property
    def listed(self) -> frozenset[str]:
        return frozenset(self._listed)

    def known(self) -> frozenset[str]:
        """Model names allowed as metric labels: configured ones and those upstreams list."""
        return self.settings.configured_models() | self._listed

    def label(self, model: str | None, known: frozenset[str] | None = None) -> str | None:
        """``model`` if it is ``known`` (default: ``known()``), else ``other``; None stays
        None."""
        if model is None:
            return None
        return model if model in (known if known is not None else self.known()) else "other"

    async def local_model(self, endpoint: Endpoint) -> str | None:
        """The model a request kept local is sent to (None: the body's own model is kept)."""
        if endpoint is Endpoint.EMBEDDINGS:
            if self.settings.local_embedding_model is None:
                raise NoLocalEmbeddingModel
            return self.settings.local_embedding_model
        if self.settings.local_model is not None:
            return self.settings.local_model
        models = await self.local_ids()
        return models[0] if models else None

    async def local_ids(self) -> list[str]:
        now = time.monotonic()
        if self._local and now - self._local[0] < self.settings.models_cache_s:
            return self._local[1]
        try:
            models = await self._list_local()
        except UpstreamModelsUnavailable:
            return self._local[1] if self._local else []
        return self.note("local", models)

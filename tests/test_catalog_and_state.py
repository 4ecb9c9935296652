"""The model catalog and conversation ownership behind their interfaces."""

from __future__ import annotations

from typing import Any

import pytest

from proxy.catalog import Catalog, NoLocalEmbeddingModel
from proxy.config import Settings
from proxy.state import MemoryConversations
from proxy.upstream import UpstreamModelsUnavailable
from proxy.values import Endpoint, Route


class Lister:
    """What the local upstream lists, and how often it was asked."""

    def __init__(self, *models: str) -> None:
        self.models = list(models)
        self.calls = 0
        self.down = False

    async def __call__(self) -> list[dict[str, Any]]:
        self.calls += 1
        if self.down:
            raise UpstreamModelsUnavailable("local")
        return [{"id": m} for m in self.models]


async def test_the_local_model_is_configured_or_discovered_and_cached() -> None:
    lister = Lister("qwen-a", "qwen-b")
    catalog = Catalog(Settings(models_cache_s=60), lister)
    assert await catalog.local_model(Endpoint.CHAT) == "qwen-a"
    assert await catalog.local_model(Endpoint.COMPLETIONS) == "qwen-a"
    assert lister.calls == 1
    configured = Catalog(Settings(local_model="llama-local"), lister)
    assert await configured.local_model(Endpoint.CHAT) == "llama-local"
    assert lister.calls == 1


async def test_an_unlisted_local_model_keeps_the_last_list() -> None:
    lister = Lister("qwen-a")
    catalog = Catalog(Settings(models_cache_s=0), lister)
    assert await catalog.local_ids() == ["qwen-a"]
    lister.down = True
    assert await catalog.local_ids() == ["qwen-a"]
    assert await Catalog(Settings(), lister).local_model(Endpoint.CHAT) is None


async def test_embeddings_need_a_configured_local_embedding_model() -> None:
    with pytest.raises(NoLocalEmbeddingModel):
        await Catalog(Settings(), Lister("qwen-a")).local_model(Endpoint.EMBEDDINGS)
    catalog = Catalog(Settings(local_embedding_model="bge-m3"), Lister())
    assert await catalog.local_model(Endpoint.EMBEDDINGS) == "bge-m3"


def test_only_configured_or_listed_names_are_labels() -> None:
    catalog = Catalog(Settings(local_model="llama-local"), Lister())
    catalog.note("cloud", [{"id": "gpt-4o-mini"}])
    assert catalog.label("gpt-4o-mini") == "gpt-4o-mini"
    assert catalog.label("llama-local") == "llama-local"
    assert catalog.label("call me at 090-1234-5678") == "other"
    assert catalog.label(None) is None
    assert "gpt-4o-mini" in catalog.listed


async def test_conversation_owners_are_remembered_and_the_oldest_forgotten() -> None:
    store = MemoryConversations(2)
    await store.remember("resp_1", Route.CLOUD)
    await store.remember("resp_2", Route.LOCAL)
    await store.remember("resp_1", Route.CLOUD)  # used again: now the newest
    await store.remember("resp_3", Route.LOCAL)
    assert await store.owners(["resp_1", "resp_2", "resp_3"]) == [Route.CLOUD, None, Route.LOCAL]
    off = MemoryConversations(0)
    await off.remember("resp_1", Route.CLOUD)
    assert await off.owners(["resp_1"]) == [None]


def test_every_reference_a_responses_request_can_make_is_found() -> None:
    from proxy.state import references_in

    body = {"previous_response_id": "resp_1", "conversation": {"id": "conv_1"},
            "input": [{"type": "item_reference", "id": "msg_1"},
                      {"type": "reasoning", "id": "rs_1", "summary": []},
                      {"role": "user", "content": "hi"}, "not an item",
                      {"type": "item_reference", "id": "msg_1"}]}
    assert references_in(body) == ["resp_1", "conv_1", "msg_1", "rs_1"]
    assert references_in({"conversation": "conv_2", "input": "hi"}) == ["conv_2"]
    assert references_in({"previous_response_id": 7, "conversation": {"id": None}}) == []

"""Token ids read back as text, with the tokenizer of the model they were made for.

Clients send prompts and embeddings inputs as token ids (LangChain's ``OpenAIEmbeddings`` does
by default, and so do agents and evaluation harnesses). Ids are text the upstream decodes, so
Sekisho decodes them the same way before inspecting them: with the encoding of the model family
that will read them (``o200k_base`` for the GPT-4o, 4.1, 5 and o-series families,
``cl100k_base`` for GPT-4, GPT-3.5 and the text-embedding-3 and ada models, and the Llama 3 and
Qwen vocabularies for local models of those families). The vocabularies come from the pinned
``quicktok-v1`` package's bundled data, so nothing is downloaded. Ids of a model whose family is
unknown, or that are not in its vocabulary, stay undecoded: the request is flagged
``CONTENT_TOKENS`` and kept off the cloud.
"""

from __future__ import annotations

import threading
from functools import lru_cache
from typing import Any

# Model-name prefixes and the encoding their tokenizer uses (longest prefix wins).
_FAMILIES: tuple[tuple[str, str], ...] = (
    ("gpt-4o", "o200k_base"), ("chatgpt-4o", "o200k_base"), ("gpt-4.1", "o200k_base"),
    ("gpt-4.5", "o200k_base"), ("gpt-5", "o200k_base"), ("o1", "o200k_base"),
    ("o3", "o200k_base"), ("o4", "o200k_base"), ("gpt-oss", "o200k_harmony"),
    ("gpt-4", "cl100k_base"), ("gpt-3.5", "cl100k_base"), ("text-embedding-3", "cl100k_base"),
    ("text-embedding-ada-002", "cl100k_base"),
    ("llama-3", "llama3"), ("meta-llama-3", "llama3"), ("llama3", "llama3"),
    ("qwen2", "qwen3"), ("qwen3", "qwen3"),
)
_LOCK = threading.Lock()


def encoding_for(model: str | None) -> str | None:
    """The encoding name for ``model`` (organisation prefixes ignored), or None if unknown."""
    if not model:
        return None
    name = model.lower().rsplit("/", 1)[-1]
    best: tuple[int, str] | None = None
    for prefix, encoding in _FAMILIES:
        if name == prefix or name.startswith((prefix + "-", prefix + ".", prefix + ":")) or (
            prefix[-1].isdigit() and name.startswith(prefix)
        ):
            if best is None or len(prefix) > best[0]:
                best = (len(prefix), encoding)
    return best[1] if best else None


@lru_cache(maxsize=8)
def _encoding(name: str) -> Any:
    import quicktok

    with _LOCK:
        return quicktok.get_encoding(name)


def load(names: tuple[str, ...] = ("o200k_base", "cl100k_base")) -> None:
    """Load the common vocabularies now (start-up), not on the first request that needs them."""
    for name in names:
        _encoding(name)


def decode(ids: list[int], model: str | None) -> str | None:
    """The text ``ids`` stand for under ``model``'s tokenizer; None if it cannot be known."""
    name = encoding_for(model)
    if name is None:
        return None
    encoding = _encoding(name)
    try:
        data: bytes = encoding.decode_bytes(ids)
    except (KeyError, ValueError, TypeError, OverflowError):
        return None
    return data.decode("utf-8", "replace")


def encode(text: str, model: str | None) -> list[int] | None:
    """``text`` as token ids of ``model``'s tokenizer (to forward a redacted prompt as ids)."""
    name = encoding_for(model)
    if name is None:
        return None
    return list(_encoding(name).encode_ordinary(text))

"""The value objects every stage shares. Imports nothing of Sekisho's: every module may import
this one, and it depends on none of them.

- ``Endpoint``: which OpenAI-compatible endpoint a request came to.
- ``Segment``: one value extraction found, with where it sits in the body.
- ``Finding``: one entity detection found in a segment (never its value).
- ``Route``, ``Action``, ``Decision``: what the policy decided.
- ``Limits``: the bounds a request body must keep.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Endpoint(StrEnum):
    CHAT = "chat"
    COMPLETIONS = "completions"
    EMBEDDINGS = "embeddings"
    RESPONSES = "responses"


ENDPOINT_PATHS: dict[Endpoint, str] = {
    Endpoint.CHAT: "/chat/completions",
    Endpoint.COMPLETIONS: "/completions",
    Endpoint.EMBEDDINGS: "/embeddings",
    Endpoint.RESPONSES: "/responses",
}

Location = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class Segment:
    """One value that would be forwarded upstream, with its JSON path in the body.

    ``loc`` locates the value in the body (keys and indexes) so transforms can rewrite it;
    ``is_key`` marks an object key rather than a value. ``label`` is the object key the value
    sits under when that key says what the value is (``db_password``, ``dob``,
    ``customer_name``): detection reads the value with it. ``kind`` says what the text is: a
    string (``text``), an object key, a JSON number written out (``number``), token ids decoded
    with the model's tokenizer (``tokens``), or a chat participant's ``name`` (``participant``,
    written with underscores because the API allows no spaces).
    """

    path: str
    text: str
    loc: Location = ()
    is_key: bool = False
    label: str | None = None
    kind: str = "text"


@dataclass(frozen=True, slots=True)
class Finding:
    """One detected entity: where it is (segment path and span in the original text), never
    its value. Content flags and detection failures are findings too, with an empty path."""

    entity_type: str
    score: float
    path: str
    start: int
    end: int
    recognizer: str
    language: str


class Route(StrEnum):
    CLOUD = "cloud"
    LOCAL = "local"
    BLOCK = "block"


class Action(StrEnum):
    """What happened to the request on its route (a bounded metric label)."""

    FORWARD = "forward"
    REDACT = "redact"
    PSEUDONYMIZE = "pseudonymize"
    FALLBACK = "fallback"
    FAIL_CLOSED = "fail_closed"


@dataclass(frozen=True, slots=True)
class Decision:
    route: Route
    rule: str
    action: Action
    policy_version: str
    entity_types: frozenset[str]
    """The entity types that made the deciding rule match (empty for the default)."""
    message: str | None = None
    """For a block: what the client is told (kinds of data, never data)."""
    redact_types: frozenset[str] = frozenset()
    """Entity types to replace with ``<TYPE>`` before forwarding (cloud route only)."""
    pseudonymize_types: frozenset[str] = frozenset()
    """Entity types to replace with placeholders that are restored in the answer (cloud route
    only; a type in both sets is pseudonymized)."""
    allowed: tuple[str, ...] = ()
    """Entity types of findings the policy's allow-list set aside (one per finding)."""


@dataclass(frozen=True, slots=True)
class Limits:
    """What a request body may hold (``parsing`` refuses more with a 4xx)."""

    max_bytes: int = 10 * 1024 * 1024
    max_depth: int = 64
    max_messages: int = 4096
    max_parts: int = 4096
    max_text_chars: int = 2_000_000


@dataclass(frozen=True, slots=True)
class RateLimits:
    """A tenant's request budget; 0 means unlimited (``limits`` enforces it with 429s)."""

    requests_per_minute: int = 0
    tokens_per_minute: int = 0
    """Estimated tokens: the request body's bytes / 4 plus the output tokens it asks for."""
    max_concurrent: int = 0
    """Requests of the tenant in flight at once (a stream counts until it ends)."""

"""Extraction: every value of a request body that could reach an upstream, and its shape check.

Extraction is deliberately paranoid: it walks the whole JSON body and yields every value that
could reach an upstream as a ``Segment``. Only the enumerations the API defines (``role``,
``type``, ``tool_choice: "auto"`` …) and ``model`` names an upstream lists are skipped, and only
at the request schema's own positions; ids, numbers long enough to be identifiers and token ids
(decoded) are inspected, any field Sekisho does not know is content, and so is any object key
it does not know. Non-text parts (images, audio, files, data: URLs, opaque blobs) are not
analysed as text but flagged as ``CONTENT_…`` so the policy can route them; a part of an
unknown type is flagged ``CONTENT_UNKNOWN`` — an unknown shape is never assumed to be harmless.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from proxy import tokens
from proxy.errors import InvalidRequest
from proxy.values import Endpoint, Location, Segment

# Values that are provably harmless where the request schema puts them: the enumerations the
# API defines. Only these are skipped, and only at the schema's own positions (never inside
# ``metadata`` or a field Sekisho does not know, where "status" or "type" is whatever the client
# put there). Everything else is inspected: ids (a phone number used as a ``tool_call_id``), a
# ``service_tier`` holding an API key, a ``model`` no upstream lists.
_ENUMERATIONS: dict[str, frozenset[str]] = {
    "role": frozenset({"system", "user", "assistant", "tool", "function", "developer"}),
    "detail": frozenset({"auto", "low", "high"}),
    "format": frozenset({"wav", "mp3", "flac", "opus", "pcm16", "aac", "text", "json_object",
                         "json_schema", "grammar", "lark", "regex"}),
    "encoding_format": frozenset({"float", "base64"}),
    "service_tier": frozenset({"auto", "default", "flex", "priority", "scale"}),
    "reasoning_effort": frozenset({"none", "minimal", "low", "medium", "high", "xhigh"}),
    "effort": frozenset({"none", "minimal", "low", "medium", "high", "xhigh"}),
    "voice": frozenset({"alloy", "ash", "ballad", "coral", "echo", "fable", "nova", "onyx",
                        "sage", "shimmer", "verse", "marin", "cedar"}),
    "modalities": frozenset({"text", "audio"}),
    "truncation": frozenset({"auto", "disabled"}),
    "tool_choice": frozenset({"auto", "none", "required"}),
    "verbosity": frozenset({"low", "medium", "high"}),
    "summary": frozenset({"auto", "concise", "detailed"}),
    "generate_summary": frozenset({"auto", "concise", "detailed"}),
    "status": frozenset({"in_progress", "completed", "incomplete", "failed", "cancelled",
                         "queued", "searching", "interpreting", "generating"}),
    "include": frozenset({
        "file_search_call.results", "web_search_call.results", "web_search_call.action.sources",
        "message.input_image.image_url", "computer_call_output.output.image_url",
        "code_interpreter_call.outputs", "reasoning.encrypted_content",
        "message.output_text.logprobs",
    }),
    "object": frozenset({"chat.completion", "chat.completion.chunk", "response", "list",
                         "embedding", "text_completion", "model"}),
    "mode": frozenset({"auto", "required", "none", "text", "json"}),
}
# JSON-schema and content-part type names are an enumeration too (a "type" outside this set in
# a content part is flagged CONTENT_UNKNOWN and inspected).
_SCHEMA_TYPES = frozenset({"object", "string", "number", "integer", "boolean", "array", "null"})
_TEXT_FIELDS = frozenset({"content", "text", "arguments", "input", "prompt", "instructions",
                          "description", "output", "summary", "refusal", "suffix", "stop",
                          "title", "examples", "default", "const", "enum", "pattern"})
# JSON numbers long enough to be an identifier (a postal code, account, phone or card number)
# are inspected as text; shorter ones are counts, temperatures and limits.
_MIN_IDENTIFIER_DIGITS = 6
# Subtrees whose keys and values are the client's own, whatever they are called.
_FREE_FORM_KEYS = frozenset({"metadata"})
# Fields that may carry token ids instead of text (completions ``prompt``, embeddings ``input``).
_TOKEN_FIELDS = frozenset({"prompt", "input"})


# Every field name OpenAI's request schemas use; an object key outside this set is itself
# forwarded text (metadata keys, JSON-schema property names, unknown fields) and is inspected.
_KNOWN_KEYS = frozenset(_ENUMERATIONS) | frozenset(
    {
        "model", "type", "id", "tool_call_id", "call_id", "file_id", "previous_response_id",
        "response_id", "item_id",
        "messages", "content", "name", "text", "refusal", "tool_calls", "function", "arguments",
        "function_call", "functions", "tools", "parameters", "description", "strict",
        "image_url", "url", "input_audio", "data", "file", "file_data", "filename", "file_url",
        "image", "audio", "stream", "stream_options", "include_usage", "temperature", "top_p",
        "n", "stop", "max_tokens", "max_completion_tokens", "presence_penalty",
        "frequency_penalty", "logit_bias", "logprobs", "top_logprobs", "user", "seed",
        "parallel_tool_calls", "response_format", "json_schema", "schema", "metadata", "store",
        "prediction", "web_search_options", "prompt", "suffix", "echo", "best_of", "input",
        "dimensions", "instructions", "reasoning", "max_output_tokens", "background",
        "prompt_cache_key", "safety_identifier", "output", "summary", "properties", "required",
        "items", "enum", "additionalProperties", "title", "default", "anyOf", "allOf", "oneOf",
        "$ref", "$defs", "definitions", "minimum", "maximum", "pattern", "examples", "const",
    }
)

_IMAGE_PART_TYPES = frozenset({"image_url", "input_image", "image"})
_AUDIO_PART_TYPES = frozenset({"input_audio", "audio"})
_FILE_PART_TYPES = frozenset({"file", "input_file"})
_TEXT_PART_TYPES = frozenset(
    {
        "text", "input_text", "output_text", "refusal", "summary_text", "reasoning_text",
        "message", "function_call", "function_call_output", "function", "reasoning",
        "item_reference", "custom_tool_call", "custom_tool_call_output", "json_schema",
        "json_object", "tool_result", "tool_use",
    }
)
# Lists whose elements are typed content parts or input items.
_PART_LISTS = frozenset({"content", "input", "output"})
# Fields holding binary payloads or links to them inside non-text parts; their values are
# flagged, never analysed as text (base64 would only produce noise).
_BINARY_FIELDS = frozenset(
    {"data", "file_data", "image_url", "url", "file_url", "input_audio", "file", "audio", "image"}
)
_DATA_URL = re.compile(r"data:([a-zA-Z0-9.+\-]+/[a-zA-Z0-9.+\-]+)?(;[^,]*)?,", re.ASCII)
_BLOB = re.compile(r"[A-Za-z0-9+/=_\-]{2048,}")


def _child(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key):
        return f"{path}.{key}" if path else key
    return f"{path}[{key!r}]"


def _flag_for_data_url(value: str) -> str | None:
    """The flag of a value that is one whole data: URL, or None (not one, or text)."""
    m = _DATA_URL.match(value)
    if not m:
        return None
    mime = (m.group(1) or "").lower()
    if mime.startswith("image/"):
        return "CONTENT_IMAGE"
    if mime.startswith("audio/"):
        return "CONTENT_AUDIO"
    if mime.startswith("text/") or not mime:
        return None  # text: inspected, and its payload decoded (see detection.decoding)
    return "CONTENT_FILE"


_KNOWN_TYPES = (_IMAGE_PART_TYPES | _AUDIO_PART_TYPES | _FILE_PART_TYPES | _TEXT_PART_TYPES
                | _SCHEMA_TYPES | frozenset({
                    "file_search", "web_search", "web_search_preview", "code_interpreter",
                    "computer_use_preview", "image_generation", "mcp", "local_shell", "custom",
                    "approximate", "auto", "allowed_tools", "grammar", "input_text",
                }))


class _Walker:
    def __init__(self, known_models: frozenset[str], token_model: str | None) -> None:
        self.segments: list[Segment] = []
        self.flags: set[str] = set()
        self.known_models = known_models
        self.token_model = token_model

    def string(self, value: str, path: str, loc: Location, *, is_key: bool = False,
               label: str | None = None, kind: str = "text") -> None:
        if not value:
            return
        flag = _flag_for_data_url(value)
        if flag is not None:
            self.flags.add(flag)
            return
        if _BLOB.fullmatch(value):
            # An opaque blob cannot be inspected: flag it rather than pretend it is clean.
            self.flags.add("CONTENT_FILE")
            return
        self.segments.append(Segment(path, value, loc, is_key, label, kind))

    def _harmless(self, key: str | None, value: str) -> bool:
        """A value the API defines at this position: an enumeration or a listed model."""
        if key is None:
            return False
        if key == "type":
            return value in _KNOWN_TYPES
        if key == "model":
            return value in self.known_models
        allowed = _ENUMERATIONS.get(key)
        return allowed is not None and value in allowed

    def value(
        self, value: Any, path: str, loc: Location, key: str | None = None, schema: bool = True,
        kind: str = "text",
    ) -> None:
        """Walk one JSON value; ``schema`` is False inside free-form subtrees."""
        # The key says what the value is; a participant's name is read as a name alone ("name:"
        # in front would make "planner_agent" a person's name field).
        label = key if key is not None and key not in _TEXT_FIELDS and kind == "text" else None
        if isinstance(value, str):
            if schema and self._harmless(key, value):
                return
            self.string(value, path, loc, label=label, kind=kind)
        elif isinstance(value, bool) or value is None:
            return
        elif isinstance(value, int | float):
            number = _identifier_number(value)
            if number is not None:
                self.segments.append(Segment(path, number, loc, False, label, "number"))
        elif isinstance(value, dict):
            self.mapping(value, path, loc, schema=schema)
        elif isinstance(value, list):
            if key in _TOKEN_FIELDS and _is_token_ids(value):
                self._tokens(value, path, loc)
                return
            parts = key in _PART_LISTS
            for i, item in enumerate(value):
                if parts and isinstance(item, dict):
                    self.mapping(item, _child(path, i), (*loc, i), is_part=True, schema=schema)
                else:
                    self.value(item, _child(path, i), (*loc, i), key, schema)

    def _tokens(self, value: list[Any], path: str, loc: Location) -> None:
        """Token ids decoded with the reading model's tokenizer; undecodable ones are flagged."""
        batch = value if isinstance(value[0], list) else None
        for i, ids in enumerate(batch if batch is not None else [value]):
            where, at = (_child(path, i), (*loc, i)) if batch is not None else (path, loc)
            text = tokens.decode(ids, self.token_model)
            if text is None:
                # Token ids are text the upstream decodes: unreadable here, never clean.
                self.flags.add("CONTENT_TOKENS")
            elif text:
                self.segments.append(Segment(where, text, at, False, None, "tokens"))

    def mapping(
        self, obj: dict[str, Any], path: str, loc: Location, is_part: bool = False,
        schema: bool = True,
    ) -> None:
        part_type = obj.get("type")
        # Binary fields are flagged instead of read only in a content part at the schema's own
        # positions: anywhere else (metadata, an unknown field, a message, the body itself)
        # {"type": "image", "data": …} is whatever the client put there, and is inspected.
        payload = is_part and schema
        binary = False
        if isinstance(part_type, str):
            if part_type in _IMAGE_PART_TYPES:
                self.flags.add("CONTENT_IMAGE")
                binary = payload
            elif part_type in _AUDIO_PART_TYPES:
                self.flags.add("CONTENT_AUDIO")
                binary = payload
            elif part_type in _FILE_PART_TYPES:
                self.flags.add("CONTENT_FILE")
                binary = payload
            elif is_part and part_type not in _TEXT_PART_TYPES:
                # A content part or input item of a type we do not know (a new modality?):
                # its strings are still inspected, and the flag lets the policy keep it local.
                self.flags.add("CONTENT_UNKNOWN")
        # A chat message's "name" is the participant's (John_Smith: the API allows no spaces).
        message = schema and isinstance(obj.get("role"), str)
        for key, item in obj.items():
            child = _child(path, key)
            known = schema and key in _KNOWN_KEYS
            if not known:
                self.string(key, f"{child}#key", (*loc, key), is_key=True, kind="key")
            if binary and key in _BINARY_FIELDS:
                self._binary(item, child, (*loc, key))
                continue
            kind = "participant" if message and key == "name" else "text"
            self.value(item, child, (*loc, key), key, known and key not in _FREE_FORM_KEYS,
                       kind)

    def _binary(self, item: Any, path: str, loc: Location) -> None:
        # A binary field may hold a plain URL (http…) which is forwarded as text: inspect it.
        if isinstance(item, str):
            if item.startswith(("http://", "https://")):
                self.segments.append(Segment(path, item, loc))
        elif isinstance(item, dict):
            for key, sub in item.items():
                child = _child(path, key)
                known = key in _KNOWN_KEYS
                if not known:
                    self.string(key, f"{child}#key", (*loc, key), is_key=True, kind="key")
                if key in _BINARY_FIELDS:
                    self._binary(sub, child, (*loc, key))
                else:
                    self.value(sub, child, (*loc, key), key, known and key not in _FREE_FORM_KEYS)
        else:
            # Not the shape of a payload (a list, a number): inspected like any other value.
            self.value(item, path, loc)


def _identifier_number(value: int | float) -> str | None:
    """A JSON number written out, when it is long enough to be an identifier."""
    if isinstance(value, float):
        if not value.is_integer() or abs(value) >= 1e21:
            return None
        value = int(value)
    digits = str(abs(value))
    return str(value) if len(digits) >= _MIN_IDENTIFIER_DIGITS else None


def _is_token_ids(value: list[Any]) -> bool:
    """A list of integers, or a list of such lists (a batch of tokenised prompts)."""
    def ints(items: list[Any]) -> bool:
        return bool(items) and all(
            isinstance(i, int) and not isinstance(i, bool) for i in items)

    return ints(value) or bool(value) and all(
        isinstance(v, list) and ints(v) for v in value)


def extract(
    body: dict[str, Any], *, known_models: frozenset[str] = frozenset(),
    token_model: str | None = None,
) -> tuple[list[Segment], set[str]]:
    """Every inspectable value of a request body, and the non-text content flags.

    ``known_models`` are model names an upstream lists or the configuration names: a ``model``
    holding one is not inspected. Token ids are decoded with ``token_model``'s tokenizer (the
    model that will read them; the requested one by default).
    """
    model = body.get("model")
    walker = _Walker(known_models, token_model or (model if isinstance(model, str) else None))
    walker.mapping(body, "", ())
    return walker.segments, walker.flags


def iter_strings(value: Any) -> Iterator[str]:
    """Every string in a JSON value (used by tests and by the audit self-check)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield k
            yield from iter_strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from iter_strings(v)


def _require(cond: bool, message: str, param: str) -> None:
    if not cond:
        raise InvalidRequest(message, param=param)


def validate(endpoint: Endpoint, body: Any) -> dict[str, Any]:
    """Check the request's shape enough that extraction and routing are well defined."""
    _require(isinstance(body, dict), "Request body must be a JSON object", "body")
    assert isinstance(body, dict)
    model = body.get("model")
    if endpoint is not Endpoint.RESPONSES or "model" in body:
        _require(isinstance(model, str) and bool(model), "'model' must be a non-empty string",
                 "model")
    if "stream" in body:
        _require(isinstance(body["stream"], bool) or body["stream"] is None,
                 "'stream' must be a boolean", "stream")
    if endpoint is Endpoint.CHAT:
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            raise InvalidRequest("'messages' must be a non-empty array", param="messages")
        for i, msg in enumerate(messages):
            _require(isinstance(msg, dict) and isinstance(msg.get("role"), str),
                     f"messages[{i}] must be an object with a string 'role'", f"messages[{i}]")
            content = msg.get("content")
            _require(content is None or isinstance(content, str | list),
                     f"messages[{i}].content must be a string, an array of parts or null",
                     f"messages[{i}].content")
    elif endpoint is Endpoint.COMPLETIONS:
        _require(isinstance(body.get("prompt"), str | list), "'prompt' must be a string or array",
                 "prompt")
    elif endpoint is Endpoint.EMBEDDINGS:
        _require(isinstance(body.get("input"), str | list), "'input' must be a string or array",
                 "input")
    elif endpoint is Endpoint.RESPONSES:
        if "input" in body:
            _require(isinstance(body["input"], str | list), "'input' must be a string or array",
                     "input")
        _require("input" in body or "previous_response_id" in body or "prompt" in body,
                 "'input' is required", "input")
    return body

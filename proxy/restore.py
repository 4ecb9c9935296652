"""Restoration: the response transform that puts a pseudonymized request's values back.

Everywhere a model writes text: in a JSON answer every string (a chat message's content,
refusal, tool-call and function-call arguments, every choice; completions text; every
Responses output item; the request fields a Responses answer echoes), with the values of
``arguments`` — JSON text — put back JSON-escaped.

In a stream each text the model writes piece by piece is its own ``TextStream``: a chat or
completions choice's content, refusal, reasoning and text, each tool call's arguments (by
choice and tool-call index); a Responses event's ``delta`` (by event type, item, output and
content index). A placeholder split across pieces (``[[PER`` + ``SON_1]]``, or one character
per chunk) is restored when it is whole; only a tail that could still become a placeholder is
held back, and it is flushed where that text ends: into the chunk that finishes the choice
(chat, completions), as one more ``….delta`` event before the ``….done`` that ends it
(Responses), before ``[DONE]`` or ``response.completed``, or at the end of a stream that
stopped early. Every other string of every event (``….done`` events, ``response.completed``)
is restored whole. Bytes are never split mid-character: the relay hands over whole events.
"""

from __future__ import annotations

import copy
from typing import Any

from proxy.pseudonyms import Restorer, TextStream
from proxy.relay import Event, Payload
from proxy.values import Endpoint

# Chat delta fields a model writes into piece by piece.
_DELTA_TEXT = ("content", "refusal", "reasoning_content", "reasoning")
StreamKey = tuple[Any, ...]


class Restoration:
    """Restores one answer (``stream`` or JSON) of one endpoint. A response transform."""

    def __init__(self, endpoint: Endpoint, restorer: Restorer, *, stream: bool) -> None:
        self.endpoint = endpoint
        self.restorer = restorer
        self.stream = stream
        self._streams: dict[StreamKey, TextStream] = {}
        self._templates: dict[StreamKey, tuple[Payload, bytes]] = {}
        self._last_chunk: Payload | None = None

    # -- whole values -----------------------------------------------------------------------

    def whole(self, value: Any, *, json_string: bool = False) -> Any:
        """``value`` with every string restored (``arguments`` as JSON text); the same object
        when nothing changed."""
        if isinstance(value, str):
            return self.restorer.text(value, json_string=json_string)
        if isinstance(value, dict):
            out = {k: self.whole(v, json_string=json_string or k == "arguments")
                   for k, v in value.items()}
            return value if all(out[k] is value[k] for k in value) else out
        if isinstance(value, list):
            items = [self.whole(v, json_string=json_string) for v in value]
            return value if all(a is b for a, b in zip(items, value, strict=True)) else items
        return value

    # -- the transform ----------------------------------------------------------------------

    def event(self, event: Event) -> None:
        if not self.stream:
            payload = event.payload
            if payload is not None:
                restored = self._whole_or_same(payload)
                if restored is not payload:
                    event.replace(restored)
            return
        if event.data is not None and event.data.strip() == "[DONE]":
            event.before.extend(self._flush_all())
            return
        payload = event.payload
        if payload is None:
            return
        if self.endpoint is Endpoint.RESPONSES:
            self._responses_event(event, payload)
        else:
            self._chunk(event, payload)

    def finish(self) -> list[Event]:
        """A stream that ended without its closing event still gets its held-back text."""
        return self._flush_all()

    # -- chat and completions chunks ------------------------------------------------------

    def _text(self, key: StreamKey, *, json_string: bool = False) -> TextStream:
        text = self._streams.get(key)
        if text is None:
            text = self._streams[key] = self.restorer.stream(json_string=json_string)
        return text

    def _chunk(self, event: Event, payload: Payload) -> None:
        changed = False
        choices = payload.get("choices")
        if isinstance(choices, list):
            self._last_chunk = payload
            for choice in choices:
                if isinstance(choice, dict):
                    changed = self._choice(choice) or changed
        if changed:
            event.replace(payload)

    def _choice(self, choice: dict[str, Any]) -> bool:
        index = choice.get("index", 0)
        changed = False
        for container, name, key, json_string in self._fields(choice, index):
            value = container.get(name)
            if isinstance(value, str):
                out = self._text(key, json_string=json_string).feed(value)
                if out != value:
                    container[name] = out
                    changed = True
        if choice.get("finish_reason") is not None:
            changed = self._flush_choice(choice, index) or changed
        return changed

    def _fields(
        self, choice: dict[str, Any], index: Any
    ) -> list[tuple[dict[str, Any], str, StreamKey, bool]]:
        """(container, field, stream key, JSON text?) of each text the chunk writes into."""
        if self.endpoint is Endpoint.COMPLETIONS:
            return [(choice, "text", (index, "text"), False)]
        delta = choice.get("delta")
        if not isinstance(delta, dict):
            return []
        fields: list[tuple[dict[str, Any], str, StreamKey, bool]] = [
            (delta, name, (index, name), False) for name in _DELTA_TEXT]
        tool_calls = delta.get("tool_calls")
        if isinstance(tool_calls, list):
            for position, call in enumerate(tool_calls):
                function = call.get("function") if isinstance(call, dict) else None
                if isinstance(function, dict):
                    tool = call.get("index", position)
                    fields.append((function, "arguments", (index, "tool", tool), True))
        function_call = delta.get("function_call")
        if isinstance(function_call, dict):
            fields.append((function_call, "arguments", (index, "function_call"), True))
        return fields

    def _flush_choice(self, choice: dict[str, Any], index: Any) -> bool:
        """The held-back tails of a finishing choice, written into its last chunk."""
        changed = False
        for key in [k for k in self._streams if k[0] == index]:
            tail = self._streams.pop(key).flush()
            if tail:
                _append(choice, key, tail, self.endpoint)
                changed = True
        return changed

    # -- Responses events -------------------------------------------------------------------

    def _responses_event(self, event: Event, payload: Payload) -> None:
        kind = payload.get("type")
        kind = kind if isinstance(kind, str) else ""
        delta = payload.get("delta")
        if kind.endswith(".delta") and isinstance(delta, str):
            key = _event_key(kind, payload)
            self._templates[key] = (payload, _head(event))
            out = self._text(key, json_string="arguments" in kind).feed(delta)
            if out != delta:
                payload["delta"] = out
                event.replace(payload)
            return
        if kind.endswith(".done"):
            event.before.extend(self._flush(
                [_event_key(kind[: -len(".done")] + ".delta", payload)]))
        if kind == "response.output_item.done":
            item = payload.get("item")
            item_id = item.get("id") if isinstance(item, dict) else None
            event.before.extend(self._flush([k for k in self._streams if k[1] == item_id]))
        if kind in ("response.completed", "response.incomplete", "response.failed"):
            event.before.extend(self._flush_all())
        restored = self._whole_or_same(payload)
        if restored is not payload:
            event.replace(restored)

    def _whole_or_same(self, payload: Payload) -> Any:
        """``whole``, or the payload as it came when it nests deeper than Python can walk
        (placeholders stay placeholders: nothing the cloud saw is revealed)."""
        try:
            return self.whole(payload)
        except RecursionError:
            return payload

    def _flush(self, keys: list[StreamKey]) -> list[Event]:
        """One more delta event per held-back tail (Responses), or per choice (chat)."""
        events: list[Event] = []
        for key in keys:
            text = self._streams.pop(key, None)
            tail = text.flush() if text is not None else ""
            if not tail:
                continue
            if self.endpoint is Endpoint.RESPONSES:
                template, head = self._templates.get(key, ({"type": key[0]}, b""))
                events.append(Event.synthetic({**template, "delta": tail}, head))
            else:
                events.append(self._chat_tail(key, tail))
        return events

    def _flush_all(self) -> list[Event]:
        return self._flush(list(self._streams))

    def _chat_tail(self, key: StreamKey, tail: str) -> Event:
        """A chunk carrying a choice's held-back tail (the stream ended before its finish)."""
        base = self._last_chunk or {}
        choice: dict[str, Any] = {"index": key[0], "delta": {}, "finish_reason": None}
        if self.endpoint is Endpoint.COMPLETIONS:
            choice = {"index": key[0], "text": "", "finish_reason": None}
        _append(choice, key, tail, self.endpoint)
        payload = {k: copy.deepcopy(v) for k, v in base.items() if k in ("id", "object",
                                                                          "created", "model")}
        payload["choices"] = [choice]
        return Event.synthetic(payload)


def _append(choice: dict[str, Any], key: StreamKey, tail: str, endpoint: Endpoint) -> None:
    """Write ``tail`` at the end of the text ``key`` names in ``choice``."""
    if endpoint is Endpoint.COMPLETIONS:
        choice["text"] = (choice.get("text") or "") + tail
        return
    delta = choice.setdefault("delta", {})
    if not isinstance(delta, dict):
        delta = choice["delta"] = {}
    if key[1] == "tool":
        calls = delta.setdefault("tool_calls", [])
        call = next((c for c in calls if isinstance(c, dict) and c.get("index") == key[2]), None)
        if call is None:
            call = {"index": key[2], "function": {"arguments": ""}}
            calls.append(call)
        function = call.setdefault("function", {})
        function["arguments"] = (function.get("arguments") or "") + tail
    elif key[1] == "function_call":
        function_call = delta.setdefault("function_call", {})
        function_call["arguments"] = (function_call.get("arguments") or "") + tail
    else:
        delta[key[1]] = (delta.get(key[1]) or "") + tail


def _event_key(kind: str, payload: Payload) -> StreamKey:
    return (kind, payload.get("item_id"), payload.get("output_index"),
            payload.get("content_index"), payload.get("summary_index"))


def _head(event: Event) -> bytes:
    """The ``event:`` line of an SSE event, if it has one (kept on the events made for it)."""
    for line in event.raw.splitlines(keepends=True):
        if line.startswith(b"event:"):
            head = line.rstrip(b"\r\n")
            kind = head[len(b"event:"):].strip()
            return b"event: " + kind + b"\n"
    return b""

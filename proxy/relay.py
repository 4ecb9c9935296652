"""The response stage: what comes back from an upstream, through the request's transforms.

An answer is read as **events** by a framing — ``SseFraming`` for streams (Server-Sent Events
per the spec: lines end in CR, LF or CRLF, an event ends at a blank line, whatever is left at
the end of the stream is passed on as it came), ``JsonFraming`` for JSON answers (one event,
parsed once) — and each event's payload is understood through the endpoint's **shape** (where
chat, completions, embeddings and Responses payloads keep their usage, their ids, their text).

Transforms see every event in order and may observe it (usage capture, response ids for
conversation ownership) or change it (hiding the usage chunk Sekisho asked for; restoring
pseudonyms). ``Relay.feed(bytes) -> bytes`` returns what to send the client now — the events
the bytes completed, each as it came unless a transform changed it (then written anew) — and
``finish()`` what is left at the end: a last event the upstream did not terminate, terminated,
or nothing of an event an interruption cut off.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from proxy.values import Endpoint

Payload = dict[str, Any]


@dataclass
class Event:
    """One SSE event (or the whole JSON answer): its bytes as received and, parsed once, its
    data. A transform that changes ``payload`` sets ``changed``; one that drops it, ``drop``."""

    raw: bytes
    data: str | None = None
    """The event's data lines joined (SSE), or the answer's text (JSON); None if none."""
    _payload: Any = None
    _parsed: bool = False
    changed: bool = False
    drop: bool = False
    before: list[Event] = field(default_factory=list)
    """Events a transform inserts ahead of this one (a restored tail flushed before a
    stream's end)."""

    @property
    def payload(self) -> Payload | None:
        """The data as a JSON object, when it is one."""
        if not self._parsed:
            self._parsed = True
            if self.data is not None and self.data.strip() not in ("", "[DONE]"):
                try:
                    value = json.loads(self.data)
                except (ValueError, RecursionError):
                    value = None
                self._payload = value if isinstance(value, dict) else None
        return self._payload if isinstance(self._payload, dict) else None

    def replace(self, payload: Payload) -> None:
        self._payload = payload
        self._parsed = True
        self.changed = True

    @classmethod
    def synthetic(cls, payload: Payload, head: bytes = b"") -> Event:
        """A new event with ``payload`` (and, for SSE, ``head`` lines such as ``event:``)."""
        event = cls(head)
        event.replace(payload)
        return event


# --- framings ---------------------------------------------------------------------------------


class Framing(Protocol):
    incremental: bool
    """Whether events are complete before the answer is (SSE) or only at its end (JSON)."""
    too_large: bool
    """An event grew past ``MAX_EVENT_BYTES`` (the answer is broken)."""

    def feed(self, chunk: bytes) -> list[Event]: ...

    def finish(self) -> list[Event]: ...

    def encode(self, event: Event) -> bytes: ...


_LINE_END = re.compile(rb"\r\n|\r|\n")


MAX_EVENT_BYTES = 32 * 1024 * 1024
"""The largest stream event relayed (a partial image of the Responses API is a few MB): a longer
one, or a line that never ends, is a broken stream rather than memory without bound."""


class SseFraming:
    """Server-Sent Events, parsed per the specification as they arrive.

    Every byte received belongs to exactly one event's ``raw``, so relaying the events' raw
    bytes reproduces the stream. A CR that ends a chunk ends its line at once; a LF that starts
    the next chunk is the second half of that CRLF, kept in the bytes but not read as a line.
    """

    incremental = True

    def __init__(self) -> None:
        self._buffer = b""  # the start of a line whose end has not arrived
        self._pending: list[bytes] = []  # more of that line, from chunks without a line end
        self._raw: list[bytes] = []  # the bytes of the event being read
        self._data: list[bytes] = []  # its data lines' values
        self._after_cr = False
        self._event_bytes = 0
        self.too_large = False
        """The event being read passed ``MAX_EVENT_BYTES``: the stream is broken."""

    def feed(self, chunk: bytes) -> list[Event]:
        events: list[Event] = []
        if not self._after_cr and _LINE_END.search(chunk) is None:
            # Still inside one line: kept aside, not re-joined and re-scanned for every chunk
            # (a long line arriving in small chunks stays linear).
            self._pending.append(chunk)
            self._event_bytes += len(chunk)
            self.too_large = self.too_large or (
                self._event_bytes + len(self._buffer) > MAX_EVENT_BYTES)
            return events
        data = b"".join((self._buffer, *self._pending, chunk))
        self._pending = []
        pos = 0
        if self._after_cr and data[:1] == b"\n":
            self._raw.append(b"\n")
            pos = 1
        self._after_cr = False
        while (end := _LINE_END.search(data, pos)) is not None:
            start, pos = pos, end.end()
            self._raw.append(data[start:pos])
            if end.group() == b"\r" and pos == len(data):
                self._after_cr = True
            if end.start() == start:  # a blank line ends the event
                events.append(Event(b"".join(self._raw), _joined(self._data)))
                self._raw, self._data, self._event_bytes = [], [], 0
            else:
                value = _data_value(data[start:end.start()])
                if value is not None:
                    self._data.append(value)
        self._buffer = data[pos:]
        self._event_bytes = sum(len(part) for part in self._raw) + len(self._buffer)
        self.too_large = self.too_large or self._event_bytes > MAX_EVENT_BYTES
        return events

    def finish(self) -> list[Event]:
        """What the stream left unterminated, as it came (a last ``data: [DONE]`` without its
        blank line is still an event)."""
        rest = b"".join((*self._raw, self._buffer, *self._pending))
        self._raw, self._data, self._buffer, self._after_cr = [], [], b"", False
        self._pending, self._event_bytes = [], 0
        return [_event(rest)] if rest else []

    def encode(self, event: Event) -> bytes:
        if event.drop:
            return b""
        if not event.changed or event.payload is None:
            return event.raw
        head = b"".join(line for line in _split_lines(event.raw)
                        if not _is_data(line) and line.strip() != b"")
        body = json.dumps(event.payload, ensure_ascii=False, separators=(",", ":"))
        return head + b"data: " + body.encode("utf-8") + b"\n\n"


def _is_data(line: bytes) -> bool:
    return line.startswith(b"data:") or line.rstrip(b"\r\n") == b"data"


def _split_lines(raw: bytes) -> list[bytes]:
    """``raw``'s lines, each with its line end (the last may have none)."""
    out: list[bytes] = []
    pos = 0
    for end in _LINE_END.finditer(raw):
        out.append(raw[pos:end.end()])
        pos = end.end()
    if pos < len(raw):
        out.append(raw[pos:])
    return out


def _data_value(line: bytes) -> bytes | None:
    """The value of a ``data`` line (without its line end), per the specification: a line
    ``data`` without a colon is an empty value, one space after the colon is dropped; None
    for any other line."""
    if line.startswith(b"data:"):
        value = line[5:]
        return value[1:] if value.startswith(b" ") else value
    return b"" if line == b"data" else None


def _joined(data: list[bytes]) -> str | None:
    return b"\n".join(data).decode("utf-8", "replace") if data else None


def _event(raw: bytes) -> Event:
    """An event from its bytes (what a stream left unterminated)."""
    values = [_data_value(line.rstrip(b"\r\n")) for line in _split_lines(raw)]
    return Event(raw, _joined([v for v in values if v is not None]))


class JsonFraming:
    """A JSON answer: one event, the whole body, parsed once at the end (its size is bounded
    where it is read)."""

    incremental = False
    too_large = False

    def __init__(self) -> None:
        self._parts: list[bytes] = []

    def feed(self, chunk: bytes) -> list[Event]:
        self._parts.append(chunk)
        return []

    def finish(self) -> list[Event]:
        raw = b"".join(self._parts)
        self._parts = []
        return [Event(raw, raw.decode("utf-8", "replace"))]

    def encode(self, event: Event) -> bytes:
        if event.drop:
            return b""
        if not event.changed or event.payload is None:
            return event.raw
        return json.dumps(event.payload, ensure_ascii=False).encode("utf-8")


# --- shapes: where each endpoint keeps what the transforms need -------------------------------


class Shape:
    """Chat and completions payloads (chunks or whole answers) and embeddings answers."""

    def usage(self, payload: Payload) -> Payload | None:
        usage = payload.get("usage")
        return usage if isinstance(usage, dict) else None

    def usage_only(self, payload: Payload) -> bool:
        """A stream chunk that carries nothing but usage (``"choices": []``)."""
        return payload.get("choices") == [] and self.usage(payload) is not None

    def references(self, payload: Payload) -> list[str]:
        return []


class ResponsesShape(Shape):
    """Responses answers (the response itself) and stream events (``response`` inside)."""

    @staticmethod
    def _response(payload: Payload) -> Payload:
        inner = payload.get("response")
        return inner if isinstance(inner, dict) else payload

    def usage(self, payload: Payload) -> Payload | None:
        usage = self._response(payload).get("usage")
        return usage if isinstance(usage, dict) else None

    def usage_only(self, payload: Payload) -> bool:
        return False

    def references(self, payload: Payload) -> list[str]:
        """What a follow-up can name of the conversation a payload belongs to: the id of the
        response it is (a JSON answer) or carries (``response.created``, ``.completed``), the ids
        of its output items (sent back as ``item_reference``s or as the items themselves), and
        its ``conversation``'s id; a stream event's own ``item`` counts too."""
        found: list[Any] = []
        inner = payload.get("response")
        if isinstance(inner, dict):
            response: Payload | None = inner
        elif payload.get("object", "response") == "response" and "type" not in payload:
            response = payload
        else:
            response = None
        if response is not None:
            found.append(response.get("id"))
            output = response.get("output")
            if isinstance(output, list):
                found += [item.get("id") for item in output if isinstance(item, dict)]
            conversation = response.get("conversation")
            found.append(conversation.get("id") if isinstance(conversation, dict)
                         else conversation)
        item = payload.get("item")
        if isinstance(item, dict):
            found.append(item.get("id"))
        return [ref for ref in found if isinstance(ref, str) and ref]


def shape_for(endpoint: Endpoint) -> Shape:
    return ResponsesShape() if endpoint is Endpoint.RESPONSES else Shape()


# --- transforms -------------------------------------------------------------------------------


class Transform(Protocol):
    """One step of the response stage: ``event`` sees each event in order (and may change it,
    drop it, or put events before it); ``finish`` returns events to add at the end."""

    def event(self, event: Event) -> None: ...

    def finish(self) -> list[Event]: ...


@dataclass
class UsageCapture:
    """The answer's token usage, for the token and cost metrics (never its text)."""

    shape: Shape
    usage: Payload | None = None

    def event(self, event: Event) -> None:
        payload = event.payload
        if payload is not None:
            usage = self.shape.usage(payload)
            if usage is not None:
                self.usage = usage

    def finish(self) -> list[Event]:
        return []


@dataclass
class References:
    """A Responses conversation's references (``Shape.references``) as they are seen. The
    pipeline takes the ``fresh`` ones after every chunk and records their owner before it
    writes the chunk, so an immediate follow-up already finds where its conversation lives."""

    shape: Shape
    seen: list[str] = field(default_factory=list)
    _taken: int = 0

    def event(self, event: Event) -> None:
        payload = event.payload
        if payload is None:
            return
        for rid in self.shape.references(payload):
            if rid not in self.seen:
                self.seen.append(rid)

    def fresh(self) -> list[str]:
        """The ids seen since the last call."""
        ids = self.seen[self._taken:]
        self._taken = len(self.seen)
        return ids

    def finish(self) -> list[Event]:
        return []


@dataclass
class HideUsage:
    """Drops the usage-only chunk of a stream whose client did not ask for usage (Sekisho asked
    for it, to count tokens and cost): the client gets the stream it asked for."""

    shape: Shape

    def event(self, event: Event) -> None:
        payload = event.payload
        if payload is not None and self.shape.usage_only(payload):
            event.drop = True

    def finish(self) -> list[Event]:
        return []


class Relay:
    """One answer through the request's transforms (see the module docstring). ``usage`` and
    ``ids`` are the transforms whose findings the pipeline reads."""

    def __init__(self, framing: Framing, transforms: Sequence[Transform], *,
                 usage: UsageCapture, ids: References | None = None) -> None:
        self.framing = framing
        self.transforms = list(transforms)
        self.usage = usage
        self.ids = ids
        self.events = 0
        """Events with data seen (0 for a stream of garbage)."""
        self.malformed = False
        """An event's data (or the JSON answer) was neither a JSON object nor ``[DONE]``: the
        answer is broken, and nothing from there on is passed on."""
        self._last = b""  # the last bytes sent
    def feed(self, chunk: bytes) -> bytes:
        """What to send the client now, for this chunk of the answer: the events it completed
        (as they came, unless a transform changed them), so a client never holds half an
        event when the stream stops."""
        events = self.framing.feed(chunk)
        if self.framing.too_large:
            self.malformed = True
        for event in events:
            self._through(event)
        return self._sent(b"".join(self._encode(e) for e in events))

    def finish(self, *, complete: bool = True) -> bytes:
        """What to send the client at the end of the answer. ``complete``: the upstream ended
        the answer itself; otherwise an event it left unfinished is dropped, not passed on
        truncated."""
        events = self.framing.finish()
        if not complete and self.framing.incremental:
            events = []
        for event in events:
            self._through(event)
        extra: list[Event] = []
        for transform in self.transforms:
            extra.extend(transform.finish())
        out = b"".join(self._encode(e) for e in events)
        if out and self.framing.incremental:
            out = terminated(self._last, out)
        return self._sent(out + b"".join(self._encode(e) for e in extra))

    def _sent(self, data: bytes) -> bytes:
        if data:
            self._last = (self._last + data)[-4:]
        return data

    def _encode(self, event: Event) -> bytes:
        return b"".join(self.framing.encode(e) for e in (*event.before, event))

    def fresh_ids(self) -> list[str]:
        return self.ids.fresh() if self.ids is not None else []

    def _through(self, event: Event) -> None:
        if event.data is not None:
            self.events += 1
            if self.malformed or event.payload is None and (
                    not self.framing.incremental or event.data.strip() not in ("", "[DONE]")):
                # An SDK would raise a decoding error on it, not an API error: the pipeline
                # ends the answer with its own error instead.
                self.malformed = True
                event.drop = True
                return
        for transform in self.transforms:
            if event.drop:
                break
            transform.event(event)


def terminated(before: bytes, raw: bytes) -> bytes:
    """``raw`` (sent after ``before``) ending in a blank line, so a client dispatches the last
    event and whatever is written next starts an event of its own."""
    stream = before + raw
    if stream.endswith((b"\n\n", b"\r\n\r\n", b"\r\r", b"\n\r\n")):
        return raw
    for end in (b"\r\n", b"\n", b"\r"):
        if stream.endswith(end):
            return raw + end
    return raw + b"\n\n"


def relay_for(endpoint: Endpoint, *, stream: bool, hide_usage: bool,
              extra: Sequence[Transform] = ()) -> Relay:
    """The relay of one answer: a stream (``SseFraming``) or a JSON body (``JsonFraming``),
    through the usual transforms and ``extra`` ones (restoration), in that order."""
    shape = shape_for(endpoint)
    usage = UsageCapture(shape)
    transforms: list[Transform] = [usage]
    ids = References(shape) if endpoint is Endpoint.RESPONSES else None
    if ids is not None:
        transforms.append(ids)
    if stream and hide_usage:
        transforms.append(HideUsage(shape))
    transforms.extend(extra)
    framing: Framing = SseFraming() if stream else JsonFraming()
    return Relay(framing, transforms, usage=usage, ids=ids)

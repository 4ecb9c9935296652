"""The response stage: recorded answers through the relay, fed in every chunking.

A stream is relayed the same whatever pieces the socket cuts it into: every split into two and
three chunks (and byte by byte) must give the client the same bytes and the transforms the same
findings. Streams are written with each line ending SSE allows (LF, CRLF, CR), with and without
the final blank line.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator

import pytest

from proxy.relay import JsonFraming, SseFraming, relay_for
from proxy.values import Endpoint

USAGE = {"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18}


def chat_stream(*, usage: bool = True, done: bool = True) -> list[str]:
    """The events of a recorded chat completion stream (the usage-only chunk last)."""
    chunk = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1,
             "model": "gpt-4o-mini"}
    events = [
        json.dumps({**chunk, "choices": [{"index": 0, "delta": {"role": "assistant"}}]}),
        json.dumps({**chunk, "choices": [{"index": 0, "delta": {"content": "こんにちは"}}]}),
        json.dumps({**chunk, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}),
    ]
    if usage:
        events.append(json.dumps({**chunk, "choices": [], "usage": USAGE}))
    if done:
        events.append("[DONE]")
    return events


def responses_stream() -> list[str]:
    response = {"id": "resp_abc", "object": "response", "status": "in_progress"}
    return [
        json.dumps({"type": "response.created", "response": response}),
        json.dumps({"type": "response.output_text.delta", "item_id": "msg_1", "delta": "Hi"}),
        json.dumps({"type": "response.completed",
                    "response": {**response, "status": "completed",
                                 "usage": {"input_tokens": 5, "output_tokens": 2}}}),
    ]


def encode(events: list[str], newline: str = "\n", *, final_blank: bool = True,
           comment: bool = False) -> bytes:
    parts = [f": keep-alive{newline}{newline}"] if comment else []
    parts += [f"data: {e}{newline}{newline}" for e in events]
    text = "".join(parts)
    if not final_blank:
        text = text[: -len(newline)]
    return text.encode("utf-8")


def chunkings(raw: bytes) -> Iterator[list[bytes]]:
    """The whole, every split in two, a spread of splits in three, and byte by byte."""
    yield [raw]
    for i in range(1, len(raw)):
        yield [raw[:i], raw[i:]]
    step = max(1, len(raw) // 40)
    for i, j in itertools.combinations(range(1, len(raw), step), 2):
        yield [raw[:i], raw[i:j], raw[j:]]
    yield [raw[i:i + 1] for i in range(len(raw))]


def run(endpoint: Endpoint, chunks: list[bytes], *, hide_usage: bool = False
        ) -> tuple[bytes, dict[str, object] | None, list[str]]:
    relay = relay_for(endpoint, stream=True, hide_usage=hide_usage)
    out = b"".join(relay.feed(c) for c in chunks)
    ids = relay.fresh_ids()
    out += relay.finish()
    return out, relay.usage.usage, ids + relay.fresh_ids()


def data_of(raw: bytes) -> list[str]:
    """The data of every event a client parses out of ``raw`` (a second framing)."""
    framing = SseFraming()
    events = framing.feed(raw) + framing.finish()
    return [e.data for e in events if e.data is not None]


NEWLINES = [pytest.param("\n", id="lf"), pytest.param("\r\n", id="crlf"),
            pytest.param("\r", id="cr")]


@pytest.mark.parametrize("newline", NEWLINES)
@pytest.mark.parametrize("final_blank", [True, False], ids=["blank-end", "no-blank-end"])
def test_untouched_streams_pass_through_byte_for_byte(newline: str, final_blank: bool) -> None:
    raw = encode(chat_stream(), newline, final_blank=final_blank, comment=True)
    # A last event without its blank line is terminated, so the client dispatches it.
    expected = raw if final_blank else raw + newline.encode()
    for chunks in chunkings(raw):
        out, usage, _ = run(Endpoint.CHAT, chunks)
        assert out == expected
        assert usage == USAGE


@pytest.mark.parametrize("newline", NEWLINES)
@pytest.mark.parametrize("final_blank", [True, False], ids=["blank-end", "no-blank-end"])
def test_hidden_usage_chunk_is_dropped_and_everything_else_kept(
    newline: str, final_blank: bool
) -> None:
    raw = encode(chat_stream(), newline, final_blank=final_blank, comment=True)
    expected = chat_stream(usage=False)
    for chunks in chunkings(raw):
        out, usage, _ = run(Endpoint.CHAT, chunks, hide_usage=True)
        assert data_of(out) == expected, chunks
        assert usage == USAGE
        # The last event, [DONE] without its blank line included, still reaches the client.
        assert out.rstrip(b"\r\n").endswith(b"data: [DONE]")


def test_hiding_usage_keeps_each_event_as_it_came() -> None:
    raw = encode(chat_stream(), "\r\n")
    out, _, _ = run(Endpoint.CHAT, [raw], hide_usage=True)
    assert out == encode(chat_stream(usage=False), "\r\n")


@pytest.mark.parametrize("newline", NEWLINES)
def test_response_ids_are_found_in_every_chunking(newline: str) -> None:
    raw = encode(responses_stream(), newline)
    for chunks in chunkings(raw):
        out, usage, ids = run(Endpoint.RESPONSES, chunks)
        assert out == raw
        assert ids == ["resp_abc"]
        assert usage == {"input_tokens": 5, "output_tokens": 2}


def test_response_ids_are_fresh_as_soon_as_their_event_is_complete() -> None:
    raw = encode(responses_stream())
    first_event_end = raw.index(b"\n\n") + 2
    relay = relay_for(Endpoint.RESPONSES, stream=True, hide_usage=False)
    relay.feed(raw[:first_event_end - 1])
    assert relay.fresh_ids() == []
    relay.feed(raw[first_event_end - 1:first_event_end])
    assert relay.fresh_ids() == ["resp_abc"]
    relay.feed(raw[first_event_end:])
    assert relay.fresh_ids() == []


def test_multi_line_data_and_a_data_line_without_colon_follow_the_specification() -> None:
    framing = SseFraming()
    events = framing.feed(b"event: x\ndata: a\ndata:b\ndata\nid: 7\n\n") + framing.finish()
    assert [e.data for e in events] == ["a\nb\n"]


def test_an_event_that_is_not_json_ends_what_is_passed_on() -> None:
    """An SDK would raise a decoding error on it: the relay passes on the events before it and
    nothing from it on (the pipeline ends the stream with its own error event)."""
    stream = encode(chat_stream())
    first = stream[:stream.index(b"data:", 10)]
    raw = first + b"data: {not json}\n\n" + stream
    for chunks in chunkings(raw):
        relay = relay_for(Endpoint.CHAT, stream=True, hide_usage=False)
        out = b"".join(relay.feed(chunk) for chunk in chunks) + relay.finish()
        assert out == first
        assert relay.malformed
    whole = relay_for(Endpoint.CHAT, stream=False, hide_usage=False)
    whole.feed(b'{"id": "chatcmpl-1", "choices": [')
    assert whole.finish() == b"" and whole.malformed


def test_an_event_cut_off_by_an_interruption_is_not_passed_on() -> None:
    raw = encode(chat_stream())
    cut = raw.index(b"data:", 10) + 20  # inside the second event
    relay = relay_for(Endpoint.CHAT, stream=True, hide_usage=False)
    out = relay.feed(raw[:cut]) + relay.finish(complete=False)
    assert out == raw[:raw.index(b"data:", 10)]


def test_completions_streams_capture_usage() -> None:
    chunk = {"id": "cmpl-1", "object": "text_completion", "model": "m"}
    events = [json.dumps({**chunk, "choices": [{"text": "hi", "index": 0}]}),
              json.dumps({**chunk, "choices": [], "usage": USAGE}), "[DONE]"]
    out, usage, _ = run(Endpoint.COMPLETIONS, [encode(events)], hide_usage=True)
    assert usage == USAGE
    assert data_of(out) == [events[0], "[DONE]"]


@pytest.mark.parametrize("endpoint", list(Endpoint))
def test_json_answers_are_parsed_once_and_returned_unchanged(endpoint: Endpoint) -> None:
    answer = {"id": "resp_j1" if endpoint is Endpoint.RESPONSES else "x1",
              "object": "response" if endpoint is Endpoint.RESPONSES else "chat.completion",
              "usage": USAGE, "text": "日本語"}
    raw = json.dumps(answer, ensure_ascii=False).encode()
    for chunks in ([raw], [raw[:5], raw[5:]]):
        relay = relay_for(endpoint, stream=False, hide_usage=False)
        out = b"".join(relay.feed(c) for c in chunks) + relay.finish()
        assert out == raw
        assert relay.usage.usage == USAGE
        assert relay.fresh_ids() == (["resp_j1"] if endpoint is Endpoint.RESPONSES else [])


def test_a_changed_event_is_written_anew_with_its_other_fields() -> None:
    framing = SseFraming()
    (event,) = framing.feed(b"event: delta\r\ndata: {\"a\": 1}\r\n\r\n")
    event.replace({"a": 2})
    assert framing.encode(event) == b'event: delta\r\ndata: {"a":2}\n\n'
    json_framing = JsonFraming()
    assert json_framing.feed(b'{"a": 1}') == []
    (whole,) = json_framing.finish()
    whole.replace({"a": 2})
    assert json.loads(json_framing.encode(whole)) == {"a": 2}


@pytest.mark.parametrize("newline", NEWLINES)
def test_a_crlf_split_between_chunks_is_one_line_end(newline: str) -> None:
    # Two data lines make one event: a CR ending one chunk and the LF starting the next are
    # one line end, not a blank line that would cut the event in two.
    raw = f"data: first{newline}data: second{newline}{newline}data: [DONE]{newline}{newline}"
    for chunks in chunkings(raw.encode()):
        framing = SseFraming()
        events = [e for c in chunks for e in framing.feed(c)] + framing.finish()
        assert [e.data for e in events if e.data is not None] == ["first\nsecond", "[DONE]"]
        assert b"".join(e.raw for e in events) == raw.encode()


def test_an_answers_output_items_and_conversation_are_references_of_its_owner() -> None:
    answer = {"id": "resp_9", "object": "response", "conversation": {"id": "conv_9"},
              "output": [{"type": "reasoning", "id": "rs_9"},
                         {"type": "message", "id": "msg_9", "content": []}]}
    relay = relay_for(Endpoint.RESPONSES, stream=False, hide_usage=False)
    relay.feed(json.dumps(answer).encode())
    relay.finish()
    assert relay.fresh_ids() == ["resp_9", "rs_9", "msg_9", "conv_9"]
    streamed = relay_for(Endpoint.RESPONSES, stream=True, hide_usage=False)
    streamed.feed(encode([json.dumps({"type": "response.output_item.added", "output_index": 0,
                                      "item": {"type": "message", "id": "msg_10"}})]))
    assert streamed.fresh_ids() == ["msg_10"]


def test_an_event_without_end_past_the_limit_breaks_the_stream(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import proxy.relay

    monkeypatch.setattr(proxy.relay, "MAX_EVENT_BYTES", 1000)
    relay = relay_for(Endpoint.CHAT, stream=True, hide_usage=False)
    first = encode(chat_stream())[:encode(chat_stream()).index(b"data:", 10)]
    out = relay.feed(first)
    out += b"".join(relay.feed(b'data: {"x": "' + b"y" * 99) for _ in range(8))
    assert not relay.malformed
    out += relay.feed(b"y" * 200)
    assert relay.malformed
    out += relay.feed(b'"}\n\n' + encode(chat_stream())) + relay.finish(complete=False)
    assert out == first

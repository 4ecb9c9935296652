"""Restoration in the response stage: recorded answers with placeholders, every chunking.

What a client accumulates from the relayed stream (content deltas, tool-call argument
fragments, Responses deltas and done events) must be the restored text, whatever pieces the
socket cut the stream into and wherever the model's own pieces split a placeholder.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from test_relay import encode

from proxy.pseudonyms import PlaceholderFormat, Pseudonyms, Restorer
from proxy.relay import SseFraming, relay_for
from proxy.restore import Restoration
from proxy.values import Endpoint

NAME, MAIL = "山田太郎", 'hana "h" ito@example.jp'


def mapping() -> Pseudonyms:
    pseudonyms = Pseudonyms(PlaceholderFormat())
    pseudonyms.placeholder("PERSON", "name", NAME)
    pseudonyms.placeholder("EMAIL_ADDRESS", "mail", MAIL)
    return pseudonyms


def relay(endpoint: Endpoint, chunks: list[bytes], *, stream: bool = True,
          hide_usage: bool = False) -> tuple[bytes, Restoration]:
    restoration = Restoration(endpoint, Restorer(mapping()), stream=stream)
    r = relay_for(endpoint, stream=stream, hide_usage=hide_usage, extra=[restoration])
    out = b"".join(r.feed(c) for c in chunks) + r.finish()
    return out, restoration


def payloads(raw: bytes) -> list[Any]:
    framing = SseFraming()
    events = framing.feed(raw) + framing.finish()
    return [json.loads(e.data) for e in events
            if e.data is not None and e.data.strip() not in ("", "[DONE]")]


def chat_chunk(index: int, delta: dict[str, Any], finish: str | None = None) -> str:
    return json.dumps({"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "m",
                       "choices": [{"index": index, "delta": delta, "finish_reason": finish}]},
                      ensure_ascii=False)


def pieces_of(text: str, *cuts: int) -> list[str]:
    bounds = [0, *cuts, len(text)]
    return [text[a:b] for a, b in zip(bounds, bounds[1:], strict=False)]


def accumulate_chat(raw: bytes) -> tuple[dict[int, str], dict[tuple[int, int], str]]:
    content: dict[int, str] = {}
    arguments: dict[tuple[int, int], str] = {}
    for p in payloads(raw):
        for choice in p["choices"]:
            delta = choice.get("delta") or {}
            if delta.get("content"):
                content[choice["index"]] = content.get(choice["index"], "") + delta["content"]
            for call in delta.get("tool_calls") or []:
                key = (choice["index"], call["index"])
                arguments[key] = arguments.get(key, "") + call["function"].get("arguments", "")
    return content, arguments


ANSWER = "Dear [[PERSON_1]]様、we wrote to [[ email_1 ]]. [[PERSON_9]] stays."
RESTORED = f"Dear {NAME}様、we wrote to {MAIL}. [[PERSON_9]] stays."


@pytest.mark.parametrize("cut", range(0, len(ANSWER) + 1, 3))
def test_chat_content_split_by_the_model_and_the_socket_is_restored(cut: int) -> None:
    events = [chat_chunk(0, {"role": "assistant", "content": ""})]
    events += [chat_chunk(0, {"content": p}) for p in pieces_of(ANSWER, cut)]
    events += [chat_chunk(0, {}, "stop"), "[DONE]"]
    raw = encode(events)
    for chunks in ([raw], [raw[i:i + 7] for i in range(0, len(raw), 7)]):
        out, restoration = relay(Endpoint.CHAT, chunks)
        content, _ = accumulate_chat(out)
        assert content == {0: RESTORED}
        assert restoration.restorer.restored == 2


def test_one_character_per_chunk_and_every_socket_cut() -> None:
    events = [chat_chunk(0, {"content": ch}) for ch in ANSWER]
    events += [chat_chunk(0, {}, "stop"), "[DONE]"]
    raw = encode(events, "\r\n")
    ways = [[raw], [raw[i:i + 1] for i in range(len(raw))]]
    ways += [[raw[:i], raw[i:]] for i in range(1, len(raw), 17)]
    for chunks in ways:
        out, _ = relay(Endpoint.CHAT, chunks)
        assert accumulate_chat(out)[0] == {0: RESTORED}


@pytest.mark.parametrize("cut", range(1, 60, 2))
def test_tool_call_arguments_streamed_in_fragments_are_restored_json_escaped(cut: int) -> None:
    arguments = json.dumps({"customer": "[[PERSON_1]]", "email": "[[EMAIL_1]]"})
    first, rest = arguments[:cut], arguments[cut:]
    events = [
        chat_chunk(0, {"role": "assistant", "tool_calls": [
            {"index": 0, "id": "call_1", "type": "function",
             "function": {"name": "send_mail", "arguments": first}}]}),
        *[chat_chunk(0, {"tool_calls": [{"index": 0, "function": {"arguments": p}}]})
          for p in pieces_of(rest, len(rest) // 2)],
        chat_chunk(0, {}, "tool_calls"), "[DONE]",
    ]
    out, _ = relay(Endpoint.CHAT, [encode(events)])
    _, calls = accumulate_chat(out)
    assert json.loads(calls[(0, 0)]) == {"customer": NAME, "email": MAIL}


def test_two_choices_are_restored_apart() -> None:
    a, b = "Hi [[PERSON_1]]!", "Hello [[PERSON_1]] ([[EMAIL_1]])"
    events = []
    for i in range(max(len(a), len(b))):
        if i < len(a):
            events.append(chat_chunk(0, {"content": a[i]}))
        if i < len(b):
            events.append(chat_chunk(1, {"content": b[i]}))
    events += [chat_chunk(0, {}, "stop"), chat_chunk(1, {}, "stop"), "[DONE]"]
    out, _ = relay(Endpoint.CHAT, [encode(events)])
    assert accumulate_chat(out)[0] == {0: f"Hi {NAME}!", 1: f"Hello {NAME} ({MAIL})"}


def test_a_stream_cut_short_still_gets_its_held_back_tail() -> None:
    events = [chat_chunk(0, {"content": "To [[PERSON_1]] and [[PER"})]
    out, _ = relay(Endpoint.CHAT, [encode(events)])
    assert accumulate_chat(out)[0] == {0: f"To {NAME} and [[PER"}


def test_completions_text_is_restored() -> None:
    events = [json.dumps({"id": "x", "object": "text_completion", "choices": [
        {"index": 0, "text": p, "finish_reason": None}]}) for p in pieces_of(ANSWER, 9, 14)]
    events += [json.dumps({"id": "x", "object": "text_completion", "choices": [
        {"index": 0, "text": "", "finish_reason": "stop"}]}), "[DONE]"]
    out, _ = relay(Endpoint.COMPLETIONS, [encode(events)])
    text = "".join(c["text"] for p in payloads(out) for c in p["choices"])
    assert text == RESTORED


def responses_events(text_cuts: tuple[int, ...], args_cut: int) -> list[str]:
    arguments = json.dumps({"to": "[[EMAIL_1]]"})
    message = {"type": "message", "id": "msg_1", "role": "assistant", "status": "completed",
               "content": [{"type": "output_text", "text": ANSWER, "annotations": []}]}
    call = {"type": "function_call", "id": "fc_1", "call_id": "call_1", "name": "send",
            "arguments": arguments, "status": "completed"}
    base = {"item_id": "msg_1", "output_index": 0, "content_index": 0}
    raw: list[dict[str, Any]] = [
        {"type": "response.created", "response": {"id": "resp_1", "object": "response",
                                                  "output": []}},
        *[{"type": "response.output_text.delta", **base, "delta": p}
          for p in pieces_of(ANSWER, *text_cuts)],
        {"type": "response.output_text.done", **base, "text": ANSWER},
        {"type": "response.output_item.done", "output_index": 0, "item": message},
        *[{"type": "response.function_call_arguments.delta", "item_id": "fc_1",
           "output_index": 1, "delta": p} for p in pieces_of(arguments, args_cut)],
        {"type": "response.function_call_arguments.done", "item_id": "fc_1", "output_index": 1,
         "arguments": arguments},
        {"type": "response.output_item.done", "output_index": 1, "item": call},
        {"type": "response.completed", "response": {"id": "resp_1", "object": "response",
                                                    "output": [message, call]}},
    ]
    return [json.dumps(e) for e in raw]


@pytest.mark.parametrize("cut", range(1, len(ANSWER), 4))
def test_responses_deltas_done_events_and_the_completed_response_are_restored(cut: int) -> None:
    lines = [f"event: {json.loads(e)['type']}\ndata: {e}\n\n" for e in
             responses_events((cut,), 9)]
    out, _ = relay(Endpoint.RESPONSES, [("".join(lines)).encode()])
    events = payloads(out)
    text = "".join(e["delta"] for e in events if e["type"] == "response.output_text.delta")
    args = "".join(e["delta"] for e in events
                   if e["type"] == "response.function_call_arguments.delta")
    assert text == RESTORED
    assert json.loads(args) == {"to": MAIL}
    done = next(e for e in events if e["type"] == "response.output_text.done")
    assert done["text"] == RESTORED
    completed = next(e for e in events if e["type"] == "response.completed")["response"]
    assert completed["output"][0]["content"][0]["text"] == RESTORED
    assert json.loads(completed["output"][1]["arguments"]) == {"to": MAIL}
    # Events written for held-back tails carry the stream's own event line.
    assert out.count(b"event: response.output_text.delta") == sum(
        1 for e in events if e["type"] == "response.output_text.delta")


@pytest.mark.parametrize("endpoint", [Endpoint.CHAT, Endpoint.RESPONSES])
def test_json_answers_are_restored_everywhere_the_model_writes(endpoint: Endpoint) -> None:
    if endpoint is Endpoint.CHAT:
        answer: dict[str, Any] = {"choices": [
            {"index": 0, "message": {"content": ANSWER, "refusal": None, "tool_calls": [
                {"id": "c", "type": "function", "function": {
                    "name": "send", "arguments": json.dumps({"to": "[[EMAIL_1]]"})}}]}},
            {"index": 1, "message": {"content": "[[PERSON_1]]"}}]}
    else:
        answer = {"id": "resp_2", "object": "response", "instructions": "Reply to [[PERSON_1]]",
                  "output": [{"type": "message", "content": [
                      {"type": "output_text", "text": ANSWER}]},
                      {"type": "function_call", "arguments": json.dumps({"to": "[[EMAIL_1]]"})}]}
    out, restoration = relay(endpoint, [json.dumps(answer).encode()], stream=False)
    got = json.loads(out)
    if endpoint is Endpoint.CHAT:
        assert got["choices"][0]["message"]["content"] == RESTORED
        call = got["choices"][0]["message"]["tool_calls"][0]["function"]
        assert json.loads(call["arguments"]) == {"to": MAIL}
        assert got["choices"][1]["message"]["content"] == NAME
    else:
        assert got["output"][0]["content"][0]["text"] == RESTORED
        assert json.loads(got["output"][1]["arguments"]) == {"to": MAIL}
        assert got["instructions"] == f"Reply to {NAME}"
    assert restoration.restorer.restored >= 4


def test_a_held_back_tail_goes_out_with_the_chunk_that_finishes_its_choice() -> None:
    events = [chat_chunk(0, {"content": "Dear [[PERSON_1]] [["}),
              chat_chunk(0, {}, "stop"),
              json.dumps({"id": "c1", "choices": [], "usage": {"prompt_tokens": 1}}), "[DONE]"]
    out, _ = relay(Endpoint.CHAT, [encode(events)])
    chunks = payloads(out)
    finishing = next(p for p in chunks if p["choices"] and p["choices"][0]["finish_reason"])
    assert finishing["choices"][0]["delta"] == {"content": "[["}
    assert accumulate_chat(out)[0] == {0: f"Dear {NAME} [["}
    assert len(chunks) == 3  # nothing added after the finish

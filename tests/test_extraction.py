"""Extraction: every forwarded value is inspected; only the API's enumerations and models an
upstream lists are skipped."""

from __future__ import annotations

from typing import Any

import pytest

from proxy.errors import InvalidRequest
from proxy.extraction import extract, validate
from proxy.values import Endpoint


def texts(body: dict[str, Any], **kwargs: Any) -> dict[str, str]:
    segments, _ = extract(body, **kwargs)
    return {s.path: s.text for s in segments}


def test_chat_messages_of_every_role_and_shape_are_extracted() -> None:
    body = {
        "model": "gpt-4o-mini",
        "messages": [
            {"role": "system", "content": "sys"},
            {"role": "developer", "content": "dev"},
            {"role": "user", "name": "alice", "content": [{"type": "text", "text": "part"}]},
            {"role": "assistant", "content": None, "tool_calls": [
                {"id": "call_1", "type": "function",
                 "function": {"name": "fn", "arguments": "{\"q\": \"args\"}"}}]},
            {"role": "tool", "tool_call_id": "call_1", "content": "result"},
        ],
        "user": "user-42",
        "stop": ["END"],
    }
    assert texts(body) == {
        "model": "gpt-4o-mini",
        "messages[0].content": "sys",
        "messages[1].content": "dev",
        "messages[2].name": "alice",
        "messages[2].content[0].text": "part",
        "messages[3].tool_calls[0].id": "call_1",
        "messages[3].tool_calls[0].function.name": "fn",
        "messages[3].tool_calls[0].function.arguments": "{\"q\": \"args\"}",
        "messages[4].tool_call_id": "call_1",
        "messages[4].content": "result",
        "user": "user-42",
        "stop[0]": "END",
    }


def test_only_enumerations_and_listed_models_are_skipped() -> None:
    body = {"model": "gpt-4o", "messages": [{"role": "user", "content": "x"}],
            "tool_choice": "auto", "service_tier": "sk-proj-0123456789abcdefABCDEF",
            "previous_response_id": "resp_123", "reasoning_effort": "low"}
    found = texts(body, known_models=frozenset({"gpt-4o"}))
    assert "model" not in found and "tool_choice" not in found
    assert "reasoning_effort" not in found
    # Values outside the enumeration the API defines are inspected: an id, a key in an enum.
    assert found["service_tier"] == "sk-proj-0123456789abcdefABCDEF"
    assert found["previous_response_id"] == "resp_123"
    # A model no upstream lists is inspected too.
    assert texts(body)["model"] == "gpt-4o"


def test_values_carry_their_key_as_label_and_numbers_are_inspected() -> None:
    segments, _ = extract({"model": "m", "messages": [{"role": "user", "content": "x",
                                                        "name": "John_Smith"}],
                           "metadata": {"db_password": "hunter2", "card": 4111111111111111,
                                        "count": 12}})
    by_path = {s.path: s for s in segments}
    assert by_path["metadata.db_password"].label == "db_password"
    assert by_path["metadata.card"].text == "4111111111111111"
    assert by_path["metadata.card"].kind == "number"
    assert "metadata.count" not in by_path  # a count, not an identifier
    assert by_path["messages[0].name"].kind == "participant"
    assert by_path["messages[0].content"].label is None  # "content" says nothing of its value


def test_unknown_fields_and_keys_are_content() -> None:
    body = {"model": "m", "messages": [{"role": "user", "content": "x"}],
            "metadata": {"患者": "A"}, "vendor_extension": {"note": "free text"}}
    found = texts(body)
    assert found["metadata['患者']#key"] == "患者"
    assert found["metadata['患者']"] == "A"
    assert found["vendor_extension#key"] == "vendor_extension"
    assert found["vendor_extension.note"] == "free text"


@pytest.mark.parametrize(
    ("part", "flag"),
    [
        ({"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}},
         "CONTENT_IMAGE"),
        ({"type": "input_audio", "input_audio": {"data": "UklGRg==", "format": "wav"}},
         "CONTENT_AUDIO"),
        ({"type": "file", "file": {"file_data": "JVBERi0=", "filename": "a.pdf"}},
         "CONTENT_FILE"),
        ({"type": "brand_new_modality", "blob": "x"}, "CONTENT_UNKNOWN"),
    ],
)
def test_non_text_parts_are_flagged_not_analysed(part: dict[str, Any], flag: str) -> None:
    segments, flags = extract({"model": "m", "messages": [{"role": "user", "content": [part]}]})
    assert flag in flags
    assert all("base64" not in s.text and s.text not in ("AAAA", "UklGRg==", "JVBERi0=")
               for s in segments)


def test_file_names_and_plain_image_urls_are_still_inspected() -> None:
    found = texts({"model": "m", "messages": [{"role": "user", "content": [
        {"type": "file", "file": {"file_data": "JVBERi0=", "filename": "tanaka_kenko.pdf"}},
        {"type": "image_url", "image_url": {"url": "https://x.example/u/tanaka.png"}},
    ]}]})
    assert "tanaka_kenko.pdf" in found.values()
    assert "https://x.example/u/tanaka.png" in found.values()


def test_data_urls_and_blobs_anywhere_are_flagged() -> None:
    _, flags = extract({"model": "m", "messages": [{"role": "user", "content": "hi"}],
                        "x": "data:application/pdf;base64,JVBER", "y": "A" * 5000})
    assert flags == {"CONTENT_FILE"}


def test_responses_input_items_and_instructions() -> None:
    found = texts({
        "model": "m", "instructions": "be brief",
        "input": [
            {"type": "message", "role": "user",
             "content": [{"type": "input_text", "text": "question"}]},
            {"type": "function_call_output", "call_id": "call_9", "output": "tool says"},
        ],
    })
    assert found == {"model": "m", "instructions": "be brief",
                     "input[0].content[0].text": "question", "input[1].call_id": "call_9",
                     "input[1].output": "tool says"}


def test_completions_and_embeddings_inputs() -> None:
    known = {"known_models": frozenset({"m"})}
    assert texts({"model": "m", "prompt": ["a", "b"]}, **known) == {"prompt[0]": "a",
                                                                   "prompt[1]": "b"}
    assert texts({"model": "m", "input": "vec me"}, **known) == {"input": "vec me"}
    segments, flags = extract({"model": "m", "input": [[1, 2, 3]]}, **known)
    assert segments == [] and flags == {"CONTENT_TOKENS"}  # no tokenizer known for "m"


def test_token_ids_are_decoded_with_the_models_tokenizer() -> None:
    from proxy import tokens

    ids = tokens.encode("Call 090-1234-5678", "text-embedding-3-small")
    assert ids is not None
    segments, flags = extract({"model": "text-embedding-3-small", "input": [ids, ids[:2]]})
    assert flags == set()
    decoded = {s.path: (s.text, s.kind) for s in segments if s.path.startswith("input")}
    assert decoded["input[0]"] == ("Call 090-1234-5678", "tokens")
    # Ids outside the vocabulary cannot be read: flagged, never assumed clean.
    _, flags = extract({"model": "gpt-4o-mini", "prompt": [10**9]})
    assert flags == {"CONTENT_TOKENS"}


@pytest.mark.parametrize(
    ("endpoint", "body"),
    [
        (Endpoint.CHAT, []),
        (Endpoint.CHAT, {"model": "m"}),
        (Endpoint.CHAT, {"model": "", "messages": [{"role": "user", "content": "x"}]}),
        (Endpoint.COMPLETIONS, {"model": "m", "prompt": 3}),
        (Endpoint.EMBEDDINGS, {"model": "m"}),
        (Endpoint.RESPONSES, {"model": "m"}),
        (Endpoint.RESPONSES, {"model": "m", "input": 5}),
    ],
)
def test_invalid_shapes_are_rejected(endpoint: Endpoint, body: Any) -> None:
    with pytest.raises(InvalidRequest):
        validate(endpoint, body)

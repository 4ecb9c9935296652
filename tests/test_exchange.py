"""Extraction: every forwarded string is inspected; only identifiers and enums are skipped."""

from __future__ import annotations

from typing import Any

import pytest

from proxy.errors import InvalidRequest
from proxy.exchange import Endpoint, extract, validate


def texts(body: dict[str, Any]) -> dict[str, str]:
    segments, _ = extract(body)
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
        "messages[0].content": "sys",
        "messages[1].content": "dev",
        "messages[2].name": "alice",
        "messages[2].content[0].text": "part",
        "messages[3].tool_calls[0].function.name": "fn",
        "messages[3].tool_calls[0].function.arguments": "{\"q\": \"args\"}",
        "messages[4].content": "result",
        "user": "user-42",
        "stop[0]": "END",
    }


def test_identifier_fields_are_skipped_only_when_they_look_like_identifiers() -> None:
    body = {"model": "gpt-4o", "messages": [{"role": "user", "content": "x"}],
            "tool_choice": "auto", "previous_response_id": "山田太郎"}
    found = texts(body)
    assert "model" not in found and "tool_choice" not in found
    assert found["previous_response_id"] == "山田太郎"


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
    assert found == {"instructions": "be brief", "input[0].content[0].text": "question",
                     "input[1].output": "tool says"}


def test_completions_and_embeddings_inputs() -> None:
    assert texts({"model": "m", "prompt": ["a", "b"]}) == {"prompt[0]": "a", "prompt[1]": "b"}
    assert texts({"model": "m", "input": "vec me"}) == {"input": "vec me"}
    assert texts({"model": "m", "input": [[1, 2, 3]]}) == {}


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

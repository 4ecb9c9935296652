"""Drive the fake OpenAI upstream (tests/upstream.py) with the official openai SDK."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from typing import Any

import httpx
import openai
import pytest
from openai import AsyncOpenAI
from upstream import RecordingUpstream

MODEL = "gpt-test"


def _strict(obj: Any) -> Any:
    """Round-trip through real pydantic validation (construct() skips it)."""
    return type(obj).model_validate(obj.to_dict(mode="json"))


@pytest.fixture
async def up() -> AsyncIterator[RecordingUpstream]:
    upstream = RecordingUpstream("cloud", models=["gpt-test", "gpt-other"])
    await upstream.start()
    yield upstream
    await upstream.stop()


@pytest.fixture
async def client(up: RecordingUpstream) -> AsyncIterator[AsyncOpenAI]:
    async with AsyncOpenAI(base_url=up.base_url, api_key="sk-test", max_retries=0) as c:
        yield c


async def test_chat_non_streaming(up: RecordingUpstream, client: AsyncOpenAI) -> None:
    resp = await client.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "hello secret-value-42"}]
    )
    _strict(resp)
    assert resp.id.startswith("chatcmpl-") and resp.object == "chat.completion"
    assert resp.model == MODEL
    assert resp.choices[0].message.content == "reply from cloud"
    assert resp.choices[0].finish_reason == "stop"
    assert resp.usage is not None
    assert resp.usage.total_tokens == resp.usage.prompt_tokens + resp.usage.completion_tokens > 0
    [req] = up.requests
    assert (req.method, req.path) == ("POST", "/v1/chat/completions")
    assert req.headers["authorization"] == "Bearer sk-test"
    assert req.body["messages"][0]["content"] == "hello secret-value-42"
    assert "secret-value-42" in up.texts_received()
    up.clear()
    assert up.requests == [] and up.texts_received() == ""


async def test_chat_streaming_with_usage(up: RecordingUpstream, client: AsyncOpenAI) -> None:
    up.reply_text = "streamed answer text"
    stream = await client.chat.completions.create(
        model=MODEL,
        messages=[{"role": "user", "content": "hi"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = [_strict(c) async for c in stream]
    assert chunks[0].choices[0].delta.role == "assistant"
    content = [c.choices[0].delta.content for c in chunks[1:] if c.choices]
    assert len([p for p in content if p]) >= 3
    assert "".join(p or "" for p in content) == "streamed answer text"
    assert chunks[-2].choices[0].finish_reason == "stop"
    assert chunks[-1].choices == [] and chunks[-1].usage is not None
    assert chunks[-1].usage.completion_tokens == 3
    assert len({c.id for c in chunks}) == 1


async def test_chat_streaming_without_usage_and_helper(client: AsyncOpenAI) -> None:
    stream = await client.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "hi"}], stream=True
    )
    chunks = [c async for c in stream]
    assert all(c.choices for c in chunks) and all(c.usage is None for c in chunks)
    async with client.chat.completions.stream(
        model=MODEL, messages=[{"role": "user", "content": "hi"}]
    ) as s:
        final = await s.get_final_completion()
    assert final.choices[0].message.content == "reply from cloud"


async def test_completions(client: AsyncOpenAI) -> None:
    resp = _strict(await client.completions.create(model=MODEL, prompt="say hi"))
    assert resp.object == "text_completion" and resp.choices[0].text == "reply from cloud"
    assert resp.usage is not None and resp.usage.total_tokens > 0
    stream = await client.completions.create(
        model=MODEL, prompt="say hi", stream=True, stream_options={"include_usage": True}
    )
    # not _strict: the SDK types finish_reason as non-null, the real wire sends null mid-stream
    chunks = [c async for c in stream]
    assert chunks[-2].choices[0].finish_reason == "stop"
    assert "".join(c.choices[0].text for c in chunks if c.choices) == "reply from cloud"
    assert chunks[-1].choices == [] and chunks[-1].usage is not None


async def test_embeddings(up: RecordingUpstream, client: AsyncOpenAI) -> None:
    # default SDK call uses encoding_format=base64 under the hood
    one = _strict(await client.embeddings.create(model="emb", input="hello"))
    assert up.requests[-1].body["encoding_format"] == "base64"
    assert len(one.data) == 1 and len(one.data[0].embedding) == 8
    floats = await client.embeddings.create(model="emb", input="hello", encoding_format="float")
    assert floats.data[0].embedding == one.data[0].embedding  # deterministic, both formats
    many = await client.embeddings.create(model="emb", input=["a", "b", "c"])
    assert [d.index for d in many.data] == [0, 1, 2]
    assert many.usage.prompt_tokens == 3 and many.model == "emb"
    tokens = await client.embeddings.create(model="emb", input=[1, 2, 3])
    assert len(tokens.data) == 1
    token_lists = await client.embeddings.create(model="emb", input=[[1, 2], [3]], dimensions=4)
    assert len(token_lists.data) == 2 and len(token_lists.data[0].embedding) == 4


async def test_responses_non_streaming(up: RecordingUpstream, client: AsyncOpenAI) -> None:
    resp = _strict(await client.responses.create(model=MODEL, input="hello there"))
    assert resp.id.startswith("resp_cloud_") and resp.status == "completed"
    assert resp.output_text == "reply from cloud"
    assert resp.usage is not None and resp.usage.total_tokens > 0
    resp2 = await client.responses.create(model=MODEL, input="again", previous_response_id=resp.id)
    assert resp2.id != resp.id and resp2.previous_response_id == resp.id
    assert up.requests[-1].body["previous_response_id"] == resp.id


async def test_responses_streaming(client: AsyncOpenAI) -> None:
    stream = await client.responses.create(model=MODEL, input="hello", stream=True)
    events = [_strict(e) async for e in stream]
    types = [e.type for e in events]
    assert types[0] == "response.created" and types[-1] == "response.completed"
    assert events[0].response.status == "in_progress"
    assert types.count("response.output_text.delta") >= 3
    for expected in (
        "response.output_item.added",
        "response.content_part.added",
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
    ):
        assert expected in types
    assert [e.sequence_number for e in events] == list(range(len(events)))
    assert events[-1].response.output_text == "reply from cloud"
    assert events[-1].response.usage is not None
    # the SDK's stateful stream helper accepts the event sequence too
    async with client.responses.stream(model=MODEL, input="hello") as s:
        final = await s.get_final_response()
    assert final.output_text == "reply from cloud" and final.id.startswith("resp_cloud_")


async def test_models(up: RecordingUpstream, client: AsyncOpenAI) -> None:
    page = await client.models.list()
    assert [m.id for m in page.data] == ["gpt-test", "gpt-other"]
    assert all(m.owned_by == "cloud" for m in page.data)
    assert (await client.models.retrieve("gpt-test")).id == "gpt-test"
    with pytest.raises(openai.NotFoundError):
        await client.models.retrieve("nope")


async def test_unknown_path_is_404(up: RecordingUpstream) -> None:
    async with httpx.AsyncClient() as http:
        r = await http.post(up.base_url + "/nope", json={"x": "y"})
    assert r.status_code == 404 and "error" in r.json()
    assert up.requests[-1].path == "/v1/nope"


async def test_fail_status_and_fail_body(up: RecordingUpstream, client: AsyncOpenAI) -> None:
    up.fail_status = 503
    with pytest.raises(openai.InternalServerError) as exc:
        await client.chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": "x"}]
        )
    assert exc.value.status_code == 503
    assert len(up.requests) == 1  # recorded even though it failed
    up.fail_status = 429
    with pytest.raises(openai.RateLimitError):
        await client.responses.create(model=MODEL, input="x")
    up.fail_status, up.fail_body = 502, "<html>bad gateway</html>"
    async with httpx.AsyncClient() as http:
        r = await http.get(up.base_url + "/models")
    assert (r.status_code, r.text) == (502, "<html>bad gateway</html>")


async def test_delay_provokes_timeout(up: RecordingUpstream, client: AsyncOpenAI) -> None:
    up.delay = 1.0
    with pytest.raises(openai.APITimeoutError):
        await client.with_options(timeout=0.2).models.list()


async def test_stop_refuses_connections(up: RecordingUpstream, client: AsyncOpenAI) -> None:
    await client.models.list()
    await up.stop()
    with pytest.raises(openai.APIConnectionError):
        await client.models.list()
    await up.start(port=up.port)  # comes back on the same address
    assert len((await client.models.list()).data) == 2


async def test_stream_gate(up: RecordingUpstream, client: AsyncOpenAI) -> None:
    gate = threading.Event()
    up.stream_gate = gate
    received: list[Any] = []

    async def consume() -> None:
        stream = await client.chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": "hi"}], stream=True
        )
        async for chunk in stream:
            received.append(chunk)

    task = asyncio.create_task(consume())
    for _ in range(200):
        if received:
            break
        await asyncio.sleep(0.01)
    assert len(received) == 1 and received[0].choices[0].delta.role == "assistant"
    await asyncio.sleep(0.2)
    assert len(received) == 1  # held back while the gate is closed
    threading.Thread(target=gate.set).start()  # set from another thread
    await asyncio.wait_for(task, 5)
    assert "".join(c.choices[0].delta.content or "" for c in received) == "reply from cloud"


async def test_stop_interrupts_gated_stream(up: RecordingUpstream, client: AsyncOpenAI) -> None:
    up.stream_gate = threading.Event()  # never set
    stream = await client.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "hi"}], stream=True
    )
    it = stream.__aiter__()
    await it.__anext__()
    await asyncio.wait_for(up.stop(), 2)  # does not hang on the gate
    with pytest.raises(openai.APIConnectionError):
        async for _ in it:
            pass
    await stream.close()

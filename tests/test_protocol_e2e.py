"""End to end: the OpenAI wire protocol through Sekisho — streaming, endpoints, errors, headers."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import aiohttp
import openai
import pytest
from conftest import CLOUD_MODELS, LOCAL_MODELS, Stack

EMAIL = "taro.suzuki@example-corp.jp"


def test_stream_is_relayed_chunk_by_chunk_without_buffering(stack: Stack) -> None:
    gate = threading.Event()
    stack.cloud.stream_gate = gate
    client = stack.openai()
    stream = client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": "Tell me a short story."}],
        stream=True,
    )
    chunks = iter(stream)
    first = next(chunks)
    # The upstream is holding every further chunk until the gate opens: seeing the first chunk
    # now proves the proxy relayed it without waiting for the whole stream.
    assert not gate.is_set()
    assert first.choices[0].delta.role == "assistant"
    gate.set()
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "reply from cloud"


def test_stream_passes_include_usage_and_reports_route_headers(stack: Stack) -> None:
    client = stack.openai()
    with client.chat.completions.with_streaming_response.create(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": f"Write to {EMAIL}"}],
        stream=True,
        stream_options={"include_usage": True},
    ) as response:
        assert response.headers["x-sekisho-route"] == "local"
        assert response.headers["x-sekisho-rule"] == "contact-details"
        assert response.headers["content-type"].startswith("text/event-stream")
        chunks = list(response.parse())
    assert chunks[-1].usage is not None and chunks[-1].usage.total_tokens > 0
    assert stack.posts(stack.local)[0].body["stream_options"] == {"include_usage": True}
    assert stack.posts(stack.cloud) == []


async def test_async_client_streams_through_the_proxy(stack: Stack) -> None:
    client = stack.async_openai()
    async with client:
        stream = await client.chat.completions.create(
            model="gpt-4o-mini",
            messages=[{"role": "user", "content": "Name three rivers."}],
            stream=True,
        )
        text = "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])
    assert text == "reply from cloud"


def test_completions_stream(stack: Stack) -> None:
    client = stack.openai()
    stream = client.completions.create(model="gpt-4o-mini", prompt="Once upon", stream=True)
    assert "".join(c.choices[0].text for c in stream if c.choices) == "reply from cloud"


def test_embeddings_clean_go_to_the_cloud(stack: Stack) -> None:
    client = stack.openai()
    raw = client.embeddings.with_raw_response.create(
        model="text-embedding-3-small", input=["quarterly revenue grew", "factory output"]
    )
    assert raw.headers["x-sekisho-route"] == "cloud"
    assert len(raw.parse().data) == 2


def test_sensitive_embeddings_without_a_local_embedding_model_get_a_clear_503(
    stack: Stack,
) -> None:
    client = stack.openai()
    with pytest.raises(openai.APIStatusError) as info:
        client.embeddings.create(model="text-embedding-3-small", input=[f"contact {EMAIL}"])
    assert info.value.status_code == 503
    assert "local embedding model" in info.value.message
    assert stack.posts(stack.cloud) == [] and stack.posts(stack.local) == []


def test_sensitive_embeddings_use_the_local_embedding_model(make_stack: Any) -> None:
    stack = make_stack(local_embedding_model="bge-m3")
    client = stack.openai()
    raw = client.embeddings.with_raw_response.create(
        model="text-embedding-3-small", input=f"contact {EMAIL}"
    )
    assert raw.headers["x-sekisho-route"] == "local"
    assert stack.posts(stack.local)[0].body["model"] == "bge-m3"
    assert stack.posts(stack.cloud) == []


def test_responses_api_routes_and_streams(stack: Stack) -> None:
    client = stack.openai()
    raw = client.responses.with_raw_response.create(model="gpt-4o-mini", input="Hello there")
    assert raw.headers["x-sekisho-route"] == "cloud"
    assert raw.parse().output_text == "reply from cloud"
    raw = client.responses.with_raw_response.create(
        model="gpt-4o-mini",
        input=[{"role": "user", "content": [{"type": "input_text", "text": f"Mail {EMAIL}"}]}],
    )
    assert raw.headers["x-sekisho-route"] == "local"
    stream = client.responses.create(model="gpt-4o-mini", input="Stream please", stream=True)
    kinds = [event.type for event in stream]
    assert kinds[0] == "response.created" and kinds[-1] == "response.completed"
    assert EMAIL not in stack.cloud.texts_received()


def test_responses_instructions_are_inspected(stack: Stack) -> None:
    client = stack.openai()
    raw = client.responses.with_raw_response.create(
        model="gpt-4o-mini", instructions=f"Sign as {EMAIL}", input="Write a greeting"
    )
    assert raw.headers["x-sekisho-route"] == "local"
    assert stack.posts(stack.cloud) == []


def test_conversation_created_on_the_cloud_cannot_continue_with_sensitive_input(
    stack: Stack,
) -> None:
    client = stack.openai()
    first = client.responses.create(model="gpt-4o-mini", input="Plan a team offsite.")
    assert first.id.startswith("resp_cloud_")
    with pytest.raises(openai.PermissionDeniedError) as info:
        client.responses.create(
            model="gpt-4o-mini", previous_response_id=first.id, input=f"Invite {EMAIL}"
        )
    assert info.value.status_code == 403
    assert "previous_response_id" in info.value.message
    assert EMAIL not in info.value.message
    assert EMAIL not in stack.cloud.texts_received()
    assert stack.posts(stack.local) == []
    follow = client.responses.with_raw_response.create(
        model="gpt-4o-mini", previous_response_id=first.id, input="Add a lunch break."
    )
    assert follow.headers["x-sekisho-route"] == "cloud"


def test_conversation_created_locally_stays_local(stack: Stack) -> None:
    client = stack.openai()
    stream = client.responses.create(model="gpt-4o-mini", input=f"Mail {EMAIL}", stream=True)
    created = [e for e in stream if e.type == "response.created"][0].response.id
    assert created.startswith("resp_local_")
    raw = client.responses.with_raw_response.create(
        model="gpt-4o-mini", previous_response_id=created, input="And a short summary?"
    )
    assert raw.headers["x-sekisho-route"] == "local"
    assert stack.posts(stack.cloud) == []


def test_models_lists_both_upstreams_and_aliases(make_stack: Any) -> None:
    stack = make_stack(model_aliases={"company-chat": {"cloud": "gpt-4o", "local": "qwen"}})
    ids = {m.id for m in stack.openai().models.list()}
    assert ids == set(CLOUD_MODELS) | set(LOCAL_MODELS) | {"company-chat"}
    stack.stop_cloud()
    ids = {m.id for m in stack.openai().models.list()}
    assert ids == set(LOCAL_MODELS) | {"company-chat"}


def test_models_with_the_local_upstream_down_lists_the_clouds(make_stack: Any) -> None:
    stack = make_stack(model_aliases={"company-chat": {"cloud": "gpt-4o-mini"}})
    stack.stop_local()
    ids = {m.id for m in stack.openai().models.list()}
    assert ids == set(CLOUD_MODELS) | {"company-chat"}


def _post(stack: Stack, path: str, data: bytes, headers: dict[str, str] | None = None) -> Any:
    async def go() -> tuple[int, Any, Any]:
        async with aiohttp.ClientSession() as session:
            async with session.post(stack.root_url + path, data=data, headers=headers) as resp:
                return resp.status, resp.headers.copy(), await resp.json(content_type=None)

    return stack.loop.run(go())


def _get(stack: Stack, path: str, **kwargs: Any) -> tuple[int, Any, str]:
    return _get_url(stack, stack.root_url + path, **kwargs)


def _get_url(stack: Stack, url: str, **kwargs: Any) -> tuple[int, Any, str]:
    async def go() -> tuple[int, Any, str]:
        async with aiohttp.ClientSession() as session:
            async with session.get(url, **kwargs) as resp:
                return resp.status, resp.headers.copy(), await resp.text()

    return stack.loop.run(go())


def assert_openai_error(body: Any, code: str | None = None) -> None:
    assert set(body) == {"error"}
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    assert isinstance(body["error"]["type"], str)
    if code is not None:
        assert body["error"]["code"] == code


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"{not json", "invalid_json"),
        (b"\xff\xfe", "invalid_json"),
        (b'["a list"]', "invalid_request"),
        (b'{"model": "gpt-4o-mini"}', "invalid_request"),
        (b'{"model": "gpt-4o-mini", "messages": []}', "invalid_request"),
        (b'{"model": "gpt-4o-mini", "messages": [{"content": "no role"}]}', "invalid_request"),
        (b'{"model": 5, "messages": [{"role": "user", "content": "x"}]}', "invalid_request"),
        (b'{"model": "m", "messages": [{"role": "user", "content": 7}]}', "invalid_request"),
        (b'{"model": "m", "stream": "yes", "messages": [{"role": "user", "content": "x"}]}',
         "invalid_request"),
        (b'{"model": "m", "messages": [{"role": "user", "content": "hi \\ud800"}]}',
         "invalid_json"),  # a lone surrogate cannot be forwarded as UTF-8
        (b'{"model": "m", "temperature": NaN, "messages": [{"role": "user", "content": "x"}]}',
         "invalid_json"),
        (b'{"model": "m", "messages": [{"role": "user", "content": "x"}], "x": '
         + b"[" * 5000 + b"]" * 5000 + b"}", "invalid_json"),  # nesting deeper than the parser
    ],
)
def test_malformed_requests_get_openai_style_400s(stack: Stack, data: bytes, code: str) -> None:
    status, headers, body = _post(stack, "/v1/chat/completions", data,
                                  {"Content-Type": "application/json"})
    assert status == 400
    assert_openai_error(body, code)
    assert headers["x-sekisho-route"] == "block"
    assert headers["x-sekisho-rule"] == "none"
    assert headers["x-request-id"]
    assert stack.posts(stack.cloud) == [] and stack.posts(stack.local) == []


def test_oversized_body_gets_413(make_stack: Any) -> None:
    stack = make_stack(max_body_bytes=2048)
    payload = json.dumps({"model": "m", "messages": [{"role": "user", "content": "x" * 5000}]})
    status, headers, body = _post(stack, "/v1/chat/completions", payload.encode())
    assert status == 413
    assert_openai_error(body, "request_too_large")
    assert headers["x-sekisho-route"] == "block"
    assert stack.posts(stack.cloud) == []


def test_oversized_chunked_body_gets_413(make_stack: Any) -> None:
    stack = make_stack(max_body_bytes=2048)
    payload = json.dumps({"model": "m", "messages": [{"role": "user", "content": "x" * 5000}]})

    async def chunks() -> Any:
        # A generator body makes aiohttp send it chunked, without a Content-Length.
        for i in range(0, len(payload), 1000):
            yield payload[i:i + 1000].encode()

    async def go() -> tuple[int, Any, Any]:
        async with aiohttp.ClientSession() as session, session.post(
            stack.root_url + "/v1/chat/completions", data=chunks(),
            headers={"x-request-id": "chunked-1"},
        ) as resp:
            return resp.status, resp.headers.copy(), await resp.json(content_type=None)

    status, headers, body = stack.loop.run(go())
    assert status == 413
    assert_openai_error(body, "request_too_large")
    assert headers["x-request-id"] == "chunked-1"
    assert stack.posts(stack.cloud) == [] and stack.posts(stack.local) == []


def test_errors_echo_the_client_request_id(stack: Stack) -> None:
    status, headers, _ = _post(stack, "/v1/chat/completions", b"{nope",
                               {"x-request-id": "trace-err-7"})
    assert status == 400 and headers["x-request-id"] == "trace-err-7"


@pytest.mark.parametrize("path", ["/v1/files", "/v1/audio/speech", "/v1/chat/completions/x",
                                  "/nowhere"])
def test_unknown_paths_get_404_and_are_never_passed_through(stack: Stack, path: str) -> None:
    status, headers, body = _post(stack, path, b"{}")
    assert status == 404
    assert_openai_error(body)
    assert headers["x-sekisho-route"] == "block"
    assert stack.posts(stack.cloud) == [] and stack.posts(stack.local) == []


def test_the_proxy_keeps_serving_after_bad_input(stack: Stack) -> None:
    for _ in range(3):
        _post(stack, "/v1/chat/completions", b"garbage")
    completion = stack.openai().chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "still there?"}]
    )
    assert completion.choices[0].message.content == "reply from cloud"


def test_client_request_id_is_echoed_but_never_forwarded(stack: Stack) -> None:
    client = stack.openai()
    raw = client.chat.completions.with_raw_response.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}],
        extra_headers={"x-request-id": "client-trace-42", "Cookie": "session=abc"},
    )
    assert raw.headers["x-request-id"] == "client-trace-42"
    sent = stack.posts(stack.cloud)[0].headers
    assert "x-request-id" not in sent and "cookie" not in sent
    assert "client-trace-42" not in json.dumps(sent)


def test_upstream_client_errors_are_relayed_with_headers(stack: Stack) -> None:
    stack.cloud.fail_status = 400
    with pytest.raises(openai.BadRequestError) as info:
        stack.openai().chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}]
        )
    assert info.value.response.headers["x-sekisho-route"] == "cloud"
    assert stack.posts(stack.local) == []


def test_health_readiness_and_metrics(stack: Stack) -> None:
    assert _get(stack, "/healthz")[0] == 200
    assert _get(stack, "/readyz")[0] == 200
    stack.openai().chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": f"Mail {EMAIL}"}]
    )
    stack.openai().chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "Hello"}]
    )
    status, headers, text = _get_url(stack, stack.metrics_url)
    assert status == 200 and headers["Content-Type"].startswith("text/plain")
    version = _get(stack, "/healthz")[1]["x-sekisho-policy-version"]
    assert ('sekisho_routing_decisions_total{action="forward",endpoint="chat",'
            f'policy_version="{version}",route="local",rule="contact-details",'
            'tenant="default"} 1.0') in text
    assert ('sekisho_routing_decisions_total{action="forward",endpoint="chat",'
            f'policy_version="{version}",route="cloud",rule="default",'
            'tenant="default"} 1.0') in text
    assert EMAIL not in text


def test_readyz_is_503_until_the_detector_is_loaded(make_stack: Any) -> None:
    from proxy.detection.detector import Detector

    release = threading.Event()

    class SlowLoadingDetector(Detector):
        def load(self) -> None:
            release.wait(30)
            super().load()

    stack = make_stack(detector_override=SlowLoadingDetector())
    assert _get(stack, "/healthz")[0] == 200
    assert _get(stack, "/readyz")[0] == 503
    with pytest.raises(openai.APIStatusError) as info:
        stack.openai().chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}]
        )
    assert info.value.status_code == 503
    assert stack.posts(stack.cloud) == []
    # Refused while starting is still a request: counted and answered with the usual headers.
    assert "not_ready" in str(info.value.body)
    assert info.value.response.headers["x-sekisho-rule"] == "none"
    _, _, metrics = _get_url(stack, stack.metrics_url)
    assert 'route="block",rule="none"' in metrics
    release.set()
    deadline = time.monotonic() + 30
    while _get(stack, "/readyz")[0] != 200:
        assert time.monotonic() < deadline
        time.sleep(0.05)

"""The on-prem path against a real vLLM: what users run beside Sekisho, not our fake upstream.

One vLLM OpenAI server (CPU build, from ``.venv-vllm``; see tests/vllm_server.py) serves a
tiny random-weight Llama for the whole module. Each test starts the real Sekisho app
(``make_stack``) with that server as its local upstream and a recording upstream as the cloud,
and talks to Sekisho with the official openai SDK. vLLM's answers are random text, so the tests
assert structure, routes, status codes, usage and metrics — never words.

Without ``.venv-vllm`` (a developer's ``make test``) every test here skips and says which
command installs it; ``make test-vllm`` installs it and runs them.
"""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openai
import pytest
from conftest import CLOUD_MODELS, Stack, StackFactory
from prometheus_client.parser import text_string_to_metric_families
from vllm_server import (
    MAX_MODEL_LEN,
    Served,
    VllmServer,
    build_tiny_model,
    unavailable_reason,
)

from proxy.config import DEFAULT_PRICES

pytestmark = pytest.mark.vllm

_UNAVAILABLE = unavailable_reason()
if _UNAVAILABLE is not None:
    # One line in pytest's summary for the whole module, decided from files alone (no import
    # of vLLM, no model loaded).
    pytest.skip(f"needs a real vLLM: {_UNAVAILABLE}", allow_module_level=True)

SERVED_MODEL = "sekisho-tiny-llama"
# What make_stack configures as the key Sekisho sends to the local upstream; vLLM is started
# with it as its --api-key, so every answer below also proves Sekisho sent its own key (and
# not the client's, which vLLM would refuse).
LOCAL_API_KEY = "proxy-local-key"
MAX_TOKENS = 8

# Each of these is kept on-prem by the shipped policy (contact-details).
EMAIL = "maria.gonzalez@corp-mail.example.net"
SENSITIVE_CHAT = [{"role": "user", "content": f"Write a reply to {EMAIL} about the invoice."}]
SENSITIVE_PROMPT = f"Reply to {EMAIL}:"


@pytest.fixture(scope="module")
def vllm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[VllmServer]:
    workdir = tmp_path_factory.mktemp("vllm")
    started = time.monotonic()
    model = build_tiny_model(workdir / "tiny-llama", workdir / "cache")
    built = time.monotonic() - started
    server = VllmServer(model, served_model=SERVED_MODEL, api_key=LOCAL_API_KEY,
                        workdir=workdir)
    server.start()
    print(f"tiny model built in {built:.1f}s; vLLM ready in {server.ready_seconds:.1f}s "
          f"on {server.base_url}")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def on_vllm(make_stack: StackFactory, vllm: VllmServer) -> StackFactory:
    """``make_stack`` with the real vLLM as the local upstream."""
    def factory(**overrides: Any) -> Stack:
        overrides.setdefault("local_url", vllm.base_url)
        overrides.setdefault("local_api_key", LOCAL_API_KEY)
        overrides.setdefault("upstream_timeout_s", 120.0)
        return make_stack(**overrides)
    return factory


# ---------------------------------------------------------------------------- helpers
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def scrape(stack: Stack) -> Samples:
    """Every sample of the metrics listener, as Prometheus would scrape it."""
    with urllib.request.urlopen(stack.metrics_url, timeout=5) as resp:
        text = resp.read().decode()
    out: Samples = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def metric(stack: Stack, name: str, **labels: str) -> float:
    return scrape(stack).get((name, tuple(sorted(labels.items()))), 0.0)


def total(stack: Stack, name: str, **labels: str) -> float:
    """The sum of ``name``'s samples whose labels include ``labels``."""
    return sum(v for (n, ls), v in scrape(stack).items()
               if n == name and set(labels.items()) <= set(ls))


def settled(stack: Stack) -> None:
    """Wait until Sekisho has recorded every request (a stream reaches the client first)."""
    deadline = time.monotonic() + 10
    while metric(stack, "sekisho_in_flight_requests") and time.monotonic() < deadline:
        time.sleep(0.02)
    assert metric(stack, "sekisho_in_flight_requests") == 0


def local_tokens(stack: Stack, kind: str) -> float:
    return metric(stack, "sekisho_tokens_total", upstream="local", model=SERVED_MODEL, kind=kind)


def avoided(stack: Stack, model: str = "gpt-4o-mini") -> float:
    return metric(stack, "sekisho_cloud_cost_avoided_usd_total", model=model)


def list_price(prompt: int, completion: int, model: str = "gpt-4o-mini") -> float:
    price = DEFAULT_PRICES[model]
    return (prompt * price.prompt + completion * price.completion) / 1_000_000


def assert_nothing_reached_the_cloud(stack: Stack) -> None:
    assert stack.posts(stack.cloud) == []
    assert EMAIL not in stack.cloud.texts_received()


def assert_usage(usage: Any, max_completion: int = MAX_TOKENS) -> tuple[int, int]:
    """vLLM's usage block is well formed; returns (prompt, completion) tokens."""
    assert usage is not None
    assert usage.prompt_tokens > 0
    assert 1 <= usage.completion_tokens <= max_completion
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens
    return usage.prompt_tokens, usage.completion_tokens


def shape(value: Any) -> Any:
    """The keys of a JSON value at every depth, its leaves left out: what a faithful relay
    keeps of an answer whose text, ids and timestamps differ from one request to the next."""
    if isinstance(value, dict):
        return {k: shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [shape(v) for v in value]
    return None


def audit_lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


# ---------------------------------------------------------------------------- chat
def test_sensitive_chat_is_answered_by_vllm_under_its_served_name(
        on_vllm: StackFactory, vllm: VllmServer, tmp_path: Path) -> None:
    audit = tmp_path / "audit.jsonl"
    stack = on_vllm(audit_log=str(audit))
    raw = stack.openai().chat.completions.with_raw_response.create(
        model="gpt-4o-mini", messages=SENSITIVE_CHAT, max_tokens=MAX_TOKENS, temperature=0)
    completion = raw.parse()

    assert raw.status_code == 200
    assert raw.headers["x-sekisho-route"] == "local"
    assert raw.headers["x-sekisho-rule"] == "contact-details"
    assert raw.headers["x-sekisho-action"] == "forward"
    # No local_model configured: Sekisho discovered vLLM's served name and sent it; vLLM's own
    # answer names the model it ran.
    assert completion.model == SERVED_MODEL
    assert completion.object == "chat.completion"
    assert len(completion.choices) == 1
    choice = completion.choices[0]
    assert choice.message.role == "assistant"
    assert isinstance(choice.message.content, str)
    assert choice.finish_reason in ("stop", "length")
    assert_usage(completion.usage)
    # Every field of vLLM's answer arrives, its own extensions (stop_reason, prompt_logprobs,
    # kv_transfer_params, …) included: compared with what vLLM answers the same request.
    status, direct = vllm.request("POST", "/chat/completions", {
        "model": SERVED_MODEL, "messages": SENSITIVE_CHAT, "max_tokens": MAX_TOKENS,
        "temperature": 0})
    assert status == 200
    assert shape(raw.http_response.json()) == shape(direct)
    assert completion.system_fingerprint == direct["system_fingerprint"]
    assert completion.usage is not None
    assert completion.usage.prompt_tokens == direct["usage"]["prompt_tokens"]
    [line] = audit_lines(audit)
    assert (line["route"], line["requested_model"], line["forwarded_model"]) == (
        "local", "gpt-4o-mini", SERVED_MODEL)
    assert_nothing_reached_the_cloud(stack)


def test_clean_chat_goes_to_the_cloud_and_vllm_is_not_asked(on_vllm: StackFactory,
                                                            vllm: VllmServer) -> None:
    stack = on_vllm()
    before = vllm.served()
    raw = stack.openai().chat.completions.with_raw_response.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "Explain DNS briefly."}],
        max_tokens=MAX_TOKENS)
    assert raw.headers["x-sekisho-route"] == "cloud"
    assert raw.parse().choices[0].message.content == "reply from cloud"
    assert [p.body["model"] for p in stack.posts(stack.cloud)] == ["gpt-4o-mini"]
    settled(stack)
    assert local_tokens(stack, "prompt") == 0
    assert vllm.served() - before == Served(0, 0, 0)


def test_tokens_and_cost_avoided_come_from_vllms_usage(on_vllm: StackFactory,
                                                      vllm: VllmServer) -> None:
    stack = on_vllm()
    before = vllm.served()
    completion = stack.openai().chat.completions.create(
        model="gpt-4o-mini", messages=SENSITIVE_CHAT, max_tokens=MAX_TOKENS, temperature=0)
    prompt, produced = assert_usage(completion.usage)
    settled(stack)
    # The usage block is vLLM's own account: its Prometheus counters agree.
    assert vllm.served() - before == Served(1, prompt, produced)

    assert local_tokens(stack, "prompt") == prompt
    assert local_tokens(stack, "completion") == produced
    # What the same tokens would have cost on the cloud model the client asked for.
    assert avoided(stack) == pytest.approx(list_price(prompt, produced))
    assert metric(stack, "sekisho_cloud_cost_usd_total", model="gpt-4o-mini") == 0
    assert total(stack, "sekisho_routing_decisions_total", route="local",
                 rule="contact-details", endpoint="chat") == 1
    assert_nothing_reached_the_cloud(stack)


def test_streamed_chat_with_include_usage_relays_vllms_chunks_and_counts_tokens(
        on_vllm: StackFactory, vllm: VllmServer) -> None:
    stack = on_vllm()
    before = vllm.served()
    with stack.openai().chat.completions.with_streaming_response.create(
            model="gpt-4o-mini", messages=SENSITIVE_CHAT, max_tokens=MAX_TOKENS, temperature=0,
            stream=True, stream_options={"include_usage": True}) as response:
        assert response.headers["x-sekisho-route"] == "local"
        assert response.headers["content-type"].startswith("text/event-stream")
        chunks = list(response.parse())

    assert chunks, "no chunk relayed"
    assert {c.model for c in chunks} == {SERVED_MODEL}
    assert {c.object for c in chunks} == {"chat.completion.chunk"}
    assert len({c.id for c in chunks}) == 1
    *content, last = chunks
    # vLLM's usage-only chunk closes the stream, exactly once, as the client asked.
    assert last.choices == []
    assert [c for c in content if c.usage is not None] == []
    prompt, produced = assert_usage(last.usage)
    finishes = [ch.finish_reason for c in content for ch in c.choices if ch.finish_reason]
    assert finishes and finishes[-1] in ("stop", "length")
    text = "".join(ch.delta.content or "" for c in content for ch in c.choices)
    assert isinstance(text, str)

    settled(stack)
    assert vllm.served() - before == Served(1, prompt, produced)
    assert local_tokens(stack, "prompt") == prompt
    assert local_tokens(stack, "completion") == produced
    assert avoided(stack) == pytest.approx(list_price(prompt, produced))
    assert metric(stack, "sekisho_upstream_ttft_seconds_count", upstream="local") == 1
    assert_nothing_reached_the_cloud(stack)


def test_stream_without_include_usage_hides_the_usage_sekisho_asked_for(
        on_vllm: StackFactory, vllm: VllmServer) -> None:
    stack = on_vllm()
    before = vllm.served()
    chunks = list(stack.openai().chat.completions.create(
        model="gpt-4o-mini", messages=SENSITIVE_CHAT, max_tokens=MAX_TOKENS, temperature=0,
        stream=True))
    assert chunks and all(c.usage is None for c in chunks)
    assert all(c.choices for c in chunks)
    settled(stack)
    # Sekisho asked vLLM for the usage chunk anyway, counted it and kept it from the client.
    served = vllm.served() - before
    assert served.requests == 1
    assert local_tokens(stack, "prompt") == served.prompt_tokens > 0
    assert local_tokens(stack, "completion") == served.generation_tokens
    assert 1 <= served.generation_tokens <= MAX_TOKENS
    assert avoided(stack) == pytest.approx(
        list_price(served.prompt_tokens, served.generation_tokens))
    assert_nothing_reached_the_cloud(stack)


# ---------------------------------------------------------------------------- completions
def test_sensitive_completions_non_streamed_and_streamed(on_vllm: StackFactory) -> None:
    stack = on_vllm()
    client = stack.openai()
    raw = client.completions.with_raw_response.create(
        model="gpt-4o-mini", prompt=SENSITIVE_PROMPT, max_tokens=MAX_TOKENS, temperature=0)
    completion = raw.parse()
    assert raw.headers["x-sekisho-route"] == "local"
    assert completion.model == SERVED_MODEL
    assert completion.object == "text_completion"
    assert len(completion.choices) == 1
    assert isinstance(completion.choices[0].text, str)
    assert completion.choices[0].finish_reason in ("stop", "length")
    prompt, produced = assert_usage(completion.usage)

    chunks = list(client.completions.create(
        model="gpt-4o-mini", prompt=SENSITIVE_PROMPT, max_tokens=MAX_TOKENS, temperature=0,
        stream=True, stream_options={"include_usage": True}))
    assert {c.model for c in chunks} == {SERVED_MODEL}
    assert chunks[-1].choices == []
    streamed_prompt, streamed = assert_usage(chunks[-1].usage)
    # The same prompt, tokenized by the same server.
    assert streamed_prompt == prompt

    # A stream whose client did not ask for usage: none reaches it, the metrics still count.
    hidden = list(client.completions.create(
        model="gpt-4o-mini", prompt=SENSITIVE_PROMPT, max_tokens=MAX_TOKENS, temperature=0,
        stream=True))
    assert hidden and all(c.usage is None and c.choices for c in hidden)

    settled(stack)
    assert local_tokens(stack, "prompt") == 3 * prompt
    counted = local_tokens(stack, "completion") - produced - streamed
    assert 1 <= counted <= MAX_TOKENS
    assert avoided(stack) == pytest.approx(
        list_price(prompt, produced) + list_price(streamed_prompt, streamed)
        + list_price(prompt, int(counted)))
    assert_nothing_reached_the_cloud(stack)


# ---------------------------------------------------------------------------- responses
def test_sensitive_responses_request_is_answered_by_vllm(on_vllm: StackFactory) -> None:
    stack = on_vllm()
    client = stack.openai()
    raw = client.responses.with_raw_response.create(
        model="gpt-4o-mini", input=SENSITIVE_CHAT[0]["content"], max_output_tokens=MAX_TOKENS,
        temperature=0)
    response = raw.parse()
    assert raw.headers["x-sekisho-route"] == "local"
    assert response.object == "response"
    assert response.model == SERVED_MODEL
    assert response.id.startswith("resp_")
    assert [item.type for item in response.output] == ["message"]
    assert isinstance(response.output_text, str)
    assert response.usage is not None
    prompt, produced = response.usage.input_tokens, response.usage.output_tokens
    assert prompt > 0 and 1 <= produced <= MAX_TOKENS

    with client.responses.stream(
            model="gpt-4o-mini", input=SENSITIVE_CHAT[0]["content"],
            max_output_tokens=MAX_TOKENS, temperature=0) as stream:
        types = [event.type for event in stream]
        final = stream.get_final_response()
    assert types[0] == "response.created"
    assert types[-1] in ("response.completed", "response.incomplete")
    assert final.model == SERVED_MODEL
    assert final.usage is not None

    settled(stack)
    assert local_tokens(stack, "prompt") == prompt + final.usage.input_tokens
    assert local_tokens(stack, "completion") == produced + final.usage.output_tokens
    assert avoided(stack) == pytest.approx(
        list_price(prompt, produced)
        + list_price(final.usage.input_tokens, final.usage.output_tokens))
    assert_nothing_reached_the_cloud(stack)


# ---------------------------------------------------------------------------- models
def test_models_is_the_union_of_the_cloud_vllm_and_the_aliases(on_vllm: StackFactory,
                                                               vllm: VllmServer) -> None:
    stack = on_vllm(model_aliases={"company-chat": {"cloud": "gpt-4o-mini",
                                                    "local": SERVED_MODEL}})
    raw = stack.openai().models.with_raw_response.list()
    ids = [m.id for m in raw.parse()]
    assert raw.headers["x-sekisho-route"] == "block"
    assert set(ids) >= {*CLOUD_MODELS, SERVED_MODEL, "company-chat"}
    assert len(ids) == len(set(ids))
    # vLLM's own model card arrives whole (max_model_len, root, permission, …); its times and
    # permission ids are those of each listing.
    status, direct = vllm.request("GET", "/models")
    [relayed] = [m for m in raw.http_response.json()["data"] if m["id"] == SERVED_MODEL]
    [card] = direct["data"]
    assert status == 200
    assert shape(relayed) == shape(card)
    stable = ("id", "object", "owned_by", "root", "parent", "max_model_len")
    assert {k: relayed[k] for k in stable} == {k: card[k] for k in stable}
    assert relayed["max_model_len"] == MAX_MODEL_LEN
    # vLLM really checks the key: the client's own would have been refused.
    status, _ = vllm.request("GET", "/models", api_key="sk-client-key-never-forwarded")
    assert status == 401
    # The health probe and the model listing reached vLLM with Sekisho's key.
    assert metric(stack, "sekisho_upstream_up", upstream="local") == 1


@pytest.mark.parametrize("config", ["local_model", "alias"])
def test_configured_mapping_sends_vllm_its_served_name(on_vllm: StackFactory,
                                                       config: str) -> None:
    if config == "local_model":
        stack, requested = on_vllm(local_model=SERVED_MODEL), "gpt-4o-mini"
    else:
        stack = on_vllm(model_aliases={"company-chat": {"cloud": "gpt-4o-mini",
                                                        "local": SERVED_MODEL}})
        requested = "company-chat"
    completion = stack.openai().chat.completions.create(
        model=requested, messages=SENSITIVE_CHAT, max_tokens=MAX_TOKENS, temperature=0)
    assert completion.model == SERVED_MODEL
    prompt, produced = assert_usage(completion.usage)
    settled(stack)
    # An alias's avoided cost is priced on the cloud model it stands for.
    assert avoided(stack) == pytest.approx(list_price(prompt, produced))
    assert_nothing_reached_the_cloud(stack)


# ---------------------------------------------------------------------------- vLLM's errors
def test_unknown_model_is_vllms_own_404(on_vllm: StackFactory, vllm: VllmServer) -> None:
    stack = on_vllm(local_model="no-such-model")
    with pytest.raises(openai.NotFoundError) as caught:
        stack.openai().chat.completions.create(
            model="gpt-4o-mini", messages=SENSITIVE_CHAT, max_tokens=MAX_TOKENS)
    relayed = caught.value.response
    status, direct = vllm.request("POST", "/chat/completions", {
        "model": "no-such-model", "messages": SENSITIVE_CHAT, "max_tokens": MAX_TOKENS})

    assert (relayed.status_code, status) == (404, 404)
    assert relayed.headers["x-sekisho-route"] == "local"
    assert relayed.json() == direct
    assert "no-such-model" in json.dumps(direct)
    settled(stack)
    assert metric(stack, "sekisho_upstream_errors_total", upstream="local",
                  kind="status_4xx") == 1
    assert_nothing_reached_the_cloud(stack)


# A prompt of ~600 byte-level tokens: longer than the whole context.
LONG_CHAT = [{"role": "user", "content": f"Forward this to {EMAIL}: " + "x" * 600}]


@pytest.mark.parametrize(("messages", "max_tokens", "stream", "param"), [
    (SENSITIVE_CHAT, MAX_MODEL_LEN * 4, False, "max_tokens"),
    (SENSITIVE_CHAT, MAX_MODEL_LEN * 4, True, "max_tokens"),
    (LONG_CHAT, MAX_TOKENS, False, "input_tokens"),
], ids=["max_tokens_over_the_context", "streamed_max_tokens_over_the_context",
        "prompt_over_the_context"])
def test_request_beyond_the_context_is_vllms_own_400(
        on_vllm: StackFactory, vllm: VllmServer, messages: list[dict[str, str]],
        max_tokens: int, stream: bool, param: str) -> None:
    stack = on_vllm()
    with pytest.raises(openai.BadRequestError) as caught:
        stack.openai().chat.completions.create(
            model="gpt-4o-mini", messages=messages, max_tokens=max_tokens, stream=stream)
    relayed = caught.value.response
    # A stream refused before it starts is a JSON error, as vLLM sends it.
    body: dict[str, Any] = {"model": SERVED_MODEL, "messages": messages,
                            "max_tokens": max_tokens}
    if stream:
        body.update(stream=True, stream_options={"include_usage": True})
    status, direct = vllm.request("POST", "/chat/completions", body)

    assert (relayed.status_code, status) == (400, 400)
    assert direct["error"]["param"] == param
    assert relayed.headers["x-sekisho-route"] == "local"
    assert relayed.json() == direct
    assert str(MAX_MODEL_LEN) in json.dumps(direct)
    settled(stack)
    assert metric(stack, "sekisho_upstream_errors_total", upstream="local",
                  kind="status_4xx") == 1
    assert local_tokens(stack, "prompt") == 0
    assert_nothing_reached_the_cloud(stack)

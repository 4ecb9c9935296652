"""Every kind of policy condition, decided over HTTP against the running app.

The decision tables in ``tests/policy`` pin ``decide()``; these pin that the running proxy feeds
it the right facts (headers, model, endpoint, text, tokens, non-text parts) and acts on the
result: which upstream received the request, which rule the headers name, what a blocked
client is told.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import openai
import pytest
from conftest import Stack

from proxy.config import load_settings

EMAIL = "sachiko.mori@example-shop.jp"
MY_NUMBER = "123456789018"

CONDITIONS = """
default: {route: cloud}
rules:
  - name: design-docs-local
    when: {keywords: [社外秘, confidential]}
    route: local
  - name: project-codes-local
    when: {regex: ['prj-[0-9]{4}']}
    route: local
  - name: legal-team-local
    when: {headers: {x-team: legal}}
    route: local
  - name: on-prem-model
    when: {models: ["company-*"]}
    route: local
  - name: no-cloud-embeddings
    when: {endpoints: [embeddings], entities: [EMAIL_ADDRESS]}
    route: block
  - name: long-prompts-local
    when: {min_tokens: 400}
    route: local
  - name: images-blocked
    when: {non_text: true}
    route: block
  - name: contacts
    when: {entities: [EMAIL_ADDRESS, JP_MY_NUMBER]}
    route: cloud
    action: redact
    entity_actions: {JP_MY_NUMBER: local}
"""


@pytest.fixture()
def stack(make_stack: Any, tmp_path: Path) -> Stack:
    policy = tmp_path / "conditions.yaml"
    policy.write_text(CONDITIONS, encoding="utf-8")
    return make_stack(policy=policy)


def chat(stack: Stack, text: str, model: str = "gpt-4o-mini", **kwargs: Any) -> Any:
    return stack.openai().chat.completions.with_raw_response.create(
        model=model, messages=[{"role": "user", "content": text}], **kwargs
    )


def decided(response: Any) -> tuple[str, str]:
    return response.headers["x-sekisho-route"], response.headers["x-sekisho-rule"]


@pytest.mark.parametrize(
    ("text", "kwargs", "expected"),
    [
        pytest.param("この設計書は社外秘です。要約して", {}, ("local", "design-docs-local"),
                     id="keyword"),
        pytest.param("Status of PRJ-2231 please", {}, ("local", "project-codes-local"),
                     id="regex-matches-any-case"),
        pytest.param("Review this clause", {"extra_headers": {"X-Team": "legal"}},
                     ("local", "legal-team-local"), id="header"),
        pytest.param("Review this clause", {"model": "company-chat"},
                     ("local", "on-prem-model"), id="model"),
        pytest.param("word " * 450, {}, ("local", "long-prompts-local"), id="tokens"),
        pytest.param("What is TCP?", {}, ("cloud", "default"), id="nothing-matches"),
    ],
)
def test_each_condition_routes_over_http(
    stack: Stack, text: str, kwargs: dict[str, Any], expected: tuple[str, str]
) -> None:
    response = chat(stack, text, **kwargs)
    assert decided(response) == expected
    went = stack.posts(stack.local if expected[0] == "local" else stack.cloud)
    assert len(went) == 1
    other = stack.posts(stack.cloud if expected[0] == "local" else stack.local)
    assert other == []


def test_endpoint_condition_blocks_embeddings_but_not_chat(stack: Stack) -> None:
    with pytest.raises(openai.PermissionDeniedError) as info:
        stack.openai().embeddings.create(model="text-embedding-3-small",
                                         input=f"customer {EMAIL}")
    assert info.value.response.headers["x-sekisho-rule"] == "no-cloud-embeddings"
    assert "EMAIL_ADDRESS" in info.value.message and EMAIL not in info.value.message
    assert decided(chat(stack, f"Write to {EMAIL}")) == ("cloud", "contacts")


def test_per_entity_actions_redact_one_type_and_keep_another_local(stack: Stack) -> None:
    assert decided(chat(stack, f"Write to {EMAIL}")) == ("cloud", "contacts")
    (sent,) = stack.posts(stack.cloud)
    assert EMAIL not in json.dumps(sent.body, ensure_ascii=False)
    assert "<EMAIL_ADDRESS>" in sent.body["messages"][0]["content"]
    assert decided(chat(stack, f"Write to {EMAIL}, My Number {MY_NUMBER}")) == (
        "local", "contacts")
    assert len(stack.posts(stack.cloud)) == 1


def test_block_messages_name_the_kind_of_data_for_every_condition(
    make_stack: Any, stack: Stack, tmp_path: Path
) -> None:
    image = {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}}
    with pytest.raises(openai.PermissionDeniedError) as info:
        stack.openai().chat.completions.create(
            model="gpt-4o-mini",
            messages=[{"role": "user", "content": [{"type": "text", "text": "What is this?"},
                                                   image]}])
    assert info.value.response.headers["x-sekisho-rule"] == "images-blocked"
    assert "CONTENT_IMAGE" in info.value.message

    keyword_block = tmp_path / "keyword-block.yaml"
    keyword_block.write_text(
        "default: {route: cloud}\n"
        "rules:\n"
        "  - name: no-secret-projects\n"
        "    when: {keywords: [hayabusa]}\n"
        "    route: block\n", encoding="utf-8")
    blocking = make_stack(policy=keyword_block)
    with pytest.raises(openai.PermissionDeniedError) as info:
        chat(blocking, "Summarise the Hayabusa launch plan")
    assert "a confidential marking or keyword" in info.value.message
    assert "ayabusa" not in info.value.message

    default_block = tmp_path / "default-block.yaml"
    default_block.write_text("default: {route: block}\n", encoding="utf-8")
    closed = make_stack(policy=default_block)
    with pytest.raises(openai.PermissionDeniedError) as info:
        chat(closed, "What is TCP?")
    assert info.value.response.headers["x-sekisho-rule"] == "default"
    assert "default" in info.value.message and "contains" not in info.value.message
    assert stack.posts(stack.cloud) == [] and blocking.posts(blocking.cloud) == []


def test_admin_key_comes_from_the_environment() -> None:
    settings = load_settings(environ={"SEKISHO_ADMIN_KEY": "from-env"})
    assert settings.admin_key == "from-env"

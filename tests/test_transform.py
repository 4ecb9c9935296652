"""The request transforms: what each upstream attempt is sent, built from the original body.

Findings are given by hand here (no detector): the transforms must work from whatever
inspection found, and these tests are about what they do with it.
"""

from __future__ import annotations

import copy
from typing import Any

from proxy.config import Settings
from proxy.inspection import Context, Inspection, conclude, prepare
from proxy.policy import parse_policy
from proxy.transform import body_for, lacks_usage, map_model, redact, with_usage
from proxy.values import Endpoint, Finding, Route

POLICY = parse_policy("""
default: {route: cloud}
rules:
  - name: contacts
    when: {entities: [EMAIL_ADDRESS]}
    route: cloud
    action: redact
""")
SETTINGS = Settings.model_validate({
    "model_aliases": {"team-model": {"cloud": "gpt-4o-mini", "local": "qwen-local"}},
})
EMAIL = "hana.ito@example.jp"


def inspection(body: dict[str, Any], findings: list[tuple[str, str, str]]) -> Inspection:
    """An inspection of ``body`` whose detector found ``(type, path, value)``."""
    context = Context(known_models=SETTINGS.configured_models() | {"gpt-4o"})
    prepared = prepare(Endpoint.CHAT, body, context)
    texts = {s.path: s.text for s in prepared.segments}
    detected = [
        Finding(kind, 1.0, path, texts[path].index(value),
                texts[path].index(value) + len(value), "test", "en")
        for kind, path, value in findings
    ]
    return conclude(prepared, detected, None, POLICY, context)


def chat(text: str, **extra: Any) -> dict[str, Any]:
    return {"model": "gpt-4o", "messages": [{"role": "user", "content": text}], **extra}


def test_the_cloud_gets_placeholders_and_local_the_original() -> None:
    body = chat(f"Mail {EMAIL} today")
    original = copy.deepcopy(body)
    seen = inspection(body, [("EMAIL_ADDRESS", "messages[0].content", EMAIL)])
    assert seen.decision.redact_types == {"EMAIL_ADDRESS"}
    cloud = body_for(Route.CLOUD, seen, SETTINGS, None)
    assert cloud.body["messages"][0]["content"] == "Mail <EMAIL_ADDRESS> today"
    assert cloud.redacted == 1 and cloud.covered["redact"] == {"EMAIL_ADDRESS"}
    # The fallback to local is built from the original body again, never from the cloud copy.
    local = body_for(Route.LOCAL, seen, SETTINGS, "qwen-local")
    assert local.body["messages"][0]["content"] == f"Mail {EMAIL} today"
    assert local.body["model"] == "qwen-local" and local.redacted == 0
    assert body == original  # the client's body is never modified in place


def test_nothing_is_redacted_without_a_redact_decision() -> None:
    body = chat(f"Mail {EMAIL}")
    seen = inspection(body, [])
    assert seen.decision.rule == "default"
    forwarded = body_for(Route.CLOUD, seen, SETTINGS, None)
    assert forwarded.body == body and forwarded.body is not body and forwarded.redacted == 0


def test_aliases_map_per_route_and_local_takes_the_local_model() -> None:
    body = chat("hi", model="team-model")
    assert map_model(body, Route.CLOUD, SETTINGS, None)["model"] == "gpt-4o-mini"
    assert map_model(body, Route.LOCAL, SETTINGS, "other")["model"] == "qwen-local"
    assert map_model(chat("hi"), Route.LOCAL, SETTINGS, "discovered")["model"] == "discovered"
    assert map_model(chat("hi"), Route.LOCAL, SETTINGS, None)["model"] == "gpt-4o"
    assert map_model(chat("hi"), Route.CLOUD, SETTINGS, "discovered")["model"] == "gpt-4o"


def test_keys_redacted_alike_stay_distinct_and_overlaps_merge() -> None:
    body = {"model": "gpt-4o", "messages": [{"role": "user", "content": "x"}],
            "metadata": {"a@example.jp": "1", "b@example.jp": "2"}}
    seen = inspection(body, [])
    segments = {s.path: s for s in seen.segments}
    keys = [p for p, s in segments.items() if s.is_key]
    findings = [Finding("EMAIL_ADDRESS", 1.0, p, 0, len(segments[p].text), "t", "en")
                for p in keys]
    forwarded, count = redact(body, seen.segments, findings, frozenset({"EMAIL_ADDRESS"}))
    assert count == 2
    assert sorted(forwarded["metadata"]) == ["<EMAIL_ADDRESS>", "<EMAIL_ADDRESS>#2"]
    assert sorted(forwarded["metadata"].values()) == ["1", "2"]
    text = "call 090-1234-5678"
    seen = inspection(chat(text), [])
    overlapping = [Finding("PHONE_NUMBER", 1.0, "messages[0].content", 5, 18, "t", "en"),
                   Finding("JP_PHONE_NUMBER", 1.0, "messages[0].content", 5, 16, "t", "en")]
    forwarded, _ = redact(chat(text), seen.segments, overlapping,
                          frozenset({"PHONE_NUMBER", "JP_PHONE_NUMBER"}))
    assert forwarded["messages"][0]["content"] == "call <PHONE_NUMBER>"


def test_usage_is_asked_for_only_where_the_client_did_not() -> None:
    assert lacks_usage(Endpoint.CHAT, chat("hi", stream=True))
    assert lacks_usage(Endpoint.COMPLETIONS, {"prompt": "x", "stream": True})
    assert not lacks_usage(Endpoint.CHAT, chat("hi"))
    assert not lacks_usage(Endpoint.RESPONSES, {"input": "x", "stream": True})
    asked = chat("hi", stream=True, stream_options={"include_usage": True})
    assert not lacks_usage(Endpoint.CHAT, asked)
    body = chat("hi", stream=True, stream_options={"include_obfuscation": False})
    assert with_usage(body)["stream_options"] == {"include_obfuscation": False,
                                                  "include_usage": True}
    assert body["stream_options"] == {"include_obfuscation": False}

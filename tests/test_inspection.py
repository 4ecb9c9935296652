"""The one inspection function on golden requests: what is read, what is found, what is decided.

``inspect`` is what the proxy, ``explain``, ``policy test``, ``eval`` and ``bench`` share, so a
change in any of the answers below changes all of them. Each case pins the segments read (their
paths), the content flags, entity types that must be found, and the decision of the default
policy.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from proxy.config import Settings
from proxy.detection.detector import Detector
from proxy.inspection import conclude, context_for, inspect, prepare
from proxy.policy import load_policy, parse_policy
from proxy.policy.decide import DETECTION_FAILED
from proxy.values import Action, Endpoint, Route

POLICY = load_policy(Path(__file__).resolve().parent.parent / "policies" / "default.yaml")
SETTINGS = Settings()
M = "gpt-4o-mini"


def user(content: Any) -> dict[str, Any]:
    return {"model": M, "messages": [{"role": "user", "content": content}]}


GOLDEN = [
    pytest.param(
        Endpoint.CHAT,
        {"model": M, "messages": [{"role": "system", "content": "You are terse."},
                                  {"role": "user", "content": "Explain the CAP theorem."}]},
        ["messages[0].content", "messages[1].content"], [], set(), ("cloud", "default"),
        id="clean-chat"),
    pytest.param(
        Endpoint.CHAT, user("Reply to hana.ito@example.jp about the delay."),
        ["messages[0].content"], [], {"EMAIL_ADDRESS"}, ("local", "contact-details"),
        id="email"),
    pytest.param(
        Endpoint.CHAT, user("マイナンバーは 1234 5678 9018 です"),
        ["messages[0].content"], [], {"JP_MY_NUMBER"}, ("local", "government-ids"),
        id="my-number"),
    pytest.param(
        Endpoint.CHAT,
        user([{"type": "text", "text": "What is in this picture?"},
              {"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}}]),
        ["messages[0].content[0].text", "messages[0].content[1].image_url.url"],
        ["CONTENT_IMAGE"], {"CONTENT_IMAGE"}, ("local", "non-text-content"), id="image"),
    pytest.param(
        Endpoint.CHAT,
        {**user("Summarise the ticket."), "metadata": {"customer_email": "ken.sato@example.co.jp"}},
        ["messages[0].content", "metadata.customer_email#key", "metadata.customer_email"], [],
        {"EMAIL_ADDRESS"}, ("local", "contact-details"), id="metadata"),
    pytest.param(
        Endpoint.CHAT, user("decode aGFuYS5pdG9AZXhhbXBsZS5qcA== please"),
        ["messages[0].content"], [], {"EMAIL_ADDRESS"}, ("local", "contact-details"),
        id="base64-email"),
    pytest.param(
        Endpoint.COMPLETIONS,
        {"model": M, "prompt": "Translate: 山田太郎様、いつもお世話になっております。"},
        ["prompt"], [], {"PERSON"}, ("local", "people"), id="completions-name"),
    pytest.param(
        Endpoint.EMBEDDINGS,
        {"model": "text-embedding-3-small",
         "input": ["The quarterly report is attached.", "Card 4111 1111 1111 1111 exp 12/29"]},
        ["input[0]", "input[1]"], [], {"CREDIT_CARD"}, ("local", "financial"), id="embeddings"),
    pytest.param(
        Endpoint.RESPONSES,
        {"model": M, "instructions": "Be brief.",
         "input": [{"role": "user", "content": [
             {"type": "input_text", "text": "My AWS key is AKIA4HQ7ZT2RXW9KLM3B"}]}]},
        ["instructions", "input[0].content[0].text"], [], {"SECRET_AWS_KEY"},
        ("local", "credentials"), id="responses-key"),
    pytest.param(
        Endpoint.CHAT,
        {"model": M, "messages": [
            {"role": "user", "content": "Book a table for two."},
            {"role": "assistant", "content": "", "tool_calls": [{
                "id": "call_1", "type": "function", "function": {
                    "name": "book",
                    "arguments": '{"name": "Jonathan Whitaker", "phone": "+1 415 555 0134"}'}}]}]},
        ["messages[0].content", "messages[1].tool_calls[0].id",
         "messages[1].tool_calls[0].function.name",
         "messages[1].tool_calls[0].function.arguments"], [], {"PERSON"},
        ("local", "contact-details"), id="tool-call"),
]


@pytest.mark.parametrize(("endpoint", "body", "paths", "flags", "types", "decided"), GOLDEN)
def test_golden_requests(
    detector: Detector, endpoint: Endpoint, body: dict[str, Any], paths: list[str],
    flags: list[str], types: set[str], decided: tuple[str, str],
) -> None:
    inspection = inspect(endpoint, body, detector, POLICY, context_for(SETTINGS, body))
    assert [s.path for s in inspection.segments] == paths
    assert sorted(inspection.prepared.flags) == flags
    found = {f.entity_type for f in inspection.findings if f.score >= 0.5}
    assert types <= found
    if not types:
        assert found == set()
    assert (inspection.decision.route.value, inspection.decision.rule) == decided
    assert inspection.failure is None
    # Every finding points into a segment read, within its text (or is a flag).
    texts = {s.path: s.text for s in inspection.segments}
    for f in inspection.findings:
        assert f.path == "" or 0 <= f.start < f.end <= len(texts[f.path])


def test_a_detection_failure_decides_local_before_any_rule() -> None:
    body = user("Explain the CAP theorem.")
    context = context_for(SETTINGS, body)
    prepared = prepare(Endpoint.CHAT, body, context)
    for failure in ("timeout", "error"):
        inspection = conclude(prepared, None, failure, POLICY, context)
        assert [f.entity_type for f in inspection.findings] == [DETECTION_FAILED]
        assert inspection.failure == failure
        assert inspection.decision.route is Route.LOCAL
        assert inspection.decision.action is Action.FAIL_CLOSED


def test_the_shadow_policy_is_evaluated_beside_and_never_decides(detector: Detector) -> None:
    shadow = parse_policy("default: {route: block}\nrules: []\n")
    body = user("Explain the CAP theorem.")
    inspection = inspect(Endpoint.CHAT, body, detector, POLICY, context_for(SETTINGS, body),
                         shadow=shadow)
    assert inspection.decision.route is Route.CLOUD
    assert inspection.shadow is not None and inspection.shadow.route is Route.BLOCK


def test_the_tenant_and_headers_reach_the_policy(detector: Detector) -> None:
    policy = parse_policy("""
default: {route: cloud}
rules:
  - name: legal-team
    when: {tenants: [legal]}
    route: local
""")
    body = user("Explain the CAP theorem.")
    legal = inspect(Endpoint.CHAT, body, detector, policy,
                    context_for(SETTINGS, body, tenant="legal"))
    other = inspect(Endpoint.CHAT, body, detector, policy,
                    context_for(SETTINGS, body, tenant="sales"))
    assert (legal.decision.rule, other.decision.rule) == ("legal-team", "default")
